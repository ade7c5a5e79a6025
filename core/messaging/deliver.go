package messaging

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/webhooksig"
)

// Limits of a handoff event's delivery.
const (
	// DeliveryTimeout bounds one attempt, the answer included.
	DeliveryTimeout = 10 * time.Second
	// MaxRetryAfter caps the wait a receiver's Retry-After may ask for.
	MaxRetryAfter = 24 * time.Hour
	// retryJitter is the share of a scheduled wait drawn at random, up or
	// down, so that the retries of many events spread out.
	retryJitter = 0.10
)

// Pages of Deliveries, as every paginated list of the API (CONTRACT.md):
// 100 by default, at most 1000.
const (
	DefaultDeliveriesPage = 100
	MaxDeliveriesPage     = 1000
)

// DeliveryOutcome tells the worker what to do with a delivery after an
// attempt: nothing more (Done: delivered, given up, or unknown), or run
// it again in RetryIn.
type DeliveryOutcome struct {
	Done    bool
	RetryIn time.Duration
}

// Deliver makes the next attempt at delivering the handoff event id to
// the profile's handoff webhook, as configured now (URL and secret are
// read at each attempt), and records it. The worker calls it for each
// queued id, possibly more than once or from two workers at a time: an
// event that is no longer pending is Done without an attempt, and an
// attempt another worker recorded first is answered from the stored
// state.
//
// Each attempt POSTs the event's fixed body with X-GellHub-Timestamp (the
// attempt's Unix seconds), X-GellHub-Event, X-GellHub-Event-Id (the
// event's id, the same on every attempt) and the Standard Webhooks
// webhook-id and webhook-timestamp; with a secret, X-GellHub-Signature
// (webhooksig.Sign) and webhook-signature (webhooksig.SignStandard) too.
// Only a 2xx answer delivers it. After a failure the event waits
// RetrySchedule[n-1] (±10%) for its attempt n+1, at least what a 429 or
// 503's Retry-After asks (capped at MaxRetryAfter), and fails for good
// after len(RetrySchedule)+1 attempts. A profile without a handoff URL
// fails the attempt, retried the same way.
//
// An error (a store failure, or ctx ending during the attempt) records
// nothing: the worker should run the delivery again later.
func (s *Service) Deliver(ctx context.Context, deliveryID string) (DeliveryOutcome, error) {
	if s.cfg.Webhooks == nil || s.cfg.Sender == nil {
		return DeliveryOutcome{}, core.E(core.KindUnavailable, "webhook deliveries are not configured")
	}
	d, err := s.cfg.Webhooks.Delivery(ctx, deliveryID)
	if core.IsKind(err, core.KindNotFound) {
		return DeliveryOutcome{Done: true}, nil
	}
	if err != nil {
		return DeliveryOutcome{}, core.Errorf("delivery", err)
	}
	if d.State != core.DeliveryPending {
		return DeliveryOutcome{Done: true}, nil
	}
	hook, err := s.cfg.Store.HandoffConfig(ctx, d.ProfileID)
	if core.IsKind(err, core.KindNotFound) {
		return DeliveryOutcome{Done: true}, nil // the profile is gone
	}
	if err != nil {
		return DeliveryOutcome{}, core.Errorf("handoff config", err)
	}
	now := s.now()
	a := core.WebhookAttempt{DeliveryID: d.ID, N: d.AttemptCount + 1, At: now, URL: hook.WebhookURL}
	var retryAfter time.Duration
	if hook.WebhookURL == "" {
		a.Error = "no handoff webhook is configured"
	} else {
		resp, err := s.cfg.Sender.Send(ctx, ports.WebhookRequest{
			URL: hook.WebhookURL, Header: deliveryHeaders(d, hook.Secret, now), Body: d.Body,
			Timeout: DeliveryTimeout, MaxResponseBytes: core.MaxAttemptResponseBytes,
		})
		if err != nil && ctx.Err() != nil {
			return DeliveryOutcome{}, core.Errorf("deliver", ctx.Err()) // the worker stopped: not the receiver's failure
		}
		if err != nil {
			a.Duration = s.now().Sub(now)
			a.Error = sendError(err)
		} else {
			a.StatusCode, a.Duration = resp.StatusCode, resp.Duration
			a.Response = attemptResponse(resp.Body)
			if !success(resp.StatusCode) {
				a.Error = statusError(resp.StatusCode)
			}
			if resp.StatusCode == 429 || resp.StatusCode == 503 {
				retryAfter = parseRetryAfter(resp.RetryAfter, now)
			}
		}
	}
	if a.Error != "" && hook.Secret != "" {
		a.Error = strings.ReplaceAll(a.Error, hook.Secret, "[secret]")
	}

	d.AttemptCount, d.UpdatedAt = a.N, now
	var out DeliveryOutcome
	switch {
	case a.Error == "":
		d.State, d.DeliveredAt, d.NextAttemptAt = core.DeliveryDelivered, now, time.Time{}
		out.Done = true
	case a.N > len(s.cfg.RetrySchedule):
		d.State, d.NextAttemptAt = core.DeliveryFailed, time.Time{}
		out.Done = true
	default:
		delay := max(s.jitter(s.cfg.RetrySchedule[a.N-1]), retryAfter)
		d.NextAttemptAt = now.Add(delay)
		out.RetryIn = delay
	}
	d.Attempts = nil
	err = s.cfg.Webhooks.RecordAttempt(ctx, d, a)
	if core.IsKind(err, core.KindConflict) {
		// Another worker recorded this attempt first: its state stands.
		stored, err := s.cfg.Webhooks.Delivery(ctx, deliveryID)
		if err != nil {
			return DeliveryOutcome{}, core.Errorf("delivery", err)
		}
		if stored.State != core.DeliveryPending {
			return DeliveryOutcome{Done: true}, nil
		}
		return DeliveryOutcome{RetryIn: max(stored.NextAttemptAt.Sub(s.now()), 0)}, nil
	}
	if err != nil {
		return DeliveryOutcome{}, core.Errorf("record attempt", err)
	}
	return out, nil
}

// deliveryHeaders are the headers of an attempt at d made at now.
func deliveryHeaders(d core.WebhookDelivery, secret string, now time.Time) map[string]string {
	ts := strconv.FormatInt(now.Unix(), 10)
	h := map[string]string{
		webhooksig.HeaderTimestamp:        ts,
		webhooksig.HeaderEvent:            d.Event,
		webhooksig.HeaderEventID:          d.ID,
		webhooksig.HeaderWebhookID:        d.ID,
		webhooksig.HeaderWebhookTimestamp: ts,
	}
	if secret != "" {
		h[webhooksig.HeaderSignature] = webhooksig.Sign(secret, ts, d.Body)
		h[webhooksig.HeaderWebhookSignature] = webhooksig.SignStandard(secret, d.ID, ts, d.Body)
	}
	return h
}

func success(status int) bool { return status >= 200 && status <= 299 }

// statusError says why an answer did not deliver the event.
func statusError(status int) string {
	if status >= 300 && status <= 399 {
		return fmt.Sprintf("the webhook answered HTTP %d: redirects are not followed, only a 2xx answer delivers an event", status)
	}
	return fmt.Sprintf("the webhook answered HTTP %d: only a 2xx answer delivers an event", status)
}

// sendError says why no answer came, for the partner (the sender's
// messages name the cause without header values).
func sendError(err error) string {
	if e, ok := core.AsError(err); ok && e.Message != "" && e.Kind != core.KindInternal {
		return "no answer: " + e.Message
	}
	return "no answer: the webhook could not be reached"
}

// attemptResponse is the start of a receiver's answer as an attempt keeps
// it: valid UTF-8 without NUL bytes, at most core.MaxAttemptResponseBytes.
func attemptResponse(body []byte) string {
	s := strings.ReplaceAll(strings.ToValidUTF8(string(body), "\uFFFD"), "\x00", "")
	if len(s) <= core.MaxAttemptResponseBytes {
		return s
	}
	cut := core.MaxAttemptResponseBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// jitter returns d moved up or down by up to retryJitter of it, drawn
// from the service's randomness (d itself when none can be read).
func (s *Service) jitter(d time.Duration) time.Duration {
	var b [8]byte
	if _, err := s.cfg.Random.Read(b[:]); err != nil {
		return d
	}
	r := float64(binary.BigEndian.Uint64(b[:])>>11) / float64(1<<53) // [0, 1)
	return time.Duration(float64(d) * (1 - retryJitter + 2*retryJitter*r))
}

// The forms of an HTTP date (RFC 9110, section 5.6.7).
var httpDateLayouts = []string{
	"Mon, 02 Jan 2006 15:04:05 GMT",  // IMF-fixdate
	"Monday, 02-Jan-06 15:04:05 GMT", // RFC 850
	"Mon Jan _2 15:04:05 2006",       // asctime
}

// parseRetryAfter reads a Retry-After header (delay seconds, digits only,
// or an HTTP date) as a wait from now, capped at MaxRetryAfter (also when
// the seconds overflow); 0 when it is absent, malformed or past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if strings.Trim(v, "0123456789") == "" { // delay-seconds: 1*DIGIT
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil || n >= int64(MaxRetryAfter/time.Second):
			return MaxRetryAfter // only a number too large fails to parse
		case n == 0:
			return 0
		}
		return time.Duration(n) * time.Second
	}
	for _, layout := range httpDateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return min(max(t.Sub(now), 0), MaxRetryAfter)
		}
	}
	return 0
}

// DeliveriesQuery pages Deliveries: Limit 0 is DefaultDeliveriesPage,
// After the Next of the previous page, Event one event's deliveries only
// ("" for all).
type DeliveriesQuery struct {
	Limit int
	After string
	Event string
}

// DeliveriesPage is one page of deliveries; Next is "" on the last page.
type DeliveriesPage struct {
	Deliveries []core.WebhookDelivery
	Next       string
}

// Deliveries lists the caller's webhook events, newest first, each with
// its attempts (oldest first).
func (s *Service) Deliveries(ctx context.Context, who core.Principal, q DeliveriesQuery) (DeliveriesPage, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return DeliveriesPage{}, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultDeliveriesPage
	}
	if limit < 1 || limit > MaxDeliveriesPage {
		return DeliveriesPage{}, core.Invalid("limit", "limit must be between 1 and %d", MaxDeliveriesPage)
	}
	if q.After != "" && !core.ValidID(q.After) {
		return DeliveriesPage{}, core.Invalid("cursor", "cursor is not valid")
	}
	switch q.Event {
	case "", core.EventHandoffRequested, core.EventHandoffMessage:
	default:
		return DeliveriesPage{}, core.Invalid("event", "event must be %s or %s", core.EventHandoffRequested, core.EventHandoffMessage)
	}
	if s.cfg.Webhooks == nil {
		return DeliveriesPage{}, core.E(core.KindUnavailable, "webhook deliveries are not configured")
	}
	ds, err := s.cfg.Webhooks.Deliveries(ctx, pid, ports.DeliveryQuery{Limit: limit + 1, After: q.After, Event: q.Event})
	if core.IsKind(err, core.KindInvalid) && q.After != "" {
		// An unknown, purged or another profile's event id.
		return DeliveriesPage{}, core.Invalid("cursor", "cursor must be the nextCursor of a previous page of these deliveries")
	}
	if err != nil {
		return DeliveriesPage{}, core.Errorf("deliveries", err)
	}
	out := DeliveriesPage{Deliveries: ds}
	if len(ds) > limit {
		out.Deliveries = ds[:limit]
		out.Next = ds[limit-1].ID
	}
	if out.Deliveries == nil {
		out.Deliveries = []core.WebhookDelivery{}
	}
	return out, nil
}

// DeliveryRetention is how long a handoff event, with its attempts, is
// kept once it is finished (delivered, or failed for good):
// PurgeDeliveries deletes it when it was last updated longer ago than
// that. A pending event is kept, whatever its age, until it finishes.
const DeliveryRetention = 30 * 24 * time.Hour

// purgeDeliveriesBatch is how many events one store call of
// PurgeDeliveries deletes at most.
const purgeDeliveriesBatch = 1000

// PurgeDeliveries deletes every profile's handoff events finished more
// than DeliveryRetention ago, with their attempts, oldest first, in
// batches of 1000 until a batch comes back short or ctx ends, and returns
// how many went. A worker runs it periodically; concurrent runs delete
// each event once. Without a webhook store nothing is stored, so nothing
// is purged.
func (s *Service) PurgeDeliveries(ctx context.Context) (int, error) {
	if s.cfg.Webhooks == nil {
		return 0, nil
	}
	cutoff := s.now().Add(-DeliveryRetention)
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, core.Errorf("purge deliveries", err)
		}
		k, err := s.cfg.Webhooks.PurgeDeliveries(ctx, cutoff, purgeDeliveriesBatch)
		n += k
		if err != nil {
			return n, core.Errorf("purge deliveries", err)
		}
		if k < purgeDeliveriesBatch {
			return n, nil
		}
	}
}

// StalledAfter is how long past its NextAttemptAt a pending handoff event
// must be before RequeueStalledDeliveries queues it again. A live job is
// never that late: the worker snoozes a job until the event's
// NextAttemptAt, so it comes due then and runs within seconds, and a job
// whose worker died is rescued after GELLHUB_JOB_RESCUE_AFTER (default
// 5 min) plus River's 30 s check. An hour late means the job is gone:
// River discarded it after its last attempt (a database down for weeks,
// a bug) or its row was deleted. A job merely later than that (a rescue
// delay set longer, River's own backoff after handler errors) is no harm
// either: the queue inserts no second job while one exists.
const StalledAfter = time.Hour

// requeueBatch is how many stalled events one store call of
// RequeueStalledDeliveries lists, and one Requeue call queues, at most.
const requeueBatch = 500

// RequeueStalledDeliveries queues again every profile's pending handoff
// events due more than StalledAfter ago, whose jobs were lost, oldest due
// first, in batches of 500 (one store page and one Config.Requeue call
// each) until a page comes back short or ctx ends, and returns how many
// it handed over. The queue skips an event whose job still exists, so the
// count may include events that were only late. A worker runs it
// periodically; concurrent runs are harmless for the same reason.
// Without Config.Requeue or a webhook store nothing is requeued.
func (s *Service) RequeueStalledDeliveries(ctx context.Context) (int, error) {
	if s.cfg.Requeue == nil || s.cfg.Webhooks == nil {
		return 0, nil
	}
	cutoff := s.now().Add(-StalledAfter)
	n, after := 0, ""
	for {
		if err := ctx.Err(); err != nil {
			return n, core.Errorf("requeue stalled deliveries", err)
		}
		ids, err := s.cfg.Webhooks.StalledDeliveries(ctx, cutoff, after, requeueBatch)
		if err != nil {
			return n, core.Errorf("requeue stalled deliveries", err)
		}
		if len(ids) == 0 {
			return n, nil
		}
		if err := s.cfg.Requeue(ctx, ids); err != nil {
			return n, core.Errorf("requeue stalled deliveries", err)
		}
		n += len(ids)
		if len(ids) < requeueBatch {
			return n, nil
		}
		after = ids[len(ids)-1]
	}
}
