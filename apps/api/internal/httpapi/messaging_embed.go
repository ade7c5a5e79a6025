package httpapi

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
)

// The website chat widget's public routes (/api/messaging/embed/v1/…):
// no key and no cookie, an emb_… id and the request's Origin instead.
//
// CORS: a response the core allowed reflects the request's single Origin
// in Access-Control-Allow-Origin (never "*", never credentials) with
// Vary: Origin; a refused origin (403), an unknown, rotated or disabled
// embed id (404) get no Access-Control-Allow-Origin, so the browser keeps
// the answer from the page. Preflights reflect any well-formed origin:
// they only let the browser send the request, which the core then judges.

// embedPublicPaths are the public widget routes crossOriginProtection lets
// through: they read no cookie, so a cross-site request is their normal
// use, and the core checks the Origin against the embed's allowlist.
var embedPublicPaths = map[string]bool{
	"/api/messaging/embed/v1/config": true,
	"/api/messaging/embed/v1/chat":   true,
}

// embedIDHeader may carry the embed id of a public chat turn.
const embedIDHeader = "x-gellhub-embed-id"

// embedConfigJSON is the widget's bootstrap: no key, no balance.
type embedConfigJSON struct {
	EmbedID             string `json:"embedId"`
	ChatTitle           string `json:"chatTitle"`
	AccentColor         string `json:"accentColor"`
	LauncherIcon        string `json:"launcherIcon"`
	Greeting            string `json:"greeting"`
	ShowLauncher        bool   `json:"showLauncher"`
	MaxUserMessageChars int    `json:"maxUserMessageChars"`
}

// embedChatRequest is one visitor turn: message, or the guide's messages
// array (its last user message is the turn; the conversation's history is
// the one GellHub stored for this visitor).
type embedChatRequest struct {
	EmbedID   string            `json:"embedId"`
	VisitorID string            `json:"visitorId"`
	Message   *string           `json:"message"`
	Messages  []chatMessageJSON `json:"messages"`
}

// requestOrigin returns the request's Origin header when it is a
// well-formed http(s) origin, and its host name (no port, lower-cased).
// A same-origin request without Origin (a browser's GET from gellhub's
// own /chat/ page) is gellhub's own host; anything else is "" (refused by
// the core).
func (s *Server) requestOrigin(c *fiber.Ctx) (origin, host string) {
	origin = c.Get(fiber.HeaderOrigin)
	if origin == "" {
		if c.Get("Sec-Fetch-Site") == "same-origin" {
			if u, err := url.Parse(s.BaseURL); err == nil {
				return "", strings.ToLower(u.Hostname())
			}
		}
		return "", ""
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", ""
	}
	return strings.Clone(origin), strings.ToLower(u.Hostname())
}

// allowOrigin reflects origin, the one the core just allowed.
func allowOrigin(c *fiber.Ctx, origin string) {
	c.Vary(fiber.HeaderOrigin)
	if origin != "" {
		c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
	}
}

// embedPreflight answers the CORS preflight of a public widget route.
func (s *Server) embedPreflight(c *fiber.Ctx) error {
	origin, host := s.requestOrigin(c)
	c.Vary(fiber.HeaderOrigin)
	if origin == "" || host == "" {
		return c.SendStatus(fiber.StatusNoContent)
	}
	c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
	c.Set(fiber.HeaderAccessControlAllowMethods, "GET, POST, OPTIONS")
	c.Set(fiber.HeaderAccessControlAllowHeaders, "Content-Type, "+embedIDHeader)
	c.Set(fiber.HeaderAccessControlMaxAge, strconv.Itoa(600))
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) embedPublicConfig(c *fiber.Ctx) error {
	c.Vary(fiber.HeaderOrigin)
	id, err := query(c, "embedId", core.MaxIDLen)
	if err != nil {
		return err
	}
	origin, host := s.requestOrigin(c)
	cfg, err := s.Messaging.EmbedConfig(c.UserContext(), messaging.EmbedConfigInput{EmbedID: id, OriginHost: host, ClientIP: rateKeyIP(s.clientIP(c))})
	if err != nil {
		return err
	}
	allowOrigin(c, origin)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(embedConfigJSON{
		EmbedID: cfg.EmbedID, ChatTitle: cfg.ChatTitle, AccentColor: cfg.AccentColor, LauncherIcon: cfg.LauncherIcon,
		Greeting: cfg.Greeting, ShowLauncher: cfg.ShowLauncher, MaxUserMessageChars: cfg.MaxUserMessageChars,
	})
}

// embedChatResponse is what a visitor sees of a turn: no credits.
type embedChatResponse struct {
	Role    string          `json:"role"`
	Content string          `json:"content"`
	UI      json.RawMessage `json:"ui,omitempty"`
	Handoff bool            `json:"handoff,omitempty"`
	// HandoffURLs are the agent's handoff links, on a handoff turn only.
	HandoffURLs []handoffLinkJSON `json:"handoffUrls,omitempty"`
}

// afterOriginCheck reports whether err can only come after the core
// allowed the request's origin: the embed resolved and the origin passed,
// and the widget may read why the turn failed.
func afterOriginCheck(err error) bool {
	e, ok := core.AsError(err)
	if !ok {
		return false
	}
	switch e.Kind {
	case core.KindInvalid, core.KindTooLarge, core.KindRateLimited, core.KindConflict, core.KindUnavailable:
		return true
	}
	return false
}

// publicTurnError keeps the merchant's billing state (out of credits, a
// lapsed plan) from the visitor: both are "chat unavailable" (503) on the
// public route; the merchant sees the reason in its own routes.
func publicTurnError(err error) error {
	if core.IsKind(err, core.KindPaymentRequired) {
		return core.E(core.KindUnavailable, "the chat is unavailable right now; please try again later").WithDetail("chat")
	}
	return err
}

func (s *Server) embedPublicChat(c *fiber.Ctx) error {
	c.Vary(fiber.HeaderOrigin)
	origin, host := s.requestOrigin(c)
	var req embedChatRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.EmbedID == "" {
		req.EmbedID = strings.Clone(c.Get(embedIDHeader))
	}
	msg := ""
	switch {
	case req.Message != nil:
		msg = *req.Message
	case len(req.Messages) > 0:
		last := req.Messages[len(req.Messages)-1]
		if last.Role != string(core.RoleUser) {
			return core.Invalid("messages", "the last message must be the visitor's (role user)")
		}
		msg = last.Content
	}
	r, err := s.Messaging.EmbedChat(c.UserContext(), messaging.EmbedChatInput{
		EmbedID: req.EmbedID, OriginHost: host, VisitorID: req.VisitorID, ClientIP: rateKeyIP(s.clientIP(c)), Message: msg,
	})
	if err != nil {
		err = publicTurnError(err)
		if afterOriginCheck(err) {
			allowOrigin(c, origin)
		}
		return err
	}
	allowOrigin(c, origin)
	c.Set(fiber.HeaderCacheControl, "no-store")
	out := embedChatResponse{Role: string(core.RoleAssistant), Content: r.Content, UI: r.UI, Handoff: r.Handoff}
	if r.Handoff {
		out.HandoffURLs = handoffLinksView(r.HandoffURLs)
	}
	return c.JSON(out)
}
