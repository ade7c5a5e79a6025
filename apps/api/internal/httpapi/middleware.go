package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
)

const (
	headerRequestID = "X-Request-Id"
	headerAPIKey    = "x-api-key"
	localRequestID  = "requestID"
	localPrincipal  = "principal"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestID gives every request an id, reusing a well-formed inbound
// X-Request-Id (from a load balancer) and echoing it on the response.
func (s *Server) requestID(c *fiber.Ctx) error {
	id := c.Get(headerRequestID)
	if !requestIDPattern.MatchString(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	} else {
		id = string([]byte(id)) // copy: Fiber reuses header memory
	}
	c.Locals(localRequestID, id)
	c.Set(headerRequestID, id)
	return c.Next()
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// secretPathIDs finds the path segments that are capabilities: the
// simulated payment pages' checkout and portal session ids, which let
// whoever holds them pay, or cancel subscriptions, for as long as the
// session lives. It matches anywhere in the path and in any case, so a
// variant spelling (which routing refuses anyway) is redacted too.
var secretPathIDs = regexp.MustCompile(`(?i)(/billing/+local/+(?:checkout|portal)/+)[^/]+`)

// loggedPath is path as the access log shows it: the ids of
// secretPathIDs are "{id}".
func loggedPath(path string) string {
	return secretPathIDs.ReplaceAllString(path, "${1}{id}")
}

// accessLog writes one JSON line per request. It logs the path without the
// query string (queries carry media tokens and connect codes) and without
// the ids of the simulated payment pages (loggedPath).
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			return herr
		}
	}
	s.log.Info("request",
		"request_id", requestID(c),
		"method", c.Method(),
		"path", loggedPath(c.Path()),
		"status", c.Response().StatusCode(),
		"duration_ms", float64(time.Since(start).Microseconds())/1000,
		"ip", s.clientIP(c),
	)
	return nil
}

// recoverPanics turns a panic in a handler into a logged internal error.
func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = core.Internal(fmt.Errorf("panic: %v", r))
		}
	}()
	return c.Next()
}

// crossOriginProtection refuses state-changing requests that a browser sent
// from another site, the way Go's http.CrossOriginProtection does: trust
// Sec-Fetch-Site when present (same-origin or none pass); otherwise compare
// Origin with the request's host; requests without either header come from
// non-browser clients and pass. This protects every cookie-authenticated
// route against CSRF; API-key routes are unaffected.
func (s *Server) crossOriginProtection(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if c.Path() == "/api/blob/upload" {
		return c.Next() // authorised by its signed token alone, never by a cookie
	}
	if embedPublicPaths[strings.TrimRight(c.Path(), "/")] {
		return c.Next() // the public widget: no cookie; the core checks the Origin against the embed's allowlist
	}
	switch c.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return c.Next()
	case "":
	default:
		return core.Forbidden("cross-site request refused")
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return c.Next()
	}
	if u, err := url.Parse(origin); err == nil && u.Host != "" && (u.Host == c.Hostname() || origin == s.BaseURL) {
		return c.Next()
	}
	return core.Forbidden("cross-origin request refused")
}

// session authenticates the browser session cookie.
func (s *Server) session(c *fiber.Ctx) error {
	p, err := s.Accounts.SessionPrincipal(c.UserContext(), s.sessionToken(c))
	if err != nil {
		return err
	}
	c.Locals(localPrincipal, p)
	return c.Next()
}

// keyOrSession authenticates the x-api-key header when present, else the
// browser session (product routes the dashboard also uses).
func (s *Server) keyOrSession(c *fiber.Ctx) error {
	if c.Get(headerAPIKey) != "" {
		return s.apiKey(c)
	}
	return s.session(c)
}

// apiKey authenticates the x-api-key header.
func (s *Server) apiKey(c *fiber.Ctx) error {
	p, err := s.Accounts.KeyPrincipal(c.UserContext(), c.Get(headerAPIKey))
	if err != nil {
		return err
	}
	c.Locals(localPrincipal, p)
	return c.Next()
}

func principal(c *fiber.Ctx) core.Principal {
	p, _ := c.Locals(localPrincipal).(core.Principal)
	return p
}

// setSessionCookie hands the browser its session token.
func (s *Server) setSessionCookie(c *fiber.Ctx, token string, expires time.Time) {
	c.Cookie(&fiber.Cookie{
		Name: s.sessionCookieName(), Value: token, Path: "/", Expires: expires,
		HTTPOnly: true, Secure: s.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: s.sessionCookieName(), Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HTTPOnly: true, Secure: s.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode,
	})
}
