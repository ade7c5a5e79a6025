package testkit

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
)

// partnerLinkCases are RunPartnerStoreSuite's sub-tests of ports.LinkStore
// and of the link keys in ports.AccountStore.
var partnerLinkCases = []partnerCase{
	{"EnsureLink", "creates_the_link_from_l", testEnsureLinkCreates},
	{"EnsureLink", "returns_the_active_link_unchanged", testEnsureLinkExisting},
	{"EnsureLink", "concurrent_calls_for_one_pair_get_one_link", testEnsureLinkConcurrent},
	{"EnsureLink", "re_activates_a_revoked_link", testEnsureLinkReactivates},
	{"EnsureLink", "unknown_app_or_profile_is_not_found", testEnsureLinkUnknown},
	{"LinkFor", "returns_active_and_revoked_links", testLinkForRevoked},
	{"LinkFor", "never_linked_pair_is_not_found", testLinkForUnknown},
	{"LinksByProfile", "lists_the_profiles_links_oldest_first", testLinksByProfile},
	{"LinksByProfile", "unknown_profile_has_none", testLinksByProfileUnknown},
	{"ReplaceLinkKeys", "replaces_the_links_keys_only", testReplaceLinkKeys},
	{"ReplaceLinkKeys", "stores_the_keys_with_the_link_id", testReplaceLinkKeysSetsLinkID},
	{"ReplaceLinkKeys", "revoked_or_unknown_link_is_not_found_and_stores_nothing", testReplaceLinkKeysNotFound},
	{"RevokeLink", "revokes_the_link_and_its_keys_but_not_own_keys", testRevokeLink},
	{"RevokeLink", "another_profiles_link_is_not_found_and_stays_active", testRevokeLinkOtherProfile},
	{"RevokeLink", "unknown_link_is_not_found", testRevokeLinkUnknown},
	{"RevokeLink", "revoking_a_revoked_link_is_not_an_error", testRevokeLinkTwice},
	{"APIKeyByDigest", "finds_link_keys", testAPIKeyByDigestLinkKeys},
	{"ActiveAPIKeys", "lists_own_and_link_keys", testActiveAPIKeysLinkKeys},
	{"RotateAPIKey", "leaves_link_keys_alone", func(t *testing.T, f *partnerFixture) { testRotateAPIKeyLeavesLinkKeys(t, f.storeFixture) }},
}

func testEnsureLinkCreates(t *testing.T, f *partnerFixture) {
	ann := f.createAccount()
	app := f.createApp(f.createAccount().Profile.ID)
	l := f.link(ann.Profile.ID, app.ID)
	l.UpdatedAt = l.CreatedAt.Add(time.Second)
	got, err := f.p.EnsureLink(f.ctx, l)
	storeWantNoErr(t, "EnsureLink", err)
	storeWantEqual(t, "EnsureLink", got, l, partnerNormLink)
	got, err = f.p.LinkFor(f.ctx, ann.Profile.ID, app.ID)
	storeWantNoErr(t, "LinkFor", err)
	storeWantEqual(t, "LinkFor", got, l, partnerNormLink)

	// A RevokedAt in l is not stored: the link EnsureLink returns is active.
	other := f.createApp(app.ProfileID)
	l = f.link(ann.Profile.ID, other.ID)
	revoked := f.now
	l.RevokedAt = &revoked
	got, err = f.p.EnsureLink(f.ctx, l)
	storeWantNoErr(t, "EnsureLink(RevokedAt set)", err)
	if !got.Active() {
		t.Fatalf("EnsureLink returned a revoked link: %+v", got)
	}
}

func testEnsureLinkExisting(t *testing.T, f *partnerFixture) {
	ann := f.createAccount()
	app := f.createApp(f.createAccount().Profile.ID)
	first := f.ensureLink(ann.Profile.ID, app.ID)
	keys := f.replaceLinkKeys(first)
	second := f.link(ann.Profile.ID, app.ID)
	second.CreatedAt, second.UpdatedAt = f.now.Add(time.Hour), f.now.Add(time.Hour)
	got, err := f.p.EnsureLink(f.ctx, second)
	storeWantNoErr(t, "EnsureLink(again)", err)
	storeWantEqual(t, "EnsureLink(again)", got, first, partnerNormLink)
	links, err := f.p.LinksByProfile(f.ctx, ann.Profile.ID)
	storeWantNoErr(t, "LinksByProfile", err)
	storeWantEqual(t, "LinksByProfile", links, []core.ConnectLink{first}, partnerNormLinks)
	for _, k := range keys {
		if !linkedKeyActive(t, f, k.Digest) {
			t.Fatalf("link key %s revoked by a second EnsureLink", k.ID)
		}
	}
}

func testEnsureLinkConcurrent(t *testing.T, f *partnerFixture) {
	ann := f.createAccount()
	app := f.createApp(f.createAccount().Profile.ID)
	ls := make([]core.ConnectLink, storeConcurrency)
	ids := map[string]bool{}
	for i := range ls {
		ls[i] = f.link(ann.Profile.ID, app.ID)
		ids[ls[i].ID] = true
	}
	got := make([]core.ConnectLink, storeConcurrency)
	errs := make([]error, storeConcurrency)
	var wg sync.WaitGroup
	for i := range ls {
		wg.Go(func() { got[i], errs[i] = f.p.EnsureLink(f.ctx, ls[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		storeWantNoErr(t, fmt.Sprintf("EnsureLink #%d", i), err)
	}
	id := got[0].ID
	if !ids[id] {
		t.Fatalf("EnsureLink returned id %s, none of the ones given", id)
	}
	for i, l := range got {
		if l.ID != id || !l.Active() {
			t.Fatalf("EnsureLink #%d returned %+v, want the active link %s", i, l, id)
		}
	}
	links, err := f.p.LinksByProfile(f.ctx, ann.Profile.ID)
	storeWantNoErr(t, "LinksByProfile", err)
	if len(links) != 1 || links[0].ID != id {
		t.Fatalf("LinksByProfile = %+v, want the one link %s", links, id)
	}
}

func testEnsureLinkReactivates(t *testing.T, f *partnerFixture) {
	ann := f.createAccount()
	app := f.createApp(f.createAccount().Profile.ID)
	first := f.ensureLink(ann.Profile.ID, app.ID)
	keys := f.replaceLinkKeys(first)
	storeWantNoErr(t, "RevokeLink", f.p.RevokeLink(f.ctx, ann.Profile.ID, first.ID, f.now.Add(time.Hour)))

	again := f.link(ann.Profile.ID, app.ID)
	again.CreatedAt, again.UpdatedAt = f.now.Add(2*time.Hour), f.now.Add(2*time.Hour+time.Second)
	got, err := f.p.EnsureLink(f.ctx, again)
	storeWantNoErr(t, "EnsureLink(re-activate)", err)
	want := first
	want.UpdatedAt = again.UpdatedAt // RevokedAt cleared, UpdatedAt from l, the rest kept
	storeWantEqual(t, "EnsureLink(re-activate)", got, want, partnerNormLink)
	got, err = f.p.LinkFor(f.ctx, ann.Profile.ID, app.ID)
	storeWantNoErr(t, "LinkFor", err)
	storeWantEqual(t, "LinkFor", got, want, partnerNormLink)
	// The keys revoked with the link stay revoked.
	for _, k := range keys {
		if linkedKeyActive(t, f, k.Digest) {
			t.Fatalf("link key %s active again after re-activation", k.ID)
		}
	}
	// The re-activated link takes keys again.
	fresh := f.replaceLinkKeys(got)
	for _, k := range fresh {
		if !linkedKeyActive(t, f, k.Digest) {
			t.Fatalf("new link key %s not active", k.ID)
		}
	}
}

func testEnsureLinkUnknown(t *testing.T, f *partnerFixture) {
	ann := f.createAccount()
	app := f.createApp(f.createAccount().Profile.ID)
	noApp := f.link(ann.Profile.ID, f.id("app"))
	_, err := f.p.EnsureLink(f.ctx, noApp)
	storeWantKind(t, err, core.KindNotFound, "")
	noProfile := f.link(f.id("prf"), app.ID)
	_, err = f.p.EnsureLink(f.ctx, noProfile)
	storeWantKind(t, err, core.KindNotFound, "")
	for _, l := range []core.ConnectLink{noApp, noProfile} {
		_, err := f.p.LinkFor(f.ctx, l.ProfileID, l.AppID)
		storeWantKind(t, err, core.KindNotFound, "")
	}
	links, err := f.p.LinksByProfile(f.ctx, ann.Profile.ID)
	storeWantNoErr(t, "LinksByProfile", err)
	if len(links) != 0 {
		t.Fatalf("LinksByProfile after refused links = %+v, want none", links)
	}
}

func testLinkForRevoked(t *testing.T, f *partnerFixture) {
	ann := f.createAccount()
	app := f.createApp(f.createAccount().Profile.ID)
	l := f.ensureLink(ann.Profile.ID, app.ID)
	got, err := f.p.LinkFor(f.ctx, ann.Profile.ID, app.ID)
	storeWantNoErr(t, "LinkFor(active)", err)
	storeWantEqual(t, "LinkFor(active)", got, l, partnerNormLink)

	at := f.now.Add(time.Hour)
	storeWantNoErr(t, "RevokeLink", f.p.RevokeLink(f.ctx, ann.Profile.ID, l.ID, at))
	got, err = f.p.LinkFor(f.ctx, ann.Profile.ID, app.ID)
	storeWantNoErr(t, "LinkFor(revoked)", err)
	want := l
	want.RevokedAt, want.UpdatedAt = &at, at
	storeWantEqual(t, "LinkFor(revoked)", got, want, partnerNormLink)

	// The returned RevokedAt is a copy.
	*got.RevokedAt = at.Add(time.Hour)
	got, err = f.p.LinkFor(f.ctx, ann.Profile.ID, app.ID)
	storeWantNoErr(t, "LinkFor(again)", err)
	storeWantEqual(t, "LinkFor(again)", got, want, partnerNormLink)
}

func testLinkForUnknown(t *testing.T, f *partnerFixture) {
	ann, bob := f.createAccount(), f.createAccount()
	owner := f.createAccount().Profile.ID
	app, other := f.createApp(owner), f.createApp(owner)
	f.ensureLink(ann.Profile.ID, app.ID)
	for _, pair := range [][2]string{
		{ann.Profile.ID, other.ID}, // ann never linked the other app
		{bob.Profile.ID, app.ID},   // bob never linked the app
		{f.id("prf"), app.ID},
		{ann.Profile.ID, f.id("app")},
		{ann.Profile.ID, ""},
	} {
		_, err := f.p.LinkFor(f.ctx, pair[0], pair[1])
		storeWantKind(t, err, core.KindNotFound, "")
	}
}

func testLinksByProfile(t *testing.T, f *partnerFixture) {
	ann, bob := f.createAccount(), f.createAccount()
	owner := f.createAccount().Profile.ID
	var want []core.ConnectLink
	for i, d := range []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour} {
		app := f.createApp(owner)
		l := f.link(ann.Profile.ID, app.ID)
		l.CreatedAt, l.UpdatedAt = f.now.Add(d), f.now.Add(d)
		got, err := f.p.EnsureLink(f.ctx, l)
		storeWantNoErr(t, "EnsureLink", err)
		if i == 2 {
			at := f.now.Add(5 * time.Hour)
			storeWantNoErr(t, "RevokeLink", f.p.RevokeLink(f.ctx, ann.Profile.ID, got.ID, at))
			got.RevokedAt, got.UpdatedAt = &at, at
		}
		want = append(want, got)
		f.ensureLink(bob.Profile.ID, app.ID)
	}
	want = []core.ConnectLink{want[1], want[2], want[0]} // oldest first
	got, err := f.p.LinksByProfile(f.ctx, ann.Profile.ID)
	storeWantNoErr(t, "LinksByProfile", err)
	storeWantEqual(t, "LinksByProfile", got, want, partnerNormLinks)
}

func testLinksByProfileUnknown(t *testing.T, f *partnerFixture) {
	f.ensureLink(f.createAccount().Profile.ID, f.createApp(f.createAccount().Profile.ID).ID)
	got, err := f.p.LinksByProfile(f.ctx, f.id("prf"))
	storeWantNoErr(t, "LinksByProfile", err)
	if len(got) != 0 {
		t.Fatalf("LinksByProfile of an unknown profile = %+v, want none", got)
	}
}

func testReplaceLinkKeys(t *testing.T, f *partnerFixture) {
	ann := f.createAccount()
	owner := f.createAccount().Profile.ID
	link := f.ensureLink(ann.Profile.ID, f.createApp(owner).ID)
	otherLink := f.ensureLink(ann.Profile.ID, f.createApp(owner).ID)
	old := f.replaceLinkKeys(link)
	otherKeys := f.replaceLinkKeys(otherLink)

	fresh := f.linkKeys(link)[:2] // fewer lines this time
	at := f.now.Add(time.Hour)
	storeWantNoErr(t, "ReplaceLinkKeys", f.p.ReplaceLinkKeys(f.ctx, link.ID, fresh, at))
	for _, k := range old {
		_, err := f.p.APIKeyByDigest(f.ctx, k.Digest)
		storeWantKind(t, err, core.KindNotFound, "")
	}
	for _, k := range fresh {
		got, err := f.p.APIKeyByDigest(f.ctx, k.Digest)
		storeWantNoErr(t, "APIKeyByDigest(new key)", err)
		storeWantEqual(t, "new key", got, k, storeNormKey)
	}
	keys, err := f.p.ActiveAPIKeys(f.ctx, ann.Profile.ID)
	storeWantNoErr(t, "ActiveAPIKeys", err)
	storeWantEqual(t, "ActiveAPIKeys", keys, slices.Concat(ann.Keys, otherKeys, fresh), storeNormKeys)
	l, err := f.p.LinkFor(f.ctx, ann.Profile.ID, link.AppID)
	storeWantNoErr(t, "LinkFor", err)
	if !l.Active() {
		t.Fatalf("ReplaceLinkKeys revoked the link: %+v", l)
	}
}

func testReplaceLinkKeysSetsLinkID(t *testing.T, f *partnerFixture) {
	ann := f.createAccount()
	link := f.ensureLink(ann.Profile.ID, f.createApp(f.createAccount().Profile.ID).ID)
	keys := f.linkKeys(link)
	for i := range keys {
		keys[i].LinkID = ""
	}
	storeWantNoErr(t, "ReplaceLinkKeys", f.p.ReplaceLinkKeys(f.ctx, link.ID, keys, f.now))
	for _, k := range keys {
		got, err := f.p.APIKeyByDigest(f.ctx, k.Digest)
		storeWantNoErr(t, "APIKeyByDigest", err)
		want := k
		want.LinkID = link.ID
		storeWantEqual(t, "link key", got, want, storeNormKey)
	}
	// They are link keys: rotating the profile's own keys leaves them.
	for _, line := range core.ProductLines {
		storeWantNoErr(t, "RotateAPIKey", f.p.RotateAPIKey(f.ctx, f.key(ann.Profile.ID, line), f.now))
	}
	for _, k := range keys {
		if !linkedKeyActive(t, f, k.Digest) {
			t.Fatalf("link key %s revoked by RotateAPIKey", k.ID)
		}
	}
}

func testReplaceLinkKeysNotFound(t *testing.T, f *partnerFixture) {
	ann := f.createAccount()
	link := f.ensureLink(ann.Profile.ID, f.createApp(f.createAccount().Profile.ID).ID)
	storeWantNoErr(t, "RevokeLink", f.p.RevokeLink(f.ctx, ann.Profile.ID, link.ID, f.now))
	for _, id := range []string{link.ID, f.id("link")} {
		keys := f.linkKeys(link)
		storeWantKind(t, f.p.ReplaceLinkKeys(f.ctx, id, keys, f.now), core.KindNotFound, "")
		for _, k := range keys {
			_, err := f.p.APIKeyByDigest(f.ctx, k.Digest)
			storeWantKind(t, err, core.KindNotFound, "")
		}
	}
	keys, err := f.p.ActiveAPIKeys(f.ctx, ann.Profile.ID)
	storeWantNoErr(t, "ActiveAPIKeys", err)
	storeWantEqual(t, "ActiveAPIKeys", keys, ann.Keys, storeNormKeys)
}

func testRevokeLink(t *testing.T, f *partnerFixture) {
	ann := f.createAccount()
	owner := f.createAccount().Profile.ID
	link := f.ensureLink(ann.Profile.ID, f.createApp(owner).ID)
	otherLink := f.ensureLink(ann.Profile.ID, f.createApp(owner).ID)
	keys := f.replaceLinkKeys(link)
	otherKeys := f.replaceLinkKeys(otherLink)

	at := f.now.Add(time.Hour)
	storeWantNoErr(t, "RevokeLink", f.p.RevokeLink(f.ctx, ann.Profile.ID, link.ID, at))
	got, err := f.p.LinkFor(f.ctx, ann.Profile.ID, link.AppID)
	storeWantNoErr(t, "LinkFor", err)
	want := link
	want.RevokedAt, want.UpdatedAt = &at, at
	storeWantEqual(t, "LinkFor", got, want, partnerNormLink)
	for _, k := range keys {
		_, err := f.p.APIKeyByDigest(f.ctx, k.Digest)
		storeWantKind(t, err, core.KindNotFound, "")
	}
	active, err := f.p.ActiveAPIKeys(f.ctx, ann.Profile.ID)
	storeWantNoErr(t, "ActiveAPIKeys", err)
	storeWantEqual(t, "ActiveAPIKeys", active, slices.Concat(ann.Keys, otherKeys), storeNormKeys)
}

func testRevokeLinkOtherProfile(t *testing.T, f *partnerFixture) {
	ann, bob := f.createAccount(), f.createAccount()
	link := f.ensureLink(ann.Profile.ID, f.createApp(f.createAccount().Profile.ID).ID)
	keys := f.replaceLinkKeys(link)
	storeWantKind(t, f.p.RevokeLink(f.ctx, bob.Profile.ID, link.ID, f.now), core.KindNotFound, "")
	got, err := f.p.LinkFor(f.ctx, ann.Profile.ID, link.AppID)
	storeWantNoErr(t, "LinkFor", err)
	storeWantEqual(t, "LinkFor", got, link, partnerNormLink)
	for _, k := range keys {
		if !linkedKeyActive(t, f, k.Digest) {
			t.Fatalf("link key %s revoked by another profile", k.ID)
		}
	}
}

func testRevokeLinkUnknown(t *testing.T, f *partnerFixture) {
	ann := f.createAccount()
	f.ensureLink(ann.Profile.ID, f.createApp(f.createAccount().Profile.ID).ID)
	storeWantKind(t, f.p.RevokeLink(f.ctx, ann.Profile.ID, f.id("link"), f.now), core.KindNotFound, "")
}

func testRevokeLinkTwice(t *testing.T, f *partnerFixture) {
	ann := f.createAccount()
	link := f.ensureLink(ann.Profile.ID, f.createApp(f.createAccount().Profile.ID).ID)
	first := f.now.Add(time.Hour)
	storeWantNoErr(t, "RevokeLink", f.p.RevokeLink(f.ctx, ann.Profile.ID, link.ID, first))
	storeWantNoErr(t, "RevokeLink(again)", f.p.RevokeLink(f.ctx, ann.Profile.ID, link.ID, first.Add(time.Hour)))
	got, err := f.p.LinkFor(f.ctx, ann.Profile.ID, link.AppID)
	storeWantNoErr(t, "LinkFor", err)
	want := link
	want.RevokedAt, want.UpdatedAt = &first, first
	storeWantEqual(t, "LinkFor", got, want, partnerNormLink)
}

func testAPIKeyByDigestLinkKeys(t *testing.T, f *partnerFixture) {
	ann := f.createAccount()
	link := f.ensureLink(ann.Profile.ID, f.createApp(f.createAccount().Profile.ID).ID)
	for _, want := range f.replaceLinkKeys(link) {
		got, err := f.p.APIKeyByDigest(f.ctx, want.Digest)
		storeWantNoErr(t, "APIKeyByDigest", err)
		storeWantEqual(t, "APIKeyByDigest", got, want, storeNormKey)
	}
}

func testActiveAPIKeysLinkKeys(t *testing.T, f *partnerFixture) {
	ann, bob := f.createAccount(), f.createAccount()
	owner := f.createAccount().Profile.ID
	annKeys := f.replaceLinkKeys(f.ensureLink(ann.Profile.ID, f.createApp(owner).ID))
	bobKeys := f.replaceLinkKeys(f.ensureLink(bob.Profile.ID, f.createApp(owner).ID))
	keys, err := f.p.ActiveAPIKeys(f.ctx, ann.Profile.ID)
	storeWantNoErr(t, "ActiveAPIKeys", err)
	storeWantEqual(t, "ActiveAPIKeys", keys, slices.Concat(ann.Keys, annKeys), storeNormKeys)
	keys, err = f.p.ActiveAPIKeys(f.ctx, bob.Profile.ID)
	storeWantNoErr(t, "ActiveAPIKeys(bob)", err)
	storeWantEqual(t, "ActiveAPIKeys(bob)", keys, slices.Concat(bob.Keys, bobKeys), storeNormKeys)
}
