package testkit

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// billingStoreState is the in-memory ports.BillingStore. Store.mu guards it.
type billingStoreState struct {
	customers map[customerKey]core.BillingCustomer
	byID      map[string]customerKey
	events    map[string]core.StoredEvent
	fetched   map[customerKey]time.Time // (profile, line) → fetch time of its subscription's provider state
	simulated map[simKey]ports.SimulatedRecord
}

type simKey struct{ kind, id string }

type customerKey struct {
	profileID string
	line      core.ProductLine
}

func newBillingStoreState() billingStoreState {
	return billingStoreState{
		customers: map[customerKey]core.BillingCustomer{},
		byID:      map[string]customerKey{},
		events:    map[string]core.StoredEvent{},
		fetched:   map[customerKey]time.Time{},
		simulated: map[simKey]ports.SimulatedRecord{},
	}
}

var (
	_ ports.BillingStore           = (*Store)(nil)
	_ ports.SimulatedPaymentsStore = (*Store)(nil)
)

// BillingCustomer implements ports.BillingStore.
func (s *Store) BillingCustomer(_ context.Context, profileID string, line core.ProductLine) (core.BillingCustomer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.billing.customers[customerKey{profileID, line}]
	if !ok {
		return core.BillingCustomer{}, core.NotFound("billing customer")
	}
	return c, nil
}

// BillingCustomerByID implements ports.BillingStore.
func (s *Store) BillingCustomerByID(_ context.Context, customerID string) (core.BillingCustomer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.billing.byID[customerID]
	if !ok {
		return core.BillingCustomer{}, core.NotFound("billing customer")
	}
	return s.billing.customers[k], nil
}

// SaveBillingCustomer implements ports.BillingStore.
func (s *Store) SaveBillingCustomer(_ context.Context, c core.BillingCustomer) (core.BillingCustomer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.profiles[c.ProfileID]; !ok {
		return core.BillingCustomer{}, core.NotFound("profile")
	}
	k := customerKey{c.ProfileID, c.Line}
	if old, ok := s.billing.customers[k]; ok {
		return old, nil
	}
	if _, taken := s.billing.byID[c.CustomerID]; taken {
		return core.BillingCustomer{}, core.Conflict("customer_taken", "this customer belongs to another profile or line")
	}
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Microsecond)
	s.billing.customers[k] = c
	s.billing.byID[c.CustomerID] = k
	return c, nil
}

// RecordPaymentEvent implements ports.BillingStore.
func (s *Store) RecordPaymentEvent(_ context.Context, ev core.PaymentEvent, receivedAt time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.billing.events[ev.ID]; ok {
		return false, nil
	}
	at := receivedAt.UTC().Truncate(time.Microsecond)
	ev.Created = ev.Created.UTC().Truncate(time.Microsecond)
	s.billing.events[ev.ID] = core.StoredEvent{PaymentEvent: ev, ReceivedAt: at, NextAttemptAt: at}
	return true, nil
}

// PaymentEventByID implements ports.BillingStore.
func (s *Store) PaymentEventByID(_ context.Context, id string) (core.StoredEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev, ok := s.billing.events[id]
	if !ok {
		return core.StoredEvent{}, core.NotFound("payment event")
	}
	return cloneEvent(ev), nil
}

// DuePaymentEvents implements ports.BillingStore.
func (s *Store) DuePaymentEvents(_ context.Context, now time.Time, limit int) ([]core.StoredEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []core.StoredEvent
	for _, ev := range s.billing.events {
		if ev.AppliedAt == nil && ev.DeadAt == nil && !ev.NextAttemptAt.After(now) {
			out = append(out, cloneEvent(ev))
		}
	}
	slices.SortFunc(out, func(a, b core.StoredEvent) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	if limit < len(out) {
		out = out[:max(limit, 0)]
	}
	return out, nil
}

// ApplyPaymentEvent implements ports.BillingStore. Store.mu is held
// throughout, so Decide runs with the store locked: it must not call the
// store.
func (s *Store) ApplyPaymentEvent(_ context.Context, e ports.EventEffect) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev, ok := s.billing.events[e.EventID]
	if !ok {
		return false, core.NotFound("payment event")
	}
	if ev.AppliedAt != nil {
		return false, nil
	}
	if e.ProfileID != "" {
		fetchedAt := e.FetchedAt
		if err := s.updateSubscriptionLocked(e.ProfileID, e.Line, e.Decide, &fetchedAt); err != nil {
			return false, err
		}
	}
	at := e.AppliedAt.UTC().Truncate(time.Microsecond)
	ev.AppliedAt, ev.DeadAt = &at, nil
	s.billing.events[e.EventID] = ev
	return true, nil
}

// UpdateSubscription implements ports.BillingStore. Store.mu is held
// while fn runs, as for ApplyPaymentEvent: fn must not call the store.
func (s *Store) UpdateSubscription(_ context.Context, profileID string, line core.ProductLine,
	fn func(cur *core.Subscription, syncedAt *time.Time) (*core.Subscription, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateSubscriptionLocked(profileID, line, fn, nil)
}

// updateSubscriptionLocked lets fn decide on the profile's subscription of
// line and stores its answer, with fetchedAt as the provider read time
// when not nil. s.mu is held.
func (s *Store) updateSubscriptionLocked(profileID string, line core.ProductLine,
	fn func(*core.Subscription, *time.Time) (*core.Subscription, error), fetchedAt *time.Time) error {
	if _, ok := s.profiles[profileID]; !ok {
		return core.NotFound("profile")
	}
	var cur *core.Subscription
	for _, sub := range s.subs {
		if sub.ProfileID == profileID && sub.Line == line {
			c := cloneSub(sub)
			cur = &c
		}
	}
	k := customerKey{profileID, line}
	var synced *time.Time
	if t, ok := s.billing.fetched[k]; ok {
		synced = &t
	}
	next, err := fn(cur, synced)
	if err != nil || next == nil {
		return err
	}
	if _, ok := s.plans[next.PlanID]; !ok {
		return core.Invalid("planId", "unknown plan %q", next.PlanID)
	}
	n := cloneSub(*next)
	n.ProfileID, n.Line = profileID, line
	if cur != nil {
		n.ID = cur.ID
	} else if _, taken := s.subs[n.ID]; taken {
		return core.Conflict("conflict", "subscription id already exists")
	}
	n.CreatedAt, n.UpdatedAt = n.CreatedAt.UTC().Truncate(time.Microsecond), n.UpdatedAt.UTC().Truncate(time.Microsecond)
	if n.CurrentPeriodEnd != nil {
		t := n.CurrentPeriodEnd.UTC().Truncate(time.Microsecond)
		n.CurrentPeriodEnd = &t
	}
	s.subs[n.ID] = n
	if fetchedAt != nil {
		s.billing.fetched[k] = fetchedAt.UTC().Truncate(time.Microsecond)
	}
	return nil
}

// SyncClock implements ports.BillingStore: the host's clock, which every
// user of an in-memory store shares.
func (s *Store) SyncClock(context.Context) (time.Time, error) {
	return time.Now().UTC().Truncate(time.Microsecond), nil
}

// FailPaymentEvent implements ports.BillingStore.
func (s *Store) FailPaymentEvent(_ context.Context, f ports.EventFailure) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev, ok := s.billing.events[f.EventID]
	if !ok {
		return false, core.NotFound("payment event")
	}
	if ev.AppliedAt != nil || ev.DeadAt != nil {
		return false, nil
	}
	ev.Attempts++
	ev.NextAttemptAt = f.Next.UTC().Truncate(time.Microsecond)
	ev.LastError = f.Reason
	dead := f.MaxAttempts > 0 && ev.Attempts >= f.MaxAttempts
	if dead {
		at := f.At.UTC().Truncate(time.Microsecond)
		ev.DeadAt = &at
	}
	s.billing.events[f.EventID] = ev
	return dead, nil
}

// CountDeadPaymentEvents implements ports.BillingStore.
func (s *Store) CountDeadPaymentEvents(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ev := range s.billing.events {
		if ev.DeadAt != nil {
			n++
		}
	}
	return n, nil
}

func cloneEvent(ev core.StoredEvent) core.StoredEvent {
	if ev.AppliedAt != nil {
		t := *ev.AppliedAt
		ev.AppliedAt = &t
	}
	if ev.DeadAt != nil {
		t := *ev.DeadAt
		ev.DeadAt = &t
	}
	return ev
}

// CreateSimulated implements ports.SimulatedPaymentsStore.
func (s *Store) CreateSimulated(_ context.Context, r ports.SimulatedRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := simKey{r.Kind, r.ID}
	if _, ok := s.billing.simulated[k]; ok {
		return core.Conflict("conflict", "this "+r.Kind+" exists already")
	}
	r.Data = slices.Clone(r.Data)
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Microsecond)
	s.billing.simulated[k] = r
	return nil
}

// Simulated implements ports.SimulatedPaymentsStore.
func (s *Store) Simulated(_ context.Context, kind, id string) (ports.SimulatedRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.billing.simulated[simKey{kind, id}]
	if !ok {
		return ports.SimulatedRecord{}, core.NotFound(kind)
	}
	r.Data = slices.Clone(r.Data)
	return r, nil
}

// UpdateSimulated implements ports.SimulatedPaymentsStore. Store.mu is
// held while fn runs: fn must not call the store.
func (s *Store) UpdateSimulated(_ context.Context, kind, id string, fn func([]byte) ([]byte, error)) (ports.SimulatedRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := simKey{kind, id}
	r, ok := s.billing.simulated[k]
	if !ok {
		return ports.SimulatedRecord{}, core.NotFound(kind)
	}
	data, err := fn(slices.Clone(r.Data))
	if err != nil {
		return ports.SimulatedRecord{}, err
	}
	r.Data = slices.Clone(data)
	s.billing.simulated[k] = r
	r.Data = slices.Clone(data)
	return r, nil
}

// ListSimulated implements ports.SimulatedPaymentsStore.
func (s *Store) ListSimulated(_ context.Context, kind, customerID string, limit int) ([]ports.SimulatedRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ports.SimulatedRecord
	for k, r := range s.billing.simulated {
		if k.kind == kind && r.CustomerID == customerID {
			r.Data = slices.Clone(r.Data)
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b ports.SimulatedRecord) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	if limit < len(out) {
		out = out[:max(limit, 0)]
	}
	return out, nil
}
