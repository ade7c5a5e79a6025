package billing

import (
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
)

// TestDecideIgnoresAStaleRead covers the race the store's lock orders: two
// applications read the provider at t1 and t2 and commit t2's first; t1's,
// committed second, must not bring back the older state.
func TestDecideIgnoresAStaleRead(t *testing.T) {
	t.Parallel()
	t1 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Second)
	paid := core.Plan{ID: "plan_paid", Line: core.LineDrive, PriceMinor: 900}
	plans := map[string]core.Plan{paid.ID: paid}
	cur := &core.Subscription{ID: "sub_1", ProfileID: "prof_1", Line: core.LineDrive, PlanID: paid.ID, Status: core.StatusPastDue, StripeSubscriptionID: "sub_p"}
	active := core.ProviderSubscription{ID: "sub_p", Status: core.StatusActive, Line: core.LineDrive, PlanID: paid.ID}
	if got := decide(cur, &t2, t1, "prof_1", active, paid, nil, plans, "sub_new", t1); got != nil {
		t.Fatalf("a read older than the stored one was applied: %+v", got)
	}
	got := decide(cur, &t1, t2, "prof_1", active, paid, nil, plans, "sub_new", t2)
	if got == nil || got.Status != core.StatusActive || got.ID != "sub_1" || got.CreatedAt != cur.CreatedAt {
		t.Fatalf("a newer read: %+v", got)
	}
	if got := decide(cur, &t1, t1, "prof_1", active, paid, nil, plans, "sub_new", t1); got == nil {
		t.Fatal("a read at the same instant is not stale")
	}
}
