package testkit

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// DriveStoreUnderTest is what RunDriveStoreSuite exercises: the drive
// store, with the account and plan stores its fixtures need (a drive
// belongs to an account) and the quota store whose usage and reservations
// a drive's files settle and release. testkit.Store and the SQL stores
// implement it.
type DriveStoreUnderTest interface {
	ports.AccountStore
	ports.PlanStore
	ports.QuotaStore
	ports.DriveStore
}

// RunDriveStoreSuite is the contract of ports.DriveStore: every adapter of
// that port must pass it. open is called once per sub-test and must return
// an empty store, independent of every other one it returns, released in
// t.Cleanup. Sub-tests run in parallel.
//
// The suite follows the port's doc comments, with races for Update's
// serialisation (20 concurrent read-then-create Updates of one name, and
// 20 concurrent read-modify-writes of one folder). Beyond the port it
// checks what testkit.Store and the SQL stores agree on:
//
//   - time fields round-trip to the microsecond (compared in UTC; the
//     suite passes UTC times truncated to the microsecond, as the core
//     does);
//   - Update on a drive that no account has is core.KindNotFound and does
//     not run fn; fn's error comes back with its kind and code;
//   - names are compared and ordered as given in NameNormalized, byte by
//     byte (the store never normalizes: "_" sorts between "Z" and "a",
//     "é" after "z");
//   - UpdateFolder and UpdateFile leave the fields they do not write as
//     they were (CreatedAt; a file's ContentType, Size, StorageKey, ETag);
//   - TrashSubtree and RestoreTrashRoot set the UpdatedAt of the items
//     they change to at; RestoreTrashRoot of another drive's item is
//     core.KindNotFound, like TrashSubtree of another drive's folder;
//   - a storage key stays taken by a trashed file ("file_exists");
//   - pending object deletions carry distinct, non-empty ids and are
//     listed in the order their deletes committed; TrashExpired breaks
//     ties of TrashedAt by id; a limit of zero lists none.
func RunDriveStoreSuite(t *testing.T, open func(t *testing.T) DriveStoreUnderTest) {
	t.Helper()
	cases := slices.Concat(driveUpdateCases, driveItemCases, driveTreeCases, driveListCases)
	runSuite(t, cases, func(t *testing.T) *driveFixture {
		s := open(t)
		return &driveFixture{storeFixture: newStoreFixture(t, s), d: s}
	})
}

// driveCase is one sub-test of RunDriveStoreSuite: method/name.
type driveCase = suiteCase[*driveFixture]

// driveSuiteTime is when the suite's drive items happen: UTC, with
// microseconds, as the core passes times.
var driveSuiteTime = storeSuiteTime.UTC().Truncate(time.Microsecond)

var driveUpdateCases = []driveCase{
	{"Update", "unknown_drive_is_not_found_and_fn_does_not_run", testDriveUpdateUnknown},
	{"Update", "fns_error_rolls_back_every_change", testDriveUpdateRollback},
	{"Update", "reads_inside_see_the_transactions_writes", testDriveUpdateReadsOwnWrites},
	{"Update", "20_concurrent_check_then_create_updates_of_one_name_create_one", testDriveUpdateRace},
	{"Update", "20_concurrent_read_modify_writes_of_one_folder_lose_none", testDriveUpdateCounter},
}

// driveFixture builds drives, folders and files on top of storeFixture's
// accounts.
type driveFixture struct {
	*storeFixture
	d DriveStoreUnderTest
}

// at is the suite's time moved by d.
func (f *driveFixture) at(d time.Duration) time.Time { return driveSuiteTime.Add(d) }

// drive creates an account and returns its drive id.
func (f *driveFixture) drive() string {
	f.t.Helper()
	return f.createAccount().Drive.ID
}

// folder returns a live folder of the drive in parentID named name
// (normalized by lower-casing, as the core does); it is not stored.
func (f *driveFixture) folder(driveID, parentID, name string) core.DriveFolder {
	f.t.Helper()
	return core.DriveFolder{DriveItem: core.DriveItem{
		ID:             f.id("dfo"),
		DriveID:        driveID,
		ParentID:       parentID,
		Name:           name,
		NameNormalized: core.NormalizeDriveName(name),
		CreatedAt:      f.at(0),
		UpdatedAt:      f.at(time.Minute),
	}}
}

// file returns a live file of the drive in parentID named name, of size
// bytes, under a fresh key; neither it nor a reservation is stored.
func (f *driveFixture) file(driveID, parentID, name string, size int64) core.DriveFile {
	f.t.Helper()
	return core.DriveFile{
		DriveItem: core.DriveItem{
			ID:             f.id("dfi"),
			DriveID:        driveID,
			ParentID:       parentID,
			Name:           name,
			NameNormalized: core.NormalizeDriveName(name),
			CreatedAt:      f.at(2 * time.Minute),
			UpdatedAt:      f.at(3 * time.Minute),
		},
		ContentType: "image/jpeg",
		Size:        size,
		StorageKey:  "drives/" + driveID + "/" + f.id("obj") + "/Ünïcødé \"file\" 'name'.jpg",
		ETag:        `"9b2cf535f27731c974343645a3985328"`,
	}
}

// update runs fn in an Update of the drive and fails the test on error.
func (f *driveFixture) update(driveID string, fn func(tx ports.DriveTx) error) {
	f.t.Helper()
	if err := f.d.Update(f.ctx, driveID, fn); err != nil {
		f.t.Fatalf("Update: %v", err)
	}
}

// mkFolder stores fl with CreateFolder.
func (f *driveFixture) mkFolder(fl core.DriveFolder) core.DriveFolder {
	f.t.Helper()
	f.update(fl.DriveID, func(tx ports.DriveTx) error { return tx.CreateFolder(f.ctx, fl) })
	return fl
}

// addFolder stores a live folder of the drive in parentID named name.
func (f *driveFixture) addFolder(driveID, parentID, name string) core.DriveFolder {
	f.t.Helper()
	return f.mkFolder(f.folder(driveID, parentID, name))
}

// reserve reserves bytes for the drive under a fresh key.
func (f *driveFixture) reserve(driveID string, bytes int64) core.Reservation {
	f.t.Helper()
	r := core.Reservation{
		ID:         f.id("rsv"),
		OwnerID:    driveID,
		StorageKey: "drives/" + driveID + "/" + f.id("obj"),
		Bytes:      bytes,
		CreatedAt:  f.now,
		ExpiresAt:  f.now.Add(time.Hour),
	}
	if err := f.d.Reserve(f.ctx, r, storageBigLimit); err != nil {
		f.t.Fatalf("Reserve: %v", err)
	}
	return r
}

// mkFile reserves fl.Size bytes and stores fl with CreateFile.
func (f *driveFixture) mkFile(fl core.DriveFile) core.DriveFile {
	f.t.Helper()
	r := f.reserve(fl.DriveID, fl.Size)
	f.update(fl.DriveID, func(tx ports.DriveTx) error { return tx.CreateFile(f.ctx, fl, r.ID) })
	return fl
}

// addFile stores a live file of the drive in parentID.
func (f *driveFixture) addFile(driveID, parentID, name string, size int64) core.DriveFile {
	f.t.Helper()
	return f.mkFile(f.file(driveID, parentID, name, size))
}

// trashFolder sends a folder to the bin itself, at at, as the core does:
// the folder listed, its live subtree along with it. It returns the
// folder as stored.
func (f *driveFixture) trashFolder(fl core.DriveFolder, at time.Time) core.DriveFolder {
	f.t.Helper()
	fl.TrashedAt, fl.TrashRoot, fl.UpdatedAt = at, fl.ID, at
	f.update(fl.DriveID, func(tx ports.DriveTx) error {
		if err := tx.UpdateFolder(f.ctx, fl); err != nil {
			return err
		}
		return tx.TrashSubtree(f.ctx, fl.ID, at)
	})
	return fl
}

// trashFile sends a file to the bin itself, at at, and returns it as
// stored.
func (f *driveFixture) trashFile(fl core.DriveFile, at time.Time) core.DriveFile {
	f.t.Helper()
	fl.TrashedAt, fl.TrashRoot, fl.UpdatedAt = at, fl.ID, at
	f.update(fl.DriveID, func(tx ports.DriveTx) error { return tx.UpdateFile(f.ctx, fl) })
	return fl
}

// driveItemType is a folder or a file.
type driveItemType interface {
	core.DriveFolder | core.DriveFile
}

// along returns fl as TrashSubtree leaves it when root's deletion takes it
// along at at.
func along[T driveItemType](fl T, root string, at time.Time) T {
	switch v := any(&fl).(type) {
	case *core.DriveFolder:
		v.TrashedAt, v.TrashRoot, v.UpdatedAt = at, root, at
	case *core.DriveFile:
		v.TrashedAt, v.TrashRoot, v.UpdatedAt = at, root, at
	}
	return fl
}

// wantFolder checks that the store reads fl, outside and inside Update.
func (f *driveFixture) wantFolder(t *testing.T, fl core.DriveFolder) {
	t.Helper()
	got, err := f.d.Folder(f.ctx, fl.DriveID, fl.ID)
	storeWantNoErr(t, "Folder", err)
	storeWantEqual(t, "Folder", got, fl, driveNormFolder)
}

// wantFile checks that the store reads fl by id and by key.
func (f *driveFixture) wantFile(t *testing.T, fl core.DriveFile) {
	t.Helper()
	got, err := f.d.File(f.ctx, fl.DriveID, fl.ID)
	storeWantNoErr(t, "File", err)
	storeWantEqual(t, "File", got, fl, driveNormFile)
	got, err = f.d.FileByKey(f.ctx, fl.DriveID, fl.StorageKey)
	storeWantNoErr(t, "FileByKey", err)
	storeWantEqual(t, "FileByKey", got, fl, driveNormFile)
}

// wantNoFolder checks that the drive has no folder id.
func (f *driveFixture) wantNoFolder(t *testing.T, driveID, id string) {
	t.Helper()
	_, err := f.d.Folder(f.ctx, driveID, id)
	storeWantKind(t, err, core.KindNotFound, "")
}

// wantNoFile checks that the drive has no file id nor one under key.
func (f *driveFixture) wantNoFile(t *testing.T, driveID, id, key string) {
	t.Helper()
	_, err := f.d.File(f.ctx, driveID, id)
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.d.FileByKey(f.ctx, driveID, key)
	storeWantKind(t, err, core.KindNotFound, "")
}

// wantUsage checks the owner's usage.
func (f *driveFixture) wantUsage(t *testing.T, ownerID string, used, reserved int64) {
	t.Helper()
	got, err := f.d.Usage(f.ctx, ownerID)
	storeWantNoErr(t, "Usage", err)
	if want := (core.Usage{UsedBytes: used, ReservedBytes: reserved}); got != want {
		t.Fatalf("Usage(%s) = %+v, want %+v", ownerID, got, want)
	}
}

// pendingKeys returns the storage keys of every pending object deletion,
// in order, checking their ids.
func (f *driveFixture) pendingKeys(t *testing.T) []string {
	t.Helper()
	ds, err := f.d.PendingObjectDeletions(f.ctx, 1000)
	storeWantNoErr(t, "PendingObjectDeletions", err)
	keys, ids := []string{}, map[string]bool{}
	for _, d := range ds {
		if d.ID == "" || ids[d.ID] {
			t.Fatalf("PendingObjectDeletions: empty or repeated id in %+v", ds)
		}
		ids[d.ID] = true
		keys = append(keys, d.StorageKey)
	}
	return keys
}

// wantPending checks the storage keys of the pending object deletions, in
// order.
func (f *driveFixture) wantPending(t *testing.T, keys ...string) {
	t.Helper()
	storeWantEqual(t, "pending deletion keys", f.pendingKeys(t), append([]string{}, keys...), slices.Clone)
}

func testDriveUpdateUnknown(t *testing.T, f *driveFixture) {
	f.drive()
	ran := false
	err := f.d.Update(f.ctx, f.id("drv"), func(ports.DriveTx) error { ran = true; return nil })
	storeWantKind(t, err, core.KindNotFound, "")
	if ran {
		t.Fatal("Update ran fn for an unknown drive")
	}
}

func testDriveUpdateRollback(t *testing.T, f *driveFixture) {
	drive := f.drive()
	a := f.addFolder(drive, "", "A")
	sub := f.addFolder(drive, a.ID, "Sub")
	a1 := f.addFile(drive, a.ID, "a1.jpg", 10)
	b := f.addFile(drive, "", "b.jpg", 20)
	gone := f.addFile(drive, "", "gone.jpg", 7)
	f.update(drive, func(tx ports.DriveTx) error { return tx.DeleteFile(f.ctx, gone.ID) })
	r := f.reserve(drive, 5)
	f.wantUsage(t, drive, 30, 5)

	boom := core.Conflict("boom", "fn failed after writing")
	nf, nfile := f.folder(drive, "", "New"), f.file(drive, a.ID, "new.jpg", 5)
	err := f.d.Update(f.ctx, drive, func(tx ports.DriveTx) error {
		renamed := a
		renamed.Name, renamed.NameNormalized, renamed.AppID, renamed.UpdatedAt = "Renamed", "renamed", "app_x", f.at(time.Hour)
		bMoved := b
		bMoved.ParentID, bMoved.Name, bMoved.NameNormalized = a.ID, "B.jpg", "b.jpg"
		for _, step := range []func() error{
			func() error { return tx.CreateFolder(f.ctx, nf) },
			func() error { return tx.CreateFile(f.ctx, nfile, r.ID) },
			func() error { return tx.UpdateFolder(f.ctx, renamed) },
			func() error { return tx.UpdateFile(f.ctx, bMoved) },
			func() error { return tx.TrashSubtree(f.ctx, a.ID, f.at(time.Hour)) },
			func() error { return tx.RestoreTrashRoot(f.ctx, a.ID, f.at(2*time.Hour)) },
			func() error { return tx.DeleteFile(f.ctx, b.ID) },
			func() error { return tx.DeleteFolder(f.ctx, a.ID) },
		} {
			if err := step(); err != nil {
				return err
			}
		}
		if _, err := tx.Folder(f.ctx, nf.ID); err != nil {
			return err
		}
		if _, err := tx.Folder(f.ctx, a.ID); !core.IsKind(err, core.KindNotFound) {
			return errors.New("a deleted folder is still read inside the transaction")
		}
		return boom
	})
	storeWantKind(t, err, core.KindConflict, "boom")
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	for _, fl := range []core.DriveFolder{a, sub} {
		f.wantFolder(t, fl)
	}
	for _, fl := range []core.DriveFile{a1, b} {
		f.wantFile(t, fl)
	}
	f.wantNoFolder(t, drive, nf.ID)
	f.wantNoFile(t, drive, nfile.ID, nfile.StorageKey)
	got, err := f.d.ReservationByKey(f.ctx, drive, r.StorageKey)
	storeWantNoErr(t, "ReservationByKey", err)
	storeWantEqual(t, "ReservationByKey", got, r, storageNormReservation)
	f.wantUsage(t, drive, 30, 5)
	f.wantPending(t, gone.StorageKey)
	// The rolled-back ids and names are free.
	f.mkFolder(nf)
	f.update(drive, func(tx ports.DriveTx) error { return tx.CreateFile(f.ctx, nfile, r.ID) })
	f.wantUsage(t, drive, 35, 0)
}

func testDriveUpdateReadsOwnWrites(t *testing.T, f *driveFixture) {
	drive := f.drive()
	p := f.folder(drive, "", "Parent")
	c := f.folder(drive, p.ID, "Child")
	app := f.folder(drive, "", "Partner App")
	app.AppID = "app_1"
	fl := f.file(drive, c.ID, "photo.jpg", 3)
	r := f.reserve(drive, 3)
	renamed := c
	renamed.Name, renamed.NameNormalized, renamed.UpdatedAt = "Kid", "kid", f.at(time.Hour)
	f.update(drive, func(tx ports.DriveTx) error {
		for _, x := range []core.DriveFolder{p, c, app} {
			storeWantNoErr(t, "CreateFolder", tx.CreateFolder(f.ctx, x))
		}
		storeWantNoErr(t, "CreateFile", tx.CreateFile(f.ctx, fl, r.ID))
		got, err := tx.Folder(f.ctx, c.ID)
		storeWantNoErr(t, "tx.Folder", err)
		storeWantEqual(t, "tx.Folder", got, c, driveNormFolder)
		path, err := tx.Path(f.ctx, c.ID)
		storeWantNoErr(t, "tx.Path", err)
		storeWantEqual(t, "tx.Path", path, []core.DriveFolder{c, p}, driveNormFolders)
		h, err := tx.Height(f.ctx, p.ID)
		storeWantNoErr(t, "tx.Height", err)
		if h != 2 {
			t.Fatalf("tx.Height = %d, want 2", h)
		}
		taken, err := tx.NameTaken(f.ctx, core.DriveFolderKind, p.ID, "child")
		storeWantNoErr(t, "tx.NameTaken", err)
		if !taken {
			t.Fatal("tx.NameTaken does not see a folder created in the transaction")
		}
		gotFile, err := tx.File(f.ctx, fl.ID)
		storeWantNoErr(t, "tx.File", err)
		storeWantEqual(t, "tx.File", gotFile, fl, driveNormFile)
		gotFile, err = tx.FileByKey(f.ctx, fl.StorageKey)
		storeWantNoErr(t, "tx.FileByKey", err)
		storeWantEqual(t, "tx.FileByKey", gotFile, fl, driveNormFile)
		gotApp, err := tx.AppFolder(f.ctx, "app_1")
		storeWantNoErr(t, "tx.AppFolder", err)
		storeWantEqual(t, "tx.AppFolder", gotApp, app, driveNormFolder)
		storeWantNoErr(t, "UpdateFolder", tx.UpdateFolder(f.ctx, renamed))
		got, err = tx.Folder(f.ctx, c.ID)
		storeWantNoErr(t, "tx.Folder", err)
		storeWantEqual(t, "tx.Folder after UpdateFolder", got, renamed, driveNormFolder)
		return nil
	})
	for _, x := range []core.DriveFolder{p, renamed, app} {
		f.wantFolder(t, x)
	}
	f.wantFile(t, fl)
	f.wantUsage(t, drive, 3, 0)
}

func testDriveUpdateRace(t *testing.T, f *driveFixture) {
	const n = 20
	drive := f.drive()
	for round := range 3 {
		name := "Shared " + strconv.Itoa(round)
		folders := make([]core.DriveFolder, n)
		for i := range folders {
			folders[i] = f.folder(drive, "", name)
		}
		var next atomic.Int32
		requireOneWinner(t, "check-then-create Update", "round "+strconv.Itoa(round), n, func() error {
			fl := folders[next.Add(1)-1]
			return f.d.Update(f.ctx, drive, func(tx ports.DriveTx) error {
				taken, err := tx.NameTaken(f.ctx, core.DriveFolderKind, "", fl.NameNormalized)
				if err != nil {
					return err
				}
				if taken {
					return core.NotFound("free name")
				}
				return tx.CreateFolder(f.ctx, fl)
			})
		})
		l, err := f.d.List(f.ctx, drive, core.DriveQuery{Limit: 100})
		storeWantNoErr(t, "List", err)
		if len(l.Folders) != round+1 {
			t.Fatalf("round %d: the root has %d folders, want %d", round, len(l.Folders), round+1)
		}
	}
}

func testDriveUpdateCounter(t *testing.T, f *driveFixture) {
	const n = 20
	drive := f.drive()
	counter := f.addFolder(drive, "", "0")
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			errs <- f.d.Update(f.ctx, drive, func(tx ports.DriveTx) error {
				fl, err := tx.Folder(f.ctx, counter.ID)
				if err != nil {
					return err
				}
				v, err := strconv.Atoi(fl.Name)
				if err != nil {
					return err
				}
				fl.Name = strconv.Itoa(v + 1)
				fl.NameNormalized = fl.Name
				return tx.UpdateFolder(f.ctx, fl)
			})
		}()
	}
	close(start)
	for range n {
		storeWantNoErr(t, "Update", <-errs)
	}
	got, err := f.d.Folder(f.ctx, drive, counter.ID)
	storeWantNoErr(t, "Folder", err)
	if got.Name != strconv.Itoa(n) {
		t.Fatalf("after %d concurrent increments the counter is %q, want %d: Updates of one drive overlapped", n, got.Name, n)
	}
}

func driveNormItem(i core.DriveItem) core.DriveItem {
	i.TrashedAt = storeNormTime(i.TrashedAt)
	i.CreatedAt, i.UpdatedAt = storeNormTime(i.CreatedAt), storeNormTime(i.UpdatedAt)
	return i
}

func driveNormFolder(f core.DriveFolder) core.DriveFolder {
	f.DriveItem = driveNormItem(f.DriveItem)
	return f
}

func driveNormFile(f core.DriveFile) core.DriveFile {
	f.DriveItem = driveNormItem(f.DriveItem)
	return f
}

func driveNormFolders(fs []core.DriveFolder) []core.DriveFolder {
	if len(fs) == 0 {
		return nil
	}
	out := make([]core.DriveFolder, len(fs))
	for i, fl := range fs {
		out[i] = driveNormFolder(fl)
	}
	return out
}

func driveNormFiles(fs []core.DriveFile) []core.DriveFile {
	if len(fs) == 0 {
		return nil
	}
	out := make([]core.DriveFile, len(fs))
	for i, fl := range fs {
		out[i] = driveNormFile(fl)
	}
	return out
}

// driveSortByName sorts a copy of folders or files as a listing does.
func driveSortByName[T driveItemType](xs []T, item func(T) core.DriveItem) []T {
	out := slices.Clone(xs)
	slices.SortFunc(out, func(a, b T) int {
		ia, ib := item(a), item(b)
		if c := strings.Compare(ia.NameNormalized, ib.NameNormalized); c != 0 {
			return c
		}
		return strings.Compare(ia.ID, ib.ID)
	})
	return out
}
