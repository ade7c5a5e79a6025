package billing_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/billing"
	"github.com/gellhub/gellhub/testkit"
)

// verifier accepts the signature "good" over a JSON core.PaymentEvent.
type verifier struct{}

func (verifier) VerifyWebhook(payload []byte, sig string) (core.PaymentEvent, error) {
	if sig != "good" {
		return core.PaymentEvent{}, core.Invalid("Stripe-Signature", "bad signature")
	}
	var ev core.PaymentEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return core.PaymentEvent{}, core.Invalid("body", "not an event")
	}
	return ev, nil
}

func payload(t *testing.T, ev core.PaymentEvent) []byte {
	t.Helper()
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	return b
}

// gatedPayments holds Subscription calls while a gate is armed: a provider
// that answers only when the test says so.
type gatedPayments struct {
	*testkit.Payments
	mu   sync.Mutex
	gate *gate
}

type gate struct {
	entered chan string   // the subscription id of each call held
	release chan struct{} // closed: the held calls go on
}

// arm holds the calls from now on.
func (p *gatedPayments) arm() *gate {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gate = &gate{entered: make(chan string, 16), release: make(chan struct{})}
	return p.gate
}

// disarm lets every call through again, the held ones too.
func (p *gatedPayments) disarm() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate != nil {
		close(p.gate.release)
		p.gate = nil
	}
}

func (p *gatedPayments) Subscription(ctx context.Context, id string) (core.ProviderSubscription, error) {
	p.mu.Lock()
	g := p.gate
	p.mu.Unlock()
	if g != nil {
		g.entered <- id
		select {
		case <-g.release:
		case <-ctx.Done():
			return core.ProviderSubscription{}, core.Unavailable("payments", ctx.Err())
		}
	}
	return p.Payments.Subscription(ctx, id)
}

// within fails the test unless ch delivers within a generous deadline.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting: %s", what)
		var zero T
		return zero
	}
}

func gatedFixture(t *testing.T, opts ...func(f *fixture, c *billing.Config)) (*fixture, *gatedPayments) {
	t.Helper()
	var gp *gatedPayments
	f := newFixture(t, append([]func(*fixture, *billing.Config){func(f *fixture, c *billing.Config) {
		gp = &gatedPayments{Payments: f.payments}
		c.Payments, c.Verifier = gp, verifier{}
	}}, opts...)...)
	t.Cleanup(gp.disarm)
	return f, gp
}

// TestWebhookIsAcknowledgedBeforeItIsApplied: the webhook returns once the
// event is recorded, while the provider call that applying it needs is
// still held; the background application completes afterwards, even
// though the request's context has ended.
func TestWebhookIsAcknowledgedBeforeItIsApplied(t *testing.T) {
	t.Parallel()
	f, gp := gatedFixture(t)
	who, subID := f.paidAccount()
	f.setStatus(subID, core.StatusPastDue)
	g := gp.arm()
	ev := f.event(core.EventInvoicePaymentFailed, subID)

	reqCtx, endRequest := context.WithCancel(f.ctx)
	returned := make(chan error, 1)
	go func() { returned <- f.svc.ReceiveWebhook(reqCtx, payload(t, ev), "good") }()
	require.NoError(t, within(t, returned, "ReceiveWebhook returns while the provider is held"))
	endRequest()
	require.Equal(t, subID, within(t, g.entered, "the background application calls the provider"))
	stored, err := f.store.PaymentEventByID(f.ctx, ev.ID)
	require.NoError(t, err, "recorded before the acknowledgement")
	require.Nil(t, stored.AppliedAt)
	s, _ := f.sub(who.ProfileID, core.LineClientGallery)
	require.Equal(t, core.StatusActive, s.Status, "not applied yet")

	gp.disarm()
	f.svc.Wait()
	stored, _ = f.store.PaymentEventByID(f.ctx, ev.ID)
	require.NotNil(t, stored.AppliedAt, "applied in the background")
	s, _ = f.sub(who.ProfileID, core.LineClientGallery)
	require.Equal(t, core.StatusPastDue, s.Status)
	require.Zero(t, f.reports.count())

	// A bad signature records nothing and starts nothing.
	bad := f.event(core.EventInvoicePaid, subID)
	requireKind(t, f.svc.ReceiveWebhook(f.ctx, payload(t, bad), "forged"), core.KindInvalid, "", "Stripe-Signature")
	_, err = f.store.PaymentEventByID(f.ctx, bad.ID)
	requireKind(t, err, core.KindNotFound, "", "")
}

// TestABackgroundFailureIsRescheduled: a provider failure while applying
// in the background counts as a failed attempt, reported, and the retry
// job applies the event once the provider is back.
func TestABackgroundFailureIsRescheduled(t *testing.T) {
	t.Parallel()
	f, _ := gatedFixture(t)
	who, subID := f.paidAccount()
	f.setStatus(subID, core.StatusPastDue)
	f.payments.SetFailSubscription(core.Unavailable("payments", nil))
	ev := f.event(core.EventInvoicePaymentFailed, subID)
	require.NoError(t, f.svc.ReceiveWebhook(f.ctx, payload(t, ev), "good"))
	f.svc.Wait()
	stored, _ := f.store.PaymentEventByID(f.ctx, ev.ID)
	require.Nil(t, stored.AppliedAt)
	require.Equal(t, 1, stored.Attempts)
	require.Equal(t, start.Add(billing.FirstRetry), stored.NextAttemptAt)
	require.Equal(t, 1, f.reports.count())

	f.payments.SetFailSubscription(nil)
	f.clock.Advance(billing.FirstRetry)
	n, err := f.svc.RetryDue(f.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	s, _ := f.sub(who.ProfileID, core.LineClientGallery)
	require.Equal(t, core.StatusPastDue, s.Status)
}

// TestCloseStopsBackgroundApplications: Close cancels the application in
// flight and starts no other; neither counts as a failed attempt, and both
// events stay due for the retry job.
func TestCloseStopsBackgroundApplications(t *testing.T) {
	t.Parallel()
	f, gp := gatedFixture(t)
	who, subID := f.paidAccount()
	f.setStatus(subID, core.StatusPastDue)
	g := gp.arm()
	first := f.event(core.EventInvoicePaymentFailed, subID)
	require.NoError(t, f.svc.ReceiveWebhook(f.ctx, payload(t, first), "good"))
	within(t, g.entered, "the background application calls the provider")

	closed := make(chan struct{})
	go func() { f.svc.Close(); close(closed) }()
	within(t, closed, "Close cancels the held application and returns")
	second := f.event(core.EventSubscriptionUpdated, subID)
	require.NoError(t, f.svc.ReceiveWebhook(f.ctx, payload(t, second), "good"), "still recorded and acknowledged")
	f.svc.Wait()
	require.Empty(t, g.entered, "nothing started after Close")
	for _, id := range []string{first.ID, second.ID} {
		stored, err := f.store.PaymentEventByID(f.ctx, id)
		require.NoError(t, err)
		require.Nil(t, stored.AppliedAt)
		require.Zero(t, stored.Attempts, "a shutdown is not the event's failure")
		require.Equal(t, start, stored.NextAttemptAt, "due at once")
	}
	require.Zero(t, f.reports.count())

	gp.disarm()
	n, err := f.svc.RetryDue(f.ctx)
	require.NoError(t, err)
	require.Zero(t, n, "left to their own first attempt for ApplyTimeout")
	f.clock.Advance(billing.ApplyTimeout)
	n, err = f.svc.RetryDue(f.ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n, "then the retry job applies both")
	s, _ := f.sub(who.ProfileID, core.LineClientGallery)
	require.Equal(t, core.StatusPastDue, s.Status)
}

// TestARetryRunCutShortIsNotAFailedAttempt: when the job's run ends (its
// deadline) while an event is being applied, the attempt is not counted
// and the event stays due; an attempt that runs out of its own time
// (ApplyTimeout) while the run goes on is a failure like any other.
func TestARetryRunCutShortIsNotAFailedAttempt(t *testing.T) {
	t.Parallel()
	f, gp := gatedFixture(t, func(_ *fixture, c *billing.Config) { c.ApplyTimeout = 50 * time.Millisecond })
	_, subID := f.paidAccount()
	ev := f.event(core.EventSubscriptionUpdated, subID)
	inserted, err := f.store.RecordPaymentEvent(f.ctx, ev, f.clock.Now())
	require.NoError(t, err)
	require.True(t, inserted)
	f.clock.Advance(time.Second) // past the grace left to its first attempt

	g := gp.arm()
	run, endRun := context.WithCancel(f.ctx)
	go func() {
		select { // the run applies the event
		case <-g.entered:
		case <-time.After(10 * time.Second):
		}
		endRun() // the job's deadline
	}()
	n, err := f.svc.RetryDue(run)
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, n)
	stored, _ := f.store.PaymentEventByID(f.ctx, ev.ID)
	require.Zero(t, stored.Attempts, "not counted")
	require.Empty(t, stored.LastError)
	require.Equal(t, start, stored.NextAttemptAt, "still due")
	require.Zero(t, f.reports.count())

	// The provider never answers: the attempt's own timeout is a failure.
	n, err = f.svc.RetryDue(f.ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	stored, _ = f.store.PaymentEventByID(f.ctx, ev.ID)
	require.Equal(t, 1, stored.Attempts)
	require.Contains(t, stored.LastError, "unavailable")
	require.Equal(t, 1, f.reports.count())
}

// TestAnEventThatNeverAppliesDiesAfterMaxAttempts: an event that fails on
// every attempt (here a subscription whose plan is of another line) is
// retried MaxAttempts times, then marked dead: no longer due, alerted
// once with the number of dead events.
func TestAnEventThatNeverAppliesDiesAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	alerts := &reports{}
	f := newFixture(t, func(_ *fixture, c *billing.Config) { c.Alert = alerts.add })
	who, subID := f.paidAccount()
	_, err := f.payments.UpdateSubscription(subID, func(s *core.ProviderSubscription) { s.Line = core.LineDrive })
	require.NoError(t, err)
	ev := f.event(core.EventSubscriptionUpdated, subID)
	require.NoError(t, f.svc.Ingest(f.ctx, ev))
	for attempt := 2; attempt <= billing.MaxAttempts; attempt++ {
		f.clock.Advance(billing.MaxRetryDelay)
		n, err := f.svc.RetryDue(f.ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		stored, _ := f.store.PaymentEventByID(f.ctx, ev.ID)
		require.Equal(t, attempt, stored.Attempts)
		if attempt < billing.MaxAttempts {
			require.Nil(t, stored.DeadAt, "attempt %d", attempt)
		}
	}
	stored, _ := f.store.PaymentEventByID(f.ctx, ev.ID)
	require.NotNil(t, stored.DeadAt, "dead after %d attempts", billing.MaxAttempts)
	require.Equal(t, f.clock.Now(), *stored.DeadAt)
	require.Nil(t, stored.AppliedAt)
	require.Equal(t, 1, alerts.count())
	alerts.mu.Lock()
	msg := alerts.errs[0].Error()
	alerts.mu.Unlock()
	require.Contains(t, msg, ev.ID)
	require.Contains(t, msg, "will not be retried")
	require.Contains(t, msg, "dead payment events: 1")
	require.Equal(t, billing.MaxAttempts-1, f.reports.count(), "the earlier failures are reported as retried")

	f.clock.Advance(billing.MaxRetryDelay)
	n, err := f.svc.RetryDue(f.ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	again, _ := f.store.PaymentEventByID(f.ctx, ev.ID)
	require.Equal(t, billing.MaxAttempts, again.Attempts, "never attempted again")
	require.Equal(t, 1, alerts.count(), "alerted once")
	require.NoError(t, f.svc.Ingest(f.ctx, ev), "resent: applied again, still failing")
	again, _ = f.store.PaymentEventByID(f.ctx, ev.ID)
	require.Equal(t, billing.MaxAttempts, again.Attempts)
	require.NotNil(t, again.DeadAt)
	require.Equal(t, 1, alerts.count(), "alerted once")
	s, _ := f.sub(who.ProfileID, core.LineClientGallery)
	require.Equal(t, galleryPro, s.PlanID, "nothing changed")
	dead, err := f.store.CountDeadPaymentEvents(f.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, dead)
}

// TestReadsAreOrderedByTheStoresClock: two instances whose clocks disagree
// by an hour apply events about one subscription; the state read last wins
// whichever instance read it, because reads are stamped by the store's
// clock, not the instance's.
func TestReadsAreOrderedByTheStoresClock(t *testing.T) {
	t.Parallel()
	var ahead *billing.Service
	f := newFixture(t, func(f *fixture, c *billing.Config) {
		skewed := *c
		skewed.Clock = testkit.NewClock(start.Add(time.Hour))
		ahead = billing.New(skewed)
	})
	t.Cleanup(ahead.Close)
	who, subID := f.paidAccount()

	f.setStatus(subID, core.StatusPastDue)
	require.NoError(t, ahead.Ingest(f.ctx, f.event(core.EventInvoicePaymentFailed, subID)))
	s, _ := f.sub(who.ProfileID, core.LineClientGallery)
	require.Equal(t, core.StatusPastDue, s.Status)

	f.setStatus(subID, core.StatusActive) // the customer paid
	require.NoError(t, f.svc.Ingest(f.ctx, f.event(core.EventInvoicePaid, subID)))
	s, _ = f.sub(who.ProfileID, core.LineClientGallery)
	require.Equal(t, core.StatusActive, s.Status, "the newer read wins though its instance's clock is behind")
}
