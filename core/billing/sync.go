package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// ReceiveWebhook handles one delivery of the provider's webhook. A missing,
// wrong or too old signature is KindInvalid and nothing changes. A verified
// event is recorded durably, and ReceiveWebhook returns: nil means the
// delivery may be acknowledged (2xx) at once, its event being recorded (or
// of a type billing ignores). The event is then applied in the background
// (a goroutine bounded by ApplyTimeout, which Close stops), so that the
// provider's answer never waits for the provider's own API; a failure there
// is reported and rescheduled, and the billing.retry_events job applies
// the event later, as it does one whose application never ran (the
// process stopped). Any other error means nothing was recorded and the
// provider should deliver the event again.
func (s *Service) ReceiveWebhook(ctx context.Context, payload []byte, signature string) error {
	if s.cfg.Verifier == nil {
		return core.NotFound("payment webhook endpoint (STRIPE_WEBHOOK_SECRET is not configured)")
	}
	ev, err := s.cfg.Verifier.VerifyWebhook(payload, signature)
	if err != nil {
		return err
	}
	handled, err := s.record(ctx, ev)
	if err != nil || !handled {
		return err
	}
	s.applyLater(ctx, ev.ID)
	return nil
}

// Ingest records a verified payment event in the durable inbox (once per
// event id: a resent event is not recorded twice) and applies it at once,
// before returning, within ApplyTimeout: the simulated payment pages and a
// browser's return from checkout use it, so that the next page shows the
// new state. Applying is best effort: a failure is reported, the event is
// scheduled again with backoff, and RetryDue applies it later; it is never
// lost (when ctx ends first, the attempt is not counted and the event
// stays due). Ingest fails only when the event could not be recorded.
func (s *Service) Ingest(ctx context.Context, ev core.PaymentEvent) error {
	handled, err := s.record(ctx, ev)
	if err != nil || !handled {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
	defer cancel()
	if err := s.apply(actx, ev.ID); err != nil && ctx.Err() == nil {
		s.failed(actx, ev.ID, err)
	}
	return nil
}

// record stores ev in the inbox unless billing ignores its type (handled
// is false then).
func (s *Service) record(ctx context.Context, ev core.PaymentEvent) (handled bool, err error) {
	if !ev.Handled() {
		return false, nil
	}
	if ev.ID == "" || len(ev.ID) > core.MaxIDLen*2 {
		return false, core.Invalid("id", "the event has no valid id")
	}
	if _, err := s.cfg.Store.RecordPaymentEvent(ctx, ev, s.now()); err != nil {
		return false, core.Errorf("record payment event", err)
	}
	return true, nil
}

// applyLater applies a recorded event in a goroutine that outlives the
// request (context.WithoutCancel keeps its values, not its end) but not
// ApplyTimeout, nor Close. A failure is rescheduled as in Ingest, unless
// Close cut the attempt short: the event is then left due as it is. After
// Close nothing starts: the event is due already.
func (s *Service) applyLater(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	s.bg.start(func() {
		actx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
		defer cancel()
		defer context.AfterFunc(s.bg.ctx, cancel)()
		if err := s.apply(actx, id); err != nil && s.bg.ctx.Err() == nil {
			s.failed(actx, id, err)
		}
	})
}

// SyncCheckout applies a paid checkout session now, as its
// checkout.session.completed webhook will: a browser back from the payment
// page need not wait for the webhook. A session not paid yet changes
// nothing. It goes through the inbox under the id "return_" + sessionID,
// so it applies once, and a failure is retried like a webhook's; the
// webhook's own event applies the same state again.
func (s *Service) SyncCheckout(ctx context.Context, sessionID string) error {
	if sessionID == "" || len(sessionID) > core.MaxIDLen*2-len("return_") {
		return core.Invalid("session_id", "session_id is required")
	}
	cs, err := s.cfg.Payments.CheckoutSession(ctx, sessionID)
	if err != nil {
		return core.Errorf("checkout session", err)
	}
	if cs.Status != core.CheckoutComplete || !cs.Paid {
		return nil
	}
	return s.Ingest(ctx, core.PaymentEvent{
		ID: "return_" + sessionID, Type: core.EventCheckoutCompleted, Created: s.now(), CheckoutSessionID: sessionID,
	})
}

// RetryDue applies the events whose next attempt is due and says how many
// it applied, each attempt bounded by ApplyTimeout. An event never
// attempted yet is left to its own first attempt (ReceiveWebhook's
// background one, Ingest's) for ApplyTimeout after it was received, so
// the two rarely run together (if they do, it still applies once).
// Failures are rescheduled with backoff and reported. When ctx ends (the
// job's deadline, a shutdown) RetryDue stops and returns ctx's error: the
// attempt it cut short is not counted as a failure, its event stays due.
// Otherwise the error is only that of listing the due events.
func (s *Service) RetryDue(ctx context.Context) (int, error) {
	now := s.now()
	due, err := s.cfg.Store.DuePaymentEvents(ctx, now, RetryBatch)
	if err != nil {
		return 0, core.Errorf("due payment events", err)
	}
	n := 0
	for _, ev := range due {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if ev.Attempts == 0 && now.Sub(ev.ReceivedAt) < s.cfg.ApplyTimeout {
			continue // its first attempt may still be running
		}
		actx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
		err := s.apply(actx, ev.ID)
		if err != nil && ctx.Err() == nil {
			// The event's own attempt failed (ApplyTimeout included).
			s.failed(actx, ev.ID, err)
		}
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			continue
		}
		n++
	}
	return n, nil
}

// failed records a failed attempt and schedules the next one: FirstRetry
// after the first failure, doubling up to MaxRetryDelay. The failure that
// reaches MaxAttempts marks the event dead instead, which alerts once.
// Callers skip it when their own context ended: an attempt cut short by
// a deadline or a shutdown is not the event's failure.
func (s *Service) failed(ctx context.Context, id string, cause error) {
	ctx = context.WithoutCancel(ctx)
	attempts := 0
	if st, err := s.cfg.Store.PaymentEventByID(ctx, id); err == nil {
		if st.DeadAt != nil { // given up already (a resent event applied again)
			s.cfg.Report(ctx, core.Errorf("apply payment event "+id+" (dead: not retried)", cause))
			return
		}
		attempts = st.Attempts
	}
	reason := cause.Error()
	if len(reason) > maxReasonLen {
		reason = reason[:maxReasonLen]
	}
	now := s.now()
	dead, err := s.cfg.Store.FailPaymentEvent(ctx, ports.EventFailure{
		EventID: id, At: now, Next: now.Add(RetryDelay(attempts)), Reason: reason, MaxAttempts: MaxAttempts,
	})
	if err != nil {
		s.cfg.Report(ctx, core.Errorf("apply payment event "+id+" (will retry)", cause))
		s.cfg.Report(ctx, core.Errorf("reschedule payment event "+id, err))
		return
	}
	if !dead {
		s.cfg.Report(ctx, core.Errorf("apply payment event "+id+" (will retry)", cause))
		return
	}
	total, err := s.cfg.Store.CountDeadPaymentEvents(ctx)
	count := fmt.Sprint(total)
	if err != nil {
		count = "unknown (" + err.Error() + ")"
	}
	s.cfg.Alert(ctx, fmt.Errorf("payment event %s is dead after %d failed attempts and will not be retried "+
		"(dead payment events: %s; see docs/operations.md): %w", id, MaxAttempts, count, cause))
}

// RetryDelay is the wait before the next attempt of an event that failed
// attempts times before this failure.
func RetryDelay(attempts int) time.Duration {
	d := FirstRetry
	for range attempts {
		d *= 2
		if d >= MaxRetryDelay {
			return MaxRetryDelay
		}
	}
	return d
}

// apply applies a recorded event unless it was applied already. The
// provider's current state is fetched again rather than read from the
// event, so events may arrive in any order: an older state never replaces
// a newer one.
func (s *Service) apply(ctx context.Context, id string) error {
	st, err := s.cfg.Store.PaymentEventByID(ctx, id)
	if err != nil {
		return core.Errorf("payment event", err)
	}
	if st.AppliedAt != nil {
		return nil
	}
	eff, err := s.resolve(ctx, st.PaymentEvent)
	if err != nil {
		return err
	}
	eff.EventID, eff.AppliedAt = id, s.now()
	_, err = s.cfg.Store.ApplyPaymentEvent(ctx, eff)
	return core.Errorf("apply payment event", err)
}

// resolve fetches what ev is about and returns its effect. An event about
// nothing billing tracks (no subscription, a subscription the provider no
// longer knows, one that belongs to no profile) is applied without effect.
func (s *Service) resolve(ctx context.Context, ev core.PaymentEvent) (ports.EventEffect, error) {
	var none ports.EventEffect
	subID, profileID, line, planID := ev.SubscriptionID, "", core.ProductLine(""), ""
	if ev.Type == core.EventCheckoutCompleted {
		cs, err := s.cfg.Payments.CheckoutSession(ctx, ev.CheckoutSessionID)
		if core.IsKind(err, core.KindNotFound) {
			s.cfg.Report(ctx, fmt.Errorf("payment event %s: checkout session %q is unknown; nothing to apply", ev.ID, ev.CheckoutSessionID))
			return none, nil
		}
		if err != nil {
			return none, core.Errorf("checkout session", err)
		}
		subID, profileID, planID = or(cs.SubscriptionID, subID), cs.ProfileID, cs.PlanID
	}
	if subID == "" {
		return none, nil
	}
	// The read is stamped by the store's clock, shared by every process,
	// so which of two reads is newer never depends on their own clocks.
	fetchedAt, err := s.cfg.Store.SyncClock(ctx)
	if err != nil {
		return none, core.Errorf("sync clock", err)
	}
	psub, err := s.cfg.Payments.Subscription(ctx, subID)
	if core.IsKind(err, core.KindNotFound) {
		s.cfg.Report(ctx, fmt.Errorf("payment event %s: subscription %q is unknown; nothing to apply", ev.ID, subID))
		return none, nil
	}
	if err != nil {
		return none, core.Errorf("subscription", err)
	}
	profileID, line, planID = or(psub.ProfileID, profileID), psub.Line, or(psub.PlanID, planID)
	catalog, err := s.cfg.PlanStore.ListPlans(ctx, core.PlanFilter{IncludeArchived: true})
	if err != nil {
		return none, core.Errorf("plans", err)
	}
	byID := map[string]core.Plan{}
	for _, p := range catalog {
		byID[p.ID] = p
	}
	plan, ok := planForPrice(catalog, psub.PriceID)
	if !ok {
		plan, ok = byID[planID]
	}
	if line == "" && ok {
		line = plan.Line
	}
	if (profileID == "" || line == "") && psub.CustomerID != "" {
		c, err := s.cfg.Store.BillingCustomerByID(ctx, psub.CustomerID)
		if err != nil && !core.IsKind(err, core.KindNotFound) {
			return none, core.Errorf("billing customer", err)
		}
		if err == nil {
			profileID = or(profileID, c.ProfileID)
			if line == "" {
				line = c.Line
			}
		}
	}
	if profileID == "" || line == "" {
		s.cfg.Report(ctx, fmt.Errorf("payment event %s: subscription %q names no gellhub profile; nothing to apply", ev.ID, subID))
		return none, nil
	}
	if ok && plan.Line != line {
		return none, core.Internal(fmt.Errorf("subscription %q: plan %s is not a %s plan", subID, plan.ID, line))
	}
	ended := core.EndedStatus(psub.Status)
	var fallback *core.Plan
	if ended {
		if free, err := s.cfg.Plans.DefaultFree(ctx, line); err == nil {
			fallback = &free
		} else if !core.IsKind(err, core.KindConflict) {
			return none, err
		}
	}
	if !ok && !(ended && fallback != nil) {
		// Retried: an admin may map the price to a plan meanwhile.
		return none, core.Internal(fmt.Errorf("subscription %q: price %q and plan %q match no plan", subID, psub.PriceID, planID))
	}
	if psub.CustomerID != "" {
		c := core.BillingCustomer{ProfileID: profileID, Line: line, CustomerID: psub.CustomerID, CreatedAt: s.now()}
		if _, err := s.cfg.Store.SaveBillingCustomer(ctx, c); err != nil && !core.IsKind(err, core.KindConflict) && !core.IsKind(err, core.KindNotFound) {
			return none, core.Errorf("save customer", err)
		}
	}
	now := s.now()
	newID, err := core.NewID("sub", now, s.cfg.Random)
	if err != nil {
		return none, core.Internal(err)
	}
	return ports.EventEffect{
		ProfileID: profileID, Line: line, FetchedAt: fetchedAt,
		Decide: func(cur *core.Subscription, curFetched *time.Time) (*core.Subscription, error) {
			return decide(cur, curFetched, fetchedAt, profileID, psub, plan, fallback, byID, newID, now), nil
		},
	}, nil
}

// decide is the sync rule: what the profile's subscription of the line
// becomes now that the provider says psub (read at fetchedAt). nil leaves
// it as it is.
//
//   - A state read before the stored one is stale: ignored, so events
//     applied in any order converge on the newest state.
//   - A provider subscription other than the recorded one replaces it only
//     while it is being paid for, or when the recorded plan is not
//     eligible anyway: an abandoned or older subscription never takes over
//     a plan in force, and an ended one is ignored.
//   - An ended subscription (canceled, incomplete_expired) puts the line
//     back on its free plan: limits follow the free plan, usage above
//     them blocks new uploads, and nothing is deleted.
func decide(cur *core.Subscription, curFetched *time.Time, fetchedAt time.Time, profileID string, psub core.ProviderSubscription,
	plan core.Plan, fallback *core.Plan, plans map[string]core.Plan, newID string, now time.Time) *core.Subscription {
	if curFetched != nil && fetchedAt.Before(*curFetched) {
		return nil
	}
	ended := core.EndedStatus(psub.Status)
	if cur != nil && cur.StripeSubscriptionID != psub.ID {
		curPlan, known := plans[cur.PlanID]
		curEligible := known && core.Eligible(curPlan, cur.Status)
		if ended || (!core.LiveStatus(psub.Status) && curEligible) {
			return nil
		}
	}
	next := core.Subscription{
		ID: newID, ProfileID: profileID, Line: plan.Line, PlanID: plan.ID, Status: psub.Status,
		StripeCustomerID: psub.CustomerID, StripeSubscriptionID: psub.ID, CurrentPeriodEnd: psub.CurrentPeriodEnd,
		CreatedAt: now, UpdatedAt: now,
	}
	if ended && fallback != nil {
		next.PlanID, next.Line, next.Status = fallback.ID, fallback.Line, core.StatusActive
		next.StripeSubscriptionID, next.CurrentPeriodEnd = "", nil
	}
	if cur != nil {
		next.ID, next.ProfileID, next.Line, next.CreatedAt = cur.ID, cur.ProfileID, cur.Line, cur.CreatedAt
		if next.StripeCustomerID == "" {
			next.StripeCustomerID = cur.StripeCustomerID
		}
	}
	return &next
}

// planForPrice finds the plan whose provider price is priceID.
func planForPrice(catalog []core.Plan, priceID string) (core.Plan, bool) {
	if priceID == "" {
		return core.Plan{}, false
	}
	for _, p := range catalog {
		if p.StripePriceID == priceID {
			return p, true
		}
	}
	return core.Plan{}, false
}
