package testkit

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// WebhookStoreUnderTest is what RunWebhookStoreSuite exercises: the
// webhook store, with the messaging store whose turns create the
// deliveries and the account and plan stores of the fixtures. testkit.Store
// and the SQL stores implement it.
type WebhookStoreUnderTest interface {
	MessagingStoreUnderTest
	ports.WebhookStore
}

// WebhookSuiteStore is what the open function of RunWebhookStoreSuite
// returns: a store whose delivery enqueuer reports to the EnqueueRecorder
// open was given.
type WebhookSuiteStore struct {
	WebhookStoreUnderTest
	// Transactional is true when the store queues a turn's deliveries in
	// the turn's transaction, so that an enqueue failure
	// (EnqueueRecorder.FailWith) rolls the whole turn back: the SQL
	// stores. The memory store queues after the turn is applied, and its
	// enqueuer cannot fail.
	Transactional bool
}

// EnqueueRecorder stands in for the delivery queue in
// RunWebhookStoreSuite: it records the ids a store queues, and can refuse
// them. It is safe for concurrent use.
type EnqueueRecorder struct {
	mu      sync.Mutex
	batches [][]string
	fail    error
	observe func(ids []string) // see Observe
}

// Enqueue records ids; pass it to Store.SetEnqueuer. It cannot refuse.
func (r *EnqueueRecorder) Enqueue(ids []string) {
	r.mu.Lock()
	observe := r.observe
	r.batches = append(r.batches, slices.Clone(ids))
	r.mu.Unlock()
	if observe != nil {
		observe(ids)
	}
}

// Observe makes Enqueue call fn with each batch, outside the recorder's
// lock: a check of what the store shows when it queues.
func (r *EnqueueRecorder) Observe(fn func(ids []string)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observe = fn
}

// EnqueueTx records ids and returns nil, or, after FailWith, records
// nothing and returns that error: what a transactional enqueuer (one that
// queues inside the caller's transaction) answers.
func (r *EnqueueRecorder) EnqueueTx(ids []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.batches = append(r.batches, slices.Clone(ids))
	return nil
}

// FailWith makes EnqueueTx refuse with err from now on (nil accepts
// again).
func (r *EnqueueRecorder) FailWith(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

// Batches returns the ids queued so far, one slice per call.
func (r *EnqueueRecorder) Batches() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][]string, len(r.batches))
	for i, b := range r.batches {
		out[i] = slices.Clone(b)
	}
	return out
}

// RunWebhookStoreSuite is the contract of ports.WebhookStore and of
// RecordTurn's deliveries (ports.ChatTurn.Deliveries): every adapter must
// pass it. open is called once per sub-test with a fresh recorder and
// must return an empty store, independent of every other one, whose
// enqueuer reports to that recorder, released in t.Cleanup. Sub-tests run
// in parallel.
//
// The suite checks that a turn's deliveries are stored pending and queued
// exactly when the turn is (an enqueue failure or a short balance leaves
// no turn, message, delivery or charge), the attempts' state transitions,
// that an attempt number is recorded once (also by 10 racing workers), and
// the listing's order, paging, filter and scope, and the retention purge:
// only finished deliveries updated before the cutoff go, with their
// attempts, oldest first, whatever their profile, a batch at a time (also
// with 8 purgers racing); pending ones stay whatever their age. And the
// sweep of stalled deliveries: only pending ones due before the cutoff are
// listed, whatever their profile, oldest due first, paged by limit and
// after.
func RunWebhookStoreSuite(t *testing.T, open func(t *testing.T, enq *EnqueueRecorder) WebhookSuiteStore) {
	t.Helper()
	runSuite(t, slices.Concat(webhookCases, purgeCases, stalledCases), func(t *testing.T) *webhookFixture {
		enq := &EnqueueRecorder{}
		s := open(t, enq)
		return &webhookFixture{
			msgFixture:    &msgFixture{storeFixture: newStoreFixture(t, s.WebhookStoreUnderTest), m: s.WebhookStoreUnderTest},
			w:             s.WebhookStoreUnderTest,
			enq:           enq,
			transactional: s.Transactional,
		}
	})
}

// webhookFixture builds turns with deliveries on top of msgFixture.
type webhookFixture struct {
	*msgFixture
	w             WebhookStoreUnderTest
	enq           *EnqueueRecorder
	transactional bool
}

type webhookCase = suiteCase[*webhookFixture]

// delivery returns an event of the turn: only ID, Event and Body set, as
// the core sends them.
func (f *webhookFixture) delivery(event string) core.WebhookDelivery {
	id := f.id("evt")
	return core.WebhookDelivery{
		ID: id, Event: event,
		Body: []byte(`{"type":"` + event + `","id":"` + id + `","text":"ünïcode \"quoted\" <b>"}` + "\n"),
		// Set by the store: these are overwritten.
		ProfileID: "prf_wrong", State: core.DeliveryFailed, AttemptCount: 7, DeliveredAt: f.at(-time.Hour),
	}
}

// turnWith records a turn of ref at d after the suite's time with ds and
// returns its conversation and the deliveries as stored.
func (f *webhookFixture) turnWith(profileID, ref string, d time.Duration, ds ...core.WebhookDelivery) (core.Conversation, []core.WebhookDelivery) {
	f.t.Helper()
	tr := f.turnOn(profileID, ref, 0)
	tr.At, tr.Deliveries = f.at(d), ds
	c := f.recordTurn(tr)
	return c, f.stored(tr, c.ID)
}

// turnOn is f.turn, on ref's stored conversation when there is one: the
// events of a turn name its conversation, so a turn with deliveries must
// carry the stored id (ports.ChatTurn.Deliveries).
func (f *webhookFixture) turnOn(profileID, ref string, charge int64) ports.ChatTurn {
	f.t.Helper()
	tr := f.turn(profileID, ref, charge)
	c, err := f.w.ConversationByRef(f.ctx, profileID, ref)
	switch {
	case err == nil:
		tr.ConversationID = c.ID
	case !core.IsKind(err, core.KindNotFound):
		f.t.Fatalf("ConversationByRef(%s): %v", ref, err)
	}
	return tr
}

// stored returns tr's deliveries as the store keeps them.
func (f *webhookFixture) stored(tr ports.ChatTurn, conversationID string) []core.WebhookDelivery {
	out := make([]core.WebhookDelivery, len(tr.Deliveries))
	for i, d := range tr.Deliveries {
		out[i] = core.WebhookDelivery{
			ID: d.ID, ProfileID: tr.ProfileID, Event: d.Event, ConversationID: conversationID, Body: d.Body,
			State: core.DeliveryPending, NextAttemptAt: tr.At, CreatedAt: tr.At, UpdatedAt: tr.At,
		}
	}
	return out
}

func normDelivery(d core.WebhookDelivery) core.WebhookDelivery {
	d.NextAttemptAt, d.CreatedAt = storeNormTime(d.NextAttemptAt), storeNormTime(d.CreatedAt)
	d.UpdatedAt, d.DeliveredAt = storeNormTime(d.UpdatedAt), storeNormTime(d.DeliveredAt)
	if len(d.Body) == 0 {
		d.Body = nil
	}
	if len(d.Attempts) == 0 {
		d.Attempts = nil
	} else {
		d.Attempts = slices.Clone(d.Attempts)
		for i := range d.Attempts {
			d.Attempts[i].At = storeNormTime(d.Attempts[i].At)
		}
	}
	return d
}

func normDeliveries(ds []core.WebhookDelivery) []core.WebhookDelivery {
	if len(ds) == 0 {
		return nil
	}
	out := make([]core.WebhookDelivery, len(ds))
	for i, d := range ds {
		out[i] = normDelivery(d)
	}
	return out
}

// wantDelivery checks the stored delivery (without attempts).
func (f *webhookFixture) wantDelivery(want core.WebhookDelivery) {
	f.t.Helper()
	got, err := f.w.Delivery(f.ctx, want.ID)
	storeWantNoErr(f.t, "Delivery", err)
	want.Attempts = nil
	storeWantEqual(f.t, "Delivery", got, want, normDelivery)
}

// wantBatches checks the ids queued so far.
func (f *webhookFixture) wantBatches(want ...[]string) {
	f.t.Helper()
	got := f.enq.Batches()
	if len(got) != len(want) {
		f.t.Fatalf("%d enqueue calls %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		if !slices.Equal(got[i], want[i]) {
			f.t.Fatalf("enqueue call %d queued %v, want %v", i, got[i], want[i])
		}
	}
}

// attempt returns attempt n of d at dt after the suite's time.
func (f *webhookFixture) attempt(d core.WebhookDelivery, n int, dt time.Duration, status int, failure string) core.WebhookAttempt {
	return core.WebhookAttempt{
		DeliveryID: d.ID, N: n, At: f.at(dt), URL: "https://inbox.example.com/hook?attempt=" + fmt.Sprint(n),
		StatusCode: status, Duration: time.Duration(n*250+3) * time.Millisecond, Error: failure,
		Response: fmt.Sprintf(`{"attempt":%d,"note":"ünïcode"}`, n),
	}
}

// record records a with d's new state and returns d with a appended.
func (f *webhookFixture) record(d core.WebhookDelivery, a core.WebhookAttempt) core.WebhookDelivery {
	f.t.Helper()
	storeWantNoErr(f.t, "RecordAttempt", f.w.RecordAttempt(f.ctx, d, a))
	d.Attempts = append(slices.Clip(d.Attempts), a)
	return d
}

// list lists the profile's deliveries with q.
func (f *webhookFixture) list(profileID string, q ports.DeliveryQuery) []core.WebhookDelivery {
	f.t.Helper()
	got, err := f.w.Deliveries(f.ctx, profileID, q)
	storeWantNoErr(f.t, "Deliveries", err)
	return got
}

var webhookCases = []webhookCase{
	{"RecordTurn", "deliveries_are_stored_pending_and_queued_with_the_turn", testWebhookTurnDeliveries},
	{"RecordTurn", "an_enqueue_failure_leaves_nothing_or_without_transactions_the_queue_sees_the_applied_turn", testWebhookTurnEnqueueFails},
	{"RecordTurn", "a_turn_refused_for_credits_queues_nothing", testWebhookTurnShort},
	{"RecordTurn", "events_naming_a_replaced_conversation_are_conflict_and_change_nothing", testWebhookTurnConversationChanged},
	{"Delivery", "unknown_is_not_found_and_reads_are_copies", testWebhookDelivery},
	{"RecordAttempt", "retry_then_delivered", testWebhookAttemptDelivered},
	{"RecordAttempt", "given_up_is_failed", testWebhookAttemptFailed},
	{"RecordAttempt", "a_recorded_attempt_number_is_conflict_and_changes_nothing", testWebhookAttemptDuplicate},
	{"RecordAttempt", "unknown_delivery_is_not_found", testWebhookAttemptUnknown},
	{"RecordAttempt", "10_workers_racing_on_one_attempt_one_wins", testWebhookAttemptRace},
	{"Deliveries", "newest_first_paged_after_an_id_with_attempts_oldest_first", testWebhookListPaging},
	{"Deliveries", "event_filter_limit_and_profile_scope", testWebhookListFilter},
}

func testWebhookTurnDeliveries(t *testing.T, f *webhookFixture) {
	p := f.profile()
	f.grant(p, 5, "")
	c0 := f.recordTurn(f.turn(p, "ref", 0)) // no deliveries: nothing queued
	f.wantBatches()
	d1, d2 := f.delivery(core.EventHandoffRequested), f.delivery(core.EventHandoffMessage)
	tr := f.turnOn(p, "ref", 1)
	tr.At, tr.Handoff, tr.Deliveries = f.at(time.Minute), true, []core.WebhookDelivery{d1, d2}
	body := slices.Clone(d1.Body)
	c := f.recordTurn(tr)
	if c.ID != c0.ID || !c.HandedOffAt.Equal(tr.At) || c.MessageCount != 4 {
		t.Fatalf("the turn's conversation is %+v", c)
	}
	d1.Body[0] = 'X' // the store keeps its own copy
	f.wantBatches([]string{d1.ID, d2.ID})
	want := f.stored(tr, c.ID)
	want[0].Body = body
	f.wantDelivery(want[0])
	f.wantDelivery(want[1])
	f.wantUsage(p, core.MessagingUsage{Credits: 4, InboundCount: 2, OutboundCount: 2})

	// Deliveries of a new conversation belong to it.
	d3 := f.delivery(core.EventHandoffRequested)
	c2, stored := f.turnWith(p, "other", time.Hour, d3)
	if c2.ID == c.ID {
		t.Fatal("the new ref reused a conversation")
	}
	f.wantDelivery(stored[0])
	f.wantBatches([]string{d1.ID, d2.ID}, []string{d3.ID})
}

func testWebhookTurnEnqueueFails(t *testing.T, f *webhookFixture) {
	if !f.transactional {
		testWebhookTurnQueuedAfterApply(t, f)
		return
	}
	p := f.profile()
	f.grant(p, 5, "")
	c := f.recordTurn(f.turn(p, "ref", 1))
	injected := errors.New("injected: the queue refused")
	f.enq.FailWith(injected)
	for _, ref := range []string{"ref", "new-ref"} {
		d := f.delivery(core.EventHandoffRequested)
		tr := f.turnOn(p, ref, 1)
		tr.Handoff, tr.At, tr.Deliveries = true, f.at(time.Hour), []core.WebhookDelivery{d}
		_, err := f.w.RecordTurn(f.ctx, tr)
		if !errors.Is(err, injected) {
			t.Fatalf("RecordTurn(%s) = %v, want the enqueuer's error", ref, err)
		}
		_, err = f.w.Delivery(f.ctx, d.ID)
		storeWantKind(t, err, core.KindNotFound, "")
	}
	f.wantConversation(c) // not handed off, no new message
	msgs, err := f.w.ConversationMessages(f.ctx, p, c.ID, 100)
	storeWantNoErr(t, "ConversationMessages", err)
	if len(msgs) != 2 {
		t.Fatalf("the conversation holds %d messages, want 2", len(msgs))
	}
	_, err = f.w.ConversationByRef(f.ctx, p, "new-ref")
	storeWantKind(t, err, core.KindNotFound, "")
	f.wantUsage(p, core.MessagingUsage{Credits: 4, InboundCount: 1, OutboundCount: 1})
	f.wantBatches()
	if got := f.list(p, ports.DeliveryQuery{Limit: 10}); len(got) != 0 {
		t.Fatalf("Deliveries lists %+v", got)
	}
	// The queue accepts again: so does the store.
	f.enq.FailWith(nil)
	d := f.delivery(core.EventHandoffRequested)
	f.turnWith(p, "ref", 2*time.Hour, d)
	f.wantBatches([]string{d.ID})
}

// testWebhookTurnConversationChanged: a turn whose events name a new
// conversation id, while a concurrent first turn created the ref's
// conversation with another, is refused whole; without events it joins
// that conversation.
func testWebhookTurnConversationChanged(t *testing.T, f *webhookFixture) {
	p := f.profile()
	f.grant(p, 5, "")
	c := f.recordTurn(f.turn(p, "ref", 1)) // the concurrent first turn
	d := f.delivery(core.EventHandoffRequested)
	tr := f.turn(p, "ref", 1) // a fresh conversation id: the core found none
	tr.Handoff, tr.At, tr.Deliveries = true, f.at(time.Minute), []core.WebhookDelivery{d}
	_, err := f.w.RecordTurn(f.ctx, tr)
	storeWantKind(t, err, core.KindConflict, "conversation_changed")
	_, err = f.w.Delivery(f.ctx, d.ID)
	storeWantKind(t, err, core.KindNotFound, "")
	f.wantConversation(c) // not handed off, no new message
	f.wantBatches()
	f.wantUsage(p, core.MessagingUsage{Credits: 4, InboundCount: 1, OutboundCount: 1})
	// Run again on the conversation that exists, it commits.
	tr.ConversationID = c.ID
	got := f.recordTurn(tr)
	if got.ID != c.ID || got.HandedOffAt.IsZero() {
		t.Fatalf("the turn's conversation is %+v", got)
	}
	f.wantBatches([]string{d.ID})
}

// testWebhookTurnQueuedAfterApply is the enqueue contract of a store
// without transactions (the memory store), whose enqueuer cannot refuse:
// it queues a turn's deliveries once the turn is applied, so that a worker
// woken by the queue finds the delivery, its conversation and messages.
func testWebhookTurnQueuedAfterApply(t *testing.T, f *webhookFixture) {
	p := f.profile()
	f.grant(p, 5, "")
	seen := make(chan error, 1)
	f.enq.Observe(func(ids []string) {
		d, err := f.w.Delivery(f.ctx, ids[0])
		if err == nil {
			_, err = f.w.Conversation(f.ctx, p, d.ConversationID)
		}
		seen <- err
	})
	d := f.delivery(core.EventHandoffRequested)
	c, _ := f.turnWith(p, "ref", time.Minute, d)
	select {
	case err := <-seen:
		storeWantNoErr(t, "the delivery and its conversation, read when queued", err)
	default:
		t.Fatal("RecordTurn returned before it queued the turn's delivery")
	}
	if c.MessageCount != 2 {
		t.Fatalf("the turn's conversation is %+v", c)
	}
	f.wantBatches([]string{d.ID})
}

func testWebhookTurnShort(t *testing.T, f *webhookFixture) {
	p := f.profile()
	d := f.delivery(core.EventHandoffRequested)
	tr := f.turn(p, "ref", 1)
	tr.Handoff, tr.Deliveries = true, []core.WebhookDelivery{d}
	_, err := f.w.RecordTurn(f.ctx, tr)
	storeWantKind(t, err, core.KindPaymentRequired, "insufficient_credits")
	_, err = f.w.Delivery(f.ctx, d.ID)
	storeWantKind(t, err, core.KindNotFound, "")
	f.wantBatches()
	f.wantUsage(p, core.MessagingUsage{})
}

func testWebhookDelivery(t *testing.T, f *webhookFixture) {
	_, err := f.w.Delivery(f.ctx, f.id("evt"))
	storeWantKind(t, err, core.KindNotFound, "")
	p := f.profile()
	_, ds := f.turnWith(p, "ref", 0, f.delivery(core.EventHandoffRequested))
	got, err := f.w.Delivery(f.ctx, ds[0].ID)
	storeWantNoErr(t, "Delivery", err)
	got.Body[0] = 'X' // a copy
	f.wantDelivery(ds[0])
	// Attempts are not read by Delivery.
	f.record(ds[0], f.attempt(ds[0], 1, time.Minute, 500, "status 500"))
	got, err = f.w.Delivery(f.ctx, ds[0].ID)
	storeWantNoErr(t, "Delivery", err)
	if got.Attempts != nil {
		t.Fatalf("Delivery returned attempts: %+v", got.Attempts)
	}
}

func testWebhookAttemptDelivered(t *testing.T, f *webhookFixture) {
	p := f.profile()
	_, ds := f.turnWith(p, "ref", 0, f.delivery(core.EventHandoffRequested))
	d := ds[0]
	// A 503: retried in 5 minutes.
	d.AttemptCount, d.NextAttemptAt, d.UpdatedAt = 1, f.at(5*time.Minute), f.at(time.Second)
	d = f.record(d, f.attempt(d, 1, time.Second, 503, "status 503"))
	f.wantDelivery(d)
	// No answer: retried in 30 minutes.
	d.AttemptCount, d.NextAttemptAt, d.UpdatedAt = 2, f.at(35*time.Minute), f.at(5*time.Minute)
	d = f.record(d, f.attempt(d, 2, 5*time.Minute, 0, "connection refused"))
	f.wantDelivery(d)
	// Delivered.
	d.State, d.AttemptCount, d.NextAttemptAt = core.DeliveryDelivered, 3, time.Time{}
	d.DeliveredAt, d.UpdatedAt = f.at(35*time.Minute), f.at(35*time.Minute)
	d = f.record(d, f.attempt(d, 3, 35*time.Minute, 204, ""))
	f.wantDelivery(d)
	storeWantEqual(t, "Deliveries", f.list(p, ports.DeliveryQuery{Limit: 10}), []core.WebhookDelivery{d}, normDeliveries)
}

func testWebhookAttemptFailed(t *testing.T, f *webhookFixture) {
	p := f.profile()
	_, ds := f.turnWith(p, "ref", 0, f.delivery(core.EventHandoffMessage))
	d := ds[0]
	d.State, d.AttemptCount, d.NextAttemptAt, d.UpdatedAt = core.DeliveryFailed, 1, time.Time{}, f.at(time.Hour)
	a := f.attempt(d, 1, time.Hour, 410, "status 410")
	a.DeliveryID = "" // the delivery's
	d = f.record(d, a)
	d.Attempts[0].DeliveryID = d.ID
	f.wantDelivery(d)
	storeWantEqual(t, "Deliveries", f.list(p, ports.DeliveryQuery{Limit: 10}), []core.WebhookDelivery{d}, normDeliveries)
}

func testWebhookAttemptDuplicate(t *testing.T, f *webhookFixture) {
	p := f.profile()
	_, ds := f.turnWith(p, "ref", 0, f.delivery(core.EventHandoffRequested))
	d := ds[0]
	d.AttemptCount, d.NextAttemptAt, d.UpdatedAt = 1, f.at(5*time.Minute), f.at(time.Second)
	d = f.record(d, f.attempt(d, 1, time.Second, 500, "status 500"))
	// Another worker's attempt 1, which delivered.
	other := d
	other.State, other.AttemptCount, other.NextAttemptAt = core.DeliveryDelivered, 1, time.Time{}
	other.DeliveredAt, other.UpdatedAt = f.at(2*time.Second), f.at(2*time.Second)
	err := f.w.RecordAttempt(f.ctx, other, f.attempt(d, 1, 2*time.Second, 200, ""))
	storeWantKind(t, err, core.KindConflict, "")
	f.wantDelivery(d)
	storeWantEqual(t, "Deliveries", f.list(p, ports.DeliveryQuery{Limit: 10}), []core.WebhookDelivery{d}, normDeliveries)
}

func testWebhookAttemptUnknown(t *testing.T, f *webhookFixture) {
	d := core.WebhookDelivery{ID: f.id("evt"), State: core.DeliveryDelivered, AttemptCount: 1, UpdatedAt: f.at(0), DeliveredAt: f.at(0)}
	err := f.w.RecordAttempt(f.ctx, d, f.attempt(d, 1, 0, 200, ""))
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.w.Delivery(f.ctx, d.ID)
	storeWantKind(t, err, core.KindNotFound, "")
}

func testWebhookAttemptRace(t *testing.T, f *webhookFixture) {
	const n = 10
	p := f.profile()
	_, ds := f.turnWith(p, "ref", 0, f.delivery(core.EventHandoffRequested))
	var wins atomic.Int32
	var winner atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		d := ds[0]
		d.AttemptCount, d.NextAttemptAt, d.UpdatedAt = 1, f.at(time.Duration(i+1)*time.Minute), f.at(time.Second)
		a := f.attempt(d, 1, time.Second, 500+i, fmt.Sprintf("worker %d", i))
		wg.Go(func() {
			<-start
			err := f.w.RecordAttempt(f.ctx, d, a)
			switch {
			case err == nil:
				wins.Add(1)
				winner.Store(int32(i))
			case !core.IsKind(err, core.KindConflict):
				t.Errorf("a losing RecordAttempt: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d workers recorded attempt 1, want 1", wins.Load())
	}
	i := int(winner.Load())
	want := ds[0]
	want.AttemptCount, want.NextAttemptAt, want.UpdatedAt = 1, f.at(time.Duration(i+1)*time.Minute), f.at(time.Second)
	want.Attempts = []core.WebhookAttempt{f.attempt(want, 1, time.Second, 500+i, fmt.Sprintf("worker %d", i))}
	storeWantEqual(t, "Deliveries", f.list(p, ports.DeliveryQuery{Limit: 10}), []core.WebhookDelivery{want}, normDeliveries)
}

func testWebhookListPaging(t *testing.T, f *webhookFixture) {
	p := f.profile()
	// Five deliveries: two turns of two (one CreatedAt each, so the ids
	// order them) and one older turn of one.
	_, old := f.turnWith(p, "a", 0, f.delivery(core.EventHandoffRequested))
	_, mid := f.turnWith(p, "b", time.Minute, f.delivery(core.EventHandoffRequested), f.delivery(core.EventHandoffMessage))
	_, last := f.turnWith(p, "a", time.Hour, f.delivery(core.EventHandoffMessage), f.delivery(core.EventHandoffMessage))
	byID := func(a, b core.WebhookDelivery) int { return -bytes.Compare([]byte(a.ID), []byte(b.ID)) }
	slices.SortFunc(mid, byID)
	slices.SortFunc(last, byID)
	all := slices.Concat(last, mid, old)
	// Attempts, listed oldest first whatever the order they were recorded in.
	d := all[1]
	d.AttemptCount, d.NextAttemptAt, d.UpdatedAt = 1, f.at(2*time.Hour), f.at(time.Hour+time.Second)
	d = f.record(d, f.attempt(d, 1, time.Hour+time.Second, 500, "status 500"))
	d.State, d.AttemptCount, d.NextAttemptAt = core.DeliveryDelivered, 2, time.Time{}
	d.DeliveredAt, d.UpdatedAt = f.at(2*time.Hour), f.at(2*time.Hour)
	all[1] = f.record(d, f.attempt(d, 2, 2*time.Hour, 200, ""))

	storeWantEqual(t, "Deliveries", f.list(p, ports.DeliveryQuery{Limit: 100}), all, normDeliveries)
	for _, limit := range []int{1, 2, 3, 5} {
		var got []core.WebhookDelivery
		after := ""
		for pages := 0; ; pages++ {
			if pages > len(all) {
				t.Fatalf("limit %d: paging does not end", limit)
			}
			page := f.list(p, ports.DeliveryQuery{Limit: limit, After: after})
			if len(page) > limit {
				t.Fatalf("limit %d: a page of %d", limit, len(page))
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1].ID
		}
		storeWantEqual(t, fmt.Sprintf("Deliveries paged by %d", limit), got, all, normDeliveries)
	}
}

func testWebhookListFilter(t *testing.T, f *webhookFixture) {
	p, other := f.profile(), f.profile()
	_, a := f.turnWith(p, "a", 0, f.delivery(core.EventHandoffRequested))
	_, b := f.turnWith(p, "a", time.Minute, f.delivery(core.EventHandoffMessage))
	_, c := f.turnWith(p, "a", 2*time.Minute, f.delivery(core.EventHandoffMessage))
	_, theirs := f.turnWith(other, "a", 3*time.Minute, f.delivery(core.EventHandoffMessage))

	storeWantEqual(t, "Deliveries of handoff.message",
		f.list(p, ports.DeliveryQuery{Limit: 10, Event: core.EventHandoffMessage}), slices.Concat(c, b), normDeliveries)
	storeWantEqual(t, "Deliveries of handoff.message after the newest",
		f.list(p, ports.DeliveryQuery{Limit: 10, Event: core.EventHandoffMessage, After: c[0].ID}), b, normDeliveries)
	storeWantEqual(t, "Deliveries of handoff.requested",
		f.list(p, ports.DeliveryQuery{Limit: 10, Event: core.EventHandoffRequested}), a, normDeliveries)
	storeWantEqual(t, "Deliveries of an unknown event", f.list(p, ports.DeliveryQuery{Limit: 10, Event: "nope"}), nil, normDeliveries)
	storeWantEqual(t, "Deliveries limited to 2", f.list(p, ports.DeliveryQuery{Limit: 2}), slices.Concat(c, b), normDeliveries)
	storeWantEqual(t, "Deliveries of limit 0", f.list(p, ports.DeliveryQuery{}), nil, normDeliveries)
	storeWantEqual(t, "the other profile's Deliveries", f.list(other, ports.DeliveryQuery{Limit: 10}), theirs, normDeliveries)
	storeWantEqual(t, "an unknown profile's Deliveries", f.list(f.id("prf"), ports.DeliveryQuery{Limit: 10}), nil, normDeliveries)
	// Another profile's id, or an unknown one, is no cursor.
	_, err := f.w.Deliveries(f.ctx, p, ports.DeliveryQuery{Limit: 10, After: theirs[0].ID})
	storeWantKind(t, err, core.KindInvalid, "")
	_, err = f.w.Deliveries(f.ctx, p, ports.DeliveryQuery{Limit: 10, After: f.id("evt")})
	storeWantKind(t, err, core.KindInvalid, "")
}
