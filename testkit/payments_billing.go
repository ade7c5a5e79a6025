package testkit

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// billingState is the provider side of Payments beyond checkout sessions.
// Payments.mu guards it.
type billingState struct {
	customers map[string]ports.CustomerParams // id → what it was created for
	subs      map[string]core.ProviderSubscription
	invoices  map[string][]core.Invoice // customer → newest last
	charges   map[string][]core.Charge
	prices    map[string]string // lookup key → price id
	portals   int
}

func newBillingState() billingState {
	return billingState{
		customers: map[string]ports.CustomerParams{},
		subs:      map[string]core.ProviderSubscription{},
		invoices:  map[string][]core.Invoice{},
		charges:   map[string][]core.Charge{},
		prices:    map[string]string{},
	}
}

// paid records what a completed checkout creates at the provider.
func (b *billingState) paid(now time.Time, p ports.CheckoutParams, cs core.CheckoutSession) {
	if _, ok := b.customers[cs.CustomerID]; !ok {
		b.customers[cs.CustomerID] = ports.CustomerParams{ProfileID: p.ProfileID, Email: p.Email, Line: p.Line}
	}
	end := now.AddDate(0, 1, 0)
	if p.Plan.BillingPeriod == core.PeriodAnnual {
		end = now.AddDate(1, 0, 0)
	}
	end = end.Truncate(time.Second)
	b.subs[cs.SubscriptionID] = core.ProviderSubscription{
		ID: cs.SubscriptionID, CustomerID: cs.CustomerID, Status: core.StatusActive, CurrentPeriodEnd: &end,
		PriceID: p.Plan.StripePriceID, ProfileID: p.ProfileID, Line: p.Line, PlanID: p.Plan.ID,
	}
	inv := core.Invoice{
		ID: "in_test_" + rand.Text(), Number: fmt.Sprintf("TEST-%04d", len(b.invoices[cs.CustomerID])+1),
		Status: "paid", AmountPaid: p.Plan.PriceMinor, Currency: p.Plan.Currency, Created: now.Truncate(time.Second),
	}
	inv.HostedInvoiceURL = "https://invoice.example/i/" + inv.ID
	b.invoices[cs.CustomerID] = append(b.invoices[cs.CustomerID], inv)
	b.charges[cs.CustomerID] = append(b.charges[cs.CustomerID], core.Charge{
		ID: "ch_test_" + rand.Text(), Status: "succeeded", Amount: p.Plan.PriceMinor, Currency: p.Plan.Currency,
		Paid: true, Created: inv.Created, Description: "Subscription creation", InvoiceID: inv.ID,
		ReceiptURL: "https://receipt.example/r/" + inv.ID,
	})
}

// EnsureCustomer implements ports.Payments: a fresh "cus_test_" customer.
func (m *Payments) EnsureCustomer(_ context.Context, p ports.CustomerParams) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := "cus_test_" + rand.Text()
	m.billing.customers[id] = p
	return id, nil
}

// Customers returns how many customers the provider holds.
func (m *Payments) Customers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.billing.customers)
}

// PortalSession implements ports.Payments: a URL under
// https://billing.example/portal/ for a known customer.
func (m *Payments) PortalSession(_ context.Context, customerID, returnURL string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.billing.customers[customerID]; !ok {
		return "", core.NotFound("customer")
	}
	m.billing.portals++
	return "https://billing.example/portal/" + customerID + "?return=" + returnURL, nil
}

// Invoices implements ports.Payments.
func (m *Payments) Invoices(_ context.Context, customerID string, limit int) ([]core.Invoice, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.billing.invoices[customerID])
	slices.Reverse(out)
	return out[:min(len(out), limit)], nil
}

// Charges implements ports.Payments.
func (m *Payments) Charges(_ context.Context, customerID string, limit int) ([]core.Charge, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.billing.charges[customerID])
	slices.Reverse(out)
	return out[:min(len(out), limit)], nil
}

// Subscription implements ports.Payments; FailSubscription, when set,
// instead.
func (m *Payments) Subscription(_ context.Context, id string) (core.ProviderSubscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.FailSubscription != nil {
		return core.ProviderSubscription{}, m.FailSubscription
	}
	sub, ok := m.billing.subs[id]
	if !ok {
		return core.ProviderSubscription{}, core.NotFound("subscription")
	}
	return sub, nil
}

// SetFailSubscription sets FailSubscription safely while calls are in
// flight (nil: Subscription works again).
func (m *Payments) SetFailSubscription(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.FailSubscription = err
}

// UpdateSubscription changes a subscription as the provider would (a
// renewal, a failed payment, a cancellation): fn edits it in place.
// KindNotFound when unknown.
func (m *Payments) UpdateSubscription(id string, fn func(s *core.ProviderSubscription)) (core.ProviderSubscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sub, ok := m.billing.subs[id]
	if !ok {
		return core.ProviderSubscription{}, core.NotFound("subscription")
	}
	fn(&sub)
	m.billing.subs[id] = sub
	return sub, nil
}

// SyncPlanPrice implements ports.Payments: one "price_test_" price per
// plan, amount, currency and period.
func (m *Payments) SyncPlanPrice(_ context.Context, plan core.Plan) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := fmt.Sprintf("%s:%d:%s:%s", plan.ID, plan.PriceMinor, plan.Currency, plan.BillingPeriod)
	if id, ok := m.billing.prices[key]; ok {
		return id, nil
	}
	id := "price_test_" + rand.Text()
	m.billing.prices[key] = id
	return id, nil
}

// Prices returns how many prices SyncPlanPrice created.
func (m *Payments) Prices() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.billing.prices)
}

// sortedSubs lists subscriptions by id (for tests' diagnostics).
func (b *billingState) sortedSubs() []core.ProviderSubscription {
	out := make([]core.ProviderSubscription, 0, len(b.subs))
	for _, s := range b.subs {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, c core.ProviderSubscription) int { return cmp.Compare(a.ID, c.ID) })
	return out
}

// ProviderSubscriptions returns every subscription, by id.
func (m *Payments) ProviderSubscriptions() []core.ProviderSubscription {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.billing.sortedSubs()
}
