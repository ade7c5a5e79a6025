package testkit

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// PartnerStoreUnderTest is what RunPartnerStoreSuite exercises: the
// partner app and connect link stores, with the account and plan stores
// their fixtures need. testkit.Store and the SQL stores implement it.
type PartnerStoreUnderTest interface {
	ports.AccountStore
	ports.PlanStore
	ports.PartnerAppStore
	ports.LinkStore
}

// RunPartnerStoreSuite is the contract of ports.PartnerAppStore and
// ports.LinkStore, and of what they change in ports.AccountStore (keys
// minted for links): every adapter of those ports must pass it. open is
// called once per sub-test and must return an empty store, independent of
// every other one it returns, released in t.Cleanup. Sub-tests run in
// parallel.
//
// The suite follows the ports' doc comments. Beyond them it checks what
// testkit.Store and the SQL stores agree on:
//
//   - time fields round-trip to the microsecond (compared in UTC), and a
//     nil and an empty RedirectURIs are interchangeable;
//   - values are copied in and out (changing a returned slice or time
//     changes nothing stored);
//   - CreateApp with an unknown owner, EnsureLink with an unknown profile
//     or app, and AddAppStat for an unknown app are core.KindNotFound;
//     AddAppStat with an unknown stat is core.KindInvalid, detail "stat";
//   - UpdateApp cannot change the id, and a client id changed to a taken
//     one is core.KindConflict, code "app_exists";
//   - ReplaceLinkKeys stores the keys with LinkID set to the link's id,
//     whatever they carried;
//   - revoking a link (RevokeLink, DeleteApp) sets its RevokedAt and
//     UpdatedAt to the revocation time, and an already revoked link keeps
//     its first RevokedAt;
//   - DeleteApp keeps the app's links, revoked and detached: LinksByProfile
//     still lists them with an empty AppID, LinkFor no longer finds them.
func RunPartnerStoreSuite(t *testing.T, open func(t *testing.T) PartnerStoreUnderTest) {
	t.Helper()
	runSuite(t, slices.Concat(partnerAppCases, partnerStatCases, partnerLinkCases), func(t *testing.T) *partnerFixture {
		s := open(t)
		return &partnerFixture{storeFixture: newStoreFixture(t, s), p: s}
	})
}

// partnerCase is one sub-test of RunPartnerStoreSuite: method/name.
type partnerCase = suiteCase[*partnerFixture]

// partnerFixture builds apps and links on top of storeFixture's accounts.
type partnerFixture struct {
	*storeFixture
	p PartnerStoreUnderTest
}

// app returns a complete active app of the messaging line owned by
// ownerID, with a fresh id and client id; it is not stored.
func (f *partnerFixture) app(ownerID string) core.PartnerApp {
	f.t.Helper()
	id := f.id("app")
	return core.PartnerApp{
		ID:                  id,
		ProfileID:           ownerID,
		Name:                "Studio \"Sync\" — l'app ünïcødé",
		Line:                core.LineMessaging,
		RedirectURIs:        []string{"https://partner.example/cb", "http://localhost:3000/cb?x=1&y=\"2\""},
		ClientID:            core.ClientIDPrefix + strings.TrimPrefix(id, "app_"),
		SecretDigest:        core.Digest("secret-" + id),
		SecretDisplayPrefix: core.SecretPrefix + "AbCdEf",
		Status:              core.AppActive,
		CreatedAt:           f.now,
		UpdatedAt:           f.now.Add(time.Minute),
	}
}

// createApp stores a fresh app owned by ownerID.
func (f *partnerFixture) createApp(ownerID string) core.PartnerApp {
	f.t.Helper()
	a := f.app(ownerID)
	if err := f.p.CreateApp(f.ctx, a); err != nil {
		f.t.Fatalf("CreateApp: %v", err)
	}
	return a
}

// link returns a new link of a profile and an app; it is not stored.
func (f *partnerFixture) link(profileID, appID string) core.ConnectLink {
	f.t.Helper()
	return core.ConnectLink{
		ID:        f.id("link"),
		ProfileID: profileID,
		AppID:     appID,
		CreatedAt: f.now.Add(2 * time.Minute),
		UpdatedAt: f.now.Add(2 * time.Minute),
	}
}

// ensureLink links a profile and an app with EnsureLink.
func (f *partnerFixture) ensureLink(profileID, appID string) core.ConnectLink {
	f.t.Helper()
	l, err := f.p.EnsureLink(f.ctx, f.link(profileID, appID))
	if err != nil {
		f.t.Fatalf("EnsureLink: %v", err)
	}
	return l
}

// linkKeys returns one fresh key per line for the link; they are not
// stored.
func (f *partnerFixture) linkKeys(l core.ConnectLink) []core.APIKey {
	f.t.Helper()
	var keys []core.APIKey
	for _, line := range core.ProductLines {
		k := f.key(l.ProfileID, line)
		k.LinkID = l.ID
		keys = append(keys, k)
	}
	return keys
}

// replaceLinkKeys stores fresh keys for the link with ReplaceLinkKeys.
func (f *partnerFixture) replaceLinkKeys(l core.ConnectLink) []core.APIKey {
	f.t.Helper()
	keys := f.linkKeys(l)
	if err := f.p.ReplaceLinkKeys(f.ctx, l.ID, keys, f.now.Add(3*time.Minute)); err != nil {
		f.t.Fatalf("ReplaceLinkKeys: %v", err)
	}
	return keys
}

// wantApp checks that the store holds want under its id and client id.
func (f *partnerFixture) wantApp(t *testing.T, want core.PartnerApp) {
	t.Helper()
	got, err := f.p.AppByID(f.ctx, want.ID)
	storeWantNoErr(t, "AppByID("+want.ID+")", err)
	storeWantEqual(t, "AppByID("+want.ID+")", got, want, partnerNormApp)
	got, err = f.p.AppByClientID(f.ctx, want.ClientID)
	storeWantNoErr(t, "AppByClientID("+want.ClientID+")", err)
	storeWantEqual(t, "AppByClientID("+want.ClientID+")", got, want, partnerNormApp)
}

// wantNoApp checks that neither the id nor the client id finds an app.
func (f *partnerFixture) wantNoApp(t *testing.T, a core.PartnerApp) {
	t.Helper()
	_, err := f.p.AppByID(f.ctx, a.ID)
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.p.AppByClientID(f.ctx, a.ClientID)
	storeWantKind(t, err, core.KindNotFound, "")
}

func partnerNormApp(a core.PartnerApp) core.PartnerApp {
	if len(a.RedirectURIs) == 0 {
		a.RedirectURIs = nil
	}
	a.CreatedAt, a.UpdatedAt = storeNormTime(a.CreatedAt), storeNormTime(a.UpdatedAt)
	return a
}

func partnerNormApps(as []core.PartnerApp) []core.PartnerApp {
	if len(as) == 0 {
		return nil
	}
	out := make([]core.PartnerApp, len(as))
	for i, a := range as {
		out[i] = partnerNormApp(a)
	}
	return out
}

func partnerNormLink(l core.ConnectLink) core.ConnectLink {
	l.CreatedAt, l.UpdatedAt = storeNormTime(l.CreatedAt), storeNormTime(l.UpdatedAt)
	l.RevokedAt = storeNormTimePtr(l.RevokedAt)
	return l
}

func partnerNormLinks(ls []core.ConnectLink) []core.ConnectLink {
	if len(ls) == 0 {
		return nil
	}
	out := make([]core.ConnectLink, len(ls))
	for i, l := range ls {
		out[i] = partnerNormLink(l)
	}
	return out
}

func partnerNormStats(ss []core.AppDayStats) []core.AppDayStats {
	if len(ss) == 0 {
		return nil
	}
	out := slices.Clone(ss)
	for i := range out {
		out[i].Day = out[i].Day.UTC()
	}
	return out
}

// partnerAppIDs returns the ids of as, in order.
func partnerAppIDs(as []core.PartnerApp) []string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return ids
}
