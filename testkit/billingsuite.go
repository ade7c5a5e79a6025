package testkit

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// BillingStoreUnderTest is what RunBillingStoreSuite exercises: the billing
// store with the account and plan stores its fixtures need. testkit.Store
// and the SQL stores implement it.
type BillingStoreUnderTest interface {
	StoreUnderTest
	ports.BillingStore
	ports.SimulatedPaymentsStore
}

// RunBillingStoreSuite is the contract of ports.BillingStore: every adapter
// must pass it. open is called once per sub-test and must return an empty
// store, released in t.Cleanup. Sub-tests run in parallel.
//
// Beyond the port's doc comments it checks that times round-trip to the
// microsecond, that of 20 concurrent SaveBillingCustomer calls for one line
// every caller gets the first stored customer, and that of 20 concurrent
// ApplyPaymentEvent calls of one event exactly one applies it, that
// UpdateSubscription and ApplyPaymentEvent on one subscription never lose
// an update of the other (20 of each, concurrently), and that of 20
// concurrent FailPaymentEvent calls each counts and one marks the event
// dead at the cap. It also runs
// the contract of ports.SimulatedPaymentsStore (billingsuite_simulated.go).
func RunBillingStoreSuite(t *testing.T, open func(t *testing.T) BillingStoreUnderTest) {
	t.Helper()
	runSuite(t, append(slices.Clone(billingCases), simulatedCases...), func(t *testing.T) *billingFixture {
		s := open(t)
		return &billingFixture{storeFixture: newStoreFixture(t, s), b: s}
	})
}

type billingFixture struct {
	*storeFixture
	b BillingStoreUnderTest
}

type billingCase = suiteCase[*billingFixture]

var billingCases = []billingCase{
	{"BillingCustomer", "unknown_is_not_found", testBillingCustomerUnknown},
	{"SaveBillingCustomer", "round_trips_and_the_first_wins", testSaveCustomerFirstWins},
	{"SaveBillingCustomer", "a_customer_of_another_profile_is_conflict", testSaveCustomerTaken},
	{"SaveBillingCustomer", "unknown_profile_is_not_found", testSaveCustomerNoProfile},
	{"SaveBillingCustomer", "20_concurrent_saves_agree_on_one_customer", testSaveCustomerRace},
	{"RecordPaymentEvent", "records_once_and_round_trips", testRecordEventOnce},
	{"DuePaymentEvents", "lists_unapplied_due_events_in_order", testDueEvents},
	{"ApplyPaymentEvent", "unknown_event_is_not_found", testApplyUnknown},
	{"ApplyPaymentEvent", "without_a_profile_only_marks_applied", testApplyNoProfile},
	{"ApplyPaymentEvent", "decides_on_the_locked_subscription_once", testApplyDecides},
	{"ApplyPaymentEvent", "creates_a_missing_subscription", testApplyCreates},
	{"ApplyPaymentEvent", "an_error_of_decide_changes_nothing", testApplyDecideError},
	{"ApplyPaymentEvent", "unknown_plan_is_invalid_and_changes_nothing", testApplyUnknownPlan},
	{"ApplyPaymentEvent", "20_concurrent_applications_apply_once", testApplyRace},
	{"FailPaymentEvent", "counts_attempts_and_reschedules", testFailEvent},
	{"FailPaymentEvent", "the_attempt_that_reaches_the_cap_marks_the_event_dead_once", testFailEventDead},
	{"FailPaymentEvent", "20_concurrent_failures_count_each_and_die_once", testFailEventRace},
	{"UpdateSubscription", "decides_on_the_locked_subscription", testUpdateSubDecides},
	{"UpdateSubscription", "creates_a_missing_subscription", testUpdateSubCreates},
	{"UpdateSubscription", "an_error_of_fn_or_an_unknown_plan_changes_nothing", testUpdateSubErrors},
	{"UpdateSubscription", "unknown_profile_is_not_found", testUpdateSubNoProfile},
	{"UpdateSubscription", "is_serialised_with_ApplyPaymentEvent", testUpdateSubRace},
	{"SyncClock", "reads_one_clock_that_does_not_go_backwards", testSyncClock},
}

func (f *billingFixture) event(id string) core.PaymentEvent {
	return core.PaymentEvent{ID: id, Type: core.EventSubscriptionUpdated, Created: f.now, SubscriptionID: "sub_" + id, CustomerID: "cus_" + id}
}

func (f *billingFixture) record(ev core.PaymentEvent) {
	f.t.Helper()
	if ok, err := f.b.RecordPaymentEvent(f.ctx, ev, f.now); err != nil || !ok {
		f.t.Fatalf("RecordPaymentEvent(%s) = %v, %v; want inserted", ev.ID, ok, err)
	}
}

func (f *billingFixture) sub(profileID string, line core.ProductLine) core.Subscription {
	f.t.Helper()
	subs, err := f.b.Subscriptions(f.ctx, profileID)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, s := range subs {
		if s.Line == line {
			return s
		}
	}
	f.t.Fatalf("no %s subscription", line)
	return core.Subscription{}
}

func testBillingCustomerUnknown(t *testing.T, f *billingFixture) {
	_, err := f.b.BillingCustomer(f.ctx, "prf_nope", core.LineDrive)
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.b.BillingCustomerByID(f.ctx, "cus_nope")
	storeWantKind(t, err, core.KindNotFound, "")
}

func testSaveCustomerFirstWins(t *testing.T, f *billingFixture) {
	a := f.createAccount()
	c := core.BillingCustomer{ProfileID: a.Profile.ID, Line: core.LineDrive, CustomerID: "cus_" + f.id("a"), CreatedAt: f.now}
	got, err := f.b.SaveBillingCustomer(f.ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if got.CustomerID != c.CustomerID || got.ProfileID != c.ProfileID || got.Line != c.Line || !got.CreatedAt.Equal(f.now.Truncate(time.Microsecond)) {
		t.Fatalf("SaveBillingCustomer = %+v, want %+v", got, c)
	}
	second := c
	second.CustomerID = "cus_" + f.id("b")
	if got, err = f.b.SaveBillingCustomer(f.ctx, second); err != nil || got.CustomerID != c.CustomerID {
		t.Fatalf("second SaveBillingCustomer = %+v, %v; want the first customer", got, err)
	}
	if got, err = f.b.BillingCustomer(f.ctx, a.Profile.ID, core.LineDrive); err != nil || got.CustomerID != c.CustomerID {
		t.Fatalf("BillingCustomer = %+v, %v", got, err)
	}
	if got, err = f.b.BillingCustomerByID(f.ctx, c.CustomerID); err != nil || got.ProfileID != a.Profile.ID || got.Line != core.LineDrive {
		t.Fatalf("BillingCustomerByID = %+v, %v", got, err)
	}
	_, err = f.b.BillingCustomer(f.ctx, a.Profile.ID, core.LineClientGallery)
	storeWantKind(t, err, core.KindNotFound, "")
}

func testSaveCustomerTaken(t *testing.T, f *billingFixture) {
	a, b := f.createAccount(), f.createAccount()
	c := core.BillingCustomer{ProfileID: a.Profile.ID, Line: core.LineDrive, CustomerID: "cus_" + f.id("a"), CreatedAt: f.now}
	if _, err := f.b.SaveBillingCustomer(f.ctx, c); err != nil {
		t.Fatal(err)
	}
	c.ProfileID = b.Profile.ID
	_, err := f.b.SaveBillingCustomer(f.ctx, c)
	storeWantKind(t, err, core.KindConflict, "customer_taken")
	_, err = f.b.BillingCustomer(f.ctx, b.Profile.ID, core.LineDrive)
	storeWantKind(t, err, core.KindNotFound, "")
}

func testSaveCustomerNoProfile(t *testing.T, f *billingFixture) {
	_, err := f.b.SaveBillingCustomer(f.ctx, core.BillingCustomer{ProfileID: "prf_nope", Line: core.LineDrive, CustomerID: "cus_x", CreatedAt: f.now})
	storeWantKind(t, err, core.KindNotFound, "")
}

func testSaveCustomerRace(t *testing.T, f *billingFixture) {
	a := f.createAccount()
	const n = 20
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := f.b.SaveBillingCustomer(f.ctx, core.BillingCustomer{ProfileID: a.Profile.ID, Line: core.LineMessaging, CustomerID: "cus_" + f.id("r"), CreatedAt: f.now})
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = c.CustomerID
		})
	}
	wg.Wait()
	stored, err := f.b.BillingCustomer(f.ctx, a.Profile.ID, core.LineMessaging)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range got {
		if id != stored.CustomerID {
			t.Fatalf("save %d got %q, the store holds %q", i, id, stored.CustomerID)
		}
	}
}

func testRecordEventOnce(t *testing.T, f *billingFixture) {
	ev := f.event(f.id("evt"))
	ev.CheckoutSessionID = "cs_1"
	f.record(ev)
	if ok, err := f.b.RecordPaymentEvent(f.ctx, ev, f.now.Add(time.Hour)); err != nil || ok {
		t.Fatalf("recording %s again = %v, %v; want not inserted", ev.ID, ok, err)
	}
	got, err := f.b.PaymentEventByID(f.ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := core.StoredEvent{PaymentEvent: ev, ReceivedAt: f.now, NextAttemptAt: f.now}
	if got.ID != want.ID || got.Type != want.Type || got.SubscriptionID != want.SubscriptionID || got.CustomerID != want.CustomerID ||
		got.CheckoutSessionID != "cs_1" || !got.Created.Equal(f.now.Truncate(time.Microsecond)) ||
		!got.ReceivedAt.Equal(f.now.Truncate(time.Microsecond)) || !got.NextAttemptAt.Equal(got.ReceivedAt) ||
		got.AppliedAt != nil || got.Attempts != 0 || got.LastError != "" {
		t.Fatalf("PaymentEventByID = %+v, want %+v", got, want)
	}
	_, err = f.b.PaymentEventByID(f.ctx, "evt_nope")
	storeWantKind(t, err, core.KindNotFound, "")
}

func testDueEvents(t *testing.T, f *billingFixture) {
	a, b, c, d := f.event(f.id("evta")), f.event(f.id("evtb")), f.event(f.id("evtc")), f.event(f.id("evtd"))
	for _, ev := range []core.PaymentEvent{a, b, c, d} {
		f.record(ev)
	}
	if _, err := f.b.FailPaymentEvent(f.ctx, f.failure(a.ID, f.now.Add(time.Minute), "down", 0)); err != nil { // due later
		t.Fatal(err)
	}
	if _, err := f.b.ApplyPaymentEvent(f.ctx, ports.EventEffect{EventID: d.ID, AppliedAt: f.now}); err != nil { // applied
		t.Fatal(err)
	}
	due, err := f.b.DuePaymentEvents(f.ctx, f.now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].ID != b.ID || due[1].ID != c.ID {
		t.Fatalf("DuePaymentEvents = %+v, want %s then %s", due, b.ID, c.ID)
	}
	if due, _ = f.b.DuePaymentEvents(f.ctx, f.now, 1); len(due) != 1 {
		t.Fatalf("DuePaymentEvents with limit 1 = %d events", len(due))
	}
	if due, _ = f.b.DuePaymentEvents(f.ctx, f.now.Add(time.Minute), 10); len(due) != 3 || due[2].ID != a.ID {
		t.Fatalf("DuePaymentEvents a minute later = %+v, want b, c, a", due)
	}
	if dead, err := f.b.FailPaymentEvent(f.ctx, f.failure(b.ID, f.now, "gone", 1)); err != nil || !dead { // dead
		t.Fatalf("FailPaymentEvent with a cap of 1 = %v, %v; want dead", dead, err)
	}
	if due, _ = f.b.DuePaymentEvents(f.ctx, f.now.Add(time.Minute), 10); len(due) != 2 || due[0].ID != c.ID || due[1].ID != a.ID {
		t.Fatalf("DuePaymentEvents with b dead = %+v, want c, a", due)
	}
}

func testApplyUnknown(t *testing.T, f *billingFixture) {
	_, err := f.b.ApplyPaymentEvent(f.ctx, ports.EventEffect{EventID: "evt_nope", AppliedAt: f.now})
	storeWantKind(t, err, core.KindNotFound, "")
}

func testApplyNoProfile(t *testing.T, f *billingFixture) {
	ev := f.event(f.id("evt"))
	f.record(ev)
	ok, err := f.b.ApplyPaymentEvent(f.ctx, ports.EventEffect{EventID: ev.ID, AppliedAt: f.now.Add(time.Second)})
	if err != nil || !ok {
		t.Fatalf("ApplyPaymentEvent = %v, %v", ok, err)
	}
	got, _ := f.b.PaymentEventByID(f.ctx, ev.ID)
	if got.AppliedAt == nil || !got.AppliedAt.Equal(f.now.Add(time.Second).Truncate(time.Microsecond)) {
		t.Fatalf("AppliedAt = %v", got.AppliedAt)
	}
}

func testApplyDecides(t *testing.T, f *billingFixture) {
	a := f.createAccount()
	before := f.sub(a.Profile.ID, core.LineClientGallery)
	paid := f.createPlan(f.plan(core.LineClientGallery))
	end := f.now.AddDate(0, 1, 0)
	fetched := f.now.Add(-time.Second)
	for i, id := range []string{f.id("evt"), f.id("evt")} {
		f.record(f.event(id))
		calls := 0
		ok, err := f.b.ApplyPaymentEvent(f.ctx, ports.EventEffect{
			EventID: id, AppliedAt: f.now, ProfileID: a.Profile.ID, Line: core.LineClientGallery, FetchedAt: fetched.Add(time.Duration(i) * time.Second),
			Decide: func(cur *core.Subscription, curFetched *time.Time) (*core.Subscription, error) {
				calls++
				if cur == nil || cur.ID != before.ID {
					t.Errorf("Decide saw %+v, want the stored subscription %s", cur, before.ID)
				}
				if i == 0 && curFetched != nil {
					t.Errorf("first Decide saw fetch time %v, want none", curFetched)
				}
				if i == 1 && (curFetched == nil || !curFetched.Equal(fetched.Truncate(time.Microsecond))) {
					t.Errorf("second Decide saw fetch time %v, want %v", curFetched, fetched)
				}
				next := *cur
				next.ID = "sub_ignored"
				next.PlanID, next.Status, next.StripeSubscriptionID, next.StripeCustomerID = paid.ID, core.StatusActive, "sub_x", "cus_x"
				next.CurrentPeriodEnd, next.UpdatedAt = &end, f.now
				return &next, nil
			},
		})
		if err != nil || !ok || calls != 1 {
			t.Fatalf("ApplyPaymentEvent = %v, %v after %d calls of Decide", ok, err, calls)
		}
		again, err := f.b.ApplyPaymentEvent(f.ctx, ports.EventEffect{EventID: id, AppliedAt: f.now, ProfileID: a.Profile.ID, Line: core.LineClientGallery,
			Decide: func(*core.Subscription, *time.Time) (*core.Subscription, error) {
				t.Error("Decide called for an applied event")
				return nil, nil
			}})
		if err != nil || again {
			t.Fatalf("applying again = %v, %v; want false, nil", again, err)
		}
	}
	got := f.sub(a.Profile.ID, core.LineClientGallery)
	if got.ID != before.ID || got.PlanID != paid.ID || got.StripeSubscriptionID != "sub_x" || got.StripeCustomerID != "cus_x" ||
		got.CurrentPeriodEnd == nil || !got.CurrentPeriodEnd.Equal(end.Truncate(time.Microsecond)) {
		t.Fatalf("after apply: %+v", got)
	}
}

func testApplyCreates(t *testing.T, f *billingFixture) {
	a := f.account(f.email())
	a.Subscriptions = a.Subscriptions[:2] // no messaging
	if err := f.s.CreateAccount(f.ctx, a); err != nil {
		t.Fatal(err)
	}
	ev := f.event(f.id("evt"))
	f.record(ev)
	msg := f.defaultPlans()[core.LineMessaging]
	ok, err := f.b.ApplyPaymentEvent(f.ctx, ports.EventEffect{EventID: ev.ID, AppliedAt: f.now, ProfileID: a.Profile.ID, Line: core.LineMessaging, FetchedAt: f.now,
		Decide: func(cur *core.Subscription, _ *time.Time) (*core.Subscription, error) {
			if cur != nil {
				t.Errorf("Decide saw %+v, want none", cur)
			}
			return &core.Subscription{ID: f.id("sub"), ProfileID: a.Profile.ID, Line: core.LineMessaging, PlanID: msg.ID, Status: core.StatusTrialing, CreatedAt: f.now, UpdatedAt: f.now}, nil
		}})
	if err != nil || !ok {
		t.Fatalf("ApplyPaymentEvent = %v, %v", ok, err)
	}
	if got := f.sub(a.Profile.ID, core.LineMessaging); got.Status != core.StatusTrialing || got.PlanID != msg.ID {
		t.Fatalf("created %+v", got)
	}
}

func testApplyDecideError(t *testing.T, f *billingFixture) {
	a := f.createAccount()
	ev := f.event(f.id("evt"))
	f.record(ev)
	boom := errors.New("boom")
	_, err := f.b.ApplyPaymentEvent(f.ctx, ports.EventEffect{EventID: ev.ID, AppliedAt: f.now, ProfileID: a.Profile.ID, Line: core.LineDrive,
		Decide: func(*core.Subscription, *time.Time) (*core.Subscription, error) { return nil, boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("ApplyPaymentEvent = %v, want %v", err, boom)
	}
	if got, _ := f.b.PaymentEventByID(f.ctx, ev.ID); got.AppliedAt != nil {
		t.Fatal("the event is marked applied after Decide failed")
	}
}

func testApplyUnknownPlan(t *testing.T, f *billingFixture) {
	a := f.createAccount()
	before := f.sub(a.Profile.ID, core.LineDrive)
	ev := f.event(f.id("evt"))
	f.record(ev)
	_, err := f.b.ApplyPaymentEvent(f.ctx, ports.EventEffect{EventID: ev.ID, AppliedAt: f.now, ProfileID: a.Profile.ID, Line: core.LineDrive,
		Decide: func(cur *core.Subscription, _ *time.Time) (*core.Subscription, error) {
			next := *cur
			next.PlanID = "plan_nope"
			return &next, nil
		}})
	storeWantKind(t, err, core.KindInvalid, "")
	if got, _ := f.b.PaymentEventByID(f.ctx, ev.ID); got.AppliedAt != nil {
		t.Fatal("the event is marked applied")
	}
	if got := f.sub(a.Profile.ID, core.LineDrive); got.PlanID != before.PlanID {
		t.Fatalf("plan changed to %s", got.PlanID)
	}
}

func testApplyRace(t *testing.T, f *billingFixture) {
	a := f.createAccount()
	ev := f.event(f.id("evt"))
	f.record(ev)
	var applied, decided atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ok, err := f.b.ApplyPaymentEvent(f.ctx, ports.EventEffect{EventID: ev.ID, AppliedAt: f.now, ProfileID: a.Profile.ID, Line: core.LineDrive, FetchedAt: f.now,
				Decide: func(cur *core.Subscription, _ *time.Time) (*core.Subscription, error) {
					decided.Add(1)
					next := *cur
					next.Status = core.StatusPastDue
					return &next, nil
				}})
			if err != nil {
				t.Error(err)
			}
			if ok {
				applied.Add(1)
			}
		})
	}
	wg.Wait()
	if applied.Load() != 1 || decided.Load() != 1 {
		t.Fatalf("%d applications and %d decisions, want 1 and 1", applied.Load(), decided.Load())
	}
}

func (f *billingFixture) failure(id string, next time.Time, reason string, maxAttempts int) ports.EventFailure {
	return ports.EventFailure{EventID: id, At: f.now, Next: next, Reason: reason, MaxAttempts: maxAttempts}
}

func testFailEvent(t *testing.T, f *billingFixture) {
	ev := f.event(f.id("evt"))
	f.record(ev)
	for i := 1; i <= 2; i++ {
		if dead, err := f.b.FailPaymentEvent(f.ctx, f.failure(ev.ID, f.now.Add(time.Duration(i)*time.Minute), "provider down", 0)); err != nil || dead {
			t.Fatalf("FailPaymentEvent = %v, %v", dead, err)
		}
	}
	got, _ := f.b.PaymentEventByID(f.ctx, ev.ID)
	if got.Attempts != 2 || got.LastError != "provider down" || !got.NextAttemptAt.Equal(f.now.Add(2*time.Minute).Truncate(time.Microsecond)) || got.DeadAt != nil {
		t.Fatalf("after two failures: %+v", got)
	}
	if _, err := f.b.ApplyPaymentEvent(f.ctx, ports.EventEffect{EventID: ev.ID, AppliedAt: f.now}); err != nil {
		t.Fatal(err)
	}
	if dead, err := f.b.FailPaymentEvent(f.ctx, f.failure(ev.ID, f.now.Add(time.Hour), "late", 1)); err != nil || dead {
		t.Fatalf("failing an applied event = %v, %v", dead, err)
	}
	if got, _ = f.b.PaymentEventByID(f.ctx, ev.ID); got.Attempts != 2 || got.LastError != "provider down" || got.DeadAt != nil {
		t.Fatalf("an applied event changed: %+v", got)
	}
	_, err := f.b.FailPaymentEvent(f.ctx, f.failure("evt_nope", f.now, "x", 0))
	storeWantKind(t, err, core.KindNotFound, "")
}

func testFailEventDead(t *testing.T, f *billingFixture) {
	ev := f.event(f.id("evt"))
	f.record(ev)
	if n, err := f.b.CountDeadPaymentEvents(f.ctx); err != nil || n != 0 {
		t.Fatalf("CountDeadPaymentEvents = %d, %v; want 0", n, err)
	}
	for i := 1; i <= 3; i++ {
		f.now = f.now.Add(time.Minute)
		dead, err := f.b.FailPaymentEvent(f.ctx, f.failure(ev.ID, f.now.Add(time.Minute), fmt.Sprintf("failure %d", i), 3))
		if err != nil || dead != (i == 3) {
			t.Fatalf("failure %d: FailPaymentEvent = %v, %v", i, dead, err)
		}
	}
	got, _ := f.b.PaymentEventByID(f.ctx, ev.ID)
	if got.Attempts != 3 || got.LastError != "failure 3" || got.DeadAt == nil || !got.DeadAt.Equal(f.now.Truncate(time.Microsecond)) || got.AppliedAt != nil {
		t.Fatalf("after the third failure of three: %+v", got)
	}
	if due, _ := f.b.DuePaymentEvents(f.ctx, f.now.Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("a dead event is due: %+v", due)
	}
	// Dead is final: another failure neither counts nor reports it again.
	if dead, err := f.b.FailPaymentEvent(f.ctx, f.failure(ev.ID, f.now.Add(time.Hour), "again", 3)); err != nil || dead {
		t.Fatalf("failing a dead event = %v, %v", dead, err)
	}
	if got, _ = f.b.PaymentEventByID(f.ctx, ev.ID); got.Attempts != 3 || got.LastError != "failure 3" {
		t.Fatalf("a dead event changed: %+v", got)
	}
	other := f.event(f.id("evt"))
	f.record(other)
	if _, err := f.b.FailPaymentEvent(f.ctx, f.failure(other.ID, f.now, "down", 3)); err != nil {
		t.Fatal(err)
	}
	if n, err := f.b.CountDeadPaymentEvents(f.ctx); err != nil || n != 1 {
		t.Fatalf("CountDeadPaymentEvents = %d, %v; want 1", n, err)
	}
	// A dead event may still be applied (resent once its cause is fixed):
	// it is then applied, no longer dead.
	if ok, err := f.b.ApplyPaymentEvent(f.ctx, ports.EventEffect{EventID: ev.ID, AppliedAt: f.now}); err != nil || !ok {
		t.Fatalf("applying a dead event = %v, %v", ok, err)
	}
	if got, _ = f.b.PaymentEventByID(f.ctx, ev.ID); got.AppliedAt == nil || got.DeadAt != nil {
		t.Fatalf("after applying a dead event: %+v", got)
	}
	if n, err := f.b.CountDeadPaymentEvents(f.ctx); err != nil || n != 0 {
		t.Fatalf("CountDeadPaymentEvents = %d, %v; want 0", n, err)
	}
}

func testFailEventRace(t *testing.T, f *billingFixture) {
	ev := f.event(f.id("evt"))
	f.record(ev)
	const n = 20
	var dead atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			d, err := f.b.FailPaymentEvent(f.ctx, f.failure(ev.ID, f.now.Add(time.Minute), "down", n/2))
			if err != nil {
				t.Error(err)
			}
			if d {
				dead.Add(1)
			}
		})
	}
	wg.Wait()
	got, _ := f.b.PaymentEventByID(f.ctx, ev.ID)
	if dead.Load() != 1 || got.Attempts != n/2 || got.DeadAt == nil {
		t.Fatalf("%d calls said dead, the event has %d attempts, dead at %v; want 1, %d, set", dead.Load(), got.Attempts, got.DeadAt, n/2)
	}
}

func testUpdateSubDecides(t *testing.T, f *billingFixture) {
	a := f.createAccount()
	before := f.sub(a.Profile.ID, core.LineDrive)
	paid := f.createPlan(f.plan(core.LineDrive))
	calls := 0
	err := f.b.UpdateSubscription(f.ctx, a.Profile.ID, core.LineDrive, func(cur *core.Subscription, synced *time.Time) (*core.Subscription, error) {
		calls++
		if cur == nil || cur.ID != before.ID || cur.PlanID != before.PlanID {
			t.Errorf("fn saw %+v, want the stored subscription %+v", cur, before)
		}
		if synced != nil {
			t.Errorf("fn saw provider read time %v, want none", synced)
		}
		return nil, nil // leave it
	})
	if err != nil || calls != 1 {
		t.Fatalf("UpdateSubscription = %v after %d calls of fn", err, calls)
	}
	// A provider read time stored by ApplyPaymentEvent is seen, and kept.
	fetched := f.now.Add(-time.Minute)
	ev := f.event(f.id("evt"))
	f.record(ev)
	if _, err := f.b.ApplyPaymentEvent(f.ctx, ports.EventEffect{EventID: ev.ID, AppliedAt: f.now, ProfileID: a.Profile.ID, Line: core.LineDrive, FetchedAt: fetched,
		Decide: func(cur *core.Subscription, _ *time.Time) (*core.Subscription, error) {
			next := *cur
			return &next, nil
		}}); err != nil {
		t.Fatal(err)
	}
	err = f.b.UpdateSubscription(f.ctx, a.Profile.ID, core.LineDrive, func(cur *core.Subscription, synced *time.Time) (*core.Subscription, error) {
		if synced == nil || !synced.Equal(fetched.Truncate(time.Microsecond)) {
			t.Errorf("fn saw provider read time %v, want %v", synced, fetched)
		}
		next := *cur
		next.ID = "sub_ignored"
		next.PlanID, next.Status, next.StripeSubscriptionID, next.StripeCustomerID = paid.ID, core.StatusPastDue, "sub_u", "cus_u"
		next.UpdatedAt = f.now
		return &next, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := f.sub(a.Profile.ID, core.LineDrive)
	if got.ID != before.ID || got.PlanID != paid.ID || got.Status != core.StatusPastDue || got.StripeSubscriptionID != "sub_u" || got.StripeCustomerID != "cus_u" {
		t.Fatalf("after UpdateSubscription: %+v", got)
	}
	err = f.b.UpdateSubscription(f.ctx, a.Profile.ID, core.LineDrive, func(_ *core.Subscription, synced *time.Time) (*core.Subscription, error) {
		if synced == nil || !synced.Equal(fetched.Truncate(time.Microsecond)) {
			t.Errorf("the provider read time became %v, want %v kept", synced, fetched)
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testUpdateSubCreates(t *testing.T, f *billingFixture) {
	a := f.account(f.email())
	a.Subscriptions = a.Subscriptions[:2] // no messaging
	if err := f.s.CreateAccount(f.ctx, a); err != nil {
		t.Fatal(err)
	}
	msg := f.defaultPlans()[core.LineMessaging]
	err := f.b.UpdateSubscription(f.ctx, a.Profile.ID, core.LineMessaging, func(cur *core.Subscription, synced *time.Time) (*core.Subscription, error) {
		if cur != nil || synced != nil {
			t.Errorf("fn saw %+v, %v; want none", cur, synced)
		}
		return &core.Subscription{ID: f.id("sub"), ProfileID: a.Profile.ID, Line: core.LineMessaging, PlanID: msg.ID, Status: core.StatusActive, CreatedAt: f.now, UpdatedAt: f.now}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.sub(a.Profile.ID, core.LineMessaging); got.Status != core.StatusActive || got.PlanID != msg.ID {
		t.Fatalf("created %+v", got)
	}
}

func testUpdateSubErrors(t *testing.T, f *billingFixture) {
	a := f.createAccount()
	before := f.sub(a.Profile.ID, core.LineDrive)
	boom := errors.New("boom")
	err := f.b.UpdateSubscription(f.ctx, a.Profile.ID, core.LineDrive, func(*core.Subscription, *time.Time) (*core.Subscription, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateSubscription = %v, want %v", err, boom)
	}
	err = f.b.UpdateSubscription(f.ctx, a.Profile.ID, core.LineDrive, func(cur *core.Subscription, _ *time.Time) (*core.Subscription, error) {
		next := *cur
		next.PlanID = "plan_nope"
		return &next, nil
	})
	storeWantKind(t, err, core.KindInvalid, "")
	if got := f.sub(a.Profile.ID, core.LineDrive); got.PlanID != before.PlanID {
		t.Fatalf("plan changed to %s", got.PlanID)
	}
}

func testUpdateSubNoProfile(t *testing.T, f *billingFixture) {
	err := f.b.UpdateSubscription(f.ctx, "prf_nope", core.LineDrive, func(*core.Subscription, *time.Time) (*core.Subscription, error) {
		t.Error("fn called for an unknown profile")
		return nil, nil
	})
	storeWantKind(t, err, core.KindNotFound, "")
}

// testUpdateSubRace runs 20 UpdateSubscription calls and 20 applications
// of distinct events on one subscription at once, each incrementing a
// counter kept in the subscription: a read outside the lock would lose
// increments.
func testUpdateSubRace(t *testing.T, f *billingFixture) {
	a := f.createAccount()
	const n = 20
	incr := func(cur *core.Subscription, _ *time.Time) (*core.Subscription, error) {
		next := *cur
		c, _ := strconv.Atoi(strings.TrimPrefix(cur.StripeCustomerID, "cus_"))
		next.StripeCustomerID = "cus_" + strconv.Itoa(c+1)
		return &next, nil
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = f.id("evt")
		f.record(f.event(ids[i]))
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := f.b.UpdateSubscription(f.ctx, a.Profile.ID, core.LineDrive, incr); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			_, err := f.b.ApplyPaymentEvent(f.ctx, ports.EventEffect{EventID: ids[i], AppliedAt: f.now, ProfileID: a.Profile.ID, Line: core.LineDrive, FetchedAt: f.now, Decide: incr})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := f.sub(a.Profile.ID, core.LineDrive); got.StripeCustomerID != "cus_"+strconv.Itoa(2*n) {
		t.Fatalf("counter = %q after %d updates, want cus_%d: an update was lost", got.StripeCustomerID, 2*n, 2*n)
	}
}

func testSyncClock(t *testing.T, f *billingFixture) {
	first, err := f.b.SyncClock(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.b.SyncClock(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.Before(first) {
		t.Fatalf("SyncClock went backwards: %v then %v", first, second)
	}
	if d := time.Since(first); d > time.Hour || d < -time.Hour {
		t.Fatalf("SyncClock = %v, an hour or more away from this host's clock", first)
	}
	if first.Location() != time.UTC {
		t.Fatalf("SyncClock = %v, want UTC", first)
	}
}
