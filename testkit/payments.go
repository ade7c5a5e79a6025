package testkit

import (
	"context"
	"crypto/rand"
	"sync"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// CheckoutLifetime is how long a checkout session of Payments stays open
// before it expires by itself, as Stripe's do by default.
const CheckoutLifetime = 24 * time.Hour

// Payments implements ports.Payments in memory, for tests and embedders: a
// checkout session is opened at once, with a random "cs_test_" id and a URL
// under https://checkout.example/pay/, and changes only when a test says so
// (Complete, Expire) or when CheckoutLifetime has passed on the clock. It is
// safe for concurrent use.
type Payments struct {
	// Fail, when non-nil, is what CreateCheckoutSession returns (failure
	// injection: a provider that is down would be core.Unavailable("payments",
	// …)). Set it while no call is in flight.
	Fail error

	// FailSubscription, when non-nil, is what Subscription returns
	// (failure injection: a provider down while an event is applied).
	// Set it with SetFailSubscription while calls may be in flight.
	FailSubscription error

	clock ports.Clock

	mu       sync.Mutex
	sessions map[string]*checkout
	order    []string // ids, oldest first

	// Customers, subscriptions, invoices and prices (payments_billing.go).
	billing billingState
}

type checkout struct {
	session   core.CheckoutSession
	params    ports.CheckoutParams
	expiresAt time.Time
}

var _ ports.Payments = (*Payments)(nil)

// NewPayments returns a payment provider with no sessions that reads time
// from clock.
func NewPayments(clock ports.Clock) *Payments {
	return &Payments{clock: clock, sessions: map[string]*checkout{}, billing: newBillingState()}
}

// CreateCheckoutSession implements ports.Payments. It records p and returns
// an open, unpaid session; Fail, when set, instead.
func (m *Payments) CreateCheckoutSession(_ context.Context, p ports.CheckoutParams) (core.CheckoutSession, error) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return core.CheckoutSession{}, m.Fail
	}
	id := "cs_test_" + rand.Text()
	cs := core.CheckoutSession{
		ID:        id,
		URL:       "https://checkout.example/pay/" + id,
		Status:    core.CheckoutOpen,
		ProfileID: p.ProfileID,
		PlanID:    p.Plan.ID,
		Reference: p.Reference,
	}
	if p.CustomerID != "" {
		cs.CustomerID = p.CustomerID
	}
	m.sessions[id] = &checkout{session: cs, params: p, expiresAt: now.Add(CheckoutLifetime)}
	m.order = append(m.order, id)
	return cs, nil
}

// CheckoutSession implements ports.Payments.
func (m *Payments) CheckoutSession(_ context.Context, id string) (core.CheckoutSession, error) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.find(now, id)
	if err != nil {
		return core.CheckoutSession{}, err
	}
	return c.session, nil
}

// Params returns what the session id was created with; KindNotFound when
// unknown.
func (m *Payments) Params(id string) (ports.CheckoutParams, error) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.find(now, id)
	if err != nil {
		return ports.CheckoutParams{}, err
	}
	return c.params, nil
}

// Complete pays an open session, as a buyer finishing the payment page
// would: status complete, Paid, the session's customer (a fresh "cus_test_"
// one when it was opened without) and a fresh "sub_test_" subscription,
// active until a billing period from now, with the session's profile,
// line and plan as metadata, and a paid invoice and charge. KindNotFound
// when unknown; KindConflict, code "checkout_not_open", when the session
// is complete or expired.
func (m *Payments) Complete(id string) error {
	now := m.clock.Now().UTC()
	return m.settleWith(id, func(c *checkout) {
		s := &c.session
		s.Status = core.CheckoutComplete
		s.Paid = true
		if s.CustomerID == "" {
			s.CustomerID = "cus_test_" + rand.Text()
		}
		s.SubscriptionID = "sub_test_" + rand.Text()
		m.billing.paid(now, c.params, *s)
	})
}

// Expire expires an open session before its time, as a buyer walking away
// would. KindNotFound when unknown; KindConflict, code "checkout_not_open",
// when the session is complete or expired.
func (m *Payments) Expire(id string) error {
	return m.settle(id, func(s *core.CheckoutSession) { s.Status = core.CheckoutExpired })
}

// Sessions returns every session, oldest first.
func (m *Payments) Sessions() []core.CheckoutSession {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]core.CheckoutSession, 0, len(m.order))
	for _, id := range m.order {
		c := m.sessions[id]
		m.age(now, c)
		out = append(out, c.session)
	}
	return out
}

// settle applies fn to an open session. m.mu is not held.
func (m *Payments) settle(id string, fn func(s *core.CheckoutSession)) error {
	return m.settleWith(id, func(c *checkout) { fn(&c.session) })
}

// settleWith applies fn to an open session's record. m.mu is not held.
func (m *Payments) settleWith(id string, fn func(c *checkout)) error {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.find(now, id)
	if err != nil {
		return err
	}
	if c.session.Status != core.CheckoutOpen {
		return core.Conflict("checkout_not_open", "checkout session is "+string(c.session.Status))
	}
	fn(c)
	return nil
}

// find returns the session id as of now. m.mu is held.
func (m *Payments) find(now time.Time, id string) (*checkout, error) {
	c, ok := m.sessions[id]
	if !ok {
		return nil, core.NotFound("checkout session")
	}
	m.age(now, c)
	return c, nil
}

// age expires c if it is still open at the end of its lifetime. m.mu is
// held.
func (m *Payments) age(now time.Time, c *checkout) {
	if c.session.Status == core.CheckoutOpen && !now.Before(c.expiresAt) {
		c.session.Status = core.CheckoutExpired
	}
}
