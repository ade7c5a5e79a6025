package testkit

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
)

// partnerAppCases are RunPartnerStoreSuite's sub-tests of the apps of
// ports.PartnerAppStore.
var partnerAppCases = []partnerCase{
	{"CreateApp", "round_trips_every_field", testCreateAppRoundTrip},
	{"CreateApp", "nil_and_empty_redirect_uris_round_trip", testCreateAppEmptyRedirects},
	{"CreateApp", "taken_id_is_app_exists_and_changes_nothing", testCreateAppTakenID},
	{"CreateApp", "taken_client_id_is_app_exists_and_stores_nothing", testCreateAppTakenClientID},
	{"CreateApp", "unknown_owner_is_not_found", testCreateAppUnknownOwner},
	{"CreateApp", "values_are_copied_in_and_out", testCreateAppCopies},
	{"AppByID", "unknown_id_is_not_found", testAppByIDUnknown},
	{"AppByClientID", "returns_suspended_apps", testAppByClientIDSuspended},
	{"AppByClientID", "unknown_client_id_is_not_found", testAppByClientIDUnknown},
	{"AppsByOwner", "lists_the_owners_apps_oldest_first", testAppsByOwner},
	{"AppsByOwner", "unknown_profile_has_none", testAppsByOwnerUnknown},
	{"ListApps", "pages_through_every_app_by_id", testListAppsPages},
	{"ListApps", "filters_by_status_across_pages", testListAppsStatus},
	{"UpdateApp", "stores_what_fn_leaves_but_not_the_id", testUpdateAppStores},
	{"UpdateApp", "fn_error_is_returned_as_is_and_nothing_changes", testUpdateAppFnError},
	{"UpdateApp", "unknown_id_is_not_found_and_fn_is_not_called", testUpdateAppUnknown},
	{"UpdateApp", "taken_client_id_is_app_exists_and_changes_nothing", testUpdateAppTakenClientID},
	{"DeleteApp", "revokes_links_and_their_keys_and_removes_the_app_and_its_stats", testDeleteApp},
	{"DeleteApp", "leaves_other_apps_and_own_keys_alone", testDeleteAppOthers},
	{"DeleteApp", "unknown_id_is_not_found", testDeleteAppUnknown},
}

func testCreateAppRoundTrip(t *testing.T, f *partnerFixture) {
	owner := f.createAccount()
	a := f.createApp(owner.Profile.ID)
	f.wantApp(t, a)
	suspended := f.app(owner.Profile.ID)
	suspended.Status, suspended.Line, suspended.RedirectURIs = core.AppSuspended, core.LineDrive, []string{"https://x.example/only"}
	storeWantNoErr(t, "CreateApp(suspended)", f.p.CreateApp(f.ctx, suspended))
	f.wantApp(t, suspended)
}

func testCreateAppEmptyRedirects(t *testing.T, f *partnerFixture) {
	owner := f.createAccount()
	for _, uris := range [][]string{nil, {}} {
		a := f.app(owner.Profile.ID)
		a.RedirectURIs = uris
		storeWantNoErr(t, "CreateApp", f.p.CreateApp(f.ctx, a))
		f.wantApp(t, a)
	}
}

func testCreateAppTakenID(t *testing.T, f *partnerFixture) {
	owner := f.createAccount()
	first := f.createApp(owner.Profile.ID)
	second := f.app(owner.Profile.ID)
	second.ID, second.Name = first.ID, "Second"
	storeWantKind(t, f.p.CreateApp(f.ctx, second), core.KindConflict, "app_exists")
	f.wantApp(t, first)
	_, err := f.p.AppByClientID(f.ctx, second.ClientID)
	storeWantKind(t, err, core.KindNotFound, "")
}

func testCreateAppTakenClientID(t *testing.T, f *partnerFixture) {
	owner, other := f.createAccount(), f.createAccount()
	first := f.createApp(owner.Profile.ID)
	second := f.app(other.Profile.ID)
	second.ClientID = first.ClientID
	storeWantKind(t, f.p.CreateApp(f.ctx, second), core.KindConflict, "app_exists")
	f.wantApp(t, first)
	_, err := f.p.AppByID(f.ctx, second.ID)
	storeWantKind(t, err, core.KindNotFound, "")
}

func testCreateAppUnknownOwner(t *testing.T, f *partnerFixture) {
	f.createAccount()
	a := f.app(f.id("prf"))
	storeWantKind(t, f.p.CreateApp(f.ctx, a), core.KindNotFound, "")
	f.wantNoApp(t, a)
}

func testCreateAppCopies(t *testing.T, f *partnerFixture) {
	owner := f.createAccount()
	a := f.app(owner.Profile.ID)
	want := a
	want.RedirectURIs = slices.Clone(a.RedirectURIs)
	storeWantNoErr(t, "CreateApp", f.p.CreateApp(f.ctx, a))
	a.RedirectURIs[0] = "https://evil.example/changed-after-create"
	got, err := f.p.AppByID(f.ctx, a.ID)
	storeWantNoErr(t, "AppByID", err)
	got.RedirectURIs[1] = "https://evil.example/changed-after-read"
	f.wantApp(t, want)
}

func testAppByIDUnknown(t *testing.T, f *partnerFixture) {
	f.createApp(f.createAccount().Profile.ID)
	_, err := f.p.AppByID(f.ctx, f.id("app"))
	storeWantKind(t, err, core.KindNotFound, "")
}

func testAppByClientIDSuspended(t *testing.T, f *partnerFixture) {
	a := f.app(f.createAccount().Profile.ID)
	a.Status = core.AppSuspended
	storeWantNoErr(t, "CreateApp", f.p.CreateApp(f.ctx, a))
	got, err := f.p.AppByClientID(f.ctx, a.ClientID)
	storeWantNoErr(t, "AppByClientID", err)
	storeWantEqual(t, "AppByClientID", got, a, partnerNormApp)
}

func testAppByClientIDUnknown(t *testing.T, f *partnerFixture) {
	a := f.createApp(f.createAccount().Profile.ID)
	_, err := f.p.AppByClientID(f.ctx, a.ClientID+"x")
	storeWantKind(t, err, core.KindNotFound, "")
}

func testAppsByOwner(t *testing.T, f *partnerFixture) {
	owner, other := f.createAccount(), f.createAccount()
	var want []core.PartnerApp
	for _, d := range []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour} {
		a := f.app(owner.Profile.ID)
		a.CreatedAt = f.now.Add(d)
		storeWantNoErr(t, "CreateApp", f.p.CreateApp(f.ctx, a))
		want = append(want, a)
		f.createApp(other.Profile.ID)
	}
	want = []core.PartnerApp{want[1], want[2], want[0]} // oldest first
	got, err := f.p.AppsByOwner(f.ctx, owner.Profile.ID)
	storeWantNoErr(t, "AppsByOwner", err)
	storeWantEqual(t, "AppsByOwner", got, want, partnerNormApps)
}

func testAppsByOwnerUnknown(t *testing.T, f *partnerFixture) {
	f.createApp(f.createAccount().Profile.ID)
	got, err := f.p.AppsByOwner(f.ctx, f.id("prf"))
	storeWantNoErr(t, "AppsByOwner", err)
	if len(got) != 0 {
		t.Fatalf("AppsByOwner of an unknown profile = %+v, want none", got)
	}
}

// listAllApps pages through ListApps with limit and status, checking that
// no page is longer than limit, and returns every app seen.
func listAllApps(t *testing.T, f *partnerFixture, status core.AppStatus, limit int) []core.PartnerApp {
	t.Helper()
	var all []core.PartnerApp
	q := core.AppQuery{Status: status, Limit: limit}
	for range 100 {
		page, err := f.p.ListApps(f.ctx, q)
		storeWantNoErr(t, "ListApps", err)
		if len(page) > limit {
			t.Fatalf("ListApps(%+v) returned %d apps, more than the limit", q, len(page))
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		q.After = page[len(page)-1].ID
	}
	t.Fatal("ListApps never ran out of apps")
	return nil
}

func testListAppsPages(t *testing.T, f *partnerFixture) {
	owners := []string{f.createAccount().Profile.ID, f.createAccount().Profile.ID}
	var want []core.PartnerApp
	for i := range 7 {
		a := f.app(owners[i%2])
		if i%3 == 0 {
			a.Status = core.AppSuspended
		}
		storeWantNoErr(t, "CreateApp", f.p.CreateApp(f.ctx, a))
		want = append(want, a)
	}
	slices.SortFunc(want, func(a, b core.PartnerApp) int { return strings.Compare(a.ID, b.ID) })

	got := listAllApps(t, f, "", 3)
	storeWantEqual(t, "ListApps, every page", got, want, partnerNormApps)

	page, err := f.p.ListApps(f.ctx, core.AppQuery{After: want[1].ID, Limit: 2})
	storeWantNoErr(t, "ListApps(after the second)", err)
	if ids := partnerAppIDs(page); !slices.Equal(ids, partnerAppIDs(want[2:4])) {
		t.Fatalf("ListApps(after %s, limit 2) = %v, want %v", want[1].ID, ids, partnerAppIDs(want[2:4]))
	}
	page, err = f.p.ListApps(f.ctx, core.AppQuery{After: want[len(want)-1].ID, Limit: 10})
	storeWantNoErr(t, "ListApps(after the last)", err)
	if len(page) != 0 {
		t.Fatalf("ListApps after the last id = %v, want none", partnerAppIDs(page))
	}
}

func testListAppsStatus(t *testing.T, f *partnerFixture) {
	owner := f.createAccount().Profile.ID
	var active, suspended []core.PartnerApp
	for i := range 8 {
		a := f.app(owner)
		if i%2 == 1 {
			a.Status = core.AppSuspended
			suspended = append(suspended, a)
		} else {
			active = append(active, a)
		}
		storeWantNoErr(t, "CreateApp", f.p.CreateApp(f.ctx, a))
	}
	byID := func(a, b core.PartnerApp) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(active, byID)
	slices.SortFunc(suspended, byID)
	storeWantEqual(t, "ListApps(suspended)", listAllApps(t, f, core.AppSuspended, 3), suspended, partnerNormApps)
	storeWantEqual(t, "ListApps(active)", listAllApps(t, f, core.AppActive, 1), active, partnerNormApps)
}

func testUpdateAppStores(t *testing.T, f *partnerFixture) {
	owner := f.createAccount().Profile.ID
	a, other := f.createApp(owner), f.createApp(owner)
	var seen core.PartnerApp
	got, err := f.p.UpdateApp(f.ctx, a.ID, func(cur *core.PartnerApp) error {
		seen = *cur
		cur.ID = f.id("app") // ignored
		cur.Name, cur.Status = "Renamed", core.AppSuspended
		cur.RedirectURIs = []string{"https://new.example/cb"}
		cur.SecretDigest, cur.SecretDisplayPrefix = core.Digest("rotated"), core.SecretPrefix+"ZyXwVu"
		cur.UpdatedAt = f.now.Add(time.Hour)
		return nil
	})
	storeWantNoErr(t, "UpdateApp", err)
	storeWantEqual(t, "fn saw", seen, a, partnerNormApp)
	want := a
	want.Name, want.Status = "Renamed", core.AppSuspended
	want.RedirectURIs = []string{"https://new.example/cb"}
	want.SecretDigest, want.SecretDisplayPrefix = core.Digest("rotated"), core.SecretPrefix+"ZyXwVu"
	want.UpdatedAt = f.now.Add(time.Hour)
	storeWantEqual(t, "UpdateApp", got, want, partnerNormApp)
	f.wantApp(t, want)
	f.wantApp(t, other)
}

func testUpdateAppFnError(t *testing.T, f *partnerFixture) {
	a := f.createApp(f.createAccount().Profile.ID)
	for _, fnErr := range []error{errors.New("refused by the rule"), core.NotFound("app")} {
		_, err := f.p.UpdateApp(f.ctx, a.ID, func(cur *core.PartnerApp) error {
			cur.Name, cur.Status, cur.RedirectURIs = "changed", core.AppSuspended, nil
			return fnErr
		})
		if err != fnErr { // "returned as is": the very error, not a wrapper
			t.Fatalf("UpdateApp returned %v, want fn's error %v as is", err, fnErr)
		}
		f.wantApp(t, a)
	}
}

func testUpdateAppUnknown(t *testing.T, f *partnerFixture) {
	f.createApp(f.createAccount().Profile.ID)
	called := false
	_, err := f.p.UpdateApp(f.ctx, f.id("app"), func(*core.PartnerApp) error { called = true; return nil })
	storeWantKind(t, err, core.KindNotFound, "")
	if called {
		t.Fatal("UpdateApp called fn for an unknown app")
	}
}

func testUpdateAppTakenClientID(t *testing.T, f *partnerFixture) {
	owner := f.createAccount().Profile.ID
	a, b := f.createApp(owner), f.createApp(owner)
	_, err := f.p.UpdateApp(f.ctx, b.ID, func(cur *core.PartnerApp) error {
		cur.ClientID, cur.Name = a.ClientID, "Taking a's client id"
		return nil
	})
	storeWantKind(t, err, core.KindConflict, "app_exists")
	f.wantApp(t, a)
	f.wantApp(t, b)
}

// linkedKeyActive reports whether APIKeyByDigest finds the key with digest.
func linkedKeyActive(t *testing.T, f *partnerFixture, digest string) bool {
	t.Helper()
	_, err := f.p.APIKeyByDigest(f.ctx, digest)
	if err != nil && !core.IsKind(err, core.KindNotFound) {
		t.Fatalf("APIKeyByDigest: %v", err)
	}
	return err == nil
}

func testDeleteApp(t *testing.T, f *partnerFixture) {
	owner := f.createAccount().Profile.ID
	app := f.createApp(owner)
	ann, bob := f.createAccount(), f.createAccount()
	annLink := f.ensureLink(ann.Profile.ID, app.ID)
	annKeys := f.replaceLinkKeys(annLink)
	bobLink := f.ensureLink(bob.Profile.ID, app.ID)
	bobKeys := f.replaceLinkKeys(bobLink)
	earlier := f.now.Add(4 * time.Minute)
	storeWantNoErr(t, "RevokeLink(bob)", f.p.RevokeLink(f.ctx, bob.Profile.ID, bobLink.ID, earlier))
	storeWantNoErr(t, "AddAppStat", f.p.AddAppStat(f.ctx, app.ID, f.now, core.StatStarts, 5))

	at := f.now.Add(time.Hour)
	storeWantNoErr(t, "DeleteApp", f.p.DeleteApp(f.ctx, app.ID, at))

	f.wantNoApp(t, app)
	apps, err := f.p.AppsByOwner(f.ctx, owner)
	storeWantNoErr(t, "AppsByOwner", err)
	if len(apps) != 0 {
		t.Fatalf("AppsByOwner after DeleteApp = %v, want none", partnerAppIDs(apps))
	}
	stats, err := f.p.AppStats(f.ctx, app.ID, f.now.AddDate(0, 0, -1), f.now.AddDate(0, 0, 1))
	storeWantNoErr(t, "AppStats", err)
	if len(stats) != 0 {
		t.Fatalf("AppStats after DeleteApp = %+v, want none", stats)
	}
	for _, k := range slices.Concat(annKeys, bobKeys) {
		if linkedKeyActive(t, f, k.Digest) {
			t.Fatalf("link key %s (%s) still active after DeleteApp", k.ID, k.Line)
		}
	}
	// The links stay, revoked and detached from the deleted app.
	for _, tc := range []struct {
		acc       core.Account
		link      core.ConnectLink
		revokedAt time.Time
	}{{ann, annLink, at}, {bob, bobLink, earlier}} {
		_, err := f.p.LinkFor(f.ctx, tc.acc.Profile.ID, app.ID)
		storeWantKind(t, err, core.KindNotFound, "")
		want := tc.link
		want.AppID, want.RevokedAt, want.UpdatedAt = "", &tc.revokedAt, tc.revokedAt
		links, err := f.p.LinksByProfile(f.ctx, tc.acc.Profile.ID)
		storeWantNoErr(t, "LinksByProfile", err)
		storeWantEqual(t, "LinksByProfile", links, []core.ConnectLink{want}, partnerNormLinks)
		// The profile's own keys are untouched.
		keys, err := f.p.ActiveAPIKeys(f.ctx, tc.acc.Profile.ID)
		storeWantNoErr(t, "ActiveAPIKeys", err)
		storeWantEqual(t, "ActiveAPIKeys", keys, tc.acc.Keys, storeNormKeys)
	}
	// A revoked link of a deleted app cannot receive keys.
	err = f.p.ReplaceLinkKeys(f.ctx, annLink.ID, f.linkKeys(annLink), at)
	storeWantKind(t, err, core.KindNotFound, "")
}

func testDeleteAppOthers(t *testing.T, f *partnerFixture) {
	owner := f.createAccount().Profile.ID
	gone, kept := f.createApp(owner), f.createApp(owner)
	ann := f.createAccount()
	f.replaceLinkKeys(f.ensureLink(ann.Profile.ID, gone.ID))
	keptLink := f.ensureLink(ann.Profile.ID, kept.ID)
	keptKeys := f.replaceLinkKeys(keptLink)
	storeWantNoErr(t, "AddAppStat(kept)", f.p.AddAppStat(f.ctx, kept.ID, f.now, core.StatExchanges, 2))
	storeWantNoErr(t, "AddAppStat(gone)", f.p.AddAppStat(f.ctx, gone.ID, f.now, core.StatExchanges, 3))

	storeWantNoErr(t, "DeleteApp", f.p.DeleteApp(f.ctx, gone.ID, f.now.Add(time.Hour)))

	f.wantApp(t, kept)
	link, err := f.p.LinkFor(f.ctx, ann.Profile.ID, kept.ID)
	storeWantNoErr(t, "LinkFor(kept)", err)
	storeWantEqual(t, "LinkFor(kept)", link, keptLink, partnerNormLink)
	keys, err := f.p.ActiveAPIKeys(f.ctx, ann.Profile.ID)
	storeWantNoErr(t, "ActiveAPIKeys", err)
	storeWantEqual(t, "ActiveAPIKeys", keys, slices.Concat(ann.Keys, keptKeys), storeNormKeys)
	stats, err := f.p.AppStats(f.ctx, kept.ID, f.now, f.now)
	storeWantNoErr(t, "AppStats(kept)", err)
	storeWantEqual(t, "AppStats(kept)", stats, []core.AppDayStats{{Day: utcDay(f.now), Exchanges: 2}}, partnerNormStats)
}

func testDeleteAppUnknown(t *testing.T, f *partnerFixture) {
	a := f.createApp(f.createAccount().Profile.ID)
	storeWantKind(t, f.p.DeleteApp(f.ctx, f.id("app"), f.now), core.KindNotFound, "")
	f.wantApp(t, a)
}

// partnerStatCases are RunPartnerStoreSuite's sub-tests of the analytics of
// ports.PartnerAppStore.
var partnerStatCases = []partnerCase{
	{"AddAppStat", "adds_to_each_counter_of_the_utc_day", testAddAppStatAdds},
	{"AddAppStat", "concurrent_adds_are_never_lost", testAddAppStatConcurrent},
	{"AddAppStat", "unknown_app_is_not_found", testAddAppStatUnknownApp},
	{"AddAppStat", "unknown_stat_is_invalid", testAddAppStatUnknownStat},
	{"AppStats", "window_is_inclusive_and_oldest_first", testAppStatsWindow},
	{"AppStats", "days_without_a_row_and_other_apps_are_left_out", testAppStatsSparse},
}

func testAddAppStatAdds(t *testing.T, f *partnerFixture) {
	a := f.createApp(f.createAccount().Profile.ID)
	day := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	ist := time.FixedZone("UTC+05:30", 5*3600+1800)
	for _, add := range []struct {
		at   time.Time
		stat core.AppStat
		n    int64
	}{
		{day, core.StatStarts, 1},
		{day.Add(23*time.Hour + 59*time.Minute + 59*time.Second + 999999999), core.StatStarts, 2},
		{time.Date(2025, 3, 15, 2, 0, 0, 0, ist), core.StatCompletions, 3}, // 20:30 UTC on the 14th
		{day.Add(12 * time.Hour), core.StatExchanges, 4},
		{day.Add(13 * time.Hour), core.StatFailedExchanges, 5},
		{day.Add(-time.Nanosecond), core.StatStarts, 100},             // the 13th
		{time.Date(2025, 3, 15, 6, 0, 0, 0, ist), core.StatStarts, 7}, // 00:30 UTC on the 15th
	} {
		storeWantNoErr(t, "AddAppStat", f.p.AddAppStat(f.ctx, a.ID, add.at, add.stat, add.n))
	}
	got, err := f.p.AppStats(f.ctx, a.ID, day.AddDate(0, 0, -1), day.AddDate(0, 0, 1))
	storeWantNoErr(t, "AppStats", err)
	want := []core.AppDayStats{
		{Day: day.AddDate(0, 0, -1), Starts: 100},
		{Day: day, Starts: 3, Completions: 3, Exchanges: 4, FailedExchanges: 5},
		{Day: day.AddDate(0, 0, 1), Starts: 7},
	}
	storeWantEqual(t, "AppStats", got, want, partnerNormStats)
}

func testAddAppStatConcurrent(t *testing.T, f *partnerFixture) {
	a := f.createApp(f.createAccount().Profile.ID)
	stats := []core.AppStat{core.StatStarts, core.StatCompletions, core.StatExchanges, core.StatFailedExchanges}
	errs := make([]error, storeConcurrency)
	var wg sync.WaitGroup
	for i := range storeConcurrency {
		wg.Go(func() {
			for j, st := range stats {
				if err := f.p.AddAppStat(f.ctx, a.ID, f.now, st, int64(i+j)); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		storeWantNoErr(t, fmt.Sprintf("AddAppStat (goroutine %d)", i), err)
	}
	sum := func(j int) int64 { // Σ (i + j) for i in [0, storeConcurrency)
		n := int64(storeConcurrency)
		return n*(n-1)/2 + n*int64(j)
	}
	got, err := f.p.AppStats(f.ctx, a.ID, f.now, f.now)
	storeWantNoErr(t, "AppStats", err)
	want := []core.AppDayStats{{Day: utcDay(f.now), Starts: sum(0), Completions: sum(1), Exchanges: sum(2), FailedExchanges: sum(3)}}
	storeWantEqual(t, "AppStats", got, want, partnerNormStats)
}

func testAddAppStatUnknownApp(t *testing.T, f *partnerFixture) {
	f.createApp(f.createAccount().Profile.ID)
	id := f.id("app")
	storeWantKind(t, f.p.AddAppStat(f.ctx, id, f.now, core.StatStarts, 1), core.KindNotFound, "")
	got, err := f.p.AppStats(f.ctx, id, f.now, f.now)
	storeWantNoErr(t, "AppStats", err)
	if len(got) != 0 {
		t.Fatalf("AppStats of an unknown app = %+v, want none", got)
	}
}

func testAddAppStatUnknownStat(t *testing.T, f *partnerFixture) {
	a := f.createApp(f.createAccount().Profile.ID)
	storeWantDetail(t, f.p.AddAppStat(f.ctx, a.ID, f.now, core.AppStat("views"), 1), "stat")
	got, err := f.p.AppStats(f.ctx, a.ID, f.now, f.now)
	storeWantNoErr(t, "AppStats", err)
	if len(got) != 0 {
		t.Fatalf("AppStats after a refused add = %+v, want none", got)
	}
}

func testAppStatsWindow(t *testing.T, f *partnerFixture) {
	a := f.createApp(f.createAccount().Profile.ID)
	d := utcDay(f.now)
	for i := -2; i <= 3; i++ {
		storeWantNoErr(t, "AddAppStat", f.p.AddAppStat(f.ctx, a.ID, d.AddDate(0, 0, i), core.StatStarts, int64(10+i)))
	}
	got, err := f.p.AppStats(f.ctx, a.ID, d.AddDate(0, 0, -1), d.AddDate(0, 0, 1))
	storeWantNoErr(t, "AppStats", err)
	want := []core.AppDayStats{
		{Day: d.AddDate(0, 0, -1), Starts: 9},
		{Day: d, Starts: 10},
		{Day: d.AddDate(0, 0, 1), Starts: 11},
	}
	storeWantEqual(t, "AppStats(3 days)", got, want, partnerNormStats)
	got, err = f.p.AppStats(f.ctx, a.ID, d, d)
	storeWantNoErr(t, "AppStats(one day)", err)
	storeWantEqual(t, "AppStats(one day)", got, want[1:2], partnerNormStats)
	got, err = f.p.AppStats(f.ctx, a.ID, d.AddDate(0, 0, 10), d.AddDate(0, 0, 20))
	storeWantNoErr(t, "AppStats(no rows)", err)
	if len(got) != 0 {
		t.Fatalf("AppStats of a window without rows = %+v, want none", got)
	}
}

func testAppStatsSparse(t *testing.T, f *partnerFixture) {
	owner := f.createAccount().Profile.ID
	a, b := f.createApp(owner), f.createApp(owner)
	d := utcDay(f.now)
	storeWantNoErr(t, "AddAppStat", f.p.AddAppStat(f.ctx, a.ID, d, core.StatCompletions, 1))
	storeWantNoErr(t, "AddAppStat", f.p.AddAppStat(f.ctx, a.ID, d.AddDate(0, 0, 5), core.StatCompletions, 2))
	storeWantNoErr(t, "AddAppStat(other app)", f.p.AddAppStat(f.ctx, b.ID, d.AddDate(0, 0, 2), core.StatCompletions, 50))
	got, err := f.p.AppStats(f.ctx, a.ID, d.AddDate(0, 0, -30), d.AddDate(0, 0, 30))
	storeWantNoErr(t, "AppStats", err)
	want := []core.AppDayStats{{Day: d, Completions: 1}, {Day: d.AddDate(0, 0, 5), Completions: 2}}
	storeWantEqual(t, "AppStats", got, want, partnerNormStats)
}
