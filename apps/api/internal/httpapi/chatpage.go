package httpapi

import (
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
)

// widgetScript is the website chat widget (GET /embed/gellhub-chat.js):
// plain JavaScript, no build step, served from the binary.
//
//go:embed embed/gellhub-chat.js
var widgetScript []byte

// widgetScriptPath is where the widget is served; the snippets and the
// /chat/ page load it from there.
const widgetScriptPath = "/embed/gellhub-chat.js"

func (s *Server) widgetScript(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "application/javascript; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set("Cross-Origin-Resource-Policy", "cross-origin")
	return c.Send(widgetScript)
}

// chatPageTemplate is the full-page chat (the embed's share link): the
// widget script in page mode, allowed by the response's CSP nonce.
var chatPageTemplate = template.Must(template.New("chat").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title>
<style nonce="{{.Nonce}}">html,body{margin:0;height:100%;background:#f7f9fb}</style>
</head><body>
<noscript>This chat needs JavaScript.</noscript>
<script nonce="{{.Nonce}}" src="{{.Script}}" data-embed-id="{{.EmbedID}}" data-chat-title="{{.Title}}" data-mode="page"></script>
</body></html>`))

// chatPage serves GET /chat/:embedId. An unknown, rotated or disabled
// embed id is a 404 page. The page is gellhub's own origin, which the
// public widget routes always accept for an enabled embed.
func (s *Server) chatPage(c *fiber.Ctx) error {
	if s.Messaging == nil {
		return s.pageError(c, core.Unavailable("messaging", nil))
	}
	id := c.Params("embedId")
	u, err := url.Parse(s.BaseURL)
	if err != nil {
		return s.pageError(c, core.Internal(err))
	}
	cfg, err := s.Messaging.EmbedConfig(c.UserContext(), messaging.EmbedConfigInput{
		EmbedID: id, OriginHost: strings.ToLower(u.Hostname()), ClientIP: rateKeyIP(s.clientIP(c)),
	})
	if err != nil {
		if e, ok := core.AsError(err); ok && e.Kind == core.KindForbidden {
			err = core.NotFound("embed")
		}
		return s.pageError(c, err)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return s.pageError(c, core.Internal(err))
	}
	nonce := base64.RawURLEncoding.EncodeToString(b[:]) // no "+" for html/template to escape
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	// The page may be framed (the guide's iframe embed posts gellhub:handoff
	// to its parent); the widget's ui blocks show https images and frames.
	c.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+
		"'; img-src https: data:; frame-src https:; connect-src 'self'; form-action 'none'; base-uri 'none'")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	title := cfg.ChatTitle
	if title == "" {
		title = "Chat"
	}
	return chatPageTemplate.Execute(c.Response().BodyWriter(), map[string]string{
		"Nonce": nonce, "Script": widgetScriptPath, "EmbedID": cfg.EmbedID, "Title": title,
	})
}
