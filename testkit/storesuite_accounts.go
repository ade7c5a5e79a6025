package testkit

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
)

// storeConcurrency is how many goroutines the race sub-tests start.
const storeConcurrency = 20

// accountCases are RunStoreSuite's sub-tests of ports.AccountStore.
var accountCases = []storeCase{
	{"CreateAccount", "stores_every_part_and_round_trips_times", testCreateAccountStoresEveryPart},
	{"CreateAccount", "duplicate_email_differing_in_case_is_conflict_and_writes_nothing", testCreateAccountDuplicateEmail},
	{"CreateAccount", "concurrent_registrations_of_one_email_let_exactly_one_succeed", testCreateAccountConcurrentEmail},
	{"CreateAccount", "subscription_to_unknown_plan_is_invalid_and_writes_nothing", testCreateAccountUnknownPlan},
	{"ProfileByID", "unknown_id_is_not_found", testProfileByIDUnknown},
	{"ProfileByEmail", "finds_the_profile_by_normalized_email", testProfileByEmailFinds},
	{"ProfileByEmail", "unknown_email_is_not_found", testProfileByEmailUnknown},
	{"StudioByProfile", "unknown_profile_is_not_found", testStudioByProfileUnknown},
	{"DriveByProfile", "unknown_profile_is_not_found", testDriveByProfileUnknown},
	{"Subscriptions", "round_trip_with_and_without_current_period_end", testSubscriptionsRoundTrip},
	{"Subscriptions", "lists_only_the_profiles_own", testSubscriptionsOwnOnly},
	{"Subscriptions", "unknown_profile_has_none", testSubscriptionsUnknownProfile},
	{"APIKeyByDigest", "finds_an_active_key", testAPIKeyByDigestFinds},
	{"APIKeyByDigest", "unknown_digest_is_not_found", testAPIKeyByDigestUnknown},
	{"APIKeyByDigest", "revoked_key_is_not_found", testAPIKeyByDigestRevoked},
	{"ActiveAPIKeys", "lists_only_the_profiles_unrevoked_keys", testActiveAPIKeysOwnUnrevoked},
	{"ActiveAPIKeys", "unknown_profile_has_none", testActiveAPIKeysUnknownProfile},
	{"RotateAPIKey", "revokes_the_lines_keys_and_stores_the_new_one", testRotateAPIKey},
	{"RotateAPIKey", "unknown_profile_is_not_found_and_stores_nothing", testRotateAPIKeyUnknownProfile},
	{"RotateAPIKey", "concurrent_rotations_leave_exactly_one_active_key", testRotateAPIKeyConcurrent},
	{"RotateAPIKey", "leaves_link_keys_alone", testRotateAPIKeyLeavesLinkKeys},
	{"SetSubscription", "replaces_the_lines_subscription_keeping_its_id", testSetSubscriptionReplaces},
	{"SetSubscription", "adds_a_subscription_to_a_line_without_one", testSetSubscriptionAdds},
	{"SetSubscription", "unknown_profile_is_not_found_and_stores_nothing", testSetSubscriptionUnknownProfile},
	{"SetSubscription", "unknown_plan_is_invalid_and_changes_nothing", testSetSubscriptionUnknownPlan},
	{"SetSubscription", "concurrent_sets_of_one_line_leave_one_subscription", testSetSubscriptionConcurrent},
}

func testCreateAccountStoresEveryPart(t *testing.T, f *storeFixture) {
	a := f.createAccount()
	ctx, pid := f.ctx, a.Profile.ID

	p, err := f.s.ProfileByID(ctx, pid)
	storeWantNoErr(t, "ProfileByID", err)
	storeWantEqual(t, "ProfileByID", p, a.Profile, storeNormProfile)

	p, err = f.s.ProfileByEmail(ctx, a.Profile.EmailNormalized)
	storeWantNoErr(t, "ProfileByEmail", err)
	storeWantEqual(t, "ProfileByEmail", p, a.Profile, storeNormProfile)

	st, err := f.s.StudioByProfile(ctx, pid)
	storeWantNoErr(t, "StudioByProfile", err)
	storeWantEqual(t, "StudioByProfile", st, a.Studio, storeNormStudio)

	d, err := f.s.DriveByProfile(ctx, pid)
	storeWantNoErr(t, "DriveByProfile", err)
	storeWantEqual(t, "DriveByProfile", d, a.Drive, storeNormDrive)

	subs, err := f.s.Subscriptions(ctx, pid)
	storeWantNoErr(t, "Subscriptions", err)
	storeWantEqual(t, "Subscriptions", subs, a.Subscriptions, storeNormSubs)

	keys, err := f.s.ActiveAPIKeys(ctx, pid)
	storeWantNoErr(t, "ActiveAPIKeys", err)
	storeWantEqual(t, "ActiveAPIKeys", keys, a.Keys, storeNormKeys)
	// Every time field went in with nanoseconds in a non-UTC zone (storeSuiteTime);
	// storeWantEqual compares them in UTC, truncated to the microsecond.
}

func testCreateAccountDuplicateEmail(t *testing.T, f *storeFixture) {
	first := f.account("Ann.Smith@Example.com")
	storeWantNoErr(t, "first CreateAccount", f.s.CreateAccount(f.ctx, first))

	second := f.account("ann.smith@EXAMPLE.COM") // same normalized email, new ids
	err := f.s.CreateAccount(f.ctx, second)
	storeWantKind(t, err, core.KindConflict, "email_taken")
	storeWantNothingStored(t, f, second)

	p, err := f.s.ProfileByEmail(f.ctx, "ann.smith@example.com")
	storeWantNoErr(t, "ProfileByEmail", err)
	if p.ID != first.Profile.ID {
		t.Fatalf("ProfileByEmail = %s, want the first account %s", p.ID, first.Profile.ID)
	}
}

func testCreateAccountConcurrentEmail(t *testing.T, f *storeFixture) {
	email := f.email()
	accounts := make([]core.Account, storeConcurrency)
	for i := range accounts {
		e := email
		if i%2 == 1 {
			e = strings.ToUpper(email) // the same normalized email
		}
		accounts[i] = f.account(e)
	}
	errs := make([]error, storeConcurrency)
	var wg sync.WaitGroup
	for i := range accounts {
		wg.Go(func() { errs[i] = f.s.CreateAccount(f.ctx, accounts[i]) })
	}
	wg.Wait()

	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("accounts %d and %d both registered %s", winner, i, email)
			}
			winner = i
			continue
		}
		storeWantKind(t, err, core.KindConflict, "email_taken")
	}
	if winner < 0 {
		t.Fatalf("no registration succeeded: %v", errs[0])
	}
	p, err := f.s.ProfileByEmail(f.ctx, strings.ToLower(email))
	storeWantNoErr(t, "ProfileByEmail", err)
	if p.ID != accounts[winner].Profile.ID {
		t.Fatalf("ProfileByEmail = %s, want the winner %s", p.ID, accounts[winner].Profile.ID)
	}
	for i, a := range accounts {
		if i != winner {
			storeWantNothingStored(t, f, a)
		}
	}
}

func testCreateAccountUnknownPlan(t *testing.T, f *storeFixture) {
	a := f.account(f.email())
	a.Subscriptions[1].PlanID = f.id("plan") // never stored
	err := f.s.CreateAccount(f.ctx, a)
	storeWantKind(t, err, core.KindInvalid, "")
	storeWantNothingStored(t, f, a)
	_, err = f.s.ProfileByEmail(f.ctx, a.Profile.EmailNormalized)
	storeWantKind(t, err, core.KindNotFound, "")
}

// storeWantNothingStored checks that no part of a was written.
func storeWantNothingStored(t *testing.T, f *storeFixture, a core.Account) {
	t.Helper()
	pid := a.Profile.ID
	_, err := f.s.ProfileByID(f.ctx, pid)
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.s.StudioByProfile(f.ctx, pid)
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.s.DriveByProfile(f.ctx, pid)
	storeWantKind(t, err, core.KindNotFound, "")
	subs, err := f.s.Subscriptions(f.ctx, pid)
	storeWantNoErr(t, "Subscriptions", err)
	if len(subs) != 0 {
		t.Fatalf("Subscriptions of a refused account = %+v, want none", subs)
	}
	keys, err := f.s.ActiveAPIKeys(f.ctx, pid)
	storeWantNoErr(t, "ActiveAPIKeys", err)
	if len(keys) != 0 {
		t.Fatalf("ActiveAPIKeys of a refused account = %+v, want none", keys)
	}
	for _, k := range a.Keys {
		_, err := f.s.APIKeyByDigest(f.ctx, k.Digest)
		storeWantKind(t, err, core.KindNotFound, "")
	}
}

func testProfileByIDUnknown(t *testing.T, f *storeFixture) {
	f.createAccount()
	_, err := f.s.ProfileByID(f.ctx, f.id("prf"))
	storeWantKind(t, err, core.KindNotFound, "")
}

func testProfileByEmailFinds(t *testing.T, f *storeFixture) {
	a := f.createAccount()
	other := f.createAccount()
	p, err := f.s.ProfileByEmail(f.ctx, strings.ToLower(a.Profile.Email))
	storeWantNoErr(t, "ProfileByEmail", err)
	storeWantEqual(t, "ProfileByEmail", p, a.Profile, storeNormProfile)
	p, err = f.s.ProfileByEmail(f.ctx, other.Profile.EmailNormalized)
	storeWantNoErr(t, "ProfileByEmail", err)
	storeWantEqual(t, "ProfileByEmail", p, other.Profile, storeNormProfile)
}

func testProfileByEmailUnknown(t *testing.T, f *storeFixture) {
	f.createAccount()
	_, err := f.s.ProfileByEmail(f.ctx, "nobody@example.com")
	storeWantKind(t, err, core.KindNotFound, "")
}

func testStudioByProfileUnknown(t *testing.T, f *storeFixture) {
	f.createAccount()
	_, err := f.s.StudioByProfile(f.ctx, f.id("prf"))
	storeWantKind(t, err, core.KindNotFound, "")
}

func testDriveByProfileUnknown(t *testing.T, f *storeFixture) {
	f.createAccount()
	_, err := f.s.DriveByProfile(f.ctx, f.id("prf"))
	storeWantKind(t, err, core.KindNotFound, "")
}

func testSubscriptionsRoundTrip(t *testing.T, f *storeFixture) {
	a := f.createAccount()
	subs, err := f.s.Subscriptions(f.ctx, a.Profile.ID)
	storeWantNoErr(t, "Subscriptions", err)
	storeWantEqual(t, "Subscriptions", subs, a.Subscriptions, storeNormSubs)
	var withEnd, withoutEnd int
	for _, s := range subs {
		if s.CurrentPeriodEnd == nil {
			withoutEnd++
		} else {
			withEnd++
		}
	}
	if withEnd != 1 || withoutEnd != len(subs)-1 {
		t.Fatalf("got %d subscriptions with a CurrentPeriodEnd and %d without, want 1 and %d", withEnd, withoutEnd, len(subs)-1)
	}
}

func testSubscriptionsOwnOnly(t *testing.T, f *storeFixture) {
	a, b := f.createAccount(), f.createAccount()
	for _, acc := range []core.Account{a, b} {
		subs, err := f.s.Subscriptions(f.ctx, acc.Profile.ID)
		storeWantNoErr(t, "Subscriptions", err)
		storeWantEqual(t, "Subscriptions", subs, acc.Subscriptions, storeNormSubs)
	}
}

func testSubscriptionsUnknownProfile(t *testing.T, f *storeFixture) {
	f.createAccount()
	subs, err := f.s.Subscriptions(f.ctx, f.id("prf"))
	storeWantNoErr(t, "Subscriptions", err)
	if len(subs) != 0 {
		t.Fatalf("Subscriptions of an unknown profile = %+v, want none", subs)
	}
}

func testAPIKeyByDigestFinds(t *testing.T, f *storeFixture) {
	a := f.createAccount()
	for _, want := range a.Keys {
		got, err := f.s.APIKeyByDigest(f.ctx, want.Digest)
		storeWantNoErr(t, "APIKeyByDigest", err)
		storeWantEqual(t, "APIKeyByDigest", got, want, storeNormKey)
	}
}

func testAPIKeyByDigestUnknown(t *testing.T, f *storeFixture) {
	f.createAccount()
	_, err := f.s.APIKeyByDigest(f.ctx, core.Digest("sk_not-a-stored-key"))
	storeWantKind(t, err, core.KindNotFound, "")
}

func testAPIKeyByDigestRevoked(t *testing.T, f *storeFixture) {
	// A key stored already revoked, next to the active one of its line.
	a := f.account(f.email())
	revoked := f.key(a.Profile.ID, core.LineDrive)
	revokedAt := f.now.Add(-time.Hour)
	revoked.RevokedAt = &revokedAt
	a.Keys = append(a.Keys, revoked)
	storeWantNoErr(t, "CreateAccount", f.s.CreateAccount(f.ctx, a))
	_, err := f.s.APIKeyByDigest(f.ctx, revoked.Digest)
	storeWantKind(t, err, core.KindNotFound, "")

	// A key revoked by a rotation.
	old := a.Keys[0]
	storeWantNoErr(t, "RotateAPIKey", f.s.RotateAPIKey(f.ctx, f.key(a.Profile.ID, old.Line), f.now.Add(time.Minute)))
	_, err = f.s.APIKeyByDigest(f.ctx, old.Digest)
	storeWantKind(t, err, core.KindNotFound, "")
}

func testActiveAPIKeysOwnUnrevoked(t *testing.T, f *storeFixture) {
	a := f.account(f.email())
	revoked := f.key(a.Profile.ID, core.LineMessaging)
	revokedAt := f.now
	revoked.RevokedAt = &revokedAt
	a.Keys = append(a.Keys, revoked)
	storeWantNoErr(t, "CreateAccount", f.s.CreateAccount(f.ctx, a))
	b := f.createAccount()

	keys, err := f.s.ActiveAPIKeys(f.ctx, a.Profile.ID)
	storeWantNoErr(t, "ActiveAPIKeys", err)
	storeWantEqual(t, "ActiveAPIKeys", keys, a.Keys[:len(a.Keys)-1], storeNormKeys)
	keys, err = f.s.ActiveAPIKeys(f.ctx, b.Profile.ID)
	storeWantNoErr(t, "ActiveAPIKeys", err)
	storeWantEqual(t, "ActiveAPIKeys", keys, b.Keys, storeNormKeys)
}

func testActiveAPIKeysUnknownProfile(t *testing.T, f *storeFixture) {
	f.createAccount()
	keys, err := f.s.ActiveAPIKeys(f.ctx, f.id("prf"))
	storeWantNoErr(t, "ActiveAPIKeys", err)
	if len(keys) != 0 {
		t.Fatalf("ActiveAPIKeys of an unknown profile = %+v, want none", keys)
	}
}

func testRotateAPIKey(t *testing.T, f *storeFixture) {
	a, other := f.createAccount(), f.createAccount()
	old := a.Keys[0]
	fresh := f.key(a.Profile.ID, old.Line)
	fresh.CreatedAt = f.now.Add(time.Hour)
	storeWantNoErr(t, "RotateAPIKey", f.s.RotateAPIKey(f.ctx, fresh, f.now.Add(time.Hour)))

	_, err := f.s.APIKeyByDigest(f.ctx, old.Digest)
	storeWantKind(t, err, core.KindNotFound, "")
	got, err := f.s.APIKeyByDigest(f.ctx, fresh.Digest)
	storeWantNoErr(t, "APIKeyByDigest(new key)", err)
	storeWantEqual(t, "new key", got, fresh, storeNormKey)

	// The other lines' keys, and the other profile's, are untouched.
	keys, err := f.s.ActiveAPIKeys(f.ctx, a.Profile.ID)
	storeWantNoErr(t, "ActiveAPIKeys", err)
	storeWantEqual(t, "ActiveAPIKeys", keys, append([]core.APIKey{fresh}, a.Keys[1:]...), storeNormKeys)
	keys, err = f.s.ActiveAPIKeys(f.ctx, other.Profile.ID)
	storeWantNoErr(t, "ActiveAPIKeys(other profile)", err)
	storeWantEqual(t, "ActiveAPIKeys(other profile)", keys, other.Keys, storeNormKeys)
}

func testRotateAPIKeyUnknownProfile(t *testing.T, f *storeFixture) {
	f.createAccount()
	k := f.key(f.id("prf"), core.LineClientGallery)
	storeWantKind(t, f.s.RotateAPIKey(f.ctx, k, f.now), core.KindNotFound, "")
	_, err := f.s.APIKeyByDigest(f.ctx, k.Digest)
	storeWantKind(t, err, core.KindNotFound, "")
}

func testRotateAPIKeyConcurrent(t *testing.T, f *storeFixture) {
	a := f.createAccount()
	old := a.Keys[0]
	fresh := make([]core.APIKey, storeConcurrency)
	for i := range fresh {
		fresh[i] = f.key(a.Profile.ID, old.Line)
	}
	errs := make([]error, storeConcurrency)
	var wg sync.WaitGroup
	for i := range fresh {
		wg.Go(func() { errs[i] = f.s.RotateAPIKey(f.ctx, fresh[i], f.now.Add(time.Minute)) })
	}
	wg.Wait()

	// A rotation may lose the race with core.KindConflict; none may fail
	// otherwise, and one at least must win.
	succeeded := map[string]bool{}
	for i, err := range errs {
		if err == nil {
			succeeded[fresh[i].ID] = true
			continue
		}
		storeWantKind(t, err, core.KindConflict, "")
	}
	if len(succeeded) == 0 {
		t.Fatal("no rotation succeeded")
	}

	_, err := f.s.APIKeyByDigest(f.ctx, old.Digest)
	storeWantKind(t, err, core.KindNotFound, "")
	keys, err := f.s.ActiveAPIKeys(f.ctx, a.Profile.ID)
	storeWantNoErr(t, "ActiveAPIKeys", err)
	var active []core.APIKey
	for _, k := range keys {
		if k.Line == old.Line {
			active = append(active, k)
		}
	}
	if len(active) != 1 {
		t.Fatalf("%d active %s keys after %d concurrent rotations, want exactly 1", len(active), old.Line, storeConcurrency)
	}
	if !succeeded[active[0].ID] {
		t.Fatalf("the active key %s is not one of the successful rotations", active[0].ID)
	}
	if _, err := f.s.APIKeyByDigest(f.ctx, active[0].Digest); err != nil {
		t.Fatalf("APIKeyByDigest(active key): %v", err)
	}
	if len(keys) != len(a.Keys) {
		t.Fatalf("%d active keys in all, want one per line (%d)", len(keys), len(a.Keys))
	}
}

// testRotateAPIKeyLeavesLinkKeys needs connect links: it is skipped, saying
// so, for a store that does not also implement ports.PartnerAppStore and
// ports.LinkStore. RunPartnerStoreSuite runs it too.
func testRotateAPIKeyLeavesLinkKeys(t *testing.T, f *storeFixture) {
	ps, ok := f.s.(PartnerStoreUnderTest)
	if !ok {
		t.Skipf("%T has no connect links (ports.PartnerAppStore, ports.LinkStore)", f.s)
	}
	pf := &partnerFixture{storeFixture: f, p: ps}
	a := f.createAccount()
	link := pf.ensureLink(a.Profile.ID, pf.createApp(f.createAccount().Profile.ID).ID)
	linkKeys := pf.replaceLinkKeys(link)

	own := a.Keys[0]
	fresh := f.key(a.Profile.ID, own.Line)
	storeWantNoErr(t, "RotateAPIKey", f.s.RotateAPIKey(f.ctx, fresh, f.now.Add(time.Hour)))

	_, err := f.s.APIKeyByDigest(f.ctx, own.Digest)
	storeWantKind(t, err, core.KindNotFound, "")
	for _, k := range linkKeys {
		got, err := f.s.APIKeyByDigest(f.ctx, k.Digest)
		storeWantNoErr(t, "APIKeyByDigest(link key of "+string(k.Line)+")", err)
		storeWantEqual(t, "link key", got, k, storeNormKey)
	}
	keys, err := f.s.ActiveAPIKeys(f.ctx, a.Profile.ID)
	storeWantNoErr(t, "ActiveAPIKeys", err)
	want := append([]core.APIKey{fresh}, a.Keys[1:]...)
	storeWantEqual(t, "ActiveAPIKeys", keys, append(want, linkKeys...), storeNormKeys)
}

// storeWantDetail fails the test unless err is core.KindInvalid with
// detail.
func storeWantDetail(t *testing.T, err error, detail string) {
	t.Helper()
	storeWantKind(t, err, core.KindInvalid, "")
	if e, _ := core.AsError(err); e.Detail != detail {
		t.Fatalf("got detail %q (%v), want %q", e.Detail, err, detail)
	}
}

// storeSubOf returns the profile's subscription of line, failing the test
// unless there is exactly one.
func storeSubOf(t *testing.T, f *storeFixture, profileID string, line core.ProductLine) core.Subscription {
	t.Helper()
	subs, err := f.s.Subscriptions(f.ctx, profileID)
	storeWantNoErr(t, "Subscriptions", err)
	var found []core.Subscription
	for _, s := range subs {
		if s.Line == line {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s subscriptions, want exactly 1: %+v", len(found), line, found)
	}
	return found[0]
}

func testSetSubscriptionReplaces(t *testing.T, f *storeFixture) {
	a, other := f.createAccount(), f.createAccount()
	old := a.Subscriptions[2] // messaging: paid, with a CurrentPeriodEnd
	plan := f.createPlan(f.plan(old.Line))
	sub := core.Subscription{
		ID:               f.id("sub"), // a new id: the stored one is kept
		ProfileID:        a.Profile.ID,
		Line:             old.Line,
		PlanID:           plan.ID,
		Status:           core.StatusIncomplete,
		StripeCustomerID: "cus_" + f.id("c"),
		CreatedAt:        f.now.Add(2 * time.Hour),
		UpdatedAt:        f.now.Add(3 * time.Hour),
	}
	storeWantNoErr(t, "SetSubscription", f.s.SetSubscription(f.ctx, sub))

	want := sub
	want.ID = old.ID
	subs, err := f.s.Subscriptions(f.ctx, a.Profile.ID)
	storeWantNoErr(t, "Subscriptions", err)
	storeWantEqual(t, "Subscriptions", subs, append(slices.Clone(a.Subscriptions[:2]), want), storeNormSubs)
	subs, err = f.s.Subscriptions(f.ctx, other.Profile.ID)
	storeWantNoErr(t, "Subscriptions(other profile)", err)
	storeWantEqual(t, "Subscriptions(other profile)", subs, other.Subscriptions, storeNormSubs)

	// And back, with a CurrentPeriodEnd again.
	end := f.now.AddDate(0, 2, 0)
	sub.ID, sub.PlanID, sub.Status, sub.CurrentPeriodEnd = f.id("sub"), old.PlanID, core.StatusActive, &end
	storeWantNoErr(t, "SetSubscription(again)", f.s.SetSubscription(f.ctx, sub))
	want = sub
	want.ID = old.ID
	storeWantEqual(t, "messaging subscription", storeSubOf(t, f, a.Profile.ID, old.Line), want, storeNormSub)
}

func testSetSubscriptionAdds(t *testing.T, f *storeFixture) {
	a := f.account(f.email())
	a.Subscriptions = a.Subscriptions[:2] // no messaging subscription
	storeWantNoErr(t, "CreateAccount", f.s.CreateAccount(f.ctx, a))
	sub := core.Subscription{
		ID: f.id("sub"), ProfileID: a.Profile.ID, Line: core.LineMessaging,
		PlanID: f.defaultPlans()[core.LineMessaging].ID, Status: core.StatusActive,
		CreatedAt: f.now, UpdatedAt: f.now,
	}
	storeWantNoErr(t, "SetSubscription", f.s.SetSubscription(f.ctx, sub))
	subs, err := f.s.Subscriptions(f.ctx, a.Profile.ID)
	storeWantNoErr(t, "Subscriptions", err)
	storeWantEqual(t, "Subscriptions", subs, append(a.Subscriptions, sub), storeNormSubs)
}

func testSetSubscriptionUnknownProfile(t *testing.T, f *storeFixture) {
	f.createAccount()
	pid := f.id("prf")
	sub := core.Subscription{
		ID: f.id("sub"), ProfileID: pid, Line: core.LineDrive,
		PlanID: f.defaultPlans()[core.LineDrive].ID, Status: core.StatusActive,
		CreatedAt: f.now, UpdatedAt: f.now,
	}
	storeWantKind(t, f.s.SetSubscription(f.ctx, sub), core.KindNotFound, "")
	subs, err := f.s.Subscriptions(f.ctx, pid)
	storeWantNoErr(t, "Subscriptions", err)
	if len(subs) != 0 {
		t.Fatalf("Subscriptions of an unknown profile = %+v, want none", subs)
	}
}

func testSetSubscriptionUnknownPlan(t *testing.T, f *storeFixture) {
	a := f.createAccount()
	sub := a.Subscriptions[1]
	sub.PlanID, sub.Status = f.id("plan"), core.StatusCanceled // the plan was never stored
	storeWantDetail(t, f.s.SetSubscription(f.ctx, sub), "planId")
	subs, err := f.s.Subscriptions(f.ctx, a.Profile.ID)
	storeWantNoErr(t, "Subscriptions", err)
	storeWantEqual(t, "Subscriptions", subs, a.Subscriptions, storeNormSubs)
}

func testSetSubscriptionConcurrent(t *testing.T, f *storeFixture) {
	a := f.account(f.email())
	a.Subscriptions = a.Subscriptions[:1] // drive has no subscription yet
	storeWantNoErr(t, "CreateAccount", f.s.CreateAccount(f.ctx, a))
	plans := []core.Plan{f.createPlan(f.plan(core.LineDrive)), f.createPlan(f.plan(core.LineDrive))}
	subs := make([]core.Subscription, storeConcurrency)
	ids := map[string]bool{}
	for i := range subs {
		subs[i] = core.Subscription{
			ID: f.id("sub"), ProfileID: a.Profile.ID, Line: core.LineDrive,
			PlanID: plans[i%2].ID, Status: core.StatusActive, CreatedAt: f.now, UpdatedAt: f.now,
		}
		ids[subs[i].ID] = true
	}
	errs := make([]error, storeConcurrency)
	var wg sync.WaitGroup
	for i := range subs {
		wg.Go(func() { errs[i] = f.s.SetSubscription(f.ctx, subs[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		storeWantNoErr(t, fmt.Sprintf("SetSubscription #%d", i), err)
	}
	got := storeSubOf(t, f, a.Profile.ID, core.LineDrive)
	if !ids[got.ID] {
		t.Fatalf("the drive subscription's id %s is none of the ones set", got.ID)
	}
	// Later sets keep the first one's id.
	last := subs[0]
	last.ID, last.PlanID = f.id("sub"), plans[1].ID
	storeWantNoErr(t, "SetSubscription(after)", f.s.SetSubscription(f.ctx, last))
	if again := storeSubOf(t, f, a.Profile.ID, core.LineDrive); again.ID != got.ID || again.PlanID != plans[1].ID {
		t.Fatalf("after another set: %+v, want id %s and plan %s", again, got.ID, plans[1].ID)
	}
}
