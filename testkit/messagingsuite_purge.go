package testkit

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// This file holds RunWebhookStoreSuite's cases of the retention purge
// (ports.WebhookStore.PurgeDeliveries).

var purgeCases = []webhookCase{
	{"PurgeDeliveries", "only_finished_ones_updated_before_go_with_their_attempts_pending_stay", testPurgeOnlyFinished},
	{"PurgeDeliveries", "limit_takes_the_oldest_first_across_profiles", testPurgeLimitOldestFirst},
	{"PurgeDeliveries", "racing_purges_delete_each_delivery_once", testPurgeRace},
}

// retried records a failed attempt at d, dt after the suite's time: d
// stays pending, due again 5 minutes later.
func (f *webhookFixture) retried(d core.WebhookDelivery, dt time.Duration) core.WebhookDelivery {
	f.t.Helper()
	d.AttemptCount, d.NextAttemptAt, d.UpdatedAt = d.AttemptCount+1, f.at(dt+5*time.Minute), f.at(dt)
	return f.record(d, f.attempt(d, d.AttemptCount, dt, 503, "status 503"))
}

// finished records d's last attempt, dt after the suite's time: it is
// then delivered, or failed for good, and was last updated then.
func (f *webhookFixture) finished(d core.WebhookDelivery, state core.DeliveryState, dt time.Duration) core.WebhookDelivery {
	f.t.Helper()
	d.State, d.AttemptCount, d.NextAttemptAt, d.UpdatedAt = state, d.AttemptCount+1, time.Time{}, f.at(dt)
	status, failure := 200, ""
	if state == core.DeliveryDelivered {
		d.DeliveredAt = f.at(dt)
	} else {
		status, failure = 410, "status 410"
	}
	return f.record(d, f.attempt(d, d.AttemptCount, dt, status, failure))
}

// purge runs PurgeDeliveries and checks how many it says it deleted.
func (f *webhookFixture) purge(before time.Time, limit, want int) {
	f.t.Helper()
	n, err := f.w.PurgeDeliveries(f.ctx, before, limit)
	storeWantNoErr(f.t, "PurgeDeliveries", err)
	if n != want {
		f.t.Fatalf("PurgeDeliveries(%s, %d) deleted %d, want %d", before.Format(time.RFC3339Nano), limit, n, want)
	}
}

// wantGone checks that the deliveries are not stored.
func (f *webhookFixture) wantGone(ds ...core.WebhookDelivery) {
	f.t.Helper()
	for _, d := range ds {
		_, err := f.w.Delivery(f.ctx, d.ID)
		if !core.IsKind(err, core.KindNotFound) {
			f.t.Fatalf("Delivery(%s) after the purge: %v, want KindNotFound", d.ID, err)
		}
	}
}

// wantListed checks the profile's whole listing: want, in any order,
// each with its attempts.
func (f *webhookFixture) wantListed(profileID string, want ...core.WebhookDelivery) {
	f.t.Helper()
	newestFirst := func(a, b core.WebhookDelivery) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
	}
	want = slices.Clone(want)
	slices.SortFunc(want, newestFirst)
	storeWantEqual(f.t, "Deliveries", f.list(profileID, ports.DeliveryQuery{Limit: 1000}), want, normDeliveries)
}

func testPurgeOnlyFinished(t *testing.T, f *webhookFixture) {
	p, other := f.profile(), f.profile()
	f.purge(f.at(time.Hour), 100, 0) // nothing stored yet
	event := func() core.WebhookDelivery { return f.delivery(core.EventHandoffMessage) }
	_, ds := f.turnWith(p, "a", 0, event(), event(), event(), event(), event(), event())
	_, theirs := f.turnWith(other, "a", 0, event())
	cutoff := f.at(10 * time.Hour)

	// Finished before the cutoff: they go, with their attempts.
	oldDelivered := f.finished(f.retried(ds[0], time.Minute), core.DeliveryDelivered, 2*time.Minute)
	oldFailed := f.finished(f.retried(ds[1], time.Minute), core.DeliveryFailed, 3*time.Hour)
	theirFailed := f.finished(theirs[0], core.DeliveryFailed, time.Hour) // purged whatever its profile
	// Pending, as old as any: they stay.
	oldPending := f.retried(ds[2], time.Minute)
	untried := ds[3]
	// Finished at the cutoff, or after it: they stay.
	atCutoff := f.finished(ds[4], core.DeliveryDelivered, 10*time.Hour)
	recent := f.finished(ds[5], core.DeliveryFailed, 11*time.Hour)

	f.purge(cutoff, 100, 3)
	f.wantGone(oldDelivered, oldFailed, theirFailed)
	f.wantListed(p, oldPending, untried, atCutoff, recent)
	f.wantListed(other)
	f.purge(cutoff, 100, 0) // done already

	// Years later, the pending ones still stay.
	f.purge(f.at(24*365*time.Hour), 100, 2)
	f.wantGone(atCutoff, recent)
	f.wantListed(p, oldPending, untried)
	f.wantDelivery(oldPending)
	f.wantDelivery(untried)

	// The purged deliveries' attempts went with them: a delivery stored
	// again under a purged id has none, and its attempt 1 is new.
	again := event()
	again.ID = oldDelivered.ID
	_, stored := f.turnWith(p, "b", 12*time.Hour, again)
	f.wantListed(p, oldPending, untried, stored[0])
	d := stored[0]
	d.AttemptCount, d.NextAttemptAt, d.UpdatedAt = 1, f.at(13*time.Hour), f.at(12*time.Hour)
	d = f.record(d, f.attempt(d, 1, 12*time.Hour, 500, "status 500"))
	f.wantListed(p, oldPending, untried, d)
}

func testPurgeLimitOldestFirst(t *testing.T, f *webhookFixture) {
	p, other := f.profile(), f.profile()
	event := func() core.WebhookDelivery { return f.delivery(core.EventHandoffRequested) }
	_, mine := f.turnWith(p, "a", 0, event(), event(), event(), event())
	_, theirs := f.turnWith(other, "a", time.Minute, event(), event(), event())
	// Finished in an order that is neither the profiles' nor the ids'.
	h1 := f.finished(theirs[0], core.DeliveryFailed, time.Hour)
	h2 := f.finished(mine[0], core.DeliveryDelivered, 2*time.Hour)
	h3 := f.finished(theirs[1], core.DeliveryDelivered, 3*time.Hour)
	h4 := f.finished(mine[1], core.DeliveryFailed, 4*time.Hour)
	// Two finished together: the smaller id goes first.
	h5, h5other := f.finished(mine[2], core.DeliveryDelivered, 5*time.Hour), f.finished(theirs[2], core.DeliveryDelivered, 5*time.Hour)
	tie := []core.WebhookDelivery{h5, h5other}
	slices.SortFunc(tie, func(a, b core.WebhookDelivery) int { return strings.Compare(a.ID, b.ID) })
	pending := mine[3]
	cutoff := f.at(24 * time.Hour)

	f.purge(cutoff, 0, 0)
	f.purge(cutoff, -1, 0)
	f.wantListed(p, h2, h4, h5, pending)
	f.wantListed(other, h1, h3, h5other)

	f.purge(cutoff, 2, 2)
	f.wantGone(h1, h2)
	f.wantListed(p, h4, h5, pending)
	f.wantListed(other, h3, h5other)
	f.purge(cutoff, 2, 2)
	f.wantGone(h3, h4)
	f.purge(cutoff, 1, 1)
	f.wantGone(tie[0])
	f.wantDelivery(tie[1])
	f.purge(cutoff, 2, 1) // short: nothing else is finished
	f.wantGone(tie[1])
	f.purge(cutoff, 2, 0)
	f.wantListed(p, pending)
	f.wantListed(other)
}

func testPurgeRace(t *testing.T, f *webhookFixture) {
	const (
		perProfile = 12
		purgers    = 8
		limit      = 2
	)
	profiles := []string{f.profile(), f.profile()}
	var finished, pending []core.WebhookDelivery
	for i, p := range profiles {
		ds := make([]core.WebhookDelivery, perProfile+1) // and one that stays pending
		for j := range ds {
			ds[j] = f.delivery(core.EventHandoffMessage)
		}
		_, ds = f.turnWith(p, "a", time.Duration(i)*time.Minute, ds...)
		for j, d := range ds[1:] {
			finished = append(finished, f.finished(d, core.DeliveryDelivered, time.Hour+time.Duration(j)*time.Second))
		}
		pending = append(pending, ds[0])
	}
	cutoff := f.at(2 * time.Hour)

	// Purgers race until each finds nothing left: every delivery is
	// counted by the one purge that deleted it.
	var mu sync.Mutex
	deleted := 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range purgers {
		wg.Go(func() {
			<-start
			for {
				n, err := f.w.PurgeDeliveries(f.ctx, cutoff, limit)
				if err != nil {
					t.Errorf("purger %d: %v", i, err)
					return
				}
				if n > limit {
					t.Errorf("purger %d deleted %d, more than the limit %d", i, n, limit)
				}
				mu.Lock()
				deleted += n
				mu.Unlock()
				if n == 0 {
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	// One more purge counts whatever the racers left.
	n, err := f.w.PurgeDeliveries(f.ctx, cutoff, len(finished))
	storeWantNoErr(t, "PurgeDeliveries", err)
	if deleted+n != len(finished) {
		t.Fatalf("the purges say they deleted %d, then %d more; want %d in all", deleted, n, len(finished))
	}
	f.wantGone(finished...)
	for i, p := range profiles {
		f.wantListed(p, pending[i])
	}
}
