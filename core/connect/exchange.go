package connect

import (
	"context"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/ports"
)

func checkoutParams(p core.Profile, plan core.Plan, success, reference string) ports.CheckoutParams {
	return ports.CheckoutParams{
		ProfileID: p.ID, Email: p.Email, Line: plan.Line, Plan: plan,
		SuccessURL: success, Reference: reference,
	}
}

// ExchangeInput is the partner backend's redemption of a code.
type ExchangeInput struct {
	Code         string
	ClientID     string
	ClientSecret string
	ClientIP     string
}

// Exchanged is the merchant's account as the partner receives it, with keys
// minted for the link (shown this once).
type Exchanged struct {
	Profile                  core.Profile
	StudioID                 string
	DriveID                  string
	APIKey                   string
	DriveAPIKey              string
	MessagingAPIKey          string // "" without an eligible messaging subscription
	HasMessagingSubscription bool
	Plan                     *accounts.PlanSnapshot // of the app's line; nil when none
	State                    string
}

// errBadCode answers every unknown, expired, reused or other app's code.
var errBadCode = core.Invalid("code", "the code is invalid, expired or already used")

// Exchange redeems a code once. Wrong client or secret is
// KindUnauthenticated; a code that is unknown, expired, already redeemed,
// or issued to another app is KindInvalid (detail "code"). Of concurrent
// exchanges of one code exactly one succeeds. Keys are minted for the
// link, replacing those of an earlier exchange.
func (s *Service) Exchange(ctx context.Context, in ExchangeInput) (Exchanged, error) {
	if err := s.limit(ctx, "exchange:ip:"+in.ClientIP, ExchangePerIP); err != nil {
		return Exchanged{}, err
	}
	app, err := s.cfg.Developer.AuthenticateClient(ctx, in.ClientID, in.ClientSecret)
	if err != nil {
		return Exchanged{}, err
	}
	if err := s.limit(ctx, "exchange:client:"+app.ClientID, ExchangePerClient); err != nil {
		return Exchanged{}, err
	}
	if in.Code == "" || len(in.Code) > maxCodeLen {
		s.record(ctx, app.ID, core.StatFailedExchanges)
		return Exchanged{}, errBadCode
	}
	g, err := s.cfg.Codes.RedeemCode(ctx, codeKey(app.ID, in.Code))
	if core.IsKind(err, core.KindNotFound) || (err == nil && g.AppID != app.ID) {
		s.record(ctx, app.ID, core.StatFailedExchanges)
		return Exchanged{}, errBadCode
	}
	if err != nil {
		return Exchanged{}, core.Errorf("redeem code", err)
	}
	// A code issued before the link was revoked and linked again must not
	// revive: the link's last change must not be newer than the code.
	if link, err := s.cfg.Links.LinkFor(ctx, g.ProfileID, app.ID); err != nil || !link.Active() || link.ID != g.LinkID || link.UpdatedAt.After(g.IssuedAt) {
		if err != nil && !core.IsKind(err, core.KindNotFound) {
			return Exchanged{}, core.Errorf("exchange: link", err)
		}
		s.record(ctx, app.ID, core.StatFailedExchanges)
		return Exchanged{}, errBadCode
	}
	out, err := s.mint(ctx, app, g)
	if err != nil {
		if core.IsKind(err, core.KindNotFound) {
			s.record(ctx, app.ID, core.StatFailedExchanges)
			return Exchanged{}, errBadCode // the link was revoked since
		}
		return Exchanged{}, err
	}
	s.record(ctx, app.ID, core.StatExchanges)
	return out, nil
}

func (s *Service) mint(ctx context.Context, app core.PartnerApp, g core.ConnectGrant) (Exchanged, error) {
	p, err := s.cfg.Store.ProfileByID(ctx, g.ProfileID)
	if err != nil {
		return Exchanged{}, core.Errorf("exchange: profile", err)
	}
	studio, err := s.cfg.Store.StudioByProfile(ctx, p.ID)
	if err != nil {
		return Exchanged{}, core.Errorf("exchange: studio", err)
	}
	drive, err := s.cfg.Store.DriveByProfile(ctx, p.ID)
	if err != nil {
		return Exchanged{}, core.Errorf("exchange: drive", err)
	}
	snaps, err := s.cfg.Accounts.Snapshots(ctx, p.ID)
	if err != nil {
		return Exchanged{}, err
	}
	msg, hasMsg := accounts.PickSnapshot(snaps, core.LineMessaging)
	out := Exchanged{Profile: p, StudioID: studio.ID, DriveID: drive.ID, State: g.State}
	out.HasMessagingSubscription = hasMsg && msg.Eligible
	lines := []core.ProductLine{core.LineClientGallery, core.LineDrive}
	if out.HasMessagingSubscription {
		lines = append(lines, core.LineMessaging)
	}
	var keys []core.APIKey
	for _, line := range lines {
		raw, k, err := s.cfg.Accounts.MintKey(p.ID, line, g.LinkID)
		if err != nil {
			return Exchanged{}, err
		}
		keys = append(keys, k)
		switch line {
		case core.LineClientGallery:
			out.APIKey = raw
		case core.LineDrive:
			out.DriveAPIKey = raw
		case core.LineMessaging:
			out.MessagingAPIKey = raw
		}
	}
	if err := s.cfg.Links.ReplaceLinkKeys(ctx, g.LinkID, keys, s.now()); err != nil {
		return Exchanged{}, core.Errorf("exchange: keys", err)
	}
	if snap, ok := accounts.PickSnapshot(snaps, app.Line); ok {
		out.Plan = &snap
	}
	return out, nil
}

// VerifyInput is the partner backend's check of a merchant.
type VerifyInput struct {
	ProfileID    string
	ClientID     string
	ClientSecret string
	ClientIP     string
}

// Verified is the link's state as the partner sees it.
type Verified struct {
	Registered               bool
	Linked                   bool
	Profile                  core.Profile
	HasMessagingSubscription bool
	Plan                     *accounts.PlanSnapshot // of the app's line; nil when none
}

// Verify reports whether a profile is still registered and linked to the
// calling app. KindNotFound when the profile was never linked to it (or
// does not exist); KindUnauthenticated for bad credentials.
func (s *Service) Verify(ctx context.Context, in VerifyInput) (Verified, error) {
	if err := s.limit(ctx, "verify:ip:"+in.ClientIP, VerifyPerIP); err != nil {
		return Verified{}, err
	}
	app, err := s.cfg.Developer.AuthenticateClient(ctx, in.ClientID, in.ClientSecret)
	if err != nil {
		return Verified{}, err
	}
	if err := s.limit(ctx, "verify:client:"+app.ClientID, VerifyPerClient); err != nil {
		return Verified{}, err
	}
	if in.ProfileID == "" {
		return Verified{}, core.Invalid("profile_id", "profile_id is required")
	}
	if !core.ValidID(in.ProfileID) {
		return Verified{}, core.NotFound("link")
	}
	link, err := s.cfg.Links.LinkFor(ctx, in.ProfileID, app.ID)
	if core.IsKind(err, core.KindNotFound) {
		return Verified{}, core.NotFound("link")
	}
	if err != nil {
		return Verified{}, core.Errorf("verify", err)
	}
	p, err := s.cfg.Store.ProfileByID(ctx, in.ProfileID)
	if core.IsKind(err, core.KindNotFound) {
		return Verified{}, core.NotFound("link")
	}
	if err != nil {
		return Verified{}, core.Errorf("verify: profile", err)
	}
	out := Verified{Registered: true, Linked: link.Active(), Profile: p}
	snaps, err := s.cfg.Accounts.Snapshots(ctx, p.ID)
	if err != nil {
		return Verified{}, err
	}
	msg, hasMsg := accounts.PickSnapshot(snaps, core.LineMessaging)
	out.HasMessagingSubscription = hasMsg && msg.Eligible
	if snap, ok := accounts.PickSnapshot(snaps, app.Line); ok {
		out.Plan = &snap
	}
	return out, nil
}

// LinkView is one of the caller's connected apps.
type LinkView struct {
	Link    core.ConnectLink
	AppName string
	Line    core.ProductLine
}

// Links lists the apps the caller connected, active and revoked.
func (s *Service) Links(ctx context.Context, who core.Principal) ([]LinkView, error) {
	if err := who.RequireSession(); err != nil {
		return nil, err
	}
	links, err := s.cfg.Links.LinksByProfile(ctx, who.ProfileID)
	if err != nil {
		return nil, core.Errorf("links", err)
	}
	out := make([]LinkView, 0, len(links))
	for _, l := range links {
		v := LinkView{Link: l}
		if app, err := s.cfg.Developer.AppByIDAnyStatus(ctx, l.AppID); err == nil {
			v.AppName, v.Line = app.Name, app.Line
		}
		out = append(out, v)
	}
	return out, nil
}

// RevokeLink disconnects an app from the caller's account: the link and
// every key minted for it stop working at once.
func (s *Service) RevokeLink(ctx context.Context, who core.Principal, linkID string) error {
	if err := who.RequireSession(); err != nil {
		return err
	}
	if !core.ValidID(linkID) {
		return core.NotFound("link")
	}
	return core.Errorf("revoke link", s.cfg.Links.RevokeLink(ctx, who.ProfileID, linkID, s.now()))
}
