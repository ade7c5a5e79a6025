package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/bunstore/buntest"
	"github.com/gellhub/gellhub/adapters/riverjobs"
	"github.com/gellhub/gellhub/apps/internal/config"
	"github.com/gellhub/gellhub/apps/internal/platform"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/ports"
)

// The shape of one batch of the delivery benchmark.
const (
	benchEvents        = 200                     // turns per batch, each with one handoff event
	benchProfiles      = 4                       // merchants, each with its own handoff webhook
	benchConvsPerProf  = 5                       // conversations per merchant: 20 in all, 10 turns each
	benchLiveRate      = 50                      // turns/s offered in the live runs (open loop)
	benchPairs         = 6                       // pairs of turns in the pairs runs
	benchPairGap       = 20 * time.Millisecond   // between a pair's two turns
	benchPairEvery     = 1200 * time.Millisecond // between pairs: longer than River's 1 s (+10 %) poll
	benchBatchDeadline = 90 * time.Second
)

// BenchmarkHandoffDeliveries measures the handoff webhook pipeline end to
// end: a chat turn commits its webhook_deliveries row and its River job
// (RecordTurn), the delivery worker (StartDeliveries) fetches the job,
// POSTs the event to an httptest receiver and records the attempt. It runs
// on PostgreSQL and on the embedded SQLite, each set up once (untimed),
// with these sub-benchmarks:
//
//   - backlog*: 200 turns are committed with no worker running (their cost
//     is the enqueue-ms/turn metric), then the timer covers starting the
//     worker and draining the batch until the receiver has seen every
//     event and the store shows every one delivered: events/s is the
//     drain rate;
//   - live*: the worker runs already; 200 turns arrive at a steady 50/s
//     (open loop) and the timer covers the batch; p50/p99/max-ms are the
//     latencies from each turn's commit to the receiver's first sight of
//     its event id;
//   - pairs: the worker runs already; a visitor writes twice, 20 ms apart,
//     in one conversation, and then nobody writes for 1.2 s, six times;
//     first-* and second-* are the commit-to-receipt latencies of each
//     pair's first and second event. River announces new jobs at most once
//     per 100 ms per queue (see riverjobs.Config.FetchPollInterval), so
//     the second event waits for the worker's next poll unless the fetch
//     the first one's announcement caused comes after it committed.
//
// The suffix is the receiver's time per request (none, 50 ms, 250 ms);
// the worker runs riverjobs.DefaultMaxWorkers (10) deliveries at once.
// Run it with -benchtime=1x (each iteration is a whole batch); it is never
// part of a plain go test.
func BenchmarkHandoffDeliveries(b *testing.B) {
	b.Run("postgres", func(b *testing.B) {
		benchDeliveries(b, newDeliveryBench(b, buntest.PostgresDSN(b)))
	})
	b.Run("sqlite", func(b *testing.B) {
		benchDeliveries(b, newDeliveryBench(b, ""))
	})
}

// benchDeliveries runs the variants on one platform.
func benchDeliveries(b *testing.B, d *deliveryBench) {
	for _, delay := range []time.Duration{0, 50 * time.Millisecond, 250 * time.Millisecond} {
		b.Run("backlog"+delayName(delay), func(b *testing.B) { d.runBacklog(b, delay) })
	}
	for _, delay := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run("live"+delayName(delay), func(b *testing.B) { d.runLive(b, delay) })
	}
	b.Run("pairs", d.runPairs)
}

func delayName(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf("-receiver%dms", d.Milliseconds())
}

// deliveryBench is one platform with merchants whose handoff webhooks
// point at one receiver.
type deliveryBench struct {
	p     *platform.Platform
	recv  *benchReceiver
	convs []benchConv
	next  int // the next conversation to get a turn
}

// benchConv is one conversation turns go to.
type benchConv struct {
	profileID, id, ref string
	turns              int
}

// newDeliveryBench opens a platform on dsn (the embedded SQLite in a
// temporary data dir when empty), creates the merchants and their
// handoff webhooks, and closes everything when b ends.
func newDeliveryBench(b *testing.B, dsn string) *deliveryBench {
	b.Helper()
	recv := &benchReceiver{}
	recv.srv = httptest.NewServer(http.HandlerFunc(recv.serve))
	b.Cleanup(recv.srv.Close)

	env := map[string]string{
		"GELLHUB_DATABASE_URL":          dsn,
		"GELLHUB_DATA_DIR":              b.TempDir(),
		"GELLHUB_WEBHOOK_ALLOW_PRIVATE": "true",
		"GELLHUB_RATE_LIMITS":           "off",
		"GELLHUB_LOG_LEVEL":             "error",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := platform.Open(ctx, cfg, platform.NewLogger(io.Discard, "error"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })

	d := &deliveryBench{p: p, recv: recv}
	now := time.Now().UTC()
	for i := range benchProfiles {
		reg, err := p.Accounts.Register(ctx, accounts.RegisterInput{
			Email: fmt.Sprintf("bench-deliveries-%d@example.com", i), Password: "a long password",
			DisplayName: fmt.Sprintf("Bench %d", i), AccountType: "studio",
		})
		if err != nil {
			b.Fatal(err)
		}
		pid := reg.Account.Profile.ID
		err = p.Store.UpdateMessaging(ctx, pid, func(tx ports.MessagingTx) error {
			return tx.SaveHandoffConfig(ctx, core.HandoffConfig{
				ProfileID: pid, WebhookURL: recv.srv.URL, Secret: "whsec_bench_deliveries_secret", UpdatedAt: now,
			})
		})
		if err != nil {
			b.Fatal(err)
		}
		for j := range benchConvsPerProf {
			id, err := core.NewID("conv", now, rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			d.convs = append(d.convs, benchConv{profileID: pid, id: id, ref: fmt.Sprintf("api:bench-%d-%d", i, j)})
		}
	}
	return d
}

// turn returns the next turn, round robin over the conversations.
func (d *deliveryBench) turn(b *testing.B) ports.ChatTurn {
	b.Helper()
	c := &d.convs[d.next%len(d.convs)]
	d.next++
	return c.turn(b)
}

// turn returns c's next turn: a visitor's message with its handoff event
// (handoff.requested on the conversation's first turn, handoff.message
// after), shaped as core/messaging builds them.
func (c *benchConv) turn(b *testing.B) ports.ChatTurn {
	b.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	evtID, err := core.NewID("evt", now, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	msgID, err := core.NewID("cmsg", now, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	event, stampKey := core.EventHandoffMessage, "sentAt"
	if c.turns == 0 {
		event, stampKey = core.EventHandoffRequested, "requestedAt"
	}
	c.turns++
	text := fmt.Sprintf("message %d: could a person look at my order, please?", c.turns)
	body, err := json.Marshal(map[string]any{
		"version": 1, "event": event, "profileId": c.profileID, "conversationRef": c.ref,
		"conversationId": c.id, "visitorId": "visitor-" + c.ref, "agentId": "agent_bench", "channel": "api",
		"message": text, stampKey: now.Format(time.RFC3339Nano),
	})
	if err != nil {
		b.Fatal(err)
	}
	return ports.ChatTurn{
		ProfileID: c.profileID, ConversationID: c.id, Ref: c.ref, Channel: "api", AgentID: "agent_bench",
		Messages:   []core.ConversationMessage{{ID: msgID, Role: core.RoleUser, Content: text, CreatedAt: now}},
		Handoff:    true,
		Deliveries: []core.WebhookDelivery{{ID: evtID, Event: event, Body: body}},
		At:         now,
	}
}

// turns returns the next n turns and their event ids.
func (d *deliveryBench) turns(b *testing.B, n int) ([]ports.ChatTurn, []string) {
	b.Helper()
	ts := make([]ports.ChatTurn, n)
	ids := make([]string, n)
	for i := range ts {
		ts[i] = d.turn(b)
		ids[i] = ts[i].Deliveries[0].ID
	}
	return ts, ids
}

// startWorker starts the delivery worker as the worker's main does.
func (d *deliveryBench) startWorker(b *testing.B) *riverjobs.Worker {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := d.p.StartDeliveries(ctx, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// stopWorker stops w, giving running deliveries shutdownTimeout.
func stopWorker(b *testing.B, w *riverjobs.Worker) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := w.Stop(ctx); err != nil {
		b.Error(err)
	}
}

// waitBatch waits until the receiver has seen every event of the batch
// and then until the store shows each one delivered (the attempt is
// recorded after the receiver answers).
func (d *deliveryBench) waitBatch(b *testing.B, ids []string) {
	b.Helper()
	deadline := time.Now().Add(benchBatchDeadline)
	select {
	case <-d.recv.allSeen():
	case <-time.After(time.Until(deadline)):
		b.Fatalf("the receiver saw %d of %d events in %s", d.recv.seenCount(), len(ids), benchBatchDeadline)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	for _, id := range ids {
		for {
			del, err := d.p.Store.Delivery(ctx, id)
			if err != nil {
				b.Fatalf("delivery %s: %v", id, err)
			}
			if del.State == core.DeliveryDelivered {
				break
			}
			if del.State != core.DeliveryPending {
				b.Fatalf("delivery %s is %s", id, del.State)
			}
			time.Sleep(2 * time.Millisecond) // polling the store, not asserting a time
		}
	}
}

// runBacklog commits a batch with no worker running, then times starting
// the worker and draining the batch.
func (d *deliveryBench) runBacklog(b *testing.B, delay time.Duration) {
	ctx := context.Background()
	var enqueue, drain, start time.Duration
	events := 0
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		turns, ids := d.turns(b, benchEvents)
		d.recv.expect(ids, delay)
		t0 := time.Now()
		for _, t := range turns {
			if _, err := d.p.Store.RecordTurn(ctx, t); err != nil {
				b.Fatal(err)
			}
		}
		enqueue += time.Since(t0)

		b.StartTimer()
		t0 = time.Now()
		w := d.startWorker(b)
		start += time.Since(t0)
		d.waitBatch(b, ids)
		drain += time.Since(t0)
		b.StopTimer()
		stopWorker(b, w)
		events += len(ids)
	}
	b.ReportMetric(float64(events)/drain.Seconds(), "events/s")
	b.ReportMetric(ms(enqueue)/float64(events), "enqueue-ms/turn")
	b.ReportMetric(ms(start)/float64(b.N), "start-ms")
}

// runLive starts the worker, then sends turns at benchLiveRate (each on
// schedule, whether or not the previous ones have committed) and reports
// the commit-to-receipt latencies.
func (d *deliveryBench) runLive(b *testing.B, delay time.Duration) {
	ctx := context.Background()
	var (
		lat     []time.Duration
		elapsed time.Duration
		events  int
	)
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		w := d.startWorker(b)
		// One event through first: the worker is listening and the
		// sender's connections are open before the clock starts.
		warm, warmIDs := d.turns(b, 1)
		d.recv.expect(warmIDs, 0)
		if _, err := d.p.Store.RecordTurn(ctx, warm[0]); err != nil {
			b.Fatal(err)
		}
		d.waitBatch(b, warmIDs)

		turns, ids := d.turns(b, benchEvents)
		d.recv.expect(ids, delay)
		committed := make([]time.Time, len(turns))
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		b.StartTimer()
		t0 := time.Now()
		tick := time.NewTicker(time.Second / benchLiveRate)
		for i, t := range turns {
			if i > 0 {
				<-tick.C
			}
			wg.Go(func() {
				_, err := d.p.Store.RecordTurn(ctx, t)
				at := time.Now()
				mu.Lock()
				defer mu.Unlock()
				committed[i] = at
				if err != nil {
					errs = append(errs, err)
				}
			})
		}
		tick.Stop()
		wg.Wait()
		if len(errs) > 0 {
			b.Fatalf("%d turns failed, the first: %v", len(errs), errs[0])
		}
		d.waitBatch(b, ids)
		elapsed += time.Since(t0)
		b.StopTimer()
		stopWorker(b, w)

		seen := d.recv.seenAt()
		for i, id := range ids {
			// The receiver may see an event a moment before RecordTurn has
			// returned to its caller: that counts as no wait.
			lat = append(lat, max(seen[id].Sub(committed[i]), 0))
		}
		events += len(ids)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return ms(lat[int(p*float64(len(lat)-1))]) }
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}

// runPairs starts the worker, then commits benchPairs pairs of turns
// (benchPairGap apart, in one conversation, pairs benchPairEvery apart)
// and reports the commit-to-receipt latencies of the first and of the
// second turns.
func (d *deliveryBench) runPairs(b *testing.B) {
	ctx := context.Background()
	var first, second []time.Duration
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		w := d.startWorker(b)
		warm, warmIDs := d.turns(b, 1)
		d.recv.expect(warmIDs, 0)
		if _, err := d.p.Store.RecordTurn(ctx, warm[0]); err != nil {
			b.Fatal(err)
		}
		d.waitBatch(b, warmIDs)

		turns := make([]ports.ChatTurn, 0, 2*benchPairs)
		ids := make([]string, 0, 2*benchPairs)
		for range benchPairs {
			c := &d.convs[d.next%len(d.convs)]
			d.next++
			for range 2 {
				t := c.turn(b)
				turns, ids = append(turns, t), append(ids, t.Deliveries[0].ID)
			}
		}
		d.recv.expect(ids, 0)
		committed := make([]time.Time, len(turns))
		// The warm-up's insert was announced just now, and River announces
		// a queue's inserts at most once per 100 ms: the first pair must
		// not fall in that window (pacing, not a wait for a result).
		time.Sleep(150 * time.Millisecond)
		b.StartTimer()
		t0 := time.Now()
		for i, t := range turns {
			// The schedule of the visitors' messages (pacing, not a wait
			// for a result).
			at := t0.Add(time.Duration(i/2)*benchPairEvery + time.Duration(i%2)*benchPairGap)
			time.Sleep(time.Until(at))
			if _, err := d.p.Store.RecordTurn(ctx, t); err != nil {
				b.Fatal(err)
			}
			committed[i] = time.Now()
		}
		d.waitBatch(b, ids)
		b.StopTimer()
		stopWorker(b, w)

		seen := d.recv.seenAt()
		for i, id := range ids {
			l := max(seen[id].Sub(committed[i]), 0)
			if i%2 == 0 {
				first = append(first, l)
			} else {
				second = append(second, l)
			}
		}
	}
	for _, m := range []struct {
		name string
		lat  []time.Duration
	}{{"first", first}, {"second", second}} {
		slices.Sort(m.lat)
		b.ReportMetric(ms(m.lat[len(m.lat)/2]), m.name+"-p50-ms")
		b.ReportMetric(ms(m.lat[len(m.lat)-1]), m.name+"-max-ms")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// benchReceiver is the partner's handoff webhook: it notes when it first
// sees each event id of the current batch, waits its delay, and answers
// 200.
type benchReceiver struct {
	srv *httptest.Server

	mu    sync.Mutex
	delay time.Duration
	want  map[string]bool
	seen  map[string]time.Time
	done  chan struct{} // closed when every wanted id has been seen
}

// expect starts a batch: the receiver waits for ids and takes delay per
// request.
func (r *benchReceiver) expect(ids []string, delay time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay = delay
	r.want = make(map[string]bool, len(ids))
	for _, id := range ids {
		r.want[id] = true
	}
	r.seen = make(map[string]time.Time, len(ids))
	r.done = make(chan struct{})
}

func (r *benchReceiver) allSeen() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

func (r *benchReceiver) seenCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// seenAt returns when each id of the batch was first seen.
func (r *benchReceiver) seenAt() map[string]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.seen)
}

func (r *benchReceiver) serve(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	id := req.Header.Get("X-GellHub-Event-Id")
	_, _ = io.Copy(io.Discard, req.Body)
	r.mu.Lock()
	delay := r.delay
	if _, dup := r.seen[id]; r.want[id] && !dup {
		r.seen[id] = at
		if len(r.seen) == len(r.want) {
			close(r.done)
		}
	}
	r.mu.Unlock()
	if delay > 0 {
		select { // the partner's processing time
		case <-time.After(delay):
		case <-req.Context().Done():
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}
