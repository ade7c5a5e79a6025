package testkit

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// StorageStoreUnderTest is what RunStorageStoreSuite exercises: the quota
// and Client Gallery stores, with the account and plan stores their
// fixtures need (gallery rows belong to studios). testkit.Store and the SQL
// stores implement it.
type StorageStoreUnderTest interface {
	ports.AccountStore
	ports.PlanStore
	ports.QuotaStore
	ports.GalleryStore
}

// RunStorageStoreSuite is the contract of ports.QuotaStore and
// ports.GalleryStore: every adapter of those ports must pass it. open is
// called once per sub-test and must return an empty store, independent of
// every other one it returns, released in t.Cleanup. Sub-tests run in
// parallel.
//
// The suite follows the ports' doc comments, with races for the atomic
// calls (20 concurrent Reserves of the last bytes, concurrent Releases and
// CompleteUploads of one reservation). Beyond the ports it checks what
// testkit.Store and the SQL stores agree on:
//
//   - time fields round-trip to the microsecond (compared in UTC);
//   - an owner's quota is counted apart from every other owner's, studio
//     or drive; a reservation at exactly the limit fits;
//   - Reserve with a taken id is core.KindConflict like a taken key, and
//     negative bytes are core.KindInvalid; CompleteUpload with a negative
//     size is core.KindInvalid;
//   - ExpiredReservations counts a reservation expiring at now as expired
//     and orders by ExpiresAt, then id; a limit of zero lists none;
//   - Categories lists by NameNormalized (byte order);
//   - CreateCategory with a taken id is "category_exists"; CreateCategory
//     and CreateCollection for an unknown studio, CreateCollection with a
//     category that is not the studio's, CompleteUpload and
//     CollectionFiles with a collection that is not the studio's are
//     core.KindNotFound; CreateCollection with a taken id and
//     CompleteUpload with a key under another studio's file are
//     core.KindConflict, and then nothing changes.
func RunStorageStoreSuite(t *testing.T, open func(t *testing.T) StorageStoreUnderTest) {
	t.Helper()
	runSuite(t, slices.Concat(storageQuotaCases, storageGalleryCases), func(t *testing.T) *storageFixture {
		s := open(t)
		return &storageFixture{storeFixture: newStoreFixture(t, s), q: s}
	})
}

// storageCase is one sub-test of RunStorageStoreSuite: method/name.
type storageCase = suiteCase[*storageFixture]

// storageBigLimit is a limit that no fixture comes near.
const storageBigLimit = 1 << 40

var storageQuotaCases = []storageCase{
	{"Reserve", "holds_the_bytes_and_round_trips", testReserveRoundTrip},
	{"Reserve", "fits_exactly_at_the_limit_and_not_a_byte_more", testReserveAtLimit},
	{"Reserve", "counts_used_bytes", testReserveCountsUsed},
	{"Reserve", "over_the_limit_is_quota_exceeded_and_changes_nothing", testReserveOverLimit},
	{"Reserve", "zero_bytes_fit_a_full_quota", testReserveZeroBytes},
	{"Reserve", "owners_are_counted_apart", testReserveOwnersApart},
	{"Reserve", "taken_storage_key_is_conflict_and_changes_nothing", testReserveTakenKey},
	{"Reserve", "taken_id_is_conflict_and_changes_nothing", testReserveTakenID},
	{"Reserve", "negative_bytes_are_invalid", testReserveNegative},
	{"Reserve", "20_concurrent_reservations_of_the_last_bytes_never_overshoot", testReserveRace},
	{"Reserve", "concurrent_reservations_count_used_bytes", testReserveRaceWithUsed},
	{"ReservationByKey", "unknown_key_is_not_found", testReservationByKeyUnknown},
	{"ReservationByKey", "another_owners_reservation_is_not_found", testReservationByKeyOtherOwner},
	{"Release", "gives_the_bytes_back_and_frees_the_key", testReleaseGivesBack},
	{"Release", "is_idempotent", testReleaseIdempotent},
	{"Release", "another_owners_reservation_is_left_alone", testReleaseOtherOwner},
	{"Release", "concurrent_releases_give_the_bytes_back_once", testReleaseRace},
	{"ExpiredReservations", "lists_expired_reservations_oldest_first_up_to_limit", testExpiredReservations},
	{"ExpiredReservations", "limit_zero_or_nothing_expired_lists_none", testExpiredReservationsNone},
	{"Usage", "unknown_owner_is_zero", testUsageUnknown},
}

// storageFixture builds reservations and gallery rows on top of
// storeFixture's accounts.
type storageFixture struct {
	*storeFixture
	q StorageStoreUnderTest
}

// studio creates an account and returns its studio id.
func (f *storageFixture) studio() string {
	f.t.Helper()
	return f.createAccount().Studio.ID
}

// reservation returns a fresh reservation of bytes for ownerID, expiring
// in an hour; it is not stored.
func (f *storageFixture) reservation(ownerID string, bytes int64) core.Reservation {
	f.t.Helper()
	return core.Reservation{
		ID:         f.id("rsv"),
		OwnerID:    ownerID,
		StorageKey: "owners/" + ownerID + "/" + f.id("obj") + "/Ünïcødé \"file\" 'name'.jpg",
		Bytes:      bytes,
		CreatedAt:  f.now,
		ExpiresAt:  f.now.Add(time.Hour),
	}
}

// reserve stores r with Reserve.
func (f *storageFixture) reserve(r core.Reservation, limit int64) core.Reservation {
	f.t.Helper()
	if err := f.q.Reserve(f.ctx, r, limit); err != nil {
		f.t.Fatalf("Reserve(%d bytes, limit %d): %v", r.Bytes, limit, err)
	}
	return r
}

// wantUsage checks the owner's usage.
func (f *storageFixture) wantUsage(t *testing.T, ownerID string, used, reserved int64) {
	t.Helper()
	got, err := f.q.Usage(f.ctx, ownerID)
	storeWantNoErr(t, "Usage", err)
	if want := (core.Usage{UsedBytes: used, ReservedBytes: reserved}); got != want {
		t.Fatalf("Usage(%s) = %+v, want %+v", ownerID, got, want)
	}
}

// wantReservation checks that the owner's reservation of r's key is r.
func (f *storageFixture) wantReservation(t *testing.T, r core.Reservation) {
	t.Helper()
	got, err := f.q.ReservationByKey(f.ctx, r.OwnerID, r.StorageKey)
	storeWantNoErr(t, "ReservationByKey", err)
	storeWantEqual(t, "ReservationByKey", got, r, storageNormReservation)
}

// wantNoReservation checks that r's key is not reserved for its owner.
func (f *storageFixture) wantNoReservation(t *testing.T, r core.Reservation) {
	t.Helper()
	_, err := f.q.ReservationByKey(f.ctx, r.OwnerID, r.StorageKey)
	storeWantKind(t, err, core.KindNotFound, "")
}

// upload stores a completed file of size bytes in a fresh collection of
// the studio, so that size bytes count as used.
func (f *storageFixture) upload(studioID string, size int64) core.GalleryFile {
	f.t.Helper()
	return f.complete(f.file(f.createCollection(studioID, ""), size))
}

func testReserveRoundTrip(t *testing.T, f *storageFixture) {
	owner := f.studio()
	r := f.reserve(f.reservation(owner, 42), 100)
	f.wantReservation(t, r)
	f.wantUsage(t, owner, 0, 42)
	r2 := f.reserve(f.reservation(owner, 8), 100)
	f.wantReservation(t, r2)
	f.wantUsage(t, owner, 0, 50)
}

func testReserveAtLimit(t *testing.T, f *storageFixture) {
	owner := f.studio()
	f.reserve(f.reservation(owner, 60), 100)
	last := f.reserve(f.reservation(owner, 40), 100)
	f.wantReservation(t, last)
	over := f.reservation(owner, 1)
	storeWantKind(t, f.q.Reserve(f.ctx, over, 100), core.KindQuotaExceeded, "")
	f.wantNoReservation(t, over)
	f.wantUsage(t, owner, 0, 100)
}

func testReserveCountsUsed(t *testing.T, f *storageFixture) {
	owner := f.studio()
	f.upload(owner, 30)
	f.reserve(f.reservation(owner, 50), 100)
	f.reserve(f.reservation(owner, 20), 100)
	over := f.reservation(owner, 1)
	storeWantKind(t, f.q.Reserve(f.ctx, over, 100), core.KindQuotaExceeded, "")
	f.wantNoReservation(t, over)
	f.wantUsage(t, owner, 30, 70)
}

func testReserveOverLimit(t *testing.T, f *storageFixture) {
	owner := f.studio()
	r := f.reservation(owner, 101)
	storeWantKind(t, f.q.Reserve(f.ctx, r, 100), core.KindQuotaExceeded, "")
	f.wantNoReservation(t, r)
	f.wantUsage(t, owner, 0, 0)
	// The key was not taken by the failed call.
	r.Bytes = 100
	f.reserve(r, 100)
	f.wantReservation(t, r)
}

func testReserveZeroBytes(t *testing.T, f *storageFixture) {
	owner := f.studio()
	f.reserve(f.reservation(owner, 100), 100)
	empty := f.reserve(f.reservation(owner, 0), 100)
	f.wantReservation(t, empty)
	f.wantUsage(t, owner, 0, 100)
}

func testReserveOwnersApart(t *testing.T, f *storageFixture) {
	a := f.createAccount()
	f.reserve(f.reservation(a.Studio.ID, 100), 100)
	f.reserve(f.reservation(a.Drive.ID, 70), 100)
	other := f.studio()
	f.reserve(f.reservation(other, 10), 10)
	f.wantUsage(t, a.Studio.ID, 0, 100)
	f.wantUsage(t, a.Drive.ID, 0, 70)
	f.wantUsage(t, other, 0, 10)
}

func testReserveTakenKey(t *testing.T, f *storageFixture) {
	owner, other := f.studio(), f.studio()
	first := f.reserve(f.reservation(owner, 10), 100)
	for _, o := range []string{owner, other} {
		dup := f.reservation(o, 5)
		dup.StorageKey = first.StorageKey
		storeWantKind(t, f.q.Reserve(f.ctx, dup, 100), core.KindConflict, "")
	}
	f.wantReservation(t, first)
	f.wantUsage(t, owner, 0, 10)
	f.wantUsage(t, other, 0, 0)
}

func testReserveTakenID(t *testing.T, f *storageFixture) {
	owner := f.studio()
	first := f.reserve(f.reservation(owner, 10), 100)
	dup := f.reservation(owner, 5)
	dup.ID = first.ID
	storeWantKind(t, f.q.Reserve(f.ctx, dup, 100), core.KindConflict, "")
	f.wantReservation(t, first)
	f.wantNoReservation(t, dup)
	f.wantUsage(t, owner, 0, 10)
}

func testReserveNegative(t *testing.T, f *storageFixture) {
	owner := f.studio()
	f.reserve(f.reservation(owner, 10), 100)
	r := f.reservation(owner, -5)
	err := f.q.Reserve(f.ctx, r, 100)
	storeWantKind(t, err, core.KindInvalid, "")
	storageWantDetail(t, err, "bytes")
	f.wantNoReservation(t, r)
	f.wantUsage(t, owner, 0, 10)
}

func testReserveRace(t *testing.T, f *storageFixture) { storageReserveRace(t, f, 0) }

func testReserveRaceWithUsed(t *testing.T, f *storageFixture) { storageReserveRace(t, f, 35) }

// storageReserveRace has 20 goroutines reserve 10 bytes each at once
// against a limit of 100 with used bytes already used: exactly
// (100-used)/10 succeed, the others are core.KindQuotaExceeded, and the
// reserved bytes are what succeeded.
func storageReserveRace(t *testing.T, f *storageFixture, used int64) {
	t.Helper()
	const n, each, limit = 20, 10, 100
	owner := f.studio()
	if used > 0 {
		f.upload(owner, used)
	}
	rs := make([]core.Reservation, n)
	for i := range rs {
		rs[i] = f.reservation(owner, each)
	}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Go(func() {
			<-start
			errs[i] = f.q.Reserve(f.ctx, r, limit)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
			f.wantReservation(t, rs[i])
		case core.IsKind(err, core.KindQuotaExceeded):
			f.wantNoReservation(t, rs[i])
		default:
			t.Fatalf("Reserve %d: %v, want nil or quota exceeded", i, err)
		}
	}
	if want := int((limit - used) / each); ok != want {
		t.Fatalf("%d of %d reservations succeeded, want %d", ok, n, want)
	}
	f.wantUsage(t, owner, used, int64(ok)*each)
}

func testReservationByKeyUnknown(t *testing.T, f *storageFixture) {
	owner := f.studio()
	f.reserve(f.reservation(owner, 1), 100)
	f.wantNoReservation(t, f.reservation(owner, 1))
}

func testReservationByKeyOtherOwner(t *testing.T, f *storageFixture) {
	owner, other := f.studio(), f.studio()
	r := f.reserve(f.reservation(owner, 1), 100)
	_, err := f.q.ReservationByKey(f.ctx, other, r.StorageKey)
	storeWantKind(t, err, core.KindNotFound, "")
	f.wantReservation(t, r)
}

func testReleaseGivesBack(t *testing.T, f *storageFixture) {
	owner := f.studio()
	r := f.reserve(f.reservation(owner, 60), 100)
	kept := f.reserve(f.reservation(owner, 40), 100)
	storeWantNoErr(t, "Release", f.q.Release(f.ctx, owner, r.ID))
	f.wantNoReservation(t, r)
	f.wantReservation(t, kept)
	f.wantUsage(t, owner, 0, 40)
	// The bytes and the key are free again.
	again := f.reservation(owner, 60)
	again.StorageKey = r.StorageKey
	f.reserve(again, 100)
	f.wantReservation(t, again)
	f.wantUsage(t, owner, 0, 100)
}

func testReleaseIdempotent(t *testing.T, f *storageFixture) {
	owner := f.studio()
	r := f.reserve(f.reservation(owner, 60), 100)
	f.reserve(f.reservation(owner, 40), 100)
	for range 2 {
		storeWantNoErr(t, "Release", f.q.Release(f.ctx, owner, r.ID))
		f.wantUsage(t, owner, 0, 40)
	}
	storeWantNoErr(t, "Release(unknown id)", f.q.Release(f.ctx, owner, f.id("rsv")))
	storeWantNoErr(t, "Release(unknown owner)", f.q.Release(f.ctx, f.id("std"), f.id("rsv")))
	f.wantUsage(t, owner, 0, 40)
}

func testReleaseOtherOwner(t *testing.T, f *storageFixture) {
	owner, other := f.studio(), f.studio()
	r := f.reserve(f.reservation(owner, 60), 100)
	f.reserve(f.reservation(other, 5), 100)
	storeWantNoErr(t, "Release(another owner)", f.q.Release(f.ctx, other, r.ID))
	f.wantReservation(t, r)
	f.wantUsage(t, owner, 0, 60)
	f.wantUsage(t, other, 0, 5)
}

func testReleaseRace(t *testing.T, f *storageFixture) {
	owner := f.studio()
	r := f.reserve(f.reservation(owner, 60), 100)
	f.reserve(f.reservation(owner, 40), 100)
	const n = 10
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f.q.Release(f.ctx, owner, r.ID)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		storeWantNoErr(t, fmt.Sprintf("Release %d", i), err)
	}
	f.wantNoReservation(t, r)
	f.wantUsage(t, owner, 0, 40)
}

func testExpiredReservations(t *testing.T, f *storageFixture) {
	a := f.createAccount()
	owner, drive := a.Studio.ID, a.Drive.ID
	expiring := func(ownerID string, in time.Duration) core.Reservation {
		r := f.reservation(ownerID, 1)
		r.ExpiresAt = f.now.Add(in)
		return f.reserve(r, storageBigLimit)
	}
	r3h := expiring(owner, -3*time.Hour)
	rNow := expiring(drive, 0)
	r1h := expiring(owner, -time.Hour)
	expiring(owner, time.Microsecond)
	expiring(drive, time.Hour)
	r2h, r2hToo := expiring(drive, -2*time.Hour), expiring(owner, -2*time.Hour)
	if r2hToo.ID < r2h.ID {
		r2h, r2hToo = r2hToo, r2h
	}
	want := []core.Reservation{r3h, r2h, r2hToo, r1h, rNow}

	got, err := f.q.ExpiredReservations(f.ctx, f.now, 10)
	storeWantNoErr(t, "ExpiredReservations", err)
	storeWantEqual(t, "ExpiredReservations(limit 10)", got, want, storageNormReservations)
	got, err = f.q.ExpiredReservations(f.ctx, f.now, 2)
	storeWantNoErr(t, "ExpiredReservations", err)
	storeWantEqual(t, "ExpiredReservations(limit 2)", got, want[:2], storageNormReservations)

	storeWantNoErr(t, "Release", f.q.Release(f.ctx, owner, r3h.ID))
	got, err = f.q.ExpiredReservations(f.ctx, f.now, 2)
	storeWantNoErr(t, "ExpiredReservations", err)
	storeWantEqual(t, "ExpiredReservations after a release", got, want[1:3], storageNormReservations)
}

func testExpiredReservationsNone(t *testing.T, f *storageFixture) {
	owner := f.studio()
	got, err := f.q.ExpiredReservations(f.ctx, f.now, 10)
	storeWantNoErr(t, "ExpiredReservations(empty store)", err)
	storeWantEqual(t, "ExpiredReservations(empty store)", got, nil, storageNormReservations)
	r := f.reservation(owner, 1)
	r.ExpiresAt = f.now.Add(-time.Hour)
	f.reserve(r, 100)
	f.reserve(f.reservation(owner, 1), 100)
	for _, limit := range []int{0, -1} {
		got, err = f.q.ExpiredReservations(f.ctx, f.now, limit)
		storeWantNoErr(t, "ExpiredReservations", err)
		storeWantEqual(t, "ExpiredReservations(limit <= 0)", got, nil, storageNormReservations)
	}
	got, err = f.q.ExpiredReservations(f.ctx, f.now.Add(-2*time.Hour), 10)
	storeWantNoErr(t, "ExpiredReservations", err)
	storeWantEqual(t, "ExpiredReservations(before any expiry)", got, nil, storageNormReservations)
}

func testUsageUnknown(t *testing.T, f *storageFixture) {
	f.reserve(f.reservation(f.studio(), 10), 100)
	f.wantUsage(t, f.id("std"), 0, 0)
	f.wantUsage(t, f.studio(), 0, 0)
}

// storageWantDetail fails the test unless err is a *core.Error with detail.
func storageWantDetail(t *testing.T, err error, detail string) {
	t.Helper()
	if e, ok := core.AsError(err); !ok || e.Detail != detail {
		t.Fatalf("got %v, want detail %q", err, detail)
	}
}

func storageNormReservation(r core.Reservation) core.Reservation {
	r.CreatedAt, r.ExpiresAt = storeNormTime(r.CreatedAt), storeNormTime(r.ExpiresAt)
	return r
}

func storageNormReservations(rs []core.Reservation) []core.Reservation {
	if len(rs) == 0 {
		return nil
	}
	out := make([]core.Reservation, len(rs))
	for i, r := range rs {
		out[i] = storageNormReservation(r)
	}
	return out
}

func storageNormCategory(c core.Category) core.Category {
	c.CreatedAt = storeNormTime(c.CreatedAt)
	return c
}

func storageNormCategories(cs []core.Category) []core.Category {
	if len(cs) == 0 {
		return nil
	}
	out := make([]core.Category, len(cs))
	for i, c := range cs {
		out[i] = storageNormCategory(c)
	}
	return out
}

func storageNormCollection(c core.Collection) core.Collection {
	c.CreatedAt, c.UpdatedAt = storeNormTime(c.CreatedAt), storeNormTime(c.UpdatedAt)
	return c
}

func storageNormCollections(cs []core.Collection) []core.Collection {
	if len(cs) == 0 {
		return nil
	}
	out := make([]core.Collection, len(cs))
	for i, c := range cs {
		out[i] = storageNormCollection(c)
	}
	return out
}

func storageNormFile(f core.GalleryFile) core.GalleryFile {
	f.CreatedAt = storeNormTime(f.CreatedAt)
	return f
}

func storageNormFiles(fs []core.GalleryFile) []core.GalleryFile {
	if len(fs) == 0 {
		return nil
	}
	out := make([]core.GalleryFile, len(fs))
	for i, f := range fs {
		out[i] = storageNormFile(f)
	}
	return out
}

// storageSortByID sorts a copy of xs by id.
func storageSortByID[T any](xs []T, id func(T) string) []T {
	out := slices.Clone(xs)
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	return out
}
