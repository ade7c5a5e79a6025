package httpapi

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
)

type registerRequest struct {
	Email       string `json:"email"`
	Password    string `json:"password"`
	DisplayName string `json:"displayName"`
	AccountType string `json:"accountType"`
	PlanID      string `json:"planId"`
	SuccessURL  string `json:"successUrl"`
	CancelURL   string `json:"cancelUrl"`
	// ConnectFlow is GET /api/integrations/connect/context's connectFlow:
	// sent, it continues the embedded connect flow of this browser.
	ConnectFlow string `json:"connectFlow"`
}

type registerResponse struct {
	ProfileID       string `json:"profileId"`
	Email           string `json:"email"`
	DisplayName     string `json:"displayName"`
	AccountKind     string `json:"accountKind"`
	StudioID        string `json:"studioId"`
	DriveID         string `json:"driveId"`
	APIKey          string `json:"apiKey"`
	DriveAPIKey     string `json:"driveApiKey"`
	RequiresPayment bool   `json:"requiresPayment"`
	CheckoutURL     string `json:"checkoutUrl,omitempty"`
	CheckoutError   string `json:"checkoutError,omitempty"`
	ConnectRedirect string `json:"connectRedirect,omitempty"`
	ConnectError    string `json:"connectError,omitempty"`
}

func (s *Server) register(c *fiber.Ctx) error {
	var req registerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := accounts.RegisterInput{
		Email: req.Email, Password: req.Password, DisplayName: req.DisplayName,
		AccountType: req.AccountType, PlanID: req.PlanID,
		SuccessURL: req.SuccessURL, CancelURL: req.CancelURL, ClientIP: rateKeyIP(s.clientIP(c)),
	}
	if flowID := s.flowID(c); flowID != "" && req.ConnectFlow != "" && s.Connect != nil {
		// In a connect flow a paid plan's checkout returns through the
		// flow, which then sends the browser back to the partner.
		if v, err := s.Connect.Context(c.UserContext(), flowID); err == nil && v.Active && v.Token == req.ConnectFlow {
			in.SuccessURL, in.CheckoutReference = s.Connect.CheckoutReturn(), s.Connect.CheckoutReference(flowID)
		}
	}
	r, err := s.Accounts.Register(c.UserContext(), in)
	if err != nil {
		return err
	}
	if r.SessionError != nil {
		// The account and its keys exist; only the cookie is missing.
		s.log.Warn("registered without a session", "request_id", requestID(c), "err", r.SessionError)
	} else {
		s.setSessionCookie(c, r.SessionToken, r.SessionExpires)
	}
	c.Set(fiber.HeaderCacheControl, "no-store") // the response carries keys
	p := r.Account.Profile
	out := registerResponse{
		ProfileID: p.ID, Email: p.Email, DisplayName: p.DisplayName, AccountKind: string(p.AccountKind),
		StudioID: r.Account.Studio.ID, DriveID: r.Account.Drive.ID,
		APIKey: r.APIKey, DriveAPIKey: r.DriveAPIKey,
		RequiresPayment: r.RequiresPayment, CheckoutURL: r.CheckoutURL, CheckoutError: r.CheckoutError,
	}
	var checkout string
	out.ConnectRedirect, checkout, out.ConnectError = s.continueConnect(c, req.ConnectFlow, p.ID, r.RequiresPayment)
	if checkout != "" {
		out.CheckoutURL = checkout
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

type loginRequest struct {
	Email       string `json:"email"`
	Password    string `json:"password"`
	ConnectFlow string `json:"connectFlow"` // as in registerRequest
}

type loginResponse struct {
	ProfileID       string `json:"profileId"`
	Email           string `json:"email"`
	DisplayName     string `json:"displayName"`
	ConnectRedirect string `json:"connectRedirect,omitempty"`
	CheckoutURL     string `json:"checkoutUrl,omitempty"`
	ConnectError    string `json:"connectError,omitempty"`
}

func (s *Server) login(c *fiber.Ctx) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := s.Accounts.Login(c.UserContext(), accounts.LoginInput{Email: req.Email, Password: req.Password, ClientIP: rateKeyIP(s.clientIP(c))})
	if err != nil {
		return err
	}
	s.setSessionCookie(c, r.SessionToken, r.SessionExpires)
	out := loginResponse{ProfileID: r.Profile.ID, Email: r.Profile.Email, DisplayName: r.Profile.DisplayName}
	out.ConnectRedirect, out.CheckoutURL, out.ConnectError = s.continueConnect(c, req.ConnectFlow, r.Profile.ID, false)
	if out.ConnectRedirect != "" {
		c.Set(fiber.HeaderCacheControl, "no-store") // it carries a one-time code
	}
	return c.JSON(out)
}

func (s *Server) logout(c *fiber.Ctx) error {
	if err := s.Accounts.Logout(c.UserContext(), s.sessionToken(c)); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}

type planSnapshotJSON struct {
	Scope             string     `json:"scope"`
	ID                string     `json:"id"`
	Name              string     `json:"name"`
	Price             float64    `json:"price"`
	Currency          string     `json:"currency"`
	BillingPeriod     string     `json:"billingPeriod"`
	StorageLimitBytes int64      `json:"storageLimitBytes"`
	MonthlyCredits    *int64     `json:"monthlyCredits,omitempty"`
	Status            string     `json:"status"`
	Eligible          bool       `json:"eligible"`
	CurrentPeriodEnd  *time.Time `json:"currentPeriodEnd"`
}

type apiKeyJSON struct {
	Product   string    `json:"product"`
	MaskedKey string    `json:"maskedKey"`
	CreatedAt time.Time `json:"createdAt"`
}

type meResponse struct {
	ProfileID   string                      `json:"profileId"`
	Email       string                      `json:"email"`
	DisplayName string                      `json:"displayName"`
	AccountKind string                      `json:"accountKind"`
	StudioID    string                      `json:"studioId"`
	DriveID     string                      `json:"driveId"`
	IsAdmin     bool                        `json:"isAdmin"`
	CreatedAt   time.Time                   `json:"createdAt"`
	Plans       map[string]planSnapshotJSON `json:"plans"`
	APIKeys     []apiKeyJSON                `json:"apiKeys"`
}

func (s *Server) me(c *fiber.Ctx) error {
	o, err := s.Accounts.Me(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	out := meResponse{
		ProfileID: o.Profile.ID, Email: o.Profile.Email, DisplayName: o.Profile.DisplayName,
		AccountKind: string(o.Profile.AccountKind), StudioID: o.Studio.ID, DriveID: o.Drive.ID,
		IsAdmin: o.IsAdmin, CreatedAt: o.Profile.CreatedAt,
		Plans: map[string]planSnapshotJSON{}, APIKeys: []apiKeyJSON{},
	}
	for _, sn := range o.Plans {
		out.Plans[string(sn.Line)] = snapshotJSON(sn)
	}
	for _, k := range o.Keys {
		out.APIKeys = append(out.APIKeys, apiKeyJSON{Product: string(k.Line), MaskedKey: core.MaskKey(k.DisplayPrefix), CreatedAt: k.CreatedAt})
	}
	return c.JSON(out)
}

func snapshotJSON(sn accounts.PlanSnapshot) planSnapshotJSON {
	out := planSnapshotJSON{
		Scope: sn.Line.Scope(), ID: sn.Plan.ID, Name: sn.Plan.Name, Price: sn.Plan.Price(),
		Currency: sn.Plan.Currency, BillingPeriod: string(sn.Plan.BillingPeriod),
		StorageLimitBytes: sn.Plan.StorageLimitBytes, Status: string(sn.Status), Eligible: sn.Eligible,
		CurrentPeriodEnd: sn.CurrentPeriodEnd,
	}
	if sn.Plan.Line == core.LineMessaging {
		mc := sn.Plan.MonthlyCredits
		out.MonthlyCredits = &mc
	}
	return out
}

type rotateRequest struct {
	Product string `json:"product"`
}

type rotateResponse struct {
	Product string `json:"product"`
	APIKey  string `json:"apiKey"`
}

func (s *Server) rotateKey(c *fiber.Ctx) error {
	var req rotateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := s.Accounts.RotateKey(c.UserContext(), principal(c), req.Product)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(rotateResponse{Product: string(r.Line), APIKey: r.Key})
}

type billingPlanJSON struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}

type billingStatusResponse struct {
	Scope            string           `json:"scope"`
	Plan             *billingPlanJSON `json:"plan"`
	StripeStatus     *string          `json:"stripeStatus"`
	CurrentPeriodEnd *time.Time       `json:"currentPeriodEnd"`
}

func (s *Server) billingStatus(c *fiber.Ctx) error {
	who := principal(c)
	sn, ok, err := s.Accounts.BillingStatus(c.UserContext(), who)
	if err != nil {
		return err
	}
	out := billingStatusResponse{Scope: who.Line.Scope()}
	if ok {
		st := string(sn.Status)
		out.Plan = &billingPlanJSON{ID: sn.Plan.ID, Name: sn.Plan.Name, Price: sn.Plan.Price()}
		out.StripeStatus, out.CurrentPeriodEnd = &st, sn.CurrentPeriodEnd
	}
	return c.JSON(out)
}
