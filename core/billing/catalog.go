package billing

import (
	"context"

	"github.com/gellhub/gellhub/core"
)

// SyncedPlan is one paid plan after a catalog sync.
type SyncedPlan struct {
	Plan    core.Plan
	Changed bool // its provider price id was set or replaced
}

// SyncCatalog makes the payment provider's products and prices match the
// active paid plans (admins only) and records each plan's price id. It is
// idempotent: a second run finds what the first created and changes
// nothing. A plan whose amount, currency or period changed gets a new
// price (prices are immutable at the provider); subscriptions on the old
// one keep it.
func (s *Service) SyncCatalog(ctx context.Context, who core.Principal) ([]SyncedPlan, error) {
	if err := who.RequireAdmin(); err != nil {
		return nil, err
	}
	all, err := s.cfg.PlanStore.ListPlans(ctx, core.PlanFilter{})
	if err != nil {
		return nil, core.Errorf("sync catalog: plans", err)
	}
	out := []SyncedPlan{}
	for _, p := range all {
		if p.Free() {
			continue
		}
		priceID, err := s.cfg.Payments.SyncPlanPrice(ctx, p)
		if err != nil {
			return out, core.Errorf("sync catalog: "+p.ID, err)
		}
		if priceID == p.StripePriceID {
			out = append(out, SyncedPlan{Plan: p})
			continue
		}
		now := s.now()
		p, err = s.cfg.PlanStore.UpdatePlan(ctx, p.ID, func(q *core.Plan, _ bool) error {
			q.StripePriceID, q.UpdatedAt = priceID, now
			return nil
		})
		if err != nil {
			return out, core.Errorf("sync catalog: update "+p.ID, err)
		}
		out = append(out, SyncedPlan{Plan: p, Changed: true})
	}
	return out, nil
}
