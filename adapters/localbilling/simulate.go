package localbilling

import (
	"context"
	"fmt"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

var errNotOpen = core.Conflict("checkout_not_open", "this checkout is no longer open; start a new one")

// SimulatedCheckout implements ports.PaymentSimulator.
func (p *Payments) SimulatedCheckout(ctx context.Context, id string) (ports.SimulatedCheckout, error) {
	var co checkoutJSON
	if _, err := p.load(ctx, kindCheckout, id, "checkout session", &co); err != nil {
		return ports.SimulatedCheckout{}, err
	}
	return ports.SimulatedCheckout{
		Session: p.session(id, co), Token: co.Token, SuccessURL: co.SuccessURL, CancelURL: co.CancelURL, ExpiresAt: co.ExpiresAt,
	}, nil
}

// PaySimulated implements ports.PaymentSimulator. The checkout is marked
// paid first, with the ids of what the payment creates; those objects are
// then created, and a retry creates whichever are missing, so a failure
// half-way loses nothing.
func (p *Payments) PaySimulated(ctx context.Context, id, token string) (core.PaymentEvent, error) {
	ids := map[string]string{}
	for _, prefix := range []string{"cus_local", "sub_local", "in_local", "ch_local", "evt_local"} {
		v, err := p.newID(prefix)
		if err != nil {
			return core.PaymentEvent{}, err
		}
		ids[prefix] = v
	}
	now := p.now()
	var co checkoutJSON
	_, err := p.cfg.Store.UpdateSimulated(ctx, kindCheckout, id, func(data []byte) ([]byte, error) {
		if err := decode(ports.SimulatedRecord{Kind: kindCheckout, ID: id, Data: data}, &co); err != nil {
			return nil, err
		}
		if err := checkToken(co.Token, token); err != nil {
			return nil, err
		}
		switch {
		case co.Status == core.CheckoutComplete && co.Paid:
			return data, nil // paid already: report the same payment
		case co.Status != core.CheckoutOpen || !now.Before(co.ExpiresAt):
			return nil, errNotOpen
		}
		co.Status, co.Paid, co.PaidAt = core.CheckoutComplete, true, now
		if co.CustomerID == "" {
			co.CustomerID = ids["cus_local"]
		}
		co.SubscriptionID, co.InvoiceID, co.ChargeID, co.EventID = ids["sub_local"], ids["in_local"], ids["ch_local"], ids["evt_local"]
		return encode(co)
	})
	if core.IsKind(err, core.KindNotFound) {
		return core.PaymentEvent{}, core.NotFound("checkout session")
	}
	if err != nil {
		return core.PaymentEvent{}, err
	}
	if err := p.settle(ctx, co); err != nil {
		return core.PaymentEvent{}, err
	}
	return core.PaymentEvent{
		ID: co.EventID, Type: core.EventCheckoutCompleted, Created: co.PaidAt, CheckoutSessionID: id,
		SubscriptionID: co.SubscriptionID, CustomerID: co.CustomerID,
	}, nil
}

// settle creates what a paid checkout created at the provider, skipping
// what exists already.
func (p *Payments) settle(ctx context.Context, co checkoutJSON) error {
	at := co.PaidAt
	if _, err := p.create(ctx, kindCustomer, co.CustomerID, co.CustomerID, at, customerJSON{ProfileID: co.ProfileID, Line: co.Line, Email: co.Email}); err != nil {
		return err
	}
	end := at.AddDate(0, 1, 0)
	if co.Period == core.PeriodAnnual {
		end = at.AddDate(1, 0, 0)
	}
	sub := subscriptionJSON{
		Status: core.StatusActive, ProfileID: co.ProfileID, Line: co.Line, PlanID: co.PlanID, PriceID: co.PriceID, PeriodEnd: end,
	}
	if _, err := p.create(ctx, kindSubscription, co.SubscriptionID, co.CustomerID, at, sub); err != nil {
		return err
	}
	number := fmt.Sprintf("LOCAL-%s", co.InvoiceID[len(co.InvoiceID)-8:])
	inv := invoiceJSON{Number: number, Status: "paid", AmountPaid: co.Amount, Currency: co.Currency, Created: at}
	if _, err := p.create(ctx, kindInvoice, co.InvoiceID, co.CustomerID, at, inv); err != nil {
		return err
	}
	ch := chargeJSON{Amount: co.Amount, Currency: co.Currency, Created: at, Description: "Subscription creation (simulated)", InvoiceID: co.InvoiceID}
	_, err := p.create(ctx, kindCharge, co.ChargeID, co.CustomerID, at, ch)
	return err
}

// CancelSimulated implements ports.PaymentSimulator. Abandoning a checkout
// that is expired already changes nothing.
func (p *Payments) CancelSimulated(ctx context.Context, id, token string) error {
	now := p.now()
	_, err := p.cfg.Store.UpdateSimulated(ctx, kindCheckout, id, func(data []byte) ([]byte, error) {
		var co checkoutJSON
		if err := decode(ports.SimulatedRecord{Kind: kindCheckout, ID: id, Data: data}, &co); err != nil {
			return nil, err
		}
		if err := checkToken(co.Token, token); err != nil {
			return nil, err
		}
		switch {
		case co.Status == core.CheckoutComplete:
			return nil, errNotOpen
		case co.Status == core.CheckoutExpired || !now.Before(co.ExpiresAt):
			return data, nil
		}
		co.Status = core.CheckoutExpired
		return encode(co)
	})
	if core.IsKind(err, core.KindNotFound) {
		return core.NotFound("checkout session")
	}
	return err
}

// SimulatedPortal implements ports.PaymentSimulator.
func (p *Payments) SimulatedPortal(ctx context.Context, id string) (ports.SimulatedPortal, error) {
	var ps portalJSON
	r, err := p.load(ctx, kindPortal, id, "portal session", &ps)
	if err != nil {
		return ports.SimulatedPortal{}, err
	}
	if !p.now().Before(ps.ExpiresAt) {
		return ports.SimulatedPortal{}, core.NotFound("portal session")
	}
	out := ports.SimulatedPortal{ID: id, CustomerID: r.CustomerID, ReturnURL: ps.ReturnURL, Token: ps.Token, ExpiresAt: ps.ExpiresAt}
	subs, err := p.cfg.Store.ListSimulated(ctx, kindSubscription, r.CustomerID, maxListed)
	if err != nil {
		return ports.SimulatedPortal{}, fmt.Errorf("localbilling: subscriptions: %w", err)
	}
	for _, sr := range subs {
		var s subscriptionJSON
		if err := decode(sr, &s); err != nil {
			return ports.SimulatedPortal{}, err
		}
		out.Subscriptions = append(out.Subscriptions, providerSubscription(sr, s))
	}
	if out.Invoices, err = p.Invoices(ctx, r.CustomerID, maxListed); err != nil {
		return ports.SimulatedPortal{}, err
	}
	return out, nil
}

// CancelSimulatedSubscription implements ports.PaymentSimulator.
func (p *Payments) CancelSimulatedSubscription(ctx context.Context, portalID, token, subscriptionID string) (core.PaymentEvent, error) {
	var ps portalJSON
	pr, err := p.load(ctx, kindPortal, portalID, "portal session", &ps)
	if err != nil {
		return core.PaymentEvent{}, err
	}
	if err := checkToken(ps.Token, token); err != nil {
		return core.PaymentEvent{}, err
	}
	if !p.now().Before(ps.ExpiresAt) {
		return core.PaymentEvent{}, core.NotFound("portal session")
	}
	// A subscription's customer never changes: checking it before the
	// update is enough.
	if sr, err := p.cfg.Store.Simulated(ctx, kindSubscription, subscriptionID); core.IsKind(err, core.KindNotFound) || (err == nil && sr.CustomerID != pr.CustomerID) {
		return core.PaymentEvent{}, core.NotFound("subscription")
	} else if err != nil {
		return core.PaymentEvent{}, fmt.Errorf("localbilling: subscription: %w", err)
	}
	eventID, err := p.newID("evt_local")
	if err != nil {
		return core.PaymentEvent{}, err
	}
	now := p.now()
	var s subscriptionJSON
	var canceledAt time.Time
	_, err = p.cfg.Store.UpdateSimulated(ctx, kindSubscription, subscriptionID, func(data []byte) ([]byte, error) {
		if err := decode(ports.SimulatedRecord{Kind: kindSubscription, ID: subscriptionID, Data: data}, &s); err != nil {
			return nil, err
		}
		if s.CanceledAt != nil {
			canceledAt = *s.CanceledAt
			return data, nil
		}
		canceledAt = now
		s.Status, s.CanceledAt, s.CancelEventID = core.StatusCanceled, &canceledAt, eventID
		return encode(s)
	})
	if core.IsKind(err, core.KindNotFound) {
		return core.PaymentEvent{}, core.NotFound("subscription")
	}
	if err != nil {
		return core.PaymentEvent{}, err
	}
	return core.PaymentEvent{
		ID: s.CancelEventID, Type: core.EventSubscriptionDeleted, Created: canceledAt,
		SubscriptionID: subscriptionID, CustomerID: pr.CustomerID,
	}, nil
}
