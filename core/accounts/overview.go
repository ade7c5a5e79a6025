package accounts

import (
	"context"
	"time"

	"github.com/gellhub/gellhub/core"
)

// PlanSnapshot is a subscription with the plan it is on.
type PlanSnapshot struct {
	Line             core.ProductLine
	Plan             core.Plan
	Status           core.SubscriptionStatus
	CurrentPeriodEnd *time.Time
	Eligible         bool
}

// Overview is what the signed-in person sees of their account.
type Overview struct {
	Profile core.Profile
	Studio  core.Studio
	Drive   core.Drive
	IsAdmin bool
	Plans   []PlanSnapshot // one per subscribed line, in line order
	Keys    []core.APIKey  // active keys: display prefixes only
}

// Me returns the caller's overview.
func (s *Service) Me(ctx context.Context, who core.Principal) (Overview, error) {
	if err := who.RequireSession(); err != nil {
		return Overview{}, err
	}
	p, err := s.cfg.Accounts.ProfileByID(ctx, who.ProfileID)
	if err != nil {
		return Overview{}, core.Errorf("me", err)
	}
	out := Overview{Profile: p, IsAdmin: s.IsAdmin(p.Email)}
	if out.Studio, err = s.cfg.Accounts.StudioByProfile(ctx, p.ID); err != nil {
		return Overview{}, core.Errorf("me: studio", err)
	}
	if out.Drive, err = s.cfg.Accounts.DriveByProfile(ctx, p.ID); err != nil {
		return Overview{}, core.Errorf("me: drive", err)
	}
	if out.Plans, err = s.snapshots(ctx, p.ID); err != nil {
		return Overview{}, err
	}
	if out.Keys, err = s.cfg.Accounts.ActiveAPIKeys(ctx, p.ID); err != nil {
		return Overview{}, core.Errorf("me: keys", err)
	}
	return out, nil
}

func (s *Service) snapshots(ctx context.Context, profileID string) ([]PlanSnapshot, error) {
	subs, err := s.cfg.Accounts.Subscriptions(ctx, profileID)
	if err != nil {
		return nil, core.Errorf("subscriptions", err)
	}
	var out []PlanSnapshot
	for _, line := range core.ProductLines {
		for _, sub := range subs {
			if sub.Line != line {
				continue
			}
			plan, err := s.cfg.Plans.Get(ctx, sub.PlanID)
			if err != nil {
				return nil, core.Errorf("subscription plan", err)
			}
			out = append(out, PlanSnapshot{
				Line: line, Plan: plan, Status: sub.Status, CurrentPeriodEnd: sub.CurrentPeriodEnd,
				Eligible: core.Eligible(plan, sub.Status),
			})
		}
	}
	return out, nil
}

// Subscription returns the snapshot of one line; ok is false when the
// profile has no subscription of that line.
func (s *Service) Subscription(ctx context.Context, profileID string, line core.ProductLine) (snap PlanSnapshot, ok bool, err error) {
	all, err := s.snapshots(ctx, profileID)
	if err != nil {
		return PlanSnapshot{}, false, err
	}
	snap, ok = PickSnapshot(all, line)
	return snap, ok, nil
}

// Snapshots returns every subscription of the profile with its plan, in
// line order: one read for callers that need several lines.
func (s *Service) Snapshots(ctx context.Context, profileID string) ([]PlanSnapshot, error) {
	return s.snapshots(ctx, profileID)
}

// PickSnapshot finds the snapshot of line among all.
func PickSnapshot(all []PlanSnapshot, line core.ProductLine) (PlanSnapshot, bool) {
	for _, sn := range all {
		if sn.Line == line {
			return sn, true
		}
	}
	return PlanSnapshot{}, false
}

// BillingStatus is the subscription snapshot of the caller's key's line.
func (s *Service) BillingStatus(ctx context.Context, who core.Principal) (PlanSnapshot, bool, error) {
	if who.Via != core.AuthAPIKey {
		return PlanSnapshot{}, false, core.Forbidden("billing status needs a product API key")
	}
	return s.Subscription(ctx, who.ProfileID, who.Line)
}

// RotatedKey is a fresh API key, shown this once.
type RotatedKey struct {
	Line core.ProductLine
	Key  string
}

// RotateKey replaces the caller's key of product (clientGallery or drive):
// the old key stops working at once. Only a browser session may rotate.
func (s *Service) RotateKey(ctx context.Context, who core.Principal, product string) (RotatedKey, error) {
	if err := who.RequireSession(); err != nil {
		return RotatedKey{}, err
	}
	if product == "" {
		return RotatedKey{}, core.Invalid("product", "product is required")
	}
	line := core.ProductLine(product)
	switch line {
	case core.LineClientGallery, core.LineDrive:
	case core.LineMessaging:
		return RotatedKey{}, core.Invalid("product", "messaging keys are managed with POST /api/messaging/api-key")
	default:
		return RotatedKey{}, core.Invalid("product", "product must be clientGallery or drive")
	}
	raw, key, err := s.newKey(who.ProfileID, line)
	if err != nil {
		return RotatedKey{}, err
	}
	if err := s.cfg.Accounts.RotateAPIKey(ctx, key, s.now()); err != nil {
		return RotatedKey{}, core.Errorf("rotate key", err)
	}
	return RotatedKey{Line: line, Key: raw}, nil
}

// StorageOwner returns the workspace of line (the studio for clientGallery,
// the drive for drive) and the storage limit of the plan in force. A paid
// plan that is not paid for (the guide's eligibility rule) is
// KindPaymentRequired: uploads wait for the payment.
func (s *Service) StorageOwner(ctx context.Context, profileID string, line core.ProductLine) (ownerID string, limit int64, err error) {
	switch line {
	case core.LineClientGallery:
		st, err := s.cfg.Accounts.StudioByProfile(ctx, profileID)
		if err != nil {
			return "", 0, core.Errorf("studio", err)
		}
		ownerID = st.ID
	case core.LineDrive:
		d, err := s.cfg.Accounts.DriveByProfile(ctx, profileID)
		if err != nil {
			return "", 0, core.Errorf("drive", err)
		}
		ownerID = d.ID
	default:
		return "", 0, core.Forbidden(string(line) + " has no storage")
	}
	snap, ok, err := s.Subscription(ctx, profileID, line)
	if err != nil {
		return "", 0, err
	}
	if !ok || !snap.Eligible {
		return "", 0, core.E(core.KindPaymentRequired, "the plan of this product is not active: complete its payment first").WithCode("subscription_required")
	}
	return ownerID, snap.Plan.StorageLimitBytes, nil
}

// Studio returns the profile's studio.
func (s *Service) Studio(ctx context.Context, profileID string) (core.Studio, error) {
	st, err := s.cfg.Accounts.StudioByProfile(ctx, profileID)
	return st, core.Errorf("studio", err)
}

// Drive returns the profile's drive.
func (s *Service) Drive(ctx context.Context, profileID string) (core.Drive, error) {
	d, err := s.cfg.Accounts.DriveByProfile(ctx, profileID)
	return d, core.Errorf("drive", err)
}
