package testkit

import (
	"bytes"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// simulatedCases are the contract of ports.SimulatedPaymentsStore, run by
// RunBillingStoreSuite.
var simulatedCases = []billingCase{
	{"CreateSimulated", "round_trips_and_a_second_create_is_conflict", testSimulatedCreate},
	{"Simulated", "unknown_is_not_found", testSimulatedUnknown},
	{"UpdateSimulated", "replaces_the_data_and_an_error_changes_nothing", testSimulatedUpdate},
	{"UpdateSimulated", "20_concurrent_updates_all_apply", testSimulatedUpdateRace},
	{"ListSimulated", "lists_one_customers_kind_newest_first", testSimulatedList},
}

func (f *billingFixture) simulated(kind, customerID, data string, at time.Time) ports.SimulatedRecord {
	f.t.Helper()
	r := ports.SimulatedRecord{Kind: kind, ID: f.id(kind), CustomerID: customerID, Data: []byte(data), CreatedAt: at}
	if err := f.b.CreateSimulated(f.ctx, r); err != nil {
		f.t.Fatal(err)
	}
	return r
}

func testSimulatedCreate(t *testing.T, f *billingFixture) {
	r := f.simulated("checkout", "cus_1", `{"status":"open"}`, f.now)
	got, err := f.b.Simulated(f.ctx, "checkout", r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != r.Kind || got.ID != r.ID || got.CustomerID != "cus_1" || string(got.Data) != `{"status":"open"}` ||
		!got.CreatedAt.Equal(f.now.Truncate(time.Microsecond)) {
		t.Fatalf("Simulated = %+v, want %+v", got, r)
	}
	again := r
	again.Data = []byte(`{"status":"other"}`)
	storeWantKind(t, f.b.CreateSimulated(f.ctx, again), core.KindConflict, "")
	if got, _ = f.b.Simulated(f.ctx, "checkout", r.ID); string(got.Data) != `{"status":"open"}` {
		t.Fatalf("a refused create changed the data to %s", got.Data)
	}
	// The same id under another kind is another object.
	other := r
	other.Kind = "subscription"
	if err := f.b.CreateSimulated(f.ctx, other); err != nil {
		t.Fatal(err)
	}
}

func testSimulatedUnknown(t *testing.T, f *billingFixture) {
	_, err := f.b.Simulated(f.ctx, "checkout", "cs_nope")
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.b.UpdateSimulated(f.ctx, "checkout", "cs_nope", func(b []byte) ([]byte, error) { return b, nil })
	storeWantKind(t, err, core.KindNotFound, "")
}

func testSimulatedUpdate(t *testing.T, f *billingFixture) {
	r := f.simulated("subscription", "cus_1", `{"status":"active"}`, f.now)
	got, err := f.b.UpdateSimulated(f.ctx, "subscription", r.ID, func(b []byte) ([]byte, error) {
		if string(b) != `{"status":"active"}` {
			t.Errorf("fn saw %s", b)
		}
		return []byte(`{"status":"canceled"}`), nil
	})
	if err != nil || string(got.Data) != `{"status":"canceled"}` || got.CustomerID != "cus_1" {
		t.Fatalf("UpdateSimulated = %+v, %v", got, err)
	}
	boom := errors.New("boom")
	_, err = f.b.UpdateSimulated(f.ctx, "subscription", r.ID, func([]byte) ([]byte, error) { return []byte(`{}`), boom })
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateSimulated = %v, want %v", err, boom)
	}
	if got, _ = f.b.Simulated(f.ctx, "subscription", r.ID); string(got.Data) != `{"status":"canceled"}` {
		t.Fatalf("a failed update changed the data to %s", got.Data)
	}
}

func testSimulatedUpdateRace(t *testing.T, f *billingFixture) {
	r := f.simulated("counter", "", "0", f.now)
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := f.b.UpdateSimulated(f.ctx, "counter", r.ID, func(b []byte) ([]byte, error) {
				v, err := strconv.Atoi(string(b))
				return []byte(strconv.Itoa(v + 1)), err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got, _ := f.b.Simulated(f.ctx, "counter", r.ID); !bytes.Equal(got.Data, []byte(strconv.Itoa(n))) {
		t.Fatalf("after %d concurrent increments the counter is %s", n, got.Data)
	}
}

func testSimulatedList(t *testing.T, f *billingFixture) {
	cus := "cus_" + f.id("l")
	old := f.simulated("invoice", cus, `1`, f.now.Add(-time.Hour))
	mid := f.simulated("invoice", cus, `2`, f.now)
	last := f.simulated("invoice", cus, `3`, f.now.Add(time.Hour))
	f.simulated("invoice", "cus_other", `x`, f.now)
	f.simulated("charge", cus, `y`, f.now)
	got, err := f.b.ListSimulated(f.ctx, "invoice", cus, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != last.ID || got[1].ID != mid.ID || got[2].ID != old.ID || string(got[0].Data) != "3" {
		t.Fatalf("ListSimulated = %+v, want %s, %s, %s", got, last.ID, mid.ID, old.ID)
	}
	if got, _ = f.b.ListSimulated(f.ctx, "invoice", cus, 2); len(got) != 2 || got[1].ID != mid.ID {
		t.Fatalf("ListSimulated with limit 2 = %+v", got)
	}
	if got, _ = f.b.ListSimulated(f.ctx, "invoice", "cus_nobody", 10); len(got) != 0 {
		t.Fatalf("ListSimulated of nobody = %+v", got)
	}
}
