package plans

import (
	"context"
	"regexp"
	"time"

	"github.com/gellhub/gellhub/core"
)

// Limits on admin plan input.
const (
	maxStorageLimitBytes = int64(1) << 60 // an exbibyte: far past any plan
	maxMonthlyCredits    = 100_000_000
	maxSortOrder         = 1_000_000
	maxStripePriceIDLen  = 255
)

var currencyPattern = regexp.MustCompile(`^[a-z]{3}$`)

// PlanInput is an admin's new plan. Price is in the currency's major unit.
type PlanInput struct {
	ID                   string // optional; generated when empty
	PlanType             string
	Name                 string
	Description          string
	Features             []string
	StorageLimitBytes    int64
	MonthlyCredits       int64
	Price                float64
	Currency             string // default "usd"
	BillingPeriod        string // default "monthly"
	ClientGalleryEnabled bool
	StripePriceID        string
	SortOrder            int
}

// PlanPatch is an admin's partial update; nil fields are left alone. The
// product line never changes; price, currency and billing period cannot
// change while a subscription uses the plan (create a new plan and archive
// this one, as Stripe prices are immutable).
type PlanPatch struct {
	Name                 *string
	Description          *string
	Features             *[]string
	StorageLimitBytes    *int64
	MonthlyCredits       *int64
	Price                *float64
	Currency             *string
	BillingPeriod        *string
	ClientGalleryEnabled *bool
	StripePriceID        *string
	SortOrder            *int
	Status               *string
}

// AdminList returns every plan, archived ones included.
func (s *Service) AdminList(ctx context.Context, who core.Principal) ([]core.Plan, error) {
	if err := who.RequireAdmin(); err != nil {
		return nil, err
	}
	return s.store.ListPlans(ctx, core.PlanFilter{IncludeArchived: true})
}

// AdminCreate validates and stores a new active plan.
func (s *Service) AdminCreate(ctx context.Context, who core.Principal, in PlanInput) (core.Plan, error) {
	if err := who.RequireAdmin(); err != nil {
		return core.Plan{}, err
	}
	line, err := core.ParseProductLine("planType", in.PlanType)
	if err != nil {
		return core.Plan{}, err
	}
	p := core.Plan{ID: in.ID, Line: line, Status: core.PlanActive}
	if p.ID == "" {
		if p.ID, err = core.NewID("plan", s.clock.Now(), s.rnd); err != nil {
			return core.Plan{}, core.Internal(err)
		}
	} else if err := checkPlanID("id", p.ID); err != nil {
		return core.Plan{}, err
	}
	if in.Currency == "" {
		in.Currency = "usd"
	}
	if in.BillingPeriod == "" {
		in.BillingPeriod = string(core.PeriodMonthly)
	}
	patch := PlanPatch{
		Name: &in.Name, Description: &in.Description, Features: &in.Features,
		StorageLimitBytes: &in.StorageLimitBytes, MonthlyCredits: &in.MonthlyCredits,
		Price: &in.Price, Currency: &in.Currency, BillingPeriod: &in.BillingPeriod,
		ClientGalleryEnabled: &in.ClientGalleryEnabled, StripePriceID: &in.StripePriceID,
		SortOrder: &in.SortOrder,
	}
	if err := applyPatch(&p, patch, false); err != nil {
		return core.Plan{}, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond) // what every store keeps
	p.CreatedAt, p.UpdatedAt = now, now
	if err := s.store.CreatePlan(ctx, p); err != nil {
		return core.Plan{}, core.Errorf("create plan", err)
	}
	return p, nil
}

// AdminUpdate applies a patch to a plan.
func (s *Service) AdminUpdate(ctx context.Context, who core.Principal, id string, patch PlanPatch) (core.Plan, error) {
	if err := who.RequireAdmin(); err != nil {
		return core.Plan{}, err
	}
	if err := checkPlanID("id", id); err != nil {
		return core.Plan{}, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	defer s.forget(id)
	var before core.Plan
	p, err := s.store.UpdatePlan(ctx, id, func(p *core.Plan, inUse bool) error {
		before = *p
		if err := applyPatch(p, patch, inUse); err != nil {
			return err
		}
		p.UpdatedAt = now
		return nil
	})
	if err != nil {
		return core.Plan{}, core.Errorf("update plan", err)
	}
	// Registration starts every profile on a free Client Gallery and Drive
	// plan, so the last one of a line must stay. The store's transaction
	// sees one plan only: check after the write and put the plan back when
	// it was the last.
	wasFree, isFree := before.Free() && before.Status == core.PlanActive, p.Free() && p.Status == core.PlanActive
	if wasFree && !isFree && p.Line != core.LineMessaging {
		if _, ferr := s.DefaultFree(ctx, p.Line); core.IsKind(ferr, core.KindConflict) {
			if _, rerr := s.store.UpdatePlan(ctx, id, func(q *core.Plan, _ bool) error {
				*q = before
				return nil
			}); rerr != nil {
				return core.Plan{}, core.Errorf("update plan: restore the last free plan", rerr)
			}
			return core.Plan{}, core.Conflict("last_free_plan", "this is the last free "+string(p.Line)+" plan and registration needs one; publish another first")
		}
	}
	return p, nil
}

// AdminDelete removes a plan no subscription uses; a used plan is a
// conflict (archive it instead).
func (s *Service) AdminDelete(ctx context.Context, who core.Principal, id string) error {
	if err := who.RequireAdmin(); err != nil {
		return err
	}
	if err := checkPlanID("id", id); err != nil {
		return err
	}
	for _, c := range DefaultCatalog() {
		if c.ID == id {
			// Start-up seeding would bring it back: archive it instead.
			return core.Conflict("catalog_plan", "plans of the default catalog cannot be deleted; archive it instead")
		}
	}
	defer s.forget(id)
	return core.Errorf("delete plan", s.store.DeletePlan(ctx, id))
}

// applyPatch validates each given field and writes it into p. inUse forbids
// changing what a running subscription was sold at.
func applyPatch(p *core.Plan, in PlanPatch, inUse bool) error {
	if in.Name != nil {
		v, err := core.CleanText("name", *in.Name, core.MaxNameLen, true)
		if err != nil {
			return err
		}
		p.Name = v
	}
	if in.Description != nil {
		v, err := core.CleanText("description", *in.Description, core.MaxDescriptionLen, false)
		if err != nil {
			return err
		}
		p.Description = v
	}
	if in.Features != nil {
		fs := *in.Features
		if len(fs) > core.MaxFeatures {
			return core.Invalid("features", "features may list at most %d items", core.MaxFeatures)
		}
		clean := make([]string, 0, len(fs))
		for _, f := range fs {
			v, err := core.CleanText("features", f, core.MaxFeatureLen, true)
			if err != nil {
				return err
			}
			clean = append(clean, v)
		}
		p.Features = clean
	}
	if in.StorageLimitBytes != nil {
		if v := *in.StorageLimitBytes; v < 0 || v > maxStorageLimitBytes {
			return core.Invalid("storageLimitBytes", "storageLimitBytes must be between 0 and %d", maxStorageLimitBytes)
		}
		p.StorageLimitBytes = *in.StorageLimitBytes
	}
	if in.MonthlyCredits != nil {
		v := *in.MonthlyCredits
		if v < 0 || v > maxMonthlyCredits {
			return core.Invalid("monthlyCredits", "monthlyCredits must be between 0 and %d", maxMonthlyCredits)
		}
		if v > 0 && p.Line != core.LineMessaging {
			return core.Invalid("monthlyCredits", "monthlyCredits applies to messaging plans only")
		}
		p.MonthlyCredits = v
	}
	if in.Price != nil {
		cents, err := priceToMinor("price", *in.Price)
		if err != nil {
			return err
		}
		if inUse && cents != p.PriceMinor {
			return core.Conflict("plan_in_use", "the price of a plan in use cannot change; create a new plan and archive this one")
		}
		p.PriceMinor = cents
	}
	if in.Currency != nil {
		if !currencyPattern.MatchString(*in.Currency) {
			return core.Invalid("currency", "currency must be a lower-case ISO 4217 code such as usd")
		}
		if inUse && *in.Currency != p.Currency {
			return core.Conflict("plan_in_use", "the currency of a plan in use cannot change; create a new plan and archive this one")
		}
		p.Currency = *in.Currency
	}
	if in.BillingPeriod != nil {
		bp := core.BillingPeriod(*in.BillingPeriod)
		if bp != core.PeriodMonthly && bp != core.PeriodAnnual {
			return core.Invalid("billingPeriod", "billingPeriod must be monthly or annual")
		}
		if inUse && bp != p.BillingPeriod {
			return core.Conflict("plan_in_use", "the billing period of a plan in use cannot change; create a new plan and archive this one")
		}
		p.BillingPeriod = bp
	}
	if in.ClientGalleryEnabled != nil {
		p.ClientGalleryEnabled = *in.ClientGalleryEnabled
	}
	if in.StripePriceID != nil {
		v, err := core.CleanText("stripePriceId", *in.StripePriceID, maxStripePriceIDLen, false)
		if err != nil {
			return err
		}
		p.StripePriceID = v
	}
	if in.SortOrder != nil {
		if v := *in.SortOrder; v < -maxSortOrder || v > maxSortOrder {
			return core.Invalid("sortOrder", "sortOrder must be between %d and %d", -maxSortOrder, maxSortOrder)
		}
		p.SortOrder = *in.SortOrder
	}
	if in.Status != nil {
		st := core.PlanStatus(*in.Status)
		if st != core.PlanActive && st != core.PlanArchived {
			return core.Invalid("status", "status must be active or archived")
		}
		p.Status = st
	}
	return nil
}
