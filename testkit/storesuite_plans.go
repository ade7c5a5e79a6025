package testkit

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
)

// planCases are RunStoreSuite's sub-tests of ports.PlanStore.
var planCases = []storeCase{
	{"SeedPlans", "inserts_missing_plans", testSeedPlansInserts},
	{"SeedPlans", "keeps_edited_and_archived_plans", testSeedPlansKeepsEdits},
	{"SeedPlans", "empty_list_is_a_no_op", testSeedPlansEmpty},
	{"CreatePlan", "round_trips_every_field", testCreatePlanRoundTrip},
	{"CreatePlan", "features_round_trip", testCreatePlanFeatures},
	{"CreatePlan", "taken_id_is_conflict", testCreatePlanTakenID},
	{"PlanByID", "unknown_id_is_not_found", testPlanByIDUnknown},
	{"PlanByID", "returns_archived_plans", testPlanByIDArchived},
	{"ListPlans", "zero_filter_lists_active_plans_in_catalog_order", testListPlansZeroFilter},
	{"ListPlans", "filters_by_lines", testListPlansLines},
	{"ListPlans", "include_archived_lists_every_plan", testListPlansIncludeArchived},
	{"ListPlans", "empty_catalog_is_empty", testListPlansEmpty},
	{"UpdatePlan", "stores_what_fn_leaves", testUpdatePlanStores},
	{"UpdatePlan", "fn_error_is_returned_as_is_and_nothing_changes", testUpdatePlanFnError},
	{"UpdatePlan", "in_use_is_true_only_when_a_subscription_uses_the_plan", testUpdatePlanInUse},
	{"UpdatePlan", "unknown_id_is_not_found_and_fn_is_not_called", testUpdatePlanUnknown},
	{"DeletePlan", "removes_an_unused_plan", testDeletePlanRemoves},
	{"DeletePlan", "plan_in_use_is_conflict_and_kept", testDeletePlanInUse},
	{"DeletePlan", "unknown_id_is_not_found", testDeletePlanUnknown},
}

// storeWantPlan checks that the store holds want under want.ID.
func storeWantPlan(t *testing.T, f *storeFixture, want core.Plan) {
	t.Helper()
	got, err := f.s.PlanByID(f.ctx, want.ID)
	storeWantNoErr(t, "PlanByID("+want.ID+")", err)
	storeWantEqual(t, "PlanByID("+want.ID+")", got, want, storeNormPlan)
}

func testSeedPlansInserts(t *testing.T, f *storeFixture) {
	seed := []core.Plan{f.plan(core.LineClientGallery), f.plan(core.LineDrive), f.plan(core.LineMessaging)}
	seed[1].Status = core.PlanArchived
	storeWantNoErr(t, "SeedPlans", f.s.SeedPlans(f.ctx, seed))
	for _, p := range seed {
		storeWantPlan(t, f, p)
	}
}

func testSeedPlansKeepsEdits(t *testing.T, f *storeFixture) {
	edited, archived, kept := f.plan(core.LineClientGallery), f.plan(core.LineDrive), f.plan(core.LineMessaging)
	seed := []core.Plan{edited, archived, kept}
	storeWantNoErr(t, "SeedPlans", f.s.SeedPlans(f.ctx, seed))

	edited, err := f.s.UpdatePlan(f.ctx, edited.ID, func(p *core.Plan, _ bool) error {
		p.Name, p.PriceMinor, p.Features = "Edited by an admin", 4200, []string{"only this"}
		return nil
	})
	storeWantNoErr(t, "UpdatePlan(edit)", err)
	archived, err = f.s.UpdatePlan(f.ctx, archived.ID, func(p *core.Plan, _ bool) error {
		p.Status = core.PlanArchived
		return nil
	})
	storeWantNoErr(t, "UpdatePlan(archive)", err)

	added := f.plan(core.LineDrive)
	storeWantNoErr(t, "SeedPlans(again)", f.s.SeedPlans(f.ctx, append(seed, added)))
	for _, p := range []core.Plan{edited, archived, kept, added} {
		storeWantPlan(t, f, p)
	}
}

func testSeedPlansEmpty(t *testing.T, f *storeFixture) {
	storeWantNoErr(t, "SeedPlans(nil)", f.s.SeedPlans(f.ctx, nil))
	plans, err := f.s.ListPlans(f.ctx, core.PlanFilter{IncludeArchived: true})
	storeWantNoErr(t, "ListPlans", err)
	if len(plans) != 0 {
		t.Fatalf("ListPlans after an empty seed = %v, want none", storePlanIDs(plans))
	}
}

func testCreatePlanRoundTrip(t *testing.T, f *storeFixture) {
	p := f.plan(core.LineClientGallery)
	p.BillingPeriod = core.PeriodAnnual
	p.StorageLimitBytes = 1 << 50 // past 32 bits
	p.SortOrder = -7
	f.createPlan(p)
	storeWantPlan(t, f, p)

	// The zero values survive too.
	zero := core.Plan{ID: f.id("plan"), Line: core.LineDrive, Status: core.PlanActive}
	f.createPlan(zero)
	storeWantPlan(t, f, zero)
}

func testCreatePlanFeatures(t *testing.T, f *storeFixture) {
	for _, features := range [][]string{
		nil,
		{},
		{""},
		{"one"},
		{"a", "b", "a"}, // order and duplicates are kept
		{`"quoted"`, `back\slash`, "new\nline", "tab\tand ünïcødé ✓", "[not, json]"},
	} {
		p := f.plan(core.LineDrive)
		p.Features = features
		f.createPlan(p)
		got, err := f.s.PlanByID(f.ctx, p.ID)
		storeWantNoErr(t, "PlanByID", err)
		if !slices.Equal(got.Features, features) {
			t.Fatalf("Features = %q, want %q", got.Features, features)
		}
	}
}

func testCreatePlanTakenID(t *testing.T, f *storeFixture) {
	p := f.createPlan(f.plan(core.LineMessaging))
	again := f.plan(core.LineDrive)
	again.ID = p.ID
	storeWantKind(t, f.s.CreatePlan(f.ctx, again), core.KindConflict, "")
	storeWantPlan(t, f, p)
}

func testPlanByIDUnknown(t *testing.T, f *storeFixture) {
	f.createPlan(f.plan(core.LineDrive))
	_, err := f.s.PlanByID(f.ctx, f.id("plan"))
	storeWantKind(t, err, core.KindNotFound, "")
}

func testPlanByIDArchived(t *testing.T, f *storeFixture) {
	p := f.plan(core.LineDrive)
	p.Status = core.PlanArchived
	f.createPlan(p)
	storeWantPlan(t, f, p)
}

// storeCatalog stores plans chosen to exercise every key of ListPlans' order
// (line, then SortOrder, then price, then id in byte order: "p-gB" before
// "p-ga"), in random order, and returns them in the order ListPlans owes.
func storeCatalog(t *testing.T, f *storeFixture) (active, archived []core.Plan) {
	t.Helper()
	mk := func(id string, line core.ProductLine, sortOrder int, price int64, status core.PlanStatus) core.Plan {
		p := f.plan(line)
		p.ID, p.SortOrder, p.PriceMinor, p.Status = id, sortOrder, price, status
		return p
	}
	active = []core.Plan{
		mk("p-gB", core.LineClientGallery, 2, 100, core.PlanActive),
		mk("p-ga", core.LineClientGallery, 2, 100, core.PlanActive),
		mk("p-gb", core.LineClientGallery, 2, 100, core.PlanActive),
		mk("p-g-pricier", core.LineClientGallery, 2, 101, core.PlanActive),
		mk("p-d0", core.LineDrive, 0, 9999, core.PlanActive),
		mk("p-d1b", core.LineDrive, 1, 100, core.PlanActive),
		mk("p-d2", core.LineDrive, 1, 500, core.PlanActive),
		mk("a-m1", core.LineMessaging, 0, 0, core.PlanActive),
	}
	archived = []core.Plan{
		mk("z-g-archived", core.LineClientGallery, 0, 0, core.PlanArchived),
		mk("z-m-archived", core.LineMessaging, 9, 0, core.PlanArchived),
	}
	all := slices.Concat(active, archived)
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for _, p := range all {
		f.createPlan(p)
	}
	return active, archived
}

func storeWantPlanList(t *testing.T, f *storeFixture, filter core.PlanFilter, want []core.Plan) {
	t.Helper()
	got, err := f.s.ListPlans(f.ctx, filter)
	storeWantNoErr(t, "ListPlans", err)
	if !slices.Equal(storePlanIDs(got), storePlanIDs(want)) {
		t.Fatalf("ListPlans(%+v) = %v, want %v", filter, storePlanIDs(got), storePlanIDs(want))
	}
	for i := range got {
		storeWantEqual(t, "ListPlans item", got[i], want[i], storeNormPlan)
	}
}

func testListPlansZeroFilter(t *testing.T, f *storeFixture) {
	active, _ := storeCatalog(t, f)
	sorted := slices.Clone(active)
	SortPlans(sorted) // the reference order agrees with the hand-made one
	if !slices.Equal(storePlanIDs(sorted), storePlanIDs(active)) {
		t.Fatalf("SortPlans = %v, want %v", storePlanIDs(sorted), storePlanIDs(active))
	}
	storeWantPlanList(t, f, core.PlanFilter{}, active)
}

func testListPlansLines(t *testing.T, f *storeFixture) {
	active, archived := storeCatalog(t, f)
	byLines := func(ps []core.Plan, lines ...core.ProductLine) []core.Plan {
		return slices.DeleteFunc(slices.Clone(ps), func(p core.Plan) bool { return !slices.Contains(lines, p.Line) })
	}
	storeWantPlanList(t, f, core.PlanFilter{Lines: []core.ProductLine{core.LineMessaging, core.LineDrive}},
		byLines(active, core.LineDrive, core.LineMessaging))
	storeWantPlanList(t, f, core.PlanFilter{Lines: []core.ProductLine{core.LineClientGallery}},
		byLines(active, core.LineClientGallery))

	all := slices.Concat(active, archived)
	SortPlans(all)
	storeWantPlanList(t, f, core.PlanFilter{Lines: []core.ProductLine{core.LineMessaging}, IncludeArchived: true},
		byLines(all, core.LineMessaging))
}

func testListPlansIncludeArchived(t *testing.T, f *storeFixture) {
	active, archived := storeCatalog(t, f)
	all := slices.Concat(active, archived)
	SortPlans(all)
	if all[0].ID != "z-g-archived" {
		t.Fatalf("SortPlans put %s first, want z-g-archived (SortOrder 0)", all[0].ID)
	}
	storeWantPlanList(t, f, core.PlanFilter{IncludeArchived: true}, all)
}

func testListPlansEmpty(t *testing.T, f *storeFixture) {
	plans, err := f.s.ListPlans(f.ctx, core.PlanFilter{IncludeArchived: true})
	storeWantNoErr(t, "ListPlans", err)
	if len(plans) != 0 {
		t.Fatalf("ListPlans of an empty catalog = %v", storePlanIDs(plans))
	}
}

func testUpdatePlanStores(t *testing.T, f *storeFixture) {
	p := f.createPlan(f.plan(core.LineClientGallery))
	want := p
	want.Name, want.Description = "Renamed", "New description"
	want.Features = []string{"new", "features"}
	want.StorageLimitBytes, want.MonthlyCredits, want.PriceMinor = 1, 2, 3
	want.Currency, want.BillingPeriod, want.ClientGalleryEnabled = "eur", core.PeriodAnnual, false
	want.StripePriceID, want.Status, want.SortOrder = "price_new", core.PlanArchived, 42
	want.UpdatedAt = f.now.Add(48*time.Hour + 777*time.Nanosecond)

	var gotInUse *bool
	got, err := f.s.UpdatePlan(f.ctx, p.ID, func(cur *core.Plan, inUse bool) error {
		gotInUse = &inUse
		storeWantEqual(t, "plan given to fn", *cur, p, storeNormPlan)
		*cur = want
		return nil
	})
	storeWantNoErr(t, "UpdatePlan", err)
	if gotInUse == nil || *gotInUse {
		t.Fatalf("fn called with inUse %v, want false", gotInUse)
	}
	storeWantEqual(t, "UpdatePlan result", got, want, storeNormPlan)
	storeWantPlan(t, f, want)
}

func testUpdatePlanFnError(t *testing.T, f *storeFixture) {
	p := f.createPlan(f.plan(core.LineDrive))
	refusal := errors.New("refused by the rule")
	for _, fnErr := range []error{refusal, core.Invalid("priceMinor", "no")} {
		_, err := f.s.UpdatePlan(f.ctx, p.ID, func(cur *core.Plan, _ bool) error {
			cur.Name, cur.Status, cur.Features = "changed", core.PlanArchived, nil
			return fnErr
		})
		if err != fnErr { // "returned as is": the very error, not a wrapper
			t.Fatalf("UpdatePlan returned %v, want fn's error %v as is", err, fnErr)
		}
		storeWantPlan(t, f, p)
	}
}

func testUpdatePlanInUse(t *testing.T, f *storeFixture) {
	a := f.createAccount()
	unused := f.createPlan(f.plan(core.LineDrive))
	for _, tc := range []struct {
		id    string
		inUse bool
	}{
		{a.Subscriptions[0].PlanID, true},
		{unused.ID, false},
	} {
		called := false
		_, err := f.s.UpdatePlan(f.ctx, tc.id, func(_ *core.Plan, inUse bool) error {
			called = true
			if inUse != tc.inUse {
				t.Errorf("UpdatePlan(%s): inUse %v, want %v", tc.id, inUse, tc.inUse)
			}
			return nil
		})
		storeWantNoErr(t, "UpdatePlan", err)
		if !called {
			t.Fatalf("UpdatePlan(%s) did not call fn", tc.id)
		}
	}
}

func testUpdatePlanUnknown(t *testing.T, f *storeFixture) {
	f.createPlan(f.plan(core.LineDrive))
	_, err := f.s.UpdatePlan(f.ctx, f.id("plan"), func(*core.Plan, bool) error {
		t.Error("fn called for an unknown plan")
		return nil
	})
	storeWantKind(t, err, core.KindNotFound, "")
}

func testDeletePlanRemoves(t *testing.T, f *storeFixture) {
	p := f.createPlan(f.plan(core.LineDrive))
	other := f.createPlan(f.plan(core.LineDrive))
	storeWantNoErr(t, "DeletePlan", f.s.DeletePlan(f.ctx, p.ID))
	_, err := f.s.PlanByID(f.ctx, p.ID)
	storeWantKind(t, err, core.KindNotFound, "")
	storeWantKind(t, f.s.DeletePlan(f.ctx, p.ID), core.KindNotFound, "")
	storeWantPlan(t, f, other)
}

func testDeletePlanInUse(t *testing.T, f *storeFixture) {
	a := f.createAccount()
	used := f.defaultPlans()[a.Subscriptions[0].Line]
	storeWantKind(t, f.s.DeletePlan(f.ctx, used.ID), core.KindConflict, "plan_in_use")
	storeWantPlan(t, f, used)
}

func testDeletePlanUnknown(t *testing.T, f *storeFixture) {
	f.createPlan(f.plan(core.LineDrive))
	storeWantKind(t, f.s.DeletePlan(f.ctx, f.id("plan")), core.KindNotFound, "")
}
