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

// storageGalleryCases are RunStorageStoreSuite's sub-tests of
// ports.GalleryStore.
var storageGalleryCases = []storageCase{
	{"CreateCategory", "round_trips", testCreateCategoryRoundTrip},
	{"CreateCategory", "same_normalized_name_is_category_exists", testCreateCategoryTakenName},
	{"CreateCategory", "same_name_in_another_studio_is_allowed", testCreateCategoryOtherStudio},
	{"CreateCategory", "taken_id_is_category_exists", testCreateCategoryTakenID},
	{"CreateCategory", "unknown_studio_is_not_found", testCreateCategoryUnknownStudio},
	{"Categories", "lists_the_studios_categories_by_normalized_name", testCategories},
	{"CategoryByID", "another_studios_or_unknown_category_is_not_found", testCategoryByIDNotFound},
	{"CreateCollection", "round_trips_with_and_without_a_category", testCreateCollectionRoundTrip},
	{"CreateCollection", "another_studios_or_unknown_category_is_not_found", testCreateCollectionForeignCategory},
	{"CreateCollection", "taken_id_is_conflict", testCreateCollectionTakenID},
	{"CreateCollection", "unknown_studio_is_not_found", testCreateCollectionUnknownStudio},
	{"Collections", "pages_through_the_studios_collections_by_id", testCollectionsPages},
	{"Collections", "pages_stay_stable_when_collections_are_added", testCollectionsStable},
	{"Collections", "limit_zero_or_less_lists_none", testCollectionsNoLimit},
	{"CollectionByID", "another_studios_or_unknown_collection_is_not_found", testCollectionByIDNotFound},
	{"CompleteUpload", "settles_the_reservation_and_stores_the_file", testCompleteUpload},
	{"CompleteUpload", "same_key_again_returns_the_stored_file_and_counts_once", testCompleteUploadTwice},
	{"CompleteUpload", "concurrent_completions_store_one_file", testCompleteUploadRace},
	{"CompleteUpload", "missing_reservation_is_not_found", testCompleteUploadNoReservation},
	{"CompleteUpload", "released_reservation_is_not_found", testCompleteUploadReleased},
	{"CompleteUpload", "another_owners_reservation_is_not_found", testCompleteUploadOtherOwner},
	{"CompleteUpload", "another_studios_collection_is_not_found", testCompleteUploadForeignCollection},
	{"CompleteUpload", "key_of_another_studios_file_is_conflict", testCompleteUploadForeignKey},
	{"CompleteUpload", "negative_size_is_invalid", testCompleteUploadNegative},
	{"CollectionFiles", "pages_through_the_collections_files_by_id", testCollectionFilesPages},
	{"CollectionFiles", "another_studios_or_unknown_collection_is_not_found", testCollectionFilesNotFound},
	{"GalleryFileByKey", "another_studios_or_unknown_key_is_not_found", testGalleryFileByKeyNotFound},
}

// category returns a category of the studio named name (normalized by
// lower-casing, as the caller does); it is not stored.
func (f *storageFixture) category(studioID, name string) core.Category {
	f.t.Helper()
	return core.Category{
		ID:             f.id("cat"),
		StudioID:       studioID,
		Name:           name,
		NameNormalized: strings.ToLower(name),
		CreatedAt:      f.now,
	}
}

// createCategory stores a category of the studio named name.
func (f *storageFixture) createCategory(studioID, name string) core.Category {
	f.t.Helper()
	c := f.category(studioID, name)
	if err := f.q.CreateCategory(f.ctx, c); err != nil {
		f.t.Fatalf("CreateCategory(%q): %v", name, err)
	}
	return c
}

// collection returns a collection of the studio in categoryID ("" for
// none); it is not stored.
func (f *storageFixture) collection(studioID, categoryID string) core.Collection {
	f.t.Helper()
	return core.Collection{
		ID:         f.id("col"),
		StudioID:   studioID,
		Name:       "Smith & Jones — \"Wedding\" ünïcødé",
		ClientName: "Ann O'Neil",
		Date:       "2025-06-21",
		CategoryID: categoryID,
		CreatedAt:  f.now,
		UpdatedAt:  f.now.Add(time.Minute),
	}
}

// createCollection stores a collection of the studio in categoryID.
func (f *storageFixture) createCollection(studioID, categoryID string) core.Collection {
	f.t.Helper()
	c := f.collection(studioID, categoryID)
	if err := f.q.CreateCollection(f.ctx, c); err != nil {
		f.t.Fatalf("CreateCollection: %v", err)
	}
	return c
}

// file returns a file of size bytes in the collection under a fresh key;
// neither the file nor a reservation is stored.
func (f *storageFixture) file(c core.Collection, size int64) core.GalleryFile {
	f.t.Helper()
	return core.GalleryFile{
		ID:           f.id("fil"),
		StudioID:     c.StudioID,
		CollectionID: c.ID,
		ClientName:   c.ClientName,
		Name:         "IMG_0001 ünïcødé.jpg",
		ContentType:  "image/jpeg",
		Size:         size,
		StorageKey:   "studios/" + c.StudioID + "/" + c.ID + "/" + f.id("obj") + ".jpg",
		ETag:         `"9b2cf535f27731c974343645a3985328"`,
		CreatedAt:    f.now.Add(2 * time.Minute),
	}
}

// reserveFor reserves fl.Size bytes under fl.StorageKey for its studio.
func (f *storageFixture) reserveFor(fl core.GalleryFile) core.Reservation {
	f.t.Helper()
	r := f.reservation(fl.StudioID, fl.Size)
	r.StorageKey = fl.StorageKey
	return f.reserve(r, storageBigLimit)
}

// complete reserves for fl and completes its upload.
func (f *storageFixture) complete(fl core.GalleryFile) core.GalleryFile {
	f.t.Helper()
	r := f.reserveFor(fl)
	got, created, err := f.q.CompleteUpload(f.ctx, fl, r.ID)
	if err != nil || !created {
		f.t.Fatalf("CompleteUpload = %v, %v; want created", created, err)
	}
	storeWantEqual(f.t, "CompleteUpload", got, fl, storageNormFile)
	return fl
}

// wantFile checks that the studio's file under fl's key is fl.
func (f *storageFixture) wantFile(t *testing.T, fl core.GalleryFile) {
	t.Helper()
	got, err := f.q.GalleryFileByKey(f.ctx, fl.StudioID, fl.StorageKey)
	storeWantNoErr(t, "GalleryFileByKey", err)
	storeWantEqual(t, "GalleryFileByKey", got, fl, storageNormFile)
}

// wantNoFile checks that no file of the studio is under key.
func (f *storageFixture) wantNoFile(t *testing.T, studioID, key string) {
	t.Helper()
	_, err := f.q.GalleryFileByKey(f.ctx, studioID, key)
	storeWantKind(t, err, core.KindNotFound, "")
}

func testCreateCategoryRoundTrip(t *testing.T, f *storageFixture) {
	studio := f.studio()
	c := f.createCategory(studio, "Weddings — Été")
	got, err := f.q.CategoryByID(f.ctx, studio, c.ID)
	storeWantNoErr(t, "CategoryByID", err)
	storeWantEqual(t, "CategoryByID", got, c, storageNormCategory)
	all, err := f.q.Categories(f.ctx, studio)
	storeWantNoErr(t, "Categories", err)
	storeWantEqual(t, "Categories", all, []core.Category{c}, storageNormCategories)
}

func testCreateCategoryTakenName(t *testing.T, f *storageFixture) {
	studio := f.studio()
	first := f.createCategory(studio, "Weddings")
	dup := f.category(studio, "WEDDINGS")
	storeWantKind(t, f.q.CreateCategory(f.ctx, dup), core.KindConflict, "category_exists")
	_, err := f.q.CategoryByID(f.ctx, studio, dup.ID)
	storeWantKind(t, err, core.KindNotFound, "")
	all, err := f.q.Categories(f.ctx, studio)
	storeWantNoErr(t, "Categories", err)
	storeWantEqual(t, "Categories", all, []core.Category{first}, storageNormCategories)
}

func testCreateCategoryOtherStudio(t *testing.T, f *storageFixture) {
	studio, other := f.studio(), f.studio()
	f.createCategory(studio, "Weddings")
	c := f.createCategory(other, "weddings")
	got, err := f.q.CategoryByID(f.ctx, other, c.ID)
	storeWantNoErr(t, "CategoryByID", err)
	storeWantEqual(t, "CategoryByID", got, c, storageNormCategory)
}

func testCreateCategoryTakenID(t *testing.T, f *storageFixture) {
	studio := f.studio()
	first := f.createCategory(studio, "Weddings")
	dup := f.category(studio, "Portraits")
	dup.ID = first.ID
	storeWantKind(t, f.q.CreateCategory(f.ctx, dup), core.KindConflict, "category_exists")
	got, err := f.q.CategoryByID(f.ctx, studio, first.ID)
	storeWantNoErr(t, "CategoryByID", err)
	storeWantEqual(t, "CategoryByID", got, first, storageNormCategory)
}

func testCreateCategoryUnknownStudio(t *testing.T, f *storageFixture) {
	f.studio()
	c := f.category(f.id("std"), "Weddings")
	storeWantKind(t, f.q.CreateCategory(f.ctx, c), core.KindNotFound, "")
	all, err := f.q.Categories(f.ctx, c.StudioID)
	storeWantNoErr(t, "Categories", err)
	storeWantEqual(t, "Categories", all, nil, storageNormCategories)
}

func testCategories(t *testing.T, f *storageFixture) {
	studio, other := f.studio(), f.studio()
	var want []core.Category
	for _, name := range []string{"weddings", "Portraits", "Événements", "Babies", "portraits & family"} {
		want = append(want, f.createCategory(studio, name))
		f.createCategory(other, name+" elsewhere")
	}
	slices.SortFunc(want, func(a, b core.Category) int { return strings.Compare(a.NameNormalized, b.NameNormalized) })
	got, err := f.q.Categories(f.ctx, studio)
	storeWantNoErr(t, "Categories", err)
	storeWantEqual(t, "Categories", got, want, storageNormCategories)
	got, err = f.q.Categories(f.ctx, f.id("std"))
	storeWantNoErr(t, "Categories(unknown studio)", err)
	storeWantEqual(t, "Categories(unknown studio)", got, nil, storageNormCategories)
}

func testCategoryByIDNotFound(t *testing.T, f *storageFixture) {
	studio, other := f.studio(), f.studio()
	c := f.createCategory(studio, "Weddings")
	_, err := f.q.CategoryByID(f.ctx, other, c.ID)
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.q.CategoryByID(f.ctx, studio, f.id("cat"))
	storeWantKind(t, err, core.KindNotFound, "")
}

func testCreateCollectionRoundTrip(t *testing.T, f *storageFixture) {
	studio := f.studio()
	cat := f.createCategory(studio, "Weddings")
	for _, catID := range []string{cat.ID, ""} {
		c := f.createCollection(studio, catID)
		got, err := f.q.CollectionByID(f.ctx, studio, c.ID)
		storeWantNoErr(t, "CollectionByID", err)
		storeWantEqual(t, "CollectionByID", got, c, storageNormCollection)
	}
	// An empty date is stored as given too.
	c := f.collection(studio, "")
	c.Date, c.ClientName = "", ""
	storeWantNoErr(t, "CreateCollection", f.q.CreateCollection(f.ctx, c))
	got, err := f.q.CollectionByID(f.ctx, studio, c.ID)
	storeWantNoErr(t, "CollectionByID", err)
	storeWantEqual(t, "CollectionByID", got, c, storageNormCollection)
}

func testCreateCollectionForeignCategory(t *testing.T, f *storageFixture) {
	studio, other := f.studio(), f.studio()
	theirs := f.createCategory(other, "Weddings")
	for _, catID := range []string{theirs.ID, f.id("cat")} {
		c := f.collection(studio, catID)
		storeWantKind(t, f.q.CreateCollection(f.ctx, c), core.KindNotFound, "")
		_, err := f.q.CollectionByID(f.ctx, studio, c.ID)
		storeWantKind(t, err, core.KindNotFound, "")
	}
}

func testCreateCollectionTakenID(t *testing.T, f *storageFixture) {
	studio := f.studio()
	first := f.createCollection(studio, "")
	dup := f.collection(studio, "")
	dup.ID, dup.Name = first.ID, "Another"
	storeWantKind(t, f.q.CreateCollection(f.ctx, dup), core.KindConflict, "")
	got, err := f.q.CollectionByID(f.ctx, studio, first.ID)
	storeWantNoErr(t, "CollectionByID", err)
	storeWantEqual(t, "CollectionByID", got, first, storageNormCollection)
}

func testCreateCollectionUnknownStudio(t *testing.T, f *storageFixture) {
	f.studio()
	c := f.collection(f.id("std"), "")
	storeWantKind(t, f.q.CreateCollection(f.ctx, c), core.KindNotFound, "")
	_, err := f.q.CollectionByID(f.ctx, c.StudioID, c.ID)
	storeWantKind(t, err, core.KindNotFound, "")
}

// collectionPages reads the studio's collections limit at a time, from the
// start, until a short page.
func (f *storageFixture) collectionPages(t *testing.T, studioID string, limit int) []core.Collection {
	t.Helper()
	var all []core.Collection
	after := ""
	for range 100 {
		page, err := f.q.Collections(f.ctx, studioID, core.Page{After: after, Limit: limit})
		storeWantNoErr(t, "Collections", err)
		if len(page) > limit {
			t.Fatalf("Collections returned %d, more than the limit %d", len(page), limit)
		}
		all = append(all, page...)
		if len(page) < limit {
			return all
		}
		after = page[len(page)-1].ID
	}
	t.Fatal("Collections never returned a short page")
	return nil
}

func testCollectionsPages(t *testing.T, f *storageFixture) {
	studio, other := f.studio(), f.studio()
	cat := f.createCategory(studio, "Weddings")
	var want []core.Collection
	for i := range 7 {
		catID := ""
		if i%2 == 0 {
			catID = cat.ID
		}
		want = append(want, f.createCollection(studio, catID))
		f.createCollection(other, "")
	}
	want = storageSortByID(want, func(c core.Collection) string { return c.ID })
	for _, limit := range []int{1, 3, 7, 100} {
		got := f.collectionPages(t, studio, limit)
		storeWantEqual(t, fmt.Sprintf("Collections by %d", limit), got, want, storageNormCollections)
	}
	got, err := f.q.Collections(f.ctx, studio, core.Page{After: want[len(want)-1].ID, Limit: 10})
	storeWantNoErr(t, "Collections(after the last)", err)
	storeWantEqual(t, "Collections(after the last)", got, nil, storageNormCollections)
	got, err = f.q.Collections(f.ctx, f.id("std"), core.Page{Limit: 10})
	storeWantNoErr(t, "Collections(unknown studio)", err)
	storeWantEqual(t, "Collections(unknown studio)", got, nil, storageNormCollections)
}

func testCollectionsStable(t *testing.T, f *storageFixture) {
	studio := f.studio()
	var want []core.Collection
	for range 5 {
		want = append(want, f.createCollection(studio, ""))
	}
	want = storageSortByID(want, func(c core.Collection) string { return c.ID })
	first, err := f.q.Collections(f.ctx, studio, core.Page{Limit: 2})
	storeWantNoErr(t, "Collections", err)
	storeWantEqual(t, "first page", first, want[:2], storageNormCollections)

	// A collection sorting before the cursor and one after it arrive
	// between pages: the rest neither repeats nor skips, and only the later
	// one shows up.
	early := f.collection(studio, "")
	early.ID = "col_00000000000000000000000000"
	late := f.collection(studio, "")
	late.ID = "col_zzzzzzzzzzzzzzzzzzzzzzzzzz"
	storeWantNoErr(t, "CreateCollection(early)", f.q.CreateCollection(f.ctx, early))
	storeWantNoErr(t, "CreateCollection(late)", f.q.CreateCollection(f.ctx, late))

	var rest []core.Collection
	after := first[len(first)-1].ID
	for {
		page, err := f.q.Collections(f.ctx, studio, core.Page{After: after, Limit: 2})
		storeWantNoErr(t, "Collections", err)
		rest = append(rest, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	storeWantEqual(t, "the following pages", rest, append(slices.Clone(want[2:]), late), storageNormCollections)
}

func testCollectionsNoLimit(t *testing.T, f *storageFixture) {
	studio := f.studio()
	f.createCollection(studio, "")
	for _, limit := range []int{0, -1} {
		got, err := f.q.Collections(f.ctx, studio, core.Page{Limit: limit})
		storeWantNoErr(t, "Collections", err)
		storeWantEqual(t, fmt.Sprintf("Collections(limit %d)", limit), got, nil, storageNormCollections)
	}
}

func testCollectionByIDNotFound(t *testing.T, f *storageFixture) {
	studio, other := f.studio(), f.studio()
	c := f.createCollection(studio, "")
	_, err := f.q.CollectionByID(f.ctx, other, c.ID)
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.q.CollectionByID(f.ctx, studio, f.id("col"))
	storeWantKind(t, err, core.KindNotFound, "")
}

func testCompleteUpload(t *testing.T, f *storageFixture) {
	studio := f.studio()
	col := f.createCollection(studio, "")
	fl := f.file(col, 90)
	r := f.reservation(studio, 100)
	r.StorageKey = fl.StorageKey
	f.reserve(r, 1000)
	other := f.reserve(f.reservation(studio, 50), 1000)

	got, created, err := f.q.CompleteUpload(f.ctx, fl, r.ID)
	storeWantNoErr(t, "CompleteUpload", err)
	if !created {
		t.Fatal("CompleteUpload: created = false, want true")
	}
	storeWantEqual(t, "CompleteUpload", got, fl, storageNormFile)
	f.wantFile(t, fl)
	f.wantNoReservation(t, r)
	f.wantReservation(t, other)
	f.wantUsage(t, studio, 90, 50)
	files, err := f.q.CollectionFiles(f.ctx, studio, col.ID, core.Page{Limit: 10})
	storeWantNoErr(t, "CollectionFiles", err)
	storeWantEqual(t, "CollectionFiles", files, []core.GalleryFile{fl}, storageNormFiles)
}

func testCompleteUploadTwice(t *testing.T, f *storageFixture) {
	studio := f.studio()
	col := f.createCollection(studio, "")
	fl := f.file(col, 90)
	r := f.reserveFor(fl)
	_, created, err := f.q.CompleteUpload(f.ctx, fl, r.ID)
	storeWantNoErr(t, "CompleteUpload", err)
	if !created {
		t.Fatal("first CompleteUpload: created = false, want true")
	}

	retry := f.file(col, 10) // another id, name and size, the same key
	retry.StorageKey, retry.Name = fl.StorageKey, "retry.jpg"
	for _, rid := range []string{r.ID, f.id("rsv")} {
		got, created, err := f.q.CompleteUpload(f.ctx, retry, rid)
		storeWantNoErr(t, "CompleteUpload again", err)
		if created {
			t.Fatal("CompleteUpload again: created = true, want false")
		}
		storeWantEqual(t, "CompleteUpload again", got, fl, storageNormFile)
	}
	f.wantUsage(t, studio, 90, 0)
	files, err := f.q.CollectionFiles(f.ctx, studio, col.ID, core.Page{Limit: 10})
	storeWantNoErr(t, "CollectionFiles", err)
	storeWantEqual(t, "CollectionFiles", files, []core.GalleryFile{fl}, storageNormFiles)
}

// testCompleteUploadRace has 10 callers complete one upload at once, in
// several rounds (the first round also warms up connection pools, so later
// ones really overlap): one creates the file, the others get it back, and
// its bytes are counted once.
func testCompleteUploadRace(t *testing.T, f *storageFixture) {
	const rounds, n = 5, 10
	studio := f.studio()
	col := f.createCollection(studio, "")
	f.reserve(f.reservation(studio, 5), storageBigLimit)
	type result struct {
		f       core.GalleryFile
		created bool
		err     error
	}
	for round := range rounds {
		fl := f.file(col, 90)
		r := f.reserveFor(fl)
		results := make([]result, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			attempt := fl
			attempt.ID = f.id("fil") // each caller mints its own id
			wg.Go(func() {
				<-start
				got, created, err := f.q.CompleteUpload(f.ctx, attempt, r.ID)
				results[i] = result{got, created, err}
			})
		}
		close(start)
		wg.Wait()
		var winner core.GalleryFile
		for i, res := range results {
			storeWantNoErr(t, fmt.Sprintf("round %d: CompleteUpload %d", round, i), res.err)
			if res.created {
				if winner.ID != "" {
					t.Fatalf("round %d: two CompleteUploads created a file: %s and %s", round, winner.ID, res.f.ID)
				}
				winner = res.f
			}
		}
		if winner.ID == "" {
			t.Fatalf("round %d: no CompleteUpload created the file", round)
		}
		for i, res := range results {
			storeWantEqual(t, fmt.Sprintf("round %d: CompleteUpload %d", round, i), res.f, winner, storageNormFile)
		}
		f.wantFile(t, winner)
		f.wantNoReservation(t, r)
		f.wantUsage(t, studio, int64(round+1)*90, 5)
	}
}

func testCompleteUploadNoReservation(t *testing.T, f *storageFixture) {
	studio := f.studio()
	col := f.createCollection(studio, "")
	kept := f.reserve(f.reservation(studio, 7), 100)
	fl := f.file(col, 10)
	_, created, err := f.q.CompleteUpload(f.ctx, fl, f.id("rsv"))
	storeWantKind(t, err, core.KindNotFound, "")
	storageWantDetail(t, err, "reservation")
	if created {
		t.Fatal("created = true on an error")
	}
	f.wantNoFile(t, studio, fl.StorageKey)
	f.wantReservation(t, kept)
	f.wantUsage(t, studio, 0, 7)
}

func testCompleteUploadReleased(t *testing.T, f *storageFixture) {
	studio := f.studio()
	col := f.createCollection(studio, "")
	fl := f.file(col, 10)
	r := f.reserveFor(fl)
	storeWantNoErr(t, "Release", f.q.Release(f.ctx, studio, r.ID))
	_, _, err := f.q.CompleteUpload(f.ctx, fl, r.ID)
	storeWantKind(t, err, core.KindNotFound, "")
	storageWantDetail(t, err, "reservation")
	f.wantNoFile(t, studio, fl.StorageKey)
	f.wantUsage(t, studio, 0, 0)
}

func testCompleteUploadOtherOwner(t *testing.T, f *storageFixture) {
	studio, other := f.studio(), f.studio()
	col := f.createCollection(studio, "")
	fl := f.file(col, 10)
	theirs := f.reservation(other, 10)
	theirs.StorageKey = fl.StorageKey
	f.reserve(theirs, 100)
	_, _, err := f.q.CompleteUpload(f.ctx, fl, theirs.ID)
	storeWantKind(t, err, core.KindNotFound, "")
	storageWantDetail(t, err, "reservation")
	f.wantNoFile(t, studio, fl.StorageKey)
	f.wantReservation(t, theirs)
	f.wantUsage(t, other, 0, 10)
	f.wantUsage(t, studio, 0, 0)
}

func testCompleteUploadForeignCollection(t *testing.T, f *storageFixture) {
	studio, other := f.studio(), f.studio()
	theirs := f.createCollection(other, "")
	for _, col := range []core.Collection{theirs, f.collection(studio, "")} { // another studio's, unknown
		fl := f.file(col, 10)
		fl.StudioID = studio
		r := f.reserveFor(fl)
		_, _, err := f.q.CompleteUpload(f.ctx, fl, r.ID)
		storeWantKind(t, err, core.KindNotFound, "")
		f.wantNoFile(t, studio, fl.StorageKey)
		f.wantNoFile(t, other, fl.StorageKey)
		f.wantReservation(t, r)
	}
	f.wantUsage(t, studio, 0, 20)
	f.wantUsage(t, other, 0, 0)
}

func testCompleteUploadForeignKey(t *testing.T, f *storageFixture) {
	studio, other := f.studio(), f.studio()
	theirs := f.upload(other, 10)
	col := f.createCollection(studio, "")
	fl := f.file(col, 10)
	fl.StorageKey = theirs.StorageKey
	r := f.reserve(f.reservation(studio, 10), 100) // under another key: the file's is free of reservations
	_, created, err := f.q.CompleteUpload(f.ctx, fl, r.ID)
	storeWantKind(t, err, core.KindConflict, "")
	if created {
		t.Fatal("created = true on an error")
	}
	f.wantReservation(t, r)
	f.wantUsage(t, studio, 0, 10)
	f.wantFile(t, theirs)
	f.wantNoFile(t, studio, theirs.StorageKey)
}

func testCompleteUploadNegative(t *testing.T, f *storageFixture) {
	studio := f.studio()
	col := f.createCollection(studio, "")
	fl := f.file(col, 10)
	r := f.reserveFor(fl)
	fl.Size = -1
	_, _, err := f.q.CompleteUpload(f.ctx, fl, r.ID)
	storeWantKind(t, err, core.KindInvalid, "")
	storageWantDetail(t, err, "size")
	f.wantReservation(t, r)
	f.wantNoFile(t, studio, fl.StorageKey)
	f.wantUsage(t, studio, 0, 10)
}

func testCollectionFilesPages(t *testing.T, f *storageFixture) {
	studio, other := f.studio(), f.studio()
	col, sibling := f.createCollection(studio, ""), f.createCollection(studio, "")
	var want []core.GalleryFile
	for i := range 5 {
		want = append(want, f.complete(f.file(col, int64(i))))
		f.complete(f.file(sibling, 1))
	}
	f.upload(other, 1)
	want = storageSortByID(want, func(fl core.GalleryFile) string { return fl.ID })
	for _, limit := range []int{1, 2, 5, 100} {
		var got []core.GalleryFile
		after := ""
		for {
			page, err := f.q.CollectionFiles(f.ctx, studio, col.ID, core.Page{After: after, Limit: limit})
			storeWantNoErr(t, "CollectionFiles", err)
			got = append(got, page...)
			if len(page) < limit {
				break
			}
			after = page[len(page)-1].ID
		}
		storeWantEqual(t, fmt.Sprintf("CollectionFiles by %d", limit), got, want, storageNormFiles)
	}
	for _, limit := range []int{0, -1} {
		got, err := f.q.CollectionFiles(f.ctx, studio, col.ID, core.Page{Limit: limit})
		storeWantNoErr(t, "CollectionFiles", err)
		storeWantEqual(t, fmt.Sprintf("CollectionFiles(limit %d)", limit), got, nil, storageNormFiles)
	}
	empty := f.createCollection(studio, "")
	got, err := f.q.CollectionFiles(f.ctx, studio, empty.ID, core.Page{Limit: 10})
	storeWantNoErr(t, "CollectionFiles(empty collection)", err)
	storeWantEqual(t, "CollectionFiles(empty collection)", got, nil, storageNormFiles)
}

func testCollectionFilesNotFound(t *testing.T, f *storageFixture) {
	studio, other := f.studio(), f.studio()
	theirs := f.createCollection(other, "")
	f.complete(f.file(theirs, 1))
	for _, id := range []string{theirs.ID, f.id("col")} {
		_, err := f.q.CollectionFiles(f.ctx, studio, id, core.Page{Limit: 10})
		storeWantKind(t, err, core.KindNotFound, "")
	}
}

func testGalleryFileByKeyNotFound(t *testing.T, f *storageFixture) {
	studio, other := f.studio(), f.studio()
	fl := f.upload(studio, 1)
	f.wantNoFile(t, other, fl.StorageKey)
	f.wantNoFile(t, studio, fl.StorageKey+"x")
	f.wantFile(t, fl)
}
