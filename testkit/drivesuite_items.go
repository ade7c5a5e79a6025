package testkit

import (
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// driveItemCases are RunDriveStoreSuite's sub-tests of creating, reading
// and updating single items.
var driveItemCases = []driveCase{
	{"CreateFolder", "round_trips_at_the_root_nested_and_as_an_app_folder", testDriveCreateFolder},
	{"CreateFolder", "live_sibling_folder_with_the_same_normalized_name_is_name_taken", testDriveCreateFolderTaken},
	{"CreateFolder", "trashed_siblings_files_other_parents_and_drives_do_not_clash", testDriveCreateFolderNoClash},
	{"CreateFile", "stores_the_file_and_settles_its_reservation", testDriveCreateFile},
	{"CreateFile", "missing_settled_released_or_another_owners_reservation_is_not_found", testDriveCreateFileNoReservation},
	{"CreateFile", "live_sibling_file_with_the_same_normalized_name_is_name_taken", testDriveCreateFileTaken},
	{"CreateFile", "taken_storage_key_is_file_exists", testDriveCreateFileKeyTaken},
	{"UpdateFolder", "writes_its_fields_and_keeps_the_others", testDriveUpdateFolder},
	{"UpdateFolder", "live_sibling_folder_with_the_same_normalized_name_is_name_taken", testDriveUpdateFolderTaken},
	{"UpdateFile", "writes_its_fields_and_keeps_the_others", testDriveUpdateFile},
	{"UpdateFile", "live_sibling_file_with_the_same_normalized_name_is_name_taken", testDriveUpdateFileTaken},
	{"NameTaken", "sees_live_items_of_the_kind_only", testDriveNameTaken},
	{"AppFolder", "finds_the_live_folder_of_the_app", testDriveAppFolder},
	{"Scope", "another_drives_or_unknown_ids_are_not_found_and_change_nothing", testDriveScope},
}

func testDriveCreateFolder(t *testing.T, f *driveFixture) {
	drive := f.drive()
	top := f.addFolder(drive, "", `Ünïcødé "Quotes" 'n' spaces`)
	nested := f.addFolder(drive, top.ID, "Nested")
	deep := f.addFolder(drive, nested.ID, "Deeper")
	app := f.folder(drive, "", "Partner App")
	app.AppID = "app_" + f.id("x")
	f.mkFolder(app)
	for _, fl := range []core.DriveFolder{top, nested, deep, app} {
		f.wantFolder(t, fl)
		f.update(drive, func(tx ports.DriveTx) error {
			got, err := tx.Folder(f.ctx, fl.ID)
			storeWantNoErr(t, "tx.Folder", err)
			storeWantEqual(t, "tx.Folder", got, fl, driveNormFolder)
			return nil
		})
	}
	f.wantUsage(t, drive, 0, 0)
}

// wantCreateFolderTaken checks that creating fl is "name_taken" and stores
// nothing.
func (f *driveFixture) wantCreateFolderTaken(t *testing.T, fl core.DriveFolder) {
	t.Helper()
	err := f.d.Update(f.ctx, fl.DriveID, func(tx ports.DriveTx) error { return tx.CreateFolder(f.ctx, fl) })
	storeWantKind(t, err, core.KindConflict, "name_taken")
	f.wantNoFolder(t, fl.DriveID, fl.ID)
}

func testDriveCreateFolderTaken(t *testing.T, f *driveFixture) {
	drive := f.drive()
	photos := f.addFolder(drive, "", "Photos")
	f.wantCreateFolderTaken(t, f.folder(drive, "", "PHOTOS"))
	f.wantCreateFolderTaken(t, f.folder(drive, "", "photos"))
	inner := f.addFolder(drive, photos.ID, "Été")
	f.wantCreateFolderTaken(t, f.folder(drive, photos.ID, "ÉTÉ"))
	// A trashed folder's live child still guards its name.
	f.update(drive, func(tx ports.DriveTx) error {
		fl := photos
		fl.TrashedAt, fl.TrashRoot = f.at(time.Hour), fl.ID
		return tx.UpdateFolder(f.ctx, fl)
	})
	f.wantCreateFolderTaken(t, f.folder(drive, photos.ID, "été"))
	f.wantFolder(t, inner)
}

func testDriveCreateFolderNoClash(t *testing.T, f *driveFixture) {
	drive, other := f.drive(), f.drive()
	old := f.addFolder(drive, "", "Photos")
	f.trashFolder(old, f.at(time.Hour))
	again := f.addFolder(drive, "", "photos")
	f.addFile(drive, "", "docs", 1)
	docs := f.addFolder(drive, "", "Docs")
	nested := f.addFolder(drive, again.ID, "Docs")
	elsewhere := f.addFolder(other, "", "Docs")
	for _, fl := range []core.DriveFolder{again, docs, nested, elsewhere} {
		f.wantFolder(t, fl)
	}
}

func testDriveCreateFile(t *testing.T, f *driveFixture) {
	a := f.createAccount()
	drive := a.Drive.ID
	f.reserve(drive, 50)
	studioR := f.reserve(a.Studio.ID, 9)
	dir := f.addFolder(drive, "", "Dir")
	fl := f.file(drive, dir.ID, `Ünïcødé "file".jpg`, 100)
	r := f.reserve(drive, 120)
	f.wantUsage(t, drive, 0, 170)
	f.update(drive, func(tx ports.DriveTx) error { return tx.CreateFile(f.ctx, fl, r.ID) })
	f.wantFile(t, fl)
	f.wantUsage(t, drive, 100, 50)
	f.wantUsage(t, a.Studio.ID, 0, 9)
	_, err := f.d.ReservationByKey(f.ctx, drive, r.StorageKey)
	storeWantKind(t, err, core.KindNotFound, "")
	if _, err := f.d.ReservationByKey(f.ctx, a.Studio.ID, studioR.StorageKey); err != nil {
		t.Fatalf("another owner's reservation went: %v", err)
	}
	// A file at the root, and one of zero bytes.
	top := f.addFile(drive, "", "top.txt", 0)
	f.wantFile(t, top)
	f.wantUsage(t, drive, 100, 50)
}

func testDriveCreateFileNoReservation(t *testing.T, f *driveFixture) {
	a := f.createAccount()
	drive, other := a.Drive.ID, f.drive()
	settled := f.addFile(drive, "", "first.jpg", 4)
	used := f.reserve(drive, 4)
	f.update(drive, func(tx ports.DriveTx) error {
		return tx.CreateFile(f.ctx, f.file(drive, "", "second.jpg", 4), used.ID)
	})
	released := f.reserve(drive, 2)
	storeWantNoErr(t, "Release", f.d.Release(f.ctx, drive, released.ID))
	studioR := f.reserve(a.Studio.ID, 6)
	otherR := f.reserve(other, 8)
	for _, rid := range []string{f.id("rsv"), used.ID, released.ID, studioR.ID, otherR.ID} {
		fl := f.file(drive, "", "new.jpg", 3)
		err := f.d.Update(f.ctx, drive, func(tx ports.DriveTx) error { return tx.CreateFile(f.ctx, fl, rid) })
		storeWantKind(t, err, core.KindNotFound, "")
		storageWantDetail(t, err, "reservation")
		f.wantNoFile(t, drive, fl.ID, fl.StorageKey)
	}
	f.wantFile(t, settled)
	f.wantUsage(t, drive, 8, 0)
	f.wantUsage(t, a.Studio.ID, 0, 6)
	f.wantUsage(t, other, 0, 8)
}

// wantCreateFileTaken checks that creating fl fails with code, leaving a
// fresh reservation and the drive's usage as they were.
func (f *driveFixture) wantCreateFileTaken(t *testing.T, fl core.DriveFile, code string) {
	t.Helper()
	before, err := f.d.Usage(f.ctx, fl.DriveID)
	storeWantNoErr(t, "Usage", err)
	r := f.reserve(fl.DriveID, fl.Size)
	err = f.d.Update(f.ctx, fl.DriveID, func(tx ports.DriveTx) error { return tx.CreateFile(f.ctx, fl, r.ID) })
	storeWantKind(t, err, core.KindConflict, code)
	if _, err := f.d.File(f.ctx, fl.DriveID, fl.ID); !core.IsKind(err, core.KindNotFound) {
		t.Fatalf("File after a refused CreateFile: %v, want KindNotFound", err)
	}
	if _, err := f.d.ReservationByKey(f.ctx, fl.DriveID, r.StorageKey); err != nil {
		t.Fatalf("a refused CreateFile took the reservation: %v", err)
	}
	f.wantUsage(t, fl.DriveID, before.UsedBytes, before.ReservedBytes+r.Bytes)
	storeWantNoErr(t, "Release", f.d.Release(f.ctx, fl.DriveID, r.ID))
}

func testDriveCreateFileTaken(t *testing.T, f *driveFixture) {
	drive, other := f.drive(), f.drive()
	dir := f.addFolder(drive, "", "Dir")
	photo := f.addFile(drive, "", "Photo.JPG", 10)
	nested := f.addFile(drive, dir.ID, "Photo.JPG", 10)
	f.wantCreateFileTaken(t, f.file(drive, "", "photo.jpg", 5), "name_taken")
	f.wantCreateFileTaken(t, f.file(drive, dir.ID, "PHOTO.jpg", 5), "name_taken")
	// Folders, trashed files and other drives do not clash.
	f.addFolder(drive, "", "notes.txt")
	notes := f.addFile(drive, "", "Notes.txt", 1)
	f.trashFile(notes, f.at(time.Hour))
	again := f.addFile(drive, "", "notes.txt", 1)
	theirs := f.addFile(other, "", "photo.jpg", 1)
	for _, fl := range []core.DriveFile{photo, nested, again, theirs} {
		f.wantFile(t, fl)
	}
	f.wantUsage(t, drive, 22, 0)
}

func testDriveCreateFileKeyTaken(t *testing.T, f *driveFixture) {
	drive := f.drive()
	first := f.addFile(drive, "", "first.jpg", 10)
	dup := f.file(drive, "", "second.jpg", 5)
	dup.StorageKey = first.StorageKey
	f.wantCreateFileTaken(t, dup, "file_exists")
	f.trashFile(first, f.at(time.Hour))
	f.wantCreateFileTaken(t, dup, "file_exists")
	got, err := f.d.FileByKey(f.ctx, drive, first.StorageKey)
	storeWantNoErr(t, "FileByKey", err)
	if got.ID != first.ID {
		t.Fatalf("FileByKey = %s, want %s", got.ID, first.ID)
	}
	f.wantUsage(t, drive, 10, 0)
}

func testDriveUpdateFolder(t *testing.T, f *driveFixture) {
	drive := f.drive()
	x := f.addFolder(drive, "", "X")
	p := f.addFolder(drive, "", "P")
	arg := x
	arg.ParentID, arg.Name, arg.NameNormalized, arg.AppID = p.ID, "Renamed Été", "renamed été", "app_"+f.id("x")
	arg.TrashedAt, arg.TrashRoot, arg.UpdatedAt = f.at(time.Hour), x.ID, f.at(time.Hour+time.Microsecond)
	arg.CreatedAt = f.at(-time.Hour) // not written
	f.update(drive, func(tx ports.DriveTx) error { return tx.UpdateFolder(f.ctx, arg) })
	want := arg
	want.CreatedAt = x.CreatedAt
	f.wantFolder(t, want)
	// And back: out of the bin, to the root, no app.
	arg.ParentID, arg.Name, arg.NameNormalized, arg.AppID = "", "X", "x", ""
	arg.TrashedAt, arg.TrashRoot, arg.UpdatedAt = time.Time{}, "", f.at(2*time.Hour)
	f.update(drive, func(tx ports.DriveTx) error { return tx.UpdateFolder(f.ctx, arg) })
	want = arg
	want.CreatedAt = x.CreatedAt
	f.wantFolder(t, want)
	f.wantFolder(t, p)
}

// wantUpdateFolderTaken checks that writing fl is "name_taken" and leaves
// the stored folder as it was.
func (f *driveFixture) wantUpdateFolderTaken(t *testing.T, fl core.DriveFolder) {
	t.Helper()
	stored, err := f.d.Folder(f.ctx, fl.DriveID, fl.ID)
	storeWantNoErr(t, "Folder", err)
	err = f.d.Update(f.ctx, fl.DriveID, func(tx ports.DriveTx) error { return tx.UpdateFolder(f.ctx, fl) })
	storeWantKind(t, err, core.KindConflict, "name_taken")
	f.wantFolder(t, stored)
}

func testDriveUpdateFolderTaken(t *testing.T, f *driveFixture) {
	drive := f.drive()
	a := f.addFolder(drive, "", "A")
	b := f.addFolder(drive, "", "B")
	p := f.addFolder(drive, "", "P")
	pa := f.addFolder(drive, p.ID, "a")
	old := f.trashFolder(f.addFolder(drive, "", "old"), f.at(time.Hour))
	f.addFolder(drive, "", "Old")

	rename := b
	rename.Name, rename.NameNormalized = "a", "a"
	f.wantUpdateFolderTaken(t, rename)
	move := pa
	move.ParentID = ""
	f.wantUpdateFolderTaken(t, move)
	restore := old
	restore.TrashedAt, restore.TrashRoot = time.Time{}, ""
	f.wantUpdateFolderTaken(t, restore)

	// A trashed folder may take a live sibling's name, and a folder its
	// own in another case.
	old.Name, old.NameNormalized = "A", "a"
	self := a
	self.Name = "a"
	f.update(drive, func(tx ports.DriveTx) error {
		if err := tx.UpdateFolder(f.ctx, old); err != nil {
			return err
		}
		return tx.UpdateFolder(f.ctx, self)
	})
	f.wantFolder(t, old)
	f.wantFolder(t, self)
}

func testDriveUpdateFile(t *testing.T, f *driveFixture) {
	drive := f.drive()
	p := f.addFolder(drive, "", "P")
	x := f.addFile(drive, "", "x.jpg", 10)
	arg := x
	arg.ParentID, arg.Name, arg.NameNormalized = p.ID, "Renamed Été.JPG", "renamed été.jpg"
	arg.TrashedAt, arg.TrashRoot, arg.UpdatedAt = f.at(time.Hour), p.ID, f.at(time.Hour+time.Microsecond)
	// Not written:
	arg.CreatedAt, arg.ContentType, arg.Size, arg.StorageKey, arg.ETag = f.at(-time.Hour), "text/plain", 99, "elsewhere", `"x"`
	f.update(drive, func(tx ports.DriveTx) error { return tx.UpdateFile(f.ctx, arg) })
	want := x
	want.ParentID, want.Name, want.NameNormalized = arg.ParentID, arg.Name, arg.NameNormalized
	want.TrashedAt, want.TrashRoot, want.UpdatedAt = arg.TrashedAt, arg.TrashRoot, arg.UpdatedAt
	f.wantFile(t, want)
	want.ParentID, want.Name, want.NameNormalized = "", "x.jpg", "x.jpg"
	want.TrashedAt, want.TrashRoot, want.UpdatedAt = time.Time{}, "", f.at(2*time.Hour)
	f.update(drive, func(tx ports.DriveTx) error { return tx.UpdateFile(f.ctx, want) })
	f.wantFile(t, want)
	f.wantUsage(t, drive, 10, 0)
}

// wantUpdateFileTaken checks that writing fl is "name_taken" and leaves
// the stored file as it was.
func (f *driveFixture) wantUpdateFileTaken(t *testing.T, fl core.DriveFile) {
	t.Helper()
	stored, err := f.d.File(f.ctx, fl.DriveID, fl.ID)
	storeWantNoErr(t, "File", err)
	err = f.d.Update(f.ctx, fl.DriveID, func(tx ports.DriveTx) error { return tx.UpdateFile(f.ctx, fl) })
	storeWantKind(t, err, core.KindConflict, "name_taken")
	f.wantFile(t, stored)
}

func testDriveUpdateFileTaken(t *testing.T, f *driveFixture) {
	drive := f.drive()
	a := f.addFile(drive, "", "a.jpg", 1)
	b := f.addFile(drive, "", "b.jpg", 1)
	p := f.addFolder(drive, "", "P")
	pa := f.addFile(drive, p.ID, "A.JPG", 1)
	old := f.trashFile(f.addFile(drive, "", "old.jpg", 1), f.at(time.Hour))
	f.addFile(drive, "", "OLD.jpg", 1)

	rename := b
	rename.Name, rename.NameNormalized = "A.jpg", "a.jpg"
	f.wantUpdateFileTaken(t, rename)
	move := pa
	move.ParentID = ""
	f.wantUpdateFileTaken(t, move)
	restore := old
	restore.TrashedAt, restore.TrashRoot = time.Time{}, ""
	f.wantUpdateFileTaken(t, restore)

	old.Name, old.NameNormalized = "a.jpg", "a.jpg"
	self := a
	self.Name = "A.jpg"
	folderName := b
	folderName.Name, folderName.NameNormalized = "P", "p" // a sibling folder's name: no clash
	f.update(drive, func(tx ports.DriveTx) error {
		for _, fl := range []core.DriveFile{old, self, folderName} {
			if err := tx.UpdateFile(f.ctx, fl); err != nil {
				return err
			}
		}
		return nil
	})
	for _, fl := range []core.DriveFile{old, self, folderName} {
		f.wantFile(t, fl)
	}
}

func testDriveNameTaken(t *testing.T, f *driveFixture) {
	drive, other := f.drive(), f.drive()
	f.addFolder(drive, "", "Photos")
	f.addFile(drive, "", "notes.txt", 1)
	f.trashFolder(f.addFolder(drive, "", "Old"), f.at(time.Hour))
	f.trashFile(f.addFile(drive, "", "old.txt", 1), f.at(time.Hour))
	p := f.addFolder(drive, "", "P")
	f.addFile(drive, p.ID, "inner.txt", 1)
	f.addFolder(other, "", "theirs")

	checks := []struct {
		kind         core.DriveItemKind
		parent, name string
		want         bool
	}{
		{core.DriveFolderKind, "", "photos", true},
		{core.DriveFileKind, "", "photos", false},
		{core.DriveFolderKind, "", "Photos", false}, // compared as given
		{core.DriveFileKind, "", "notes.txt", true},
		{core.DriveFolderKind, "", "notes.txt", false},
		{core.DriveFolderKind, "", "old", false},
		{core.DriveFileKind, "", "old.txt", false},
		{core.DriveFileKind, p.ID, "inner.txt", true},
		{core.DriveFileKind, "", "inner.txt", false},
		{core.DriveFolderKind, p.ID, "photos", false},
		{core.DriveFolderKind, "", "theirs", false},
	}
	f.update(drive, func(tx ports.DriveTx) error {
		for _, c := range checks {
			got, err := tx.NameTaken(f.ctx, c.kind, c.parent, c.name)
			storeWantNoErr(t, "NameTaken", err)
			if got != c.want {
				t.Errorf("NameTaken(%s, %q, %q) = %v, want %v", c.kind, c.parent, c.name, got, c.want)
			}
		}
		return nil
	})
	// From another drive, nothing is taken: its root is empty, and a
	// folder of this drive is not its folder.
	f.update(other, func(tx ports.DriveTx) error {
		for _, c := range checks {
			if c.parent != "" || c.name == "theirs" {
				continue
			}
			got, err := tx.NameTaken(f.ctx, c.kind, c.parent, c.name)
			storeWantNoErr(t, "NameTaken", err)
			if got {
				t.Errorf("another drive: NameTaken(%s, root, %q) = true", c.kind, c.name)
			}
		}
		got, err := tx.NameTaken(f.ctx, core.DriveFileKind, p.ID, "inner.txt")
		if err == nil && got {
			t.Error("another drive: NameTaken sees a name in a foreign folder")
		} else if err != nil {
			storeWantKind(t, err, core.KindNotFound, "")
		}
		return nil
	})
}

func testDriveAppFolder(t *testing.T, f *driveFixture) {
	drive, other := f.drive(), f.drive()
	mk := func(driveID, appID, name string) core.DriveFolder {
		fl := f.folder(driveID, "", name)
		fl.AppID = appID
		return f.mkFolder(fl)
	}
	app1 := mk(drive, "app_1", "App One")
	f.trashFolder(mk(drive, "app_2", "App Two"), f.at(time.Hour))
	mk(other, "app_3", "App Three")
	f.addFolder(drive, "", "Plain")
	f.update(drive, func(tx ports.DriveTx) error {
		got, err := tx.AppFolder(f.ctx, "app_1")
		storeWantNoErr(t, "AppFolder", err)
		storeWantEqual(t, "AppFolder", got, app1, driveNormFolder)
		for _, app := range []string{"app_2", "app_3", "app_unknown", ""} {
			_, err := tx.AppFolder(f.ctx, app)
			storeWantKind(t, err, core.KindNotFound, "")
		}
		return nil
	})
	// Trashed, the app's folder is replaced by a new live one.
	f.trashFolder(app1, f.at(2*time.Hour))
	again := mk(drive, "app_1", "App One (1)")
	f.update(drive, func(tx ports.DriveTx) error {
		got, err := tx.AppFolder(f.ctx, "app_1")
		storeWantNoErr(t, "AppFolder", err)
		storeWantEqual(t, "AppFolder after a trash", got, again, driveNormFolder)
		return nil
	})
}

func testDriveScope(t *testing.T, f *driveFixture) {
	drive, other := f.drive(), f.drive()
	dir := f.addFolder(drive, "", "Dir")
	sub := f.addFolder(drive, dir.ID, "Sub")
	fl := f.addFile(drive, dir.ID, "f.jpg", 10)
	gone := f.trashFile(f.addFile(drive, "", "gone.jpg", 3), f.at(time.Hour))
	f.addFolder(other, "", "Dir")
	f.addFile(other, "", "f.jpg", 1)
	at := f.at(2 * time.Hour)

	for _, ids := range []struct{ who, folder, file, key string }{
		{"another drive's", dir.ID, fl.ID, fl.StorageKey},
		{"an unknown", f.id("dfo"), f.id("dfi"), "drives/" + other + "/unknown"},
	} {
		_, err := f.d.Folder(f.ctx, other, ids.folder)
		storeWantKind(t, err, core.KindNotFound, "")
		_, err = f.d.Path(f.ctx, other, ids.folder)
		storeWantKind(t, err, core.KindNotFound, "")
		f.wantNoFile(t, other, ids.file, ids.key)
		moved, movedFile := dir, fl
		moved.DriveID, movedFile.DriveID = other, other
		calls := map[string]func(tx ports.DriveTx) error{
			"Folder":           func(tx ports.DriveTx) error { _, err := tx.Folder(f.ctx, ids.folder); return err },
			"File":             func(tx ports.DriveTx) error { _, err := tx.File(f.ctx, ids.file); return err },
			"FileByKey":        func(tx ports.DriveTx) error { _, err := tx.FileByKey(f.ctx, ids.key); return err },
			"Path":             func(tx ports.DriveTx) error { _, err := tx.Path(f.ctx, ids.folder); return err },
			"Height":           func(tx ports.DriveTx) error { _, err := tx.Height(f.ctx, ids.folder); return err },
			"UpdateFolder":     func(tx ports.DriveTx) error { moved.ID = ids.folder; return tx.UpdateFolder(f.ctx, moved) },
			"UpdateFile":       func(tx ports.DriveTx) error { movedFile.ID = ids.file; return tx.UpdateFile(f.ctx, movedFile) },
			"TrashSubtree":     func(tx ports.DriveTx) error { return tx.TrashSubtree(f.ctx, ids.folder, at) },
			"RestoreTrashRoot": func(tx ports.DriveTx) error { return tx.RestoreTrashRoot(f.ctx, ids.folder, at) },
			"DeleteFile":       func(tx ports.DriveTx) error { return tx.DeleteFile(f.ctx, ids.file) },
			"DeleteFolder":     func(tx ports.DriveTx) error { return tx.DeleteFolder(f.ctx, ids.folder) },
		}
		for name, call := range calls {
			err := f.d.Update(f.ctx, other, call)
			if !core.IsKind(err, core.KindNotFound) {
				t.Errorf("tx.%s with %s id: %v, want KindNotFound", name, ids.who, err)
			}
		}
	}
	// A RestoreTrashRoot of another drive's trashed item too.
	err := f.d.Update(f.ctx, other, func(tx ports.DriveTx) error { return tx.RestoreTrashRoot(f.ctx, gone.ID, at) })
	storeWantKind(t, err, core.KindNotFound, "")
	for _, x := range []core.DriveFolder{dir, sub} {
		f.wantFolder(t, x)
	}
	f.wantFile(t, fl)
	f.wantFile(t, gone)
	f.wantUsage(t, drive, 13, 0)
	f.wantUsage(t, other, 1, 0)
	f.wantPending(t)
}
