package billing

import (
	"context"
	"strings"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// SimulatedPage is what the embedded default's checkout page shows.
type SimulatedPage struct {
	Checkout ports.SimulatedCheckout
	Plan     core.Plan
}

func (s *Service) simulator(id string) error {
	if s.cfg.Simulator == nil || !core.ValidID(id) {
		return core.NotFound("checkout session")
	}
	return nil
}

// SimulatedCheckout returns the simulated checkout page of session id.
// Without simulated payments every id is KindNotFound.
func (s *Service) SimulatedCheckout(ctx context.Context, id string) (SimulatedPage, error) {
	if err := s.simulator(id); err != nil {
		return SimulatedPage{}, err
	}
	co, err := s.cfg.Simulator.SimulatedCheckout(ctx, id)
	if err != nil {
		return SimulatedPage{}, core.Errorf("simulated checkout", err)
	}
	plan, err := s.cfg.Plans.Get(ctx, co.Session.PlanID)
	if err != nil {
		return SimulatedPage{}, core.Errorf("simulated checkout: plan", err)
	}
	return SimulatedPage{Checkout: co, Plan: plan}, nil
}

// PaySimulated "pays" a simulated checkout and applies exactly what the
// provider's webhook would: the checkout.session.completed event goes
// through Ingest, the same inbox and sync as a real one. It returns the
// session's success URL, {CHECKOUT_SESSION_ID} filled in. Paying again
// (a double submit, a retry after a failure) records nothing twice.
func (s *Service) PaySimulated(ctx context.Context, id, token string) (string, error) {
	if err := s.simulator(id); err != nil {
		return "", err
	}
	ev, err := s.cfg.Simulator.PaySimulated(ctx, id, token)
	if err != nil {
		return "", core.Errorf("simulated payment", err)
	}
	if err := s.Ingest(ctx, ev); err != nil {
		return "", err
	}
	co, err := s.cfg.Simulator.SimulatedCheckout(ctx, id)
	if err != nil {
		return "", core.Errorf("simulated payment", err)
	}
	return strings.ReplaceAll(or(co.SuccessURL, s.dashboard()), "{CHECKOUT_SESSION_ID}", id), nil
}

// CancelSimulated abandons a simulated checkout and returns its cancel URL.
func (s *Service) CancelSimulated(ctx context.Context, id, token string) (string, error) {
	if err := s.simulator(id); err != nil {
		return "", err
	}
	if err := s.cfg.Simulator.CancelSimulated(ctx, id, token); err != nil {
		return "", core.Errorf("simulated cancel", err)
	}
	co, err := s.cfg.Simulator.SimulatedCheckout(ctx, id)
	if err != nil {
		return "", core.Errorf("simulated cancel", err)
	}
	return or(co.CancelURL, s.dashboard()), nil
}

// SimulatedPortal returns the simulated customer portal session id, with
// the plans of its subscriptions (by plan id).
func (s *Service) SimulatedPortal(ctx context.Context, id string) (ports.SimulatedPortal, map[string]core.Plan, error) {
	if s.cfg.Simulator == nil || !core.ValidID(id) {
		return ports.SimulatedPortal{}, nil, core.NotFound("portal session")
	}
	p, err := s.cfg.Simulator.SimulatedPortal(ctx, id)
	if err != nil {
		return ports.SimulatedPortal{}, nil, core.Errorf("simulated portal", err)
	}
	plans := map[string]core.Plan{}
	for _, sub := range p.Subscriptions {
		if _, ok := plans[sub.PlanID]; ok || sub.PlanID == "" {
			continue
		}
		if plan, err := s.cfg.Plans.Get(ctx, sub.PlanID); err == nil {
			plans[sub.PlanID] = plan
		} else if !core.IsKind(err, core.KindNotFound) {
			return ports.SimulatedPortal{}, nil, core.Errorf("simulated portal: plan", err)
		}
	}
	return p, plans, nil
}

// CancelSimulatedSubscription cancels a subscription from the simulated
// portal and applies what the provider's customer.subscription.deleted
// webhook would (the line falls back to its free plan; nothing is
// deleted).
func (s *Service) CancelSimulatedSubscription(ctx context.Context, portalID, token, subscriptionID string) error {
	if s.cfg.Simulator == nil || !core.ValidID(portalID) {
		return core.NotFound("portal session")
	}
	if !core.ValidID(subscriptionID) {
		return core.NotFound("subscription")
	}
	ev, err := s.cfg.Simulator.CancelSimulatedSubscription(ctx, portalID, token, subscriptionID)
	if err != nil {
		return core.Errorf("simulated cancel", err)
	}
	return s.Ingest(ctx, ev)
}
