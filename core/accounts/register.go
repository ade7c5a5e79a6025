package accounts

import (
	"context"
	"time"

	"github.com/gellhub/gellhub/core"
)

// RegisterInput is a registration request as the API receives it.
type RegisterInput struct {
	Email       string
	Password    string
	DisplayName string
	AccountType string
	PlanID      string
	SuccessURL  string
	CancelURL   string
	ClientIP    string
	// CheckoutReference, when set, is echoed on the checkout session: the
	// connect flow sets its flow id and its own SuccessURL.
	CheckoutReference string
}

// Registered is a new account with its secrets, each shown this once.
type Registered struct {
	Account         core.Account
	APIKey          string // sk_…
	DriveAPIKey     string // drv_…
	SessionToken    string // empty when SessionError is set
	SessionError    error  // the session could not be opened; sign in later
	SessionExpires  time.Time
	RequiresPayment bool
	CheckoutURL     string
	CheckoutError   string
}

// Register validates the input, creates the profile with its studio and its
// drive (each on its line's free plan, or the paid planId pending payment)
// and their first API keys, and opens a session. A taken email is
// KindConflict "email_taken". With a paid plan the answer says payment is
// required and carries a checkout URL or the reason there is none; the
// account is created either way.
func (s *Service) Register(ctx context.Context, in RegisterInput) (Registered, error) {
	email, normalized, err := core.NormalizeEmail("email", in.Email)
	if err != nil {
		return Registered{}, err
	}
	if err := core.CheckPassword("password", in.Password); err != nil {
		return Registered{}, err
	}
	name, err := core.CleanText("displayName", in.DisplayName, core.MaxNameLen, true)
	if err != nil {
		return Registered{}, err
	}
	kind, err := core.ParseAccountKind("accountType", in.AccountType)
	if err != nil {
		return Registered{}, err
	}
	for _, u := range []struct{ field, v string }{{"successUrl", in.SuccessURL}, {"cancelUrl", in.CancelURL}} {
		if u.v != "" {
			if err := core.CheckAbsoluteURL(u.field, u.v); err != nil {
				return Registered{}, err
			}
		}
	}
	if err := s.limit(ctx, "register:ip:"+in.ClientIP, RegisterPerIP); err != nil {
		return Registered{}, err
	}
	if err := s.limit(ctx, "register:email:"+core.Digest(normalized), RegisterPerEmail); err != nil {
		return Registered{}, err
	}

	// The line the person signed up for takes planId; the other starts free.
	chosen, err := s.cfg.Plans.Choose(ctx, kind.Line(), "planId", in.PlanID)
	if err != nil {
		return Registered{}, err
	}
	plansByLine := map[core.ProductLine]core.Plan{kind.Line(): chosen}
	for _, line := range []core.ProductLine{core.LineClientGallery, core.LineDrive} {
		if _, ok := plansByLine[line]; !ok {
			if plansByLine[line], err = s.cfg.Plans.DefaultFree(ctx, line); err != nil {
				return Registered{}, err
			}
		}
	}

	hash, err := s.cfg.Hasher.Hash(in.Password)
	if err != nil {
		return Registered{}, hasherError(err)
	}
	now := s.now()
	var ids [3]string
	for i, prefix := range []string{"prof", "studio", "drive"} {
		if ids[i], err = s.newID(prefix); err != nil {
			return Registered{}, err
		}
	}
	acct := core.Account{
		Profile: core.Profile{
			ID: ids[0], Email: email, EmailNormalized: normalized, PasswordHash: hash,
			DisplayName: name, AccountKind: kind, CreatedAt: now, UpdatedAt: now,
		},
		Studio: core.Studio{ID: ids[1], ProfileID: ids[0], CreatedAt: now},
		Drive:  core.Drive{ID: ids[2], ProfileID: ids[0], CreatedAt: now},
	}
	for _, line := range []core.ProductLine{core.LineClientGallery, core.LineDrive} {
		p := plansByLine[line]
		subID, err := s.newID("sub")
		if err != nil {
			return Registered{}, err
		}
		status := core.StatusActive
		if !p.Free() {
			status = core.StatusIncomplete
		}
		acct.Subscriptions = append(acct.Subscriptions, core.Subscription{
			ID: subID, ProfileID: ids[0], Line: line, PlanID: p.ID, Status: status, CreatedAt: now, UpdatedAt: now,
		})
	}
	out := Registered{Account: acct}
	var galleryKey, driveKey core.APIKey
	if out.APIKey, galleryKey, err = s.newKey(ids[0], core.LineClientGallery); err != nil {
		return Registered{}, err
	}
	if out.DriveAPIKey, driveKey, err = s.newKey(ids[0], core.LineDrive); err != nil {
		return Registered{}, err
	}
	acct.Keys = []core.APIKey{galleryKey, driveKey}
	out.Account = acct

	if err := s.cfg.Accounts.CreateAccount(ctx, acct); err != nil {
		return Registered{}, core.Errorf("create account", err)
	}
	// The account is committed: its keys must reach the caller even when
	// the session store fails, or a retry would only meet email_taken.
	if token, expires, err := s.newSession(ctx, acct.Profile.ID); err == nil {
		out.SessionToken, out.SessionExpires = token, expires
	} else {
		out.SessionError = err
	}

	if !chosen.Free() {
		out.RequiresPayment = true
		out.CheckoutURL, out.CheckoutError = s.startCheckout(ctx, CheckoutRequest{
			ProfileID: acct.Profile.ID, Email: acct.Profile.Email, Line: kind.Line(), Plan: chosen,
			SuccessURL: in.SuccessURL, CancelURL: in.CancelURL, Reference: in.CheckoutReference,
		})
	}
	return out, nil
}

// startCheckout asks billing for a payment page. Its failure does not undo
// the registration: the caller is told to retry checkout with the new key.
func (s *Service) startCheckout(ctx context.Context, req CheckoutRequest) (url, errMsg string) {
	if s.cfg.Checkout == nil {
		return "", "billing is not configured on this server; retry POST /api/billing/checkout-session with your API key once it is"
	}
	url, err := s.cfg.Checkout.StartCheckout(ctx, req)
	if err != nil || url == "" {
		return "", "the payment page could not be opened; retry POST /api/billing/checkout-session with your API key"
	}
	return url, ""
}
