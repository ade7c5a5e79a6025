package testkit

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
)

// This file holds RunWebhookStoreSuite's cases of the sweep of stalled
// deliveries (ports.WebhookStore.StalledDeliveries).

var stalledCases = []webhookCase{
	{"StalledDeliveries", "only_pending_ones_due_before_are_listed_oldest_first_whatever_their_profile", testStalledListed},
	{"StalledDeliveries", "limit_and_after_page_through_in_order", testStalledPages},
	{"StalledDeliveries", "after_resumes_from_its_place_as_stored_and_lists_nothing_once_it_is_not_pending", testStalledCursor},
}

// dueAt records a failed attempt at d, a minute before dt after the
// suite's time: d stays pending, due again dt after the suite's time.
func (f *webhookFixture) dueAt(d core.WebhookDelivery, dt time.Duration) core.WebhookDelivery {
	f.t.Helper()
	d.AttemptCount, d.NextAttemptAt, d.UpdatedAt = d.AttemptCount+1, f.at(dt), f.at(dt-time.Minute)
	return f.record(d, f.attempt(d, d.AttemptCount, dt-time.Minute, 503, "status 503"))
}

// wantStalled checks StalledDeliveries(before, after, limit): the ids of
// want, in that order.
func (f *webhookFixture) wantStalled(before time.Time, after string, limit int, want ...core.WebhookDelivery) {
	f.t.Helper()
	got, err := f.w.StalledDeliveries(f.ctx, before, after, limit)
	storeWantNoErr(f.t, "StalledDeliveries", err)
	wantIDs := make([]string, len(want))
	for i, d := range want {
		wantIDs[i] = d.ID
	}
	if !slices.Equal(got, wantIDs) {
		f.t.Fatalf("StalledDeliveries(%s, %q, %d) = %v, want %v", before.Format(time.RFC3339Nano), after, limit, got, wantIDs)
	}
}

// dueOrder sorts ds as StalledDeliveries lists them: NextAttemptAt, then
// ID.
func dueOrder(ds ...core.WebhookDelivery) []core.WebhookDelivery {
	ds = slices.Clone(ds)
	slices.SortFunc(ds, func(a, b core.WebhookDelivery) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), strings.Compare(a.ID, b.ID))
	})
	return ds
}

func testStalledListed(t *testing.T, f *webhookFixture) {
	p, other := f.profile(), f.profile()
	cutoff := f.at(10 * time.Hour)
	f.wantStalled(cutoff, "", 100) // nothing stored yet
	event := func() core.WebhookDelivery { return f.delivery(core.EventHandoffMessage) }
	_, mine := f.turnWith(p, "a", 0, event(), event(), event(), event(), event(), event(), event())
	_, theirs := f.turnWith(other, "a", time.Hour, event(), event())

	// Never tried: due since their turn; the two of one turn are due
	// together, the smaller id first.
	untried := dueOrder(mine[0], mine[1])
	theirUntried := theirs[1] // due since 1 h
	// Retried, due before the cutoff, whatever their profile.
	theirRetried := f.dueAt(theirs[0], 90*time.Minute)
	retried := f.dueAt(mine[2], 3*time.Hour)
	// Finished long ago: never listed.
	f.finished(f.dueAt(mine[3], 5*time.Minute), core.DeliveryDelivered, 6*time.Minute)
	f.finished(mine[4], core.DeliveryFailed, time.Minute)
	// Due at the cutoff, or after it: not yet.
	atCutoff := f.dueAt(mine[5], 10*time.Hour)
	later := f.dueAt(mine[6], 11*time.Hour)

	stalled := []core.WebhookDelivery{untried[0], untried[1], theirUntried, theirRetried, retried}
	f.wantStalled(cutoff, "", 100, stalled...)
	f.wantStalled(cutoff, "", 100, stalled...) // listing changes nothing
	f.wantStalled(f.at(time.Hour), "", 100, untried...)
	f.wantStalled(f.at(12*time.Hour), "", 100, append(stalled, atCutoff, later)...)
	f.wantStalled(msgSuiteTime, "", 100) // due at the suite's time is not before it

	// Attempted again: a delivered one leaves, a retried one moves to its
	// new place.
	f.finished(retried, core.DeliveryDelivered, 4*time.Hour)
	moved := f.dueAt(untried[0], 2*time.Hour)
	f.wantStalled(cutoff, "", 100, untried[1], theirUntried, theirRetried, moved)
	f.wantDelivery(moved)
}

func testStalledPages(t *testing.T, f *webhookFixture) {
	p, other := f.profile(), f.profile()
	event := func() core.WebhookDelivery { return f.delivery(core.EventHandoffRequested) }
	_, mine := f.turnWith(p, "a", 0, event(), event(), event(), event())
	_, theirs := f.turnWith(other, "a", time.Minute, event(), event(), event())
	// Due in an order that is neither the profiles' nor the ids', with
	// two pairs due together.
	all := dueOrder(
		f.dueAt(mine[0], 3*time.Hour), f.dueAt(theirs[0], 3*time.Hour),
		f.dueAt(mine[1], time.Hour), f.dueAt(theirs[1], 2*time.Hour),
		mine[2], mine[3], // due since 0, together
		theirs[2], // due since 1 min
	)
	cutoff := f.at(24 * time.Hour)

	f.wantStalled(cutoff, "", 0)
	f.wantStalled(cutoff, "", -1)
	f.wantStalled(cutoff, "", len(all), all...)
	f.wantStalled(cutoff, "", len(all)+1, all...)
	for _, limit := range []int{1, 2, 3} {
		after := ""
		var listed []core.WebhookDelivery
		for i := 0; ; i++ {
			want := all[min(i*limit, len(all)):min((i+1)*limit, len(all))]
			f.wantStalled(cutoff, after, limit, want...)
			if len(want) == 0 {
				break
			}
			listed = append(listed, want...)
			after = want[len(want)-1].ID
		}
		if len(listed) != len(all) {
			t.Fatalf("pages of %d listed %d deliveries, want %d", limit, len(listed), len(all))
		}
	}
	// A page after the last one due before the cutoff is empty, and so is
	// one after a delivery due after it.
	f.wantStalled(f.at(150*time.Minute), all[4].ID, 10)
	f.wantStalled(f.at(time.Hour), all[5].ID, 10)
}

func testStalledCursor(t *testing.T, f *webhookFixture) {
	p := f.profile()
	event := func() core.WebhookDelivery { return f.delivery(core.EventHandoffMessage) }
	_, ds := f.turnWith(p, "a", 0, event(), event(), event(), event(), event())
	all := dueOrder(
		f.dueAt(ds[0], time.Hour), f.dueAt(ds[1], 2*time.Hour), f.dueAt(ds[2], 3*time.Hour),
		f.dueAt(ds[3], 4*time.Hour), f.dueAt(ds[4], 5*time.Hour),
	)
	cutoff := f.at(24 * time.Hour)
	f.wantStalled(cutoff, all[0].ID, 10, all[1:]...)

	// An id that is no delivery lists nothing.
	f.wantStalled(cutoff, f.id("evt"), 10)
	// A cursor retried since resumes from its new place.
	moved := f.dueAt(all[1], 4*time.Hour+30*time.Minute)
	f.wantStalled(cutoff, moved.ID, 10, all[4])
	f.wantStalled(cutoff, all[0].ID, 10, all[2], all[3], moved, all[4])
	// A cursor finished since, delivered or failed, lists nothing: its
	// place is gone.
	f.finished(all[2], core.DeliveryDelivered, 6*time.Hour)
	f.wantStalled(cutoff, all[2].ID, 10)
	f.finished(moved, core.DeliveryFailed, 6*time.Hour)
	f.wantStalled(cutoff, moved.ID, 10)
	f.wantStalled(cutoff, all[0].ID, 10, all[3], all[4])
	// Purged: nothing either.
	n, err := f.w.PurgeDeliveries(f.ctx, f.at(7*time.Hour), 10)
	storeWantNoErr(t, "PurgeDeliveries", err)
	if n != 2 {
		t.Fatalf("PurgeDeliveries deleted %d, want 2", n)
	}
	f.wantStalled(cutoff, all[2].ID, 10)
	f.wantStalled(cutoff, "", 10, all[0], all[3], all[4])
}
