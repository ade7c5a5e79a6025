package messaging_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

// handoffEvent has a handoff merchant's visitor ask for a person and
// returns the queued handoff.requested event.
func (f *fixture) handoffEvent(t *testing.T) (user, core.WebhookDelivery) {
	t.Helper()
	u, _ := f.handoffMerchant(t, 0)
	_, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: "thread-1", Messages: userMsg("talk to a human")})
	require.NoError(t, err)
	ids := f.queuedIDs()
	require.NotEmpty(t, ids)
	return u, f.delivery(t, ids[len(ids)-1])
}

// attempts lists the delivery's attempts through the service.
func (f *fixture) attempts(t *testing.T, u user, id string) []core.WebhookAttempt {
	t.Helper()
	page, err := f.svc.Deliveries(f.ctx, u.key, messaging.DeliveriesQuery{Limit: messaging.MaxDeliveriesPage})
	require.NoError(t, err)
	for _, d := range page.Deliveries {
		if d.ID == id {
			return d.Attempts
		}
	}
	t.Fatalf("delivery %s is not listed", id)
	return nil
}

// hexSig and standardSig are the two signatures, computed here without
// the webhooksig package.
func hexSig(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + string(body)))
	return hex.EncodeToString(m.Sum(nil))
}

func standardSig(key []byte, id, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + string(body)))
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// wantSigned checks an attempt's request: sent at, to url, with the
// event's id and body, signed with secret ("" for unsigned) whose
// Standard Webhooks key is key.
func wantSigned(t *testing.T, r ports.WebhookRequest, d core.WebhookDelivery, url, secret string, key []byte, at time.Time) {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	require.Equal(t, url, r.URL)
	require.Equal(t, string(d.Body), string(r.Body))
	require.Equal(t, 10*time.Second, r.Timeout)
	require.EqualValues(t, core.MaxAttemptResponseBytes, r.MaxResponseBytes)
	want := map[string]string{
		"X-GellHub-Timestamp": ts, "X-GellHub-Event": d.Event, "X-GellHub-Event-Id": d.ID,
		"webhook-id": d.ID, "webhook-timestamp": ts,
	}
	if secret != "" {
		want["X-GellHub-Signature"] = hexSig(secret, ts, r.Body)
		want["webhook-signature"] = standardSig(key, d.ID, ts, r.Body)
	}
	require.Equal(t, want, r.Header)
}

func TestDeliver(t *testing.T) {
	t.Parallel()

	t.Run("delivered_on_the_first_attempt", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, d := f.handoffEvent(t)
		f.clock.Advance(3 * time.Second)
		out, err := f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.Equal(t, messaging.DeliveryOutcome{Done: true}, out)
		reqs := f.sender.requests(inboxURL)
		require.Len(t, reqs, 1)
		at := start.Add(3 * time.Second)
		wantSigned(t, reqs[0], d, inboxURL, inboxSecret, []byte(inboxSecret), at)

		got := f.delivery(t, d.ID)
		require.Equal(t, core.DeliveryDelivered, got.State)
		require.Equal(t, 1, got.AttemptCount)
		require.Equal(t, at, got.DeliveredAt)
		require.True(t, got.NextAttemptAt.IsZero())
		require.Equal(t, []core.WebhookAttempt{{
			DeliveryID: d.ID, N: 1, At: at, URL: inboxURL, StatusCode: 200, Duration: 42 * time.Millisecond,
			Response: `{"ok":true}`,
		}}, f.attempts(t, u, d.ID))

		out, err = f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.True(t, out.Done, "a delivered event is done")
		require.Len(t, f.sender.requests(""), 1, "and not sent again")
	})

	t.Run("500_then_200_keeps_the_id_and_body_and_signs_afresh", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, d := f.handoffEvent(t)
		f.sender.answer(webhookAnswer{status: 500, body: "database down"}, webhookAnswer{status: 200})
		out, err := f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.False(t, out.Done)
		require.InDelta(t, float64(5*time.Second), float64(out.RetryIn), float64(500*time.Millisecond))
		pending := f.delivery(t, d.ID)
		require.Equal(t, core.DeliveryPending, pending.State)
		require.Equal(t, 1, pending.AttemptCount)
		require.Equal(t, start.Add(out.RetryIn), pending.NextAttemptAt)

		f.clock.Advance(out.RetryIn)
		second := f.clock.Now()
		out, err = f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.True(t, out.Done)

		reqs := f.sender.requests(inboxURL)
		require.Len(t, reqs, 2)
		wantSigned(t, reqs[0], d, inboxURL, inboxSecret, []byte(inboxSecret), start)
		wantSigned(t, reqs[1], d, inboxURL, inboxSecret, []byte(inboxSecret), second)
		require.NotEqual(t, reqs[0].Header["X-GellHub-Timestamp"], reqs[1].Header["X-GellHub-Timestamp"])
		require.NotEqual(t, reqs[0].Header["X-GellHub-Signature"], reqs[1].Header["X-GellHub-Signature"])

		as := f.attempts(t, u, d.ID)
		require.Len(t, as, 2)
		require.Equal(t, 500, as[0].StatusCode)
		require.Equal(t, "database down", as[0].Response)
		require.Contains(t, as[0].Error, "500")
		require.Equal(t, 200, as[1].StatusCode)
		require.Empty(t, as[1].Error)
		require.Equal(t, core.DeliveryDelivered, f.delivery(t, d.ID).State)
	})

	t.Run("a_standard_webhooks_secret_keys_with_its_decoded_bytes", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, d := f.handoffEvent(t)
		key := make([]byte, 24)
		_, _ = rand.Read(key)
		secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
		_, err := f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{WebhookURL: inboxURL, Secret: &secret})
		require.NoError(t, err)
		_, err = f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		wantSigned(t, f.sender.requests("")[0], d, inboxURL, secret, key, start)
	})

	t.Run("a_redirect_is_a_failure", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, d := f.handoffEvent(t)
		f.sender.answer(webhookAnswer{status: 302})
		out, err := f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.False(t, out.Done)
		require.Equal(t, core.DeliveryPending, f.delivery(t, d.ID).State)
		as := f.attempts(t, u, d.ID)
		require.Equal(t, 302, as[0].StatusCode)
		require.Contains(t, as[0].Error, "redirect")
	})

	t.Run("no_answer_is_a_failure", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, d := f.handoffEvent(t)
		f.sender.answer(webhookAnswer{err: core.Forbidden("the webhook's address is not public").WithCode("webhook_address_refused")})
		out, err := f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.False(t, out.Done)
		as := f.attempts(t, u, d.ID)
		require.Zero(t, as[0].StatusCode)
		require.Equal(t, "no answer: the webhook's address is not public", as[0].Error)
	})

	t.Run("retry_after", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			name       string
			status     int
			retryAfter string
			min, max   time.Duration
		}{
			{"429_seconds", 429, "120", 120 * time.Second, 120 * time.Second},
			{"503_http_date", 503, start.Add(2 * time.Hour).Format("Mon, 02 Jan 2006 15:04:05 GMT"), 2 * time.Hour, 2 * time.Hour},
			{"429_capped_at_a_day", 429, "9999999", 24 * time.Hour, 24 * time.Hour},
			// Delay-seconds is 1*DIGIT: a number too large for int64 asks
			// for a long wait, not for none.
			{"429_overflowing_seconds_capped_at_a_day", 429, "99999999999999999999", 24 * time.Hour, 24 * time.Hour},
			{"429_signed_seconds_malformed", 429, "+120", 4500 * time.Millisecond, 5500 * time.Millisecond},
			{"429_shorter_than_the_schedule", 429, "1", 4500 * time.Millisecond, 5500 * time.Millisecond},
			{"429_malformed", 429, "soon", 4500 * time.Millisecond, 5500 * time.Millisecond},
			{"503_past_date", 503, start.Add(-time.Hour).Format("Mon, 02 Jan 2006 15:04:05 GMT"), 4500 * time.Millisecond, 5500 * time.Millisecond},
			{"500_ignores_it", 500, "120", 4500 * time.Millisecond, 5500 * time.Millisecond},
		} {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t)
				_, d := f.handoffEvent(t)
				f.sender.answer(webhookAnswer{status: c.status, retryAfter: c.retryAfter})
				out, err := f.svc.Deliver(f.ctx, d.ID)
				require.NoError(t, err)
				require.False(t, out.Done)
				require.GreaterOrEqual(t, out.RetryIn, c.min)
				require.LessOrEqual(t, out.RetryIn, c.max)
				require.Equal(t, start.Add(out.RetryIn), f.delivery(t, d.ID).NextAttemptAt)
			})
		}
	})

	t.Run("the_seventh_failure_gives_up", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, d := f.handoffEvent(t)
		for range 7 {
			f.sender.answer(webhookAnswer{status: 500})
		}
		for i, wait := range messaging.DefaultRetrySchedule {
			out, err := f.svc.Deliver(f.ctx, d.ID)
			require.NoError(t, err)
			require.False(t, out.Done, "attempt %d", i+1)
			require.GreaterOrEqual(t, out.RetryIn, wait*9/10, "attempt %d", i+1)
			require.LessOrEqual(t, out.RetryIn, wait*11/10, "attempt %d", i+1)
			f.clock.Advance(out.RetryIn)
		}
		out, err := f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.Equal(t, messaging.DeliveryOutcome{Done: true}, out)
		got := f.delivery(t, d.ID)
		require.Equal(t, core.DeliveryFailed, got.State)
		require.Equal(t, 7, got.AttemptCount)
		require.True(t, got.NextAttemptAt.IsZero())
		require.True(t, got.DeliveredAt.IsZero())
		as := f.attempts(t, u, d.ID)
		require.Len(t, as, 7)
		for i, a := range as {
			require.Equal(t, i+1, a.N)
		}

		out, err = f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.True(t, out.Done, "a failed event is done")
		require.Len(t, f.sender.requests(""), 7)
	})

	t.Run("a_configured_schedule", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.cfg.RetrySchedule = []time.Duration{time.Minute}
		f.rebuild()
		_, d := f.handoffEvent(t)
		f.sender.answer(webhookAnswer{status: 500}, webhookAnswer{status: 500})
		out, err := f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.InDelta(t, float64(time.Minute), float64(out.RetryIn), float64(6*time.Second))
		out, err = f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.True(t, out.Done)
		require.Equal(t, core.DeliveryFailed, f.delivery(t, d.ID).State)
	})

	t.Run("each_attempt_reads_the_configuration", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, d := f.handoffEvent(t)
		f.sender.answer(webhookAnswer{status: 500}, webhookAnswer{status: 500}, webhookAnswer{status: 204})
		_, err := f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)

		const newURL, newSecret = "https://new-inbox.example.com/hooks", "brand-new-secret-0123"
		_, err = f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{WebhookURL: newURL, Secret: ptr(newSecret)})
		require.NoError(t, err)
		f.clock.Advance(time.Minute)
		_, err = f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)

		_, err = f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{WebhookURL: newURL, Secret: ptr("")})
		require.NoError(t, err)
		f.clock.Advance(time.Hour)
		out, err := f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.True(t, out.Done, "204 is a success")

		reqs := f.sender.requests("")
		require.Len(t, reqs, 3)
		wantSigned(t, reqs[0], d, inboxURL, inboxSecret, []byte(inboxSecret), start)
		wantSigned(t, reqs[1], d, newURL, newSecret, []byte(newSecret), start.Add(time.Minute))
		wantSigned(t, reqs[2], d, newURL, "", nil, start.Add(time.Minute+time.Hour))
		as := f.attempts(t, u, d.ID)
		require.Equal(t, []string{inboxURL, newURL, newURL}, []string{as[0].URL, as[1].URL, as[2].URL})
	})

	t.Run("without_a_url_the_attempt_fails_and_is_retried", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, d := f.handoffEvent(t)
		_, err := f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{})
		require.NoError(t, err)
		out, err := f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.False(t, out.Done)
		require.Empty(t, f.sender.requests(""))
		as := f.attempts(t, u, d.ID)
		require.Len(t, as, 1)
		require.Equal(t, "no handoff webhook is configured", as[0].Error)
		require.Empty(t, as[0].URL)

		_, err = f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{WebhookURL: inboxURL})
		require.NoError(t, err)
		f.clock.Advance(out.RetryIn)
		at := f.clock.Now()
		out, err = f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.True(t, out.Done)
		wantSigned(t, f.sender.requests("")[0], d, inboxURL, inboxSecret, []byte(inboxSecret), at)
	})

	t.Run("the_response_kept_is_capped_and_clean", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, d := f.handoffEvent(t)
		f.sender.answer(webhookAnswer{status: 500, body: "a\x00b\xffc" + strings.Repeat("é", 1000)})
		_, err := f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		r := f.attempts(t, u, d.ID)[0].Response
		require.LessOrEqual(t, len(r), core.MaxAttemptResponseBytes)
		require.Greater(t, len(r), core.MaxAttemptResponseBytes-2)
		require.True(t, strings.HasPrefix(r, "ab\uFFFDcé"), r[:10])
		require.True(t, utf8Valid(r))
	})

	t.Run("unknown_ids_are_done", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		out, err := f.svc.Deliver(f.ctx, "evt_unknown")
		require.NoError(t, err)
		require.True(t, out.Done)
	})

	t.Run("a_stopped_worker_records_nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, d := f.handoffEvent(t)
		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		f.sender.answer(webhookAnswer{err: core.Unavailable("webhook", context.Canceled)})
		_, err := f.svc.Deliver(ctx, d.ID)
		require.Error(t, err)
		got := f.delivery(t, d.ID)
		require.Equal(t, 0, got.AttemptCount)
		require.Equal(t, core.DeliveryPending, got.State)
	})

	t.Run("another_worker_recorded_the_attempt", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			name  string
			state core.DeliveryState
		}{{"delivered", core.DeliveryDelivered}, {"pending", core.DeliveryPending}} {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t)
				u, d := f.handoffEvent(t)
				racing := &racingWebhooks{Store: f.store}
				f.cfg.Webhooks = racing
				f.rebuild()
				next := start.Add(7 * time.Minute)
				racing.before = func(_ core.WebhookDelivery, a core.WebhookAttempt) {
					theirs := f.delivery(t, d.ID)
					theirs.State, theirs.AttemptCount, theirs.UpdatedAt = c.state, 1, start
					if c.state == core.DeliveryPending {
						theirs.NextAttemptAt = next
					} else {
						theirs.DeliveredAt, theirs.NextAttemptAt = start, time.Time{}
					}
					a.Response = "theirs"
					require.NoError(t, f.store.RecordAttempt(f.ctx, theirs, a))
				}
				f.sender.answer(webhookAnswer{status: 500})
				out, err := f.svc.Deliver(f.ctx, d.ID)
				require.NoError(t, err)
				if c.state == core.DeliveryDelivered {
					require.Equal(t, messaging.DeliveryOutcome{Done: true}, out)
				} else {
					require.Equal(t, messaging.DeliveryOutcome{RetryIn: 7 * time.Minute}, out)
				}
				as := f.attempts(t, u, d.ID)
				require.Len(t, as, 1)
				require.Equal(t, "theirs", as[0].Response, "the first recorded attempt stands")
				require.Equal(t, c.state, f.delivery(t, d.ID).State)
			})
		}
	})

	t.Run("two_workers_at_once_record_one_attempt", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, d := f.handoffEvent(t)
		var mu sync.Mutex
		var outs []messaging.DeliveryOutcome
		errs := parallel(2, func(int) error {
			out, err := f.svc.Deliver(f.ctx, d.ID)
			mu.Lock()
			outs = append(outs, out)
			mu.Unlock()
			return err
		})
		require.NoError(t, errors.Join(errs...))
		require.Equal(t, []messaging.DeliveryOutcome{{Done: true}, {Done: true}}, outs)
		require.Len(t, f.attempts(t, u, d.ID), 1)
		require.Equal(t, core.DeliveryDelivered, f.delivery(t, d.ID).State)
	})

	t.Run("store_failures_are_errors_for_the_queue", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, d := f.handoffEvent(t)
		down := core.Unavailable("database", errors.New("down"))
		racing := &racingWebhooks{Store: f.store, readErr: down}
		f.cfg.Webhooks = racing
		f.rebuild()
		_, err := f.svc.Deliver(f.ctx, d.ID)
		wantKind(t, err, core.KindUnavailable, "")
		require.Empty(t, f.sender.requests(""))

		racing.readErr, racing.recordErr = nil, down
		_, err = f.svc.Deliver(f.ctx, d.ID)
		wantKind(t, err, core.KindUnavailable, "")
		require.Equal(t, 0, f.delivery(t, d.ID).AttemptCount)
	})
}

// racingWebhooks wraps the store's WebhookStore: before runs once before
// the next RecordAttempt (another worker's), and the errors, when set,
// fail Delivery and RecordAttempt.
type racingWebhooks struct {
	*testkit.Store
	before             func(d core.WebhookDelivery, a core.WebhookAttempt)
	readErr, recordErr error
}

func (r *racingWebhooks) Delivery(ctx context.Context, id string) (core.WebhookDelivery, error) {
	if r.readErr != nil {
		return core.WebhookDelivery{}, r.readErr
	}
	return r.Store.Delivery(ctx, id)
}

func (r *racingWebhooks) RecordAttempt(ctx context.Context, d core.WebhookDelivery, a core.WebhookAttempt) error {
	if r.recordErr != nil {
		return r.recordErr
	}
	if b := r.before; b != nil {
		r.before = nil
		b(d, a)
	}
	return r.Store.RecordAttempt(ctx, d, a)
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

func TestDeliveries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u, first := f.handoffEvent(t)
	var ids []string
	ids = append(ids, first.ID)
	for _, msg := range []string{"hello?", "anyone?"} {
		f.clock.Advance(time.Second)
		_, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: "thread-1", Messages: userMsg(msg)})
		require.NoError(t, err)
		q := f.queuedIDs()
		ids = append(ids, q[len(q)-1])
	}
	_, err := f.svc.Deliver(f.ctx, first.ID)
	require.NoError(t, err)

	page, err := f.svc.Deliveries(f.ctx, u.key, messaging.DeliveriesQuery{Limit: 2})
	require.NoError(t, err)
	require.Len(t, page.Deliveries, 2)
	require.Equal(t, []string{ids[2], ids[1]}, []string{page.Deliveries[0].ID, page.Deliveries[1].ID}, "newest first")
	require.Equal(t, ids[1], page.Next)
	require.Empty(t, page.Deliveries[0].Attempts)
	page, err = f.svc.Deliveries(f.ctx, u.session, messaging.DeliveriesQuery{Limit: 2, After: page.Next})
	require.NoError(t, err)
	require.Len(t, page.Deliveries, 1)
	require.Equal(t, first.ID, page.Deliveries[0].ID)
	require.Empty(t, page.Next, "the last page")
	require.Len(t, page.Deliveries[0].Attempts, 1)
	require.Equal(t, core.DeliveryDelivered, page.Deliveries[0].State)
	require.Equal(t, string(first.Body), string(page.Deliveries[0].Body))

	page, err = f.svc.Deliveries(f.ctx, u.key, messaging.DeliveriesQuery{})
	require.NoError(t, err)
	require.Len(t, page.Deliveries, 3, "the default page holds them all")
	require.Empty(t, page.Next)
	page, err = f.svc.Deliveries(f.ctx, u.key, messaging.DeliveriesQuery{Limit: 3})
	require.NoError(t, err)
	require.Empty(t, page.Next, "a page exactly full is the last one")
	page, err = f.svc.Deliveries(f.ctx, u.key, messaging.DeliveriesQuery{Event: core.EventHandoffRequested})
	require.NoError(t, err)
	require.Len(t, page.Deliveries, 1)
	require.Equal(t, first.ID, page.Deliveries[0].ID)
	page, err = f.svc.Deliveries(f.ctx, u.key, messaging.DeliveriesQuery{Event: core.EventHandoffMessage, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, ids[2], page.Deliveries[0].ID)
	require.Equal(t, ids[2], page.Next)

	other, _ := f.handoffMerchant(t, 0)
	page, err = f.svc.Deliveries(f.ctx, other.key, messaging.DeliveriesQuery{})
	require.NoError(t, err)
	require.NotNil(t, page.Deliveries)
	require.Empty(t, page.Deliveries, "another profile's events are not listed")

	for _, q := range []messaging.DeliveriesQuery{
		{Limit: -1}, {Limit: messaging.MaxDeliveriesPage + 1}, {After: "not an id"}, {Event: "handoff.other"},
	} {
		_, err := f.svc.Deliveries(f.ctx, u.key, q)
		wantKind(t, err, core.KindInvalid, "")
	}
	// A well-formed cursor that is not one of the caller's events (unknown,
	// or another profile's) is refused like a malformed one.
	otherPage, err := f.svc.Deliveries(f.ctx, u.key, messaging.DeliveriesQuery{Limit: 1})
	require.NoError(t, err)
	for _, c := range []struct {
		who   core.Principal
		after string
	}{{u.key, "evt_unknown"}, {other.key, otherPage.Next}} {
		_, err = f.svc.Deliveries(f.ctx, c.who, messaging.DeliveriesQuery{After: c.after})
		wantKind(t, err, core.KindInvalid, "")
		var e *core.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, "cursor", e.Detail, "the partner's parameter is named, not the store's")
	}
	_, err = f.svc.Deliveries(f.ctx, u.key, messaging.DeliveriesQuery{Limit: messaging.MaxDeliveriesPage})
	require.NoError(t, err)
	_, err = f.svc.Deliveries(f.ctx, u.drive, messaging.DeliveriesQuery{})
	wantKind(t, err, core.KindForbidden, "")
}

// purgeWebhooks wraps the store's WebhookStore and records the purge's
// calls: fail, when set, may fail call i (from 1) before it reaches the
// store, and after runs once the store answered call i.
type purgeWebhooks struct {
	*testkit.Store
	cutoffs []time.Time
	limits  []int
	fail    func(i int) error
	after   func(i int)
}

func (p *purgeWebhooks) PurgeDeliveries(ctx context.Context, before time.Time, limit int) (int, error) {
	p.cutoffs, p.limits = append(p.cutoffs, before), append(p.limits, limit)
	i := len(p.limits)
	if p.fail != nil {
		if err := p.fail(i); err != nil {
			return 0, err
		}
	}
	n, err := p.Store.PurgeDeliveries(ctx, before, limit)
	if p.after != nil {
		p.after(i)
	}
	return n, err
}

// finishedEvents stores n handoff events of u, delivered at at.
func (f *fixture) finishedEvents(t *testing.T, u user, n int, at time.Time) {
	t.Helper()
	tr := ports.ChatTurn{
		ProfileID: u.profileID, ConversationID: f.newID(t, "conv"), Ref: "seed-" + rand.Text()[:8], Channel: "api",
		AgentID: f.newID(t, "agt"), At: at,
		Messages: []core.ConversationMessage{{ID: f.newID(t, "cmsg"), Role: core.RoleUser, Content: "a person please", CreatedAt: at}},
	}
	for range n {
		tr.Deliveries = append(tr.Deliveries, core.WebhookDelivery{ID: f.newID(t, "evt"), Event: core.EventHandoffMessage, Body: []byte(`{}`)})
	}
	_, err := f.store.RecordTurn(f.ctx, tr)
	require.NoError(t, err)
	for _, d := range tr.Deliveries {
		d = f.delivery(t, d.ID)
		d.State, d.AttemptCount, d.NextAttemptAt, d.DeliveredAt, d.UpdatedAt = core.DeliveryDelivered, 1, time.Time{}, at, at
		require.NoError(t, f.store.RecordAttempt(f.ctx, d, core.WebhookAttempt{N: 1, At: at, URL: inboxURL, StatusCode: 200}))
	}
}

func (f *fixture) newID(t *testing.T, prefix string) string {
	t.Helper()
	id, err := core.NewID(prefix, f.clock.Now(), rand.Reader)
	require.NoError(t, err)
	return id
}

// listedIDs lists the ids of all u's stored events, newest first.
func (f *fixture) listedIDs(t *testing.T, u user) []string {
	t.Helper()
	ds, err := f.store.Deliveries(f.ctx, u.profileID, ports.DeliveryQuery{Limit: 10_000})
	require.NoError(t, err)
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ids
}

func TestPurgeDeliveries(t *testing.T) {
	t.Parallel()

	t.Run("finished_events_go_30_days_after_they_finished_pending_ones_stay", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.cfg.RetrySchedule = []time.Duration{time.Minute} // two attempts
		f.rebuild()
		u, delivered := f.handoffEvent(t)
		var events []string
		for _, msg := range []string{"hello?", "anyone?", "still there?"} {
			_, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: "thread-1", Messages: userMsg(msg)})
			require.NoError(t, err)
			q := f.queuedIDs()
			events = append(events, q[len(q)-1])
		}
		failed, retrying, untried := events[0], events[1], events[2]

		out, err := f.svc.Deliver(f.ctx, delivered.ID)
		require.NoError(t, err)
		require.True(t, out.Done)
		deliveredAt := f.clock.Now()
		f.sender.answer(webhookAnswer{status: 500}, webhookAnswer{status: 500}, webhookAnswer{status: 500})
		out, err = f.svc.Deliver(f.ctx, failed)
		require.NoError(t, err)
		f.clock.Advance(out.RetryIn)
		out, err = f.svc.Deliver(f.ctx, failed)
		require.NoError(t, err)
		require.True(t, out.Done)
		failedAt := f.clock.Now()
		require.Equal(t, core.DeliveryFailed, f.delivery(t, failed).State)
		_, err = f.svc.Deliver(f.ctx, retrying) // fails once, then waits for a retry that never comes
		require.NoError(t, err)
		require.Equal(t, core.DeliveryPending, f.delivery(t, retrying).State)
		all := f.listedIDs(t, u)
		require.Len(t, all, 4)

		// Exactly 30 days after the first one finished: not yet.
		f.clock.Advance(deliveredAt.Add(messaging.DeliveryRetention).Sub(f.clock.Now()))
		n, err := f.svc.PurgeDeliveries(f.ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Equal(t, all, f.listedIDs(t, u))
		// A moment later it goes, with its attempts; the failed one
		// finished later and stays.
		f.clock.Advance(time.Microsecond)
		n, err = f.svc.PurgeDeliveries(f.ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = f.store.Delivery(f.ctx, delivered.ID)
		wantKind(t, err, core.KindNotFound, "")
		require.ElementsMatch(t, []string{failed, retrying, untried}, f.listedIDs(t, u))
		// And the failed one 30 days after it gave up.
		f.clock.Advance(failedAt.Add(messaging.DeliveryRetention + time.Microsecond).Sub(f.clock.Now()))
		n, err = f.svc.PurgeDeliveries(f.ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.ElementsMatch(t, []string{retrying, untried}, f.listedIDs(t, u))
		// Pending events stay, however old.
		f.clock.Advance(365 * 24 * time.Hour)
		n, err = f.svc.PurgeDeliveries(f.ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		require.ElementsMatch(t, []string{retrying, untried}, f.listedIDs(t, u))
	})

	t.Run("batches_of_1000_until_a_short_one_across_profiles", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		a, b := f.register(t), f.register(t)
		f.finishedEvents(t, a, 1500, start)
		f.finishedEvents(t, b, 1000, start.Add(time.Hour))
		f.finishedEvents(t, b, 3, start.Add(10*24*time.Hour)) // not old enough
		p := &purgeWebhooks{Store: f.store}
		f.cfg.Webhooks = p
		f.rebuild()
		f.clock.Advance(35 * 24 * time.Hour)
		n, err := f.svc.PurgeDeliveries(f.ctx)
		require.NoError(t, err)
		require.Equal(t, 2500, n)
		require.Equal(t, []int{1000, 1000, 1000}, p.limits, "1000, 1000, then 500: short, the last")
		cutoff := f.clock.Now().Add(-30 * 24 * time.Hour)
		require.Equal(t, []time.Time{cutoff, cutoff, cutoff}, p.cutoffs)
		require.Empty(t, f.listedIDs(t, a))
		require.Len(t, f.listedIDs(t, b), 3)

		// An exact multiple of 1000 ends on an empty batch.
		f.finishedEvents(t, a, 1000, start)
		p.limits = nil
		n, err = f.svc.PurgeDeliveries(f.ctx)
		require.NoError(t, err)
		require.Equal(t, 1000, n)
		require.Len(t, p.limits, 2)
	})

	t.Run("ctx_ending_stops_between_batches", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		f.finishedEvents(t, u, 2500, start)
		ctx, cancel := context.WithCancel(f.ctx)
		defer cancel()
		p := &purgeWebhooks{Store: f.store, after: func(int) { cancel() }}
		f.cfg.Webhooks = p
		f.rebuild()
		f.clock.Advance(31 * 24 * time.Hour)
		n, err := f.svc.PurgeDeliveries(ctx)
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, 1000, n, "the batch that ran is counted")
		require.Len(t, p.limits, 1)
		require.Len(t, f.listedIDs(t, u), 1500, "the next run purges the rest")
	})

	t.Run("a_store_failure_is_returned_with_the_count_so_far", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		f.finishedEvents(t, u, 2500, start)
		down := core.Unavailable("database", errors.New("connection refused"))
		p := &purgeWebhooks{Store: f.store, fail: func(i int) error {
			if i == 2 {
				return down
			}
			return nil
		}}
		f.cfg.Webhooks = p
		f.rebuild()
		f.clock.Advance(31 * 24 * time.Hour)
		n, err := f.svc.PurgeDeliveries(f.ctx)
		wantKind(t, err, core.KindUnavailable, "")
		require.Equal(t, 1000, n)
		require.Len(t, f.listedIDs(t, u), 1500)
	})

	t.Run("without_a_webhook_store_nothing_is_purged", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.cfg.Webhooks = nil
		f.rebuild()
		n, err := f.svc.PurgeDeliveries(f.ctx)
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

// stalledWebhooks wraps the store's WebhookStore and records the sweep's
// store calls; fail, when set, may fail call i (from 1) before it reaches
// the store.
type stalledWebhooks struct {
	*testkit.Store
	mu    sync.Mutex
	calls []stalledCall
	fail  func(i int) error
}

// stalledCall is one StalledDeliveries call.
type stalledCall struct {
	before time.Time
	after  string
	limit  int
}

func (w *stalledWebhooks) StalledDeliveries(ctx context.Context, before time.Time, after string, limit int) ([]string, error) {
	w.mu.Lock()
	w.calls = append(w.calls, stalledCall{before, after, limit})
	i := len(w.calls)
	w.mu.Unlock()
	if w.fail != nil {
		if err := w.fail(i); err != nil {
			return nil, err
		}
	}
	return w.Store.StalledDeliveries(ctx, before, after, limit)
}

// requeues records Config.Requeue's batches; fail, when set, may fail
// batch i (from 1), which is then not recorded.
type requeues struct {
	mu      sync.Mutex
	batches [][]string
	fail    func(i int) error
	after   func(i int)
}

func (r *requeues) requeue(_ context.Context, ids []string) error {
	r.mu.Lock()
	i := len(r.batches) + 1
	r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(i); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.batches = append(r.batches, slices.Clone(ids))
	r.mu.Unlock()
	if r.after != nil {
		r.after(i)
	}
	return nil
}

// ids returns every id handed over, in order.
func (r *requeues) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Concat(r.batches...)
}

// sizes returns the batches' sizes.
func (r *requeues) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]int, len(r.batches))
	for i, b := range r.batches {
		out[i] = len(b)
	}
	return out
}

// pendingEvents stores n handoff events of u, never attempted, due at at
// (their turn's time), and returns their ids.
func (f *fixture) pendingEvents(t *testing.T, u user, n int, at time.Time) []string {
	t.Helper()
	tr := ports.ChatTurn{
		ProfileID: u.profileID, ConversationID: f.newID(t, "conv"), Ref: "seed-" + rand.Text()[:8], Channel: "api",
		AgentID: f.newID(t, "agt"), At: at,
		Messages: []core.ConversationMessage{{ID: f.newID(t, "cmsg"), Role: core.RoleUser, Content: "a person please", CreatedAt: at}},
	}
	ids := make([]string, n)
	for i := range n {
		ids[i] = f.newID(t, "evt")
		tr.Deliveries = append(tr.Deliveries, core.WebhookDelivery{ID: ids[i], Event: core.EventHandoffMessage, Body: []byte(`{}`)})
	}
	_, err := f.store.RecordTurn(f.ctx, tr)
	require.NoError(t, err)
	slices.Sort(ids) // due together: listed by id
	return ids
}

// sweeper sets f's webhook store to a recording wrapper and its Requeue
// to r's, and rebuilds the service.
func (f *fixture) sweeper(r *requeues) *stalledWebhooks {
	w := &stalledWebhooks{Store: f.store}
	f.cfg.Webhooks, f.cfg.Requeue = w, r.requeue
	f.rebuild()
	return w
}

func TestRequeueStalledDeliveries(t *testing.T) {
	t.Parallel()

	t.Run("events_due_more_than_an_hour_ago_are_handed_over_oldest_first_in_batches_of_500", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		a, b := f.register(t), f.register(t)
		oldest := f.pendingEvents(t, b, 300, start)
		older := f.pendingEvents(t, a, 700, start.Add(10*time.Minute))
		f.finishedEvents(t, a, 20, start) // finished: never
		recent := f.pendingEvents(t, b, 4, start.Add(90*time.Minute))
		var r requeues
		w := f.sweeper(&r)

		// The older ones are due exactly StalledAfter ago.
		f.clock.Advance(start.Add(10 * time.Minute).Add(messaging.StalledAfter).Sub(f.clock.Now()))
		n, err := f.svc.RequeueStalledDeliveries(f.ctx)
		require.NoError(t, err)
		require.Equal(t, 300, n, "due exactly StalledAfter ago is not stalled yet")
		require.Equal(t, oldest, r.ids())

		f.clock.Advance(time.Microsecond)
		r = requeues{}
		w.calls = nil
		n, err = f.svc.RequeueStalledDeliveries(f.ctx)
		require.NoError(t, err)
		require.Equal(t, 1000, n)
		require.Equal(t, []int{500, 500}, r.sizes())
		require.Equal(t, slices.Concat(oldest, older), r.ids(), "oldest due first, whatever the profile, each once")
		cutoff := f.clock.Now().Add(-messaging.StalledAfter)
		require.Equal(t, []stalledCall{
			{cutoff, "", 500}, {cutoff, r.ids()[499], 500}, {cutoff, r.ids()[999], 500},
		}, w.calls, "paged with after: an exact multiple of 500 ends on an empty page, which hands nothing over")

		// Later the recent ones are stalled too: a run lists everything
		// again (whether a job still exists is the queue's business).
		f.clock.Advance(2 * time.Hour)
		r = requeues{}
		n, err = f.svc.RequeueStalledDeliveries(f.ctx)
		require.NoError(t, err)
		require.Equal(t, 1004, n)
		require.Equal(t, []int{500, 500, 4}, r.sizes())
		require.Equal(t, slices.Concat(oldest, older, recent), r.ids())
	})

	t.Run("an_event_attempted_since_waits_for_its_next_attempt", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, d := f.handoffEvent(t)
		var r requeues
		f.sweeper(&r)
		f.clock.Advance(2 * time.Hour)
		n, err := f.svc.RequeueStalledDeliveries(f.ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n, "its job never ran")
		require.Equal(t, []string{d.ID}, r.ids())

		// The requeued job runs: the attempt fails, and the event waits
		// for its retry (5 s, ±10 %).
		f.sender.answer(webhookAnswer{status: 500})
		out, err := f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.False(t, out.Done)
		r = requeues{}
		f.clock.Advance(out.RetryIn + messaging.StalledAfter)
		n, err = f.svc.RequeueStalledDeliveries(f.ctx)
		require.NoError(t, err)
		require.Zero(t, n, "due exactly StalledAfter ago")
		require.Empty(t, r.ids(), "an empty page hands nothing over")
		f.clock.Advance(time.Second)
		n, err = f.svc.RequeueStalledDeliveries(f.ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n, "its retry never came")

		// Delivered: never again.
		f.sender.answer(webhookAnswer{status: 204})
		out, err = f.svc.Deliver(f.ctx, d.ID)
		require.NoError(t, err)
		require.True(t, out.Done)
		f.clock.Advance(24 * time.Hour)
		r = requeues{}
		n, err = f.svc.RequeueStalledDeliveries(f.ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Empty(t, r.ids())
	})

	t.Run("a_requeue_failure_is_returned_with_the_count_so_far", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		ids := f.pendingEvents(t, u, 1200, start)
		down := core.Unavailable("job queue", errors.New("connection refused"))
		r := requeues{fail: func(i int) error {
			if i == 2 {
				return down
			}
			return nil
		}}
		w := f.sweeper(&r)
		f.clock.Advance(2 * time.Hour)
		n, err := f.svc.RequeueStalledDeliveries(f.ctx)
		wantKind(t, err, core.KindUnavailable, "")
		require.Equal(t, 500, n)
		require.Equal(t, ids[:500], r.ids())
		require.Len(t, w.calls, 2, "the sweep stopped at the failure")
	})

	t.Run("a_store_failure_is_returned_with_the_count_so_far", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		ids := f.pendingEvents(t, u, 1200, start)
		var r requeues
		w := f.sweeper(&r)
		down := core.Unavailable("database", errors.New("connection refused"))
		w.fail = func(i int) error {
			if i == 2 {
				return down
			}
			return nil
		}
		f.clock.Advance(2 * time.Hour)
		n, err := f.svc.RequeueStalledDeliveries(f.ctx)
		wantKind(t, err, core.KindUnavailable, "")
		require.Equal(t, 500, n)
		require.Equal(t, ids[:500], r.ids())
	})

	t.Run("ctx_ending_stops_between_batches", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		f.pendingEvents(t, u, 1200, start)
		ctx, cancel := context.WithCancel(f.ctx)
		defer cancel()
		r := requeues{after: func(int) { cancel() }}
		w := f.sweeper(&r)
		f.clock.Advance(2 * time.Hour)
		n, err := f.svc.RequeueStalledDeliveries(ctx)
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, 500, n, "the batch handed over is counted")
		require.Len(t, w.calls, 1)
	})

	t.Run("without_requeue_or_a_webhook_store_nothing_is_requeued", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		f.pendingEvents(t, u, 3, start)
		f.clock.Advance(2 * time.Hour)
		w := &stalledWebhooks{Store: f.store}
		f.cfg.Webhooks = w
		f.rebuild()
		n, err := f.svc.RequeueStalledDeliveries(f.ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Empty(t, w.calls)

		var r requeues
		f.cfg.Webhooks, f.cfg.Requeue = nil, r.requeue
		f.rebuild()
		n, err = f.svc.RequeueStalledDeliveries(f.ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Empty(t, r.ids())
	})
}
