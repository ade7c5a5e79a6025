package billing

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// CheckoutInput asks to subscribe the caller to a plan.
type CheckoutInput struct {
	PlanID     string
	SuccessURL string // optional; may contain {CHECKOUT_SESSION_ID}
	CancelURL  string // optional
}

// CheckoutResult is where the browser goes next: the payment page of a
// paid plan, or, for a free plan applied at once (Activated), the success
// URL or the dashboard.
type CheckoutResult struct {
	URL       string
	Activated bool
	SessionID string // the checkout session of a paid plan
}

// Checkout subscribes the caller to in.PlanID. With an API key the plan
// must be of the key's line (else KindInvalid, detail "planId"); a browser
// session may subscribe any line. A price-0 plan is applied at once; a paid
// plan opens a checkout and is applied when the payment completes (webhook
// sync). While a paid subscription of the line is being paid for, choosing
// another paid plan is KindConflict "subscription_active" (the customer
// portal changes or cancels it), and choosing it again
// "already_subscribed". While the line has a provider subscription that
// has not ended (the provider may still bill it), choosing a free plan is
// KindConflict "paid_subscription_active": it is cancelled in the portal,
// and the line returns to its free plan when it ends. That check and the
// switch are one locked store operation, so a payment applied meanwhile
// (webhook sync) is never overwritten.
func (s *Service) Checkout(ctx context.Context, who core.Principal, in CheckoutInput) (CheckoutResult, error) {
	if in.PlanID == "" {
		return CheckoutResult{}, core.Invalid("planId", "planId is required")
	}
	for _, u := range []struct{ field, v string }{{"successUrl", in.SuccessURL}, {"cancelUrl", in.CancelURL}} {
		if u.v != "" {
			if err := core.CheckAbsoluteURL(u.field, u.v); err != nil {
				return CheckoutResult{}, err
			}
		}
	}
	plan, err := s.choosePlan(ctx, who, in.PlanID)
	if err != nil {
		return CheckoutResult{}, err
	}
	profile, err := s.cfg.Accounts.ProfileByID(ctx, who.ProfileID)
	if err != nil {
		return CheckoutResult{}, core.Errorf("checkout: profile", err)
	}
	if plan.Free() {
		if err := s.activateFree(ctx, who.ProfileID, plan); err != nil {
			return CheckoutResult{}, err
		}
		return CheckoutResult{URL: or(in.SuccessURL, s.dashboard()), Activated: true}, nil
	}
	current, err := s.subscription(ctx, who.ProfileID, plan.Line)
	if err != nil {
		return CheckoutResult{}, err
	}
	if current != nil {
		curPlan, err := s.cfg.Plans.Get(ctx, current.PlanID)
		if err != nil {
			return CheckoutResult{}, core.Errorf("checkout: current plan", err)
		}
		paying := !curPlan.Free() && core.LiveStatus(current.Status) && current.StripeSubscriptionID != ""
		switch {
		case paying && current.PlanID == plan.ID:
			return CheckoutResult{}, core.Conflict("already_subscribed", "this plan is already active; manage it in the billing portal (POST /api/billing/portal)")
		case paying:
			return CheckoutResult{}, core.Conflict("subscription_active", "a paid plan of this product is active: change or cancel it in the billing portal (POST /api/billing/portal)")
		}
	}
	cs, err := s.Payments().CreateCheckoutSession(ctx, ports.CheckoutParams{
		ProfileID: profile.ID, Email: profile.Email, Line: plan.Line, Plan: plan,
		SuccessURL: in.SuccessURL, CancelURL: in.CancelURL,
	})
	if err != nil {
		return CheckoutResult{}, core.Errorf("checkout", err)
	}
	return CheckoutResult{URL: cs.URL, SessionID: cs.ID}, nil
}

// choosePlan finds the active plan the caller may subscribe to.
func (s *Service) choosePlan(ctx context.Context, who core.Principal, planID string) (core.Plan, error) {
	switch who.Via {
	case core.AuthAPIKey:
		return s.cfg.Plans.Choose(ctx, who.Line, "planId", planID)
	case core.AuthSession:
		p, err := s.cfg.Plans.PublicByID(ctx, planID, "")
		if core.IsKind(err, core.KindNotFound) || core.IsKind(err, core.KindInvalid) {
			return core.Plan{}, core.Invalid("planId", "planId names no available plan")
		}
		return p, err
	}
	return core.Plan{}, core.Unauthenticated("sign in or send an API key")
}

// subscription returns the profile's subscription of line, nil when none.
func (s *Service) subscription(ctx context.Context, profileID string, line core.ProductLine) (*core.Subscription, error) {
	subs, err := s.cfg.Accounts.Subscriptions(ctx, profileID)
	if err != nil {
		return nil, core.Errorf("subscriptions", err)
	}
	for _, sub := range subs {
		if sub.Line == line {
			return &sub, nil
		}
	}
	return nil, nil
}

// errPaidSubscriptionActive refuses a free plan while the provider may
// still bill the line's paid subscription.
var errPaidSubscriptionActive = core.Conflict("paid_subscription_active",
	"this product has a paid subscription that the payment provider still bills: cancel it in the billing portal "+
		"(POST /api/billing/portal) first; the product returns to its free plan when the subscription ends")

// activateFree puts the line on a free plan now, deciding on the
// subscription as stored under the lock that webhook sync takes
// (BillingStore.UpdateSubscription): a payment applied between the
// caller's read and this write is seen, never overwritten.
func (s *Service) activateFree(ctx context.Context, profileID string, plan core.Plan) error {
	now := s.now()
	newID, err := core.NewID("sub", now, s.cfg.Random)
	if err != nil {
		return core.Internal(err)
	}
	err = s.cfg.Store.UpdateSubscription(ctx, profileID, plan.Line, func(cur *core.Subscription, _ *time.Time) (*core.Subscription, error) {
		return switchToFree(cur, profileID, plan, newID, now)
	})
	return core.Errorf("activate free plan", err)
}

// switchToFree is the rule for choosing a free plan: refused while a
// provider subscription of the line has not ended (the provider may still
// bill it: active, trialing, past_due, and also incomplete, unpaid or
// paused, which can still be paid or resumed); nothing to do when the
// line is on that plan already; else the line moves to it, keeping its
// customer. nil leaves the subscription as it is.
func switchToFree(cur *core.Subscription, profileID string, plan core.Plan, newID string, now time.Time) (*core.Subscription, error) {
	if cur != nil && cur.ProviderBilled() {
		return nil, errPaidSubscriptionActive
	}
	if cur != nil && cur.PlanID == plan.ID && cur.Status == core.StatusActive {
		return nil, nil
	}
	sub := core.Subscription{ID: newID, ProfileID: profileID, Line: plan.Line, PlanID: plan.ID, Status: core.StatusActive, CreatedAt: now, UpdatedAt: now}
	if cur != nil {
		sub.ID, sub.CreatedAt, sub.StripeCustomerID = cur.ID, cur.CreatedAt, cur.StripeCustomerID
	}
	return &sub, nil
}

// PortalInput asks for the customer portal.
type PortalInput struct {
	ReturnURL string // optional: the dashboard
	Product   string // browser sessions: the line; empty: the first line with a customer
}

var errNoCustomer = core.Conflict("no_billing_customer", "there is no billing account for this product yet: subscribe with POST /api/billing/checkout-session first")

// Portal opens the payment provider's customer portal for the caller's
// line. A line that never went through checkout has no customer:
// KindConflict "no_billing_customer".
func (s *Service) Portal(ctx context.Context, who core.Principal, in PortalInput) (string, error) {
	ret := or(in.ReturnURL, s.dashboard())
	if err := core.CheckAbsoluteURL("returnUrl", ret); err != nil {
		return "", err
	}
	lines, err := linesOf(who, in.Product)
	if err != nil {
		return "", err
	}
	for _, line := range lines {
		c, err := s.cfg.Store.BillingCustomer(ctx, who.ProfileID, line)
		if core.IsKind(err, core.KindNotFound) {
			continue
		}
		if err != nil {
			return "", core.Errorf("billing customer", err)
		}
		url, err := s.cfg.Payments.PortalSession(ctx, c.CustomerID, ret)
		if core.IsKind(err, core.KindNotFound) {
			return "", errNoCustomer
		}
		return url, core.Errorf("portal", err)
	}
	return "", errNoCustomer
}

// linesOf returns the lines a billing request is about: the key's, or for
// a browser session the product named (all lines when none).
func linesOf(who core.Principal, product string) ([]core.ProductLine, error) {
	switch who.Via {
	case core.AuthAPIKey:
		return []core.ProductLine{who.Line}, nil
	case core.AuthSession:
		if product == "" {
			return core.ProductLines, nil
		}
		l, err := core.ParseProductLine("product", product)
		if err != nil {
			return nil, err
		}
		return []core.ProductLine{l}, nil
	}
	return nil, core.Unauthenticated("sign in or send an API key")
}

// Statement is a customer's billing history.
type Statement struct {
	Invoices []core.Invoice
	Charges  []core.Charge
}

// Invoices lists the invoices and card charges of the caller's line (all
// lines, or Product, for a browser session), newest first. A line without
// a customer has none.
func (s *Service) Invoices(ctx context.Context, who core.Principal, product string) (Statement, error) {
	lines, err := linesOf(who, product)
	if err != nil {
		return Statement{}, err
	}
	out := Statement{Invoices: []core.Invoice{}, Charges: []core.Charge{}}
	for _, line := range lines {
		c, err := s.cfg.Store.BillingCustomer(ctx, who.ProfileID, line)
		if core.IsKind(err, core.KindNotFound) {
			continue
		}
		if err != nil {
			return Statement{}, core.Errorf("billing customer", err)
		}
		inv, err := s.cfg.Payments.Invoices(ctx, c.CustomerID, MaxListed)
		if err != nil && !core.IsKind(err, core.KindNotFound) {
			return Statement{}, core.Errorf("invoices", err)
		}
		ch, err := s.cfg.Payments.Charges(ctx, c.CustomerID, MaxListed)
		if err != nil && !core.IsKind(err, core.KindNotFound) {
			return Statement{}, core.Errorf("charges", err)
		}
		out.Invoices, out.Charges = append(out.Invoices, inv...), append(out.Charges, ch...)
	}
	slices.SortStableFunc(out.Invoices, func(a, b core.Invoice) int { return cmp.Compare(b.Created.UnixNano(), a.Created.UnixNano()) })
	slices.SortStableFunc(out.Charges, func(a, b core.Charge) int { return cmp.Compare(b.Created.UnixNano(), a.Created.UnixNano()) })
	out.Invoices, out.Charges = out.Invoices[:min(len(out.Invoices), MaxListed)], out.Charges[:min(len(out.Charges), MaxListed)]
	return out, nil
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
