package httpapi

import (
	"errors"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/connect"
)

// ConnectCookie carries a connect flow's server-side id, never its values.
// Over https it is __Host-gellhub_connect: a sibling subdomain cannot set
// or overwrite a __Host- cookie.
const ConnectCookie = "gellhub_connect"

func (s *Server) connectCookieName() string {
	if s.SecureCookies {
		return "__Host-" + ConnectCookie
	}
	return ConnectCookie
}

func (s *Server) flowID(c *fiber.Ctx) string { return c.Cookies(s.connectCookieName()) }

func (s *Server) setConnectCookie(c *fiber.Ctx, flowID string) {
	c.Cookie(&fiber.Cookie{
		Name: s.connectCookieName(), Value: flowID, Path: "/", MaxAge: int(connect.PaymentTTL / time.Second),
		Expires: time.Now().Add(connect.PaymentTTL), HTTPOnly: true, Secure: s.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

func (s *Server) clearConnectCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: s.connectCookieName(), Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HTTPOnly: true, Secure: s.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

func (s *Server) connectStart(c *fiber.Ctx) error {
	in := connect.StartInput{}
	for _, q := range []struct {
		name string
		max  int
		dst  *string
	}{
		{"client_id", 256, &in.ClientID}, {"return_url", core.MaxURLLen, &in.ReturnURL},
		{"state", connect.MaxStateLen, &in.State}, {"plan", 128, &in.Plan},
		{"product", 32, &in.Product}, {"next", 16, &in.Next},
	} {
		v, err := query(c, q.name, q.max)
		if err != nil {
			return s.pageError(c, err)
		}
		*q.dst = v
	}
	in.ClientIP = rateKeyIP(s.clientIP(c))
	started, err := s.Connect.Start(c.UserContext(), in)
	if err != nil {
		return s.pageError(c, err)
	}
	s.setConnectCookie(c, started.FlowID)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Redirect("/"+started.Next, fiber.StatusFound)
}

func (s *Server) connectContext(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderVary, "Cookie")
	v, err := s.Connect.Context(c.UserContext(), s.flowID(c))
	if err != nil {
		return err
	}
	if !v.Active {
		return c.JSON(fiber.Map{"active": false})
	}
	// connectFlow goes back in the login or register body: only a page that
	// showed the person which app they connect can continue the flow.
	out := fiber.Map{"active": true, "product": string(v.Product), "name": v.AppName, "next": v.Next, "connectFlow": v.Token}
	if v.PlanID != "" {
		out["planId"] = v.PlanID
	}
	return c.JSON(out)
}

func (s *Server) connectFinalize(c *fiber.Ctx) error {
	r, err := s.Connect.Finalize(c.UserContext(), principal(c), s.flowID(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if r.CheckoutURL != "" {
		// Pay first: the flow (and its cookie) waits for stripe-return.
		return c.JSON(fiber.Map{"redirectUrl": r.CheckoutURL, "paymentRequired": true})
	}
	s.clearConnectCookie(c)
	return c.JSON(fiber.Map{"redirectUrl": r.Redirect, "paymentRequired": false})
}

func (s *Server) connectStripeReturn(c *fiber.Ctx) error {
	sessionID, err := query(c, "session_id", 256)
	if err != nil {
		return s.pageError(c, err)
	}
	url, err := s.Connect.StripeReturn(c.UserContext(), s.flowID(c), sessionID)
	if err != nil {
		return s.pageError(c, err)
	}
	s.clearConnectCookie(c)
	c.Set(fiber.HeaderCacheControl, "no-store") // the Location carries a one-time code
	return c.Redirect(url, fiber.StatusFound)
}

type exchangeRequest struct {
	Code         string `json:"code"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

type snapshotPlanJSON struct {
	Scope        string  `json:"scope"`
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Price        float64 `json:"price"`
	StripeStatus string  `json:"stripeStatus"`
}

func planOf(sn *accounts.PlanSnapshot) *snapshotPlanJSON {
	if sn == nil {
		return nil
	}
	return &snapshotPlanJSON{Scope: sn.Line.Scope(), ID: sn.Plan.ID, Name: sn.Plan.Name, Price: sn.Plan.Price(), StripeStatus: string(sn.Status)}
}

type exchangeResponse struct {
	ProfileID                string            `json:"profileId"`
	Email                    string            `json:"email"`
	StudioID                 string            `json:"studioId"`
	DriveID                  string            `json:"driveId"`
	APIKey                   string            `json:"apiKey"`
	DriveAPIKey              string            `json:"driveApiKey"`
	MessagingAPIKey          *string           `json:"messagingApiKey"`
	HasMessagingSubscription bool              `json:"hasMessagingSubscription"`
	AccountKind              string            `json:"accountKind"`
	Plan                     *snapshotPlanJSON `json:"plan"`
	State                    string            `json:"state"`
}

// requireCredentials refuses a back-channel body without its client
// credentials as the bad request it is (a wrong value is 401).
func requireCredentials(clientID, secret string) error {
	if clientID == "" {
		return core.Invalid("client_id", "client_id is required")
	}
	if secret == "" {
		return core.Invalid("client_secret", "client_secret is required")
	}
	return nil
}

func (s *Server) connectExchange(c *fiber.Ctx) error {
	var req exchangeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := requireCredentials(req.ClientID, req.ClientSecret); err != nil {
		return err
	}
	r, err := s.Connect.Exchange(c.UserContext(), connect.ExchangeInput{
		Code: req.Code, ClientID: req.ClientID, ClientSecret: req.ClientSecret, ClientIP: rateKeyIP(s.clientIP(c)),
	})
	if err != nil {
		return err
	}
	out := exchangeResponse{
		ProfileID: r.Profile.ID, Email: r.Profile.Email, StudioID: r.StudioID, DriveID: r.DriveID,
		APIKey: r.APIKey, DriveAPIKey: r.DriveAPIKey, HasMessagingSubscription: r.HasMessagingSubscription,
		AccountKind: string(r.Profile.AccountKind), Plan: planOf(r.Plan), State: r.State,
	}
	if r.MessagingAPIKey != "" {
		out.MessagingAPIKey = &r.MessagingAPIKey
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

type verifyRequest struct {
	ProfileID    string `json:"profile_id"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

func (s *Server) connectVerify(c *fiber.Ctx) error {
	var req verifyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := requireCredentials(req.ClientID, req.ClientSecret); err != nil {
		return err
	}
	r, err := s.Connect.Verify(c.UserContext(), connect.VerifyInput{
		ProfileID: req.ProfileID, ClientID: req.ClientID, ClientSecret: req.ClientSecret, ClientIP: rateKeyIP(s.clientIP(c)),
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{
		"registered": r.Registered, "linked": r.Linked, "email": r.Profile.Email,
		"displayName": r.Profile.DisplayName, "accountKind": string(r.Profile.AccountKind),
		"hasMessagingSubscription": r.HasMessagingSubscription, "plan": planOf(r.Plan),
	})
}

type linkJSON struct {
	ID        string     `json:"id"`
	AppID     string     `json:"appId"`
	AppName   string     `json:"appName"`
	Product   string     `json:"product"`
	Active    bool       `json:"active"`
	LinkedAt  time.Time  `json:"linkedAt"`
	RevokedAt *time.Time `json:"revokedAt"`
}

func (s *Server) listLinks(c *fiber.Ctx) error {
	links, err := s.Connect.Links(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	out := make([]linkJSON, 0, len(links))
	for _, l := range links {
		out = append(out, linkJSON{
			ID: l.Link.ID, AppID: l.Link.AppID, AppName: l.AppName, Product: string(l.Line),
			Active: l.Link.Active(), LinkedAt: l.Link.CreatedAt, RevokedAt: l.Link.RevokedAt,
		})
	}
	return c.JSON(out)
}

func (s *Server) revokeLink(c *fiber.Ctx) error {
	if err := s.Connect.RevokeLink(c.UserContext(), principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// continueConnect runs after a successful login or register while a connect
// flow is active: it fills connectRedirect (or checkoutUrl, or
// connectError) and clears the flow cookie once the flow is done.
func (s *Server) continueConnect(c *fiber.Ctx, token, profileID string, paymentPending bool) (redirect, checkout, errMsg string) {
	flowID := s.flowID(c)
	if flowID == "" || token == "" || s.Connect == nil {
		return "", "", ""
	}
	o, ok, err := s.Connect.AfterSignIn(c.UserContext(), flowID, token, profileID, paymentPending)
	if err == nil && !ok {
		return "", "", ""
	}
	if err != nil {
		var e *core.Error
		if errors.As(err, &e) && e.Kind != core.KindInternal && e.Kind != core.KindUnavailable {
			s.clearConnectCookie(c)
			return "", "", e.Message
		}
		s.log.Error("connect after sign-in", "request_id", requestID(c), "err", err)
		return "", "", "the partner app could not be reached from here; sign in from the partner app again"
	}
	if o.Redirect != "" {
		s.clearConnectCookie(c)
	}
	return o.Redirect, o.CheckoutURL, o.Error
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>gellhub: {{.Title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2933}h1{font-size:1.4rem}code{background:#f0f4f8;padding:.1rem .3rem}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Message}}</p><p>Error code: <code>{{.Code}}</code></p></body></html>`))

// pageError answers a browser-facing route's error: JSON when the client
// asks for JSON, a small HTML page otherwise. It never redirects.
func (s *Server) pageError(c *fiber.Ctx, err error) error {
	accept := c.Get(fiber.HeaderAccept)
	if strings.Contains(accept, fiber.MIMEApplicationJSON) && !strings.Contains(accept, fiber.MIMETextHTML) {
		return err
	}
	var e *core.Error
	if !errors.As(err, &e) || e.Kind == core.KindInternal {
		if e == nil || e.Kind == core.KindInternal {
			s.log.Error("internal error", "request_id", requestID(c), "err", err)
		}
		e = core.Internal(nil)
	}
	c.Status(statusOf[e.Kind])
	if e.Kind == core.KindRateLimited {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Max(1, math.Ceil(e.RetryAfter.Seconds())))))
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	title := "This link cannot continue"
	if e.Kind == core.KindUnavailable {
		title = "gellhub is briefly unavailable"
	}
	return errorPage.Execute(c.Response().BodyWriter(), map[string]string{"Title": title, "Message": e.Message, "Code": e.Code})
}
