package testkit

import (
	"slices"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// driveTreeCases are RunDriveStoreSuite's sub-tests of the calls that work
// on a folder's subtree, and of the deletions they leave.
var driveTreeCases = []driveCase{
	{"Path", "lists_the_folder_and_its_ancestors_nearest_first", testDrivePath},
	{"Height", "counts_the_folder_levels_of_the_subtree_in_any_state", testDriveHeight},
	{"TrashSubtree", "sends_the_live_items_below_along_and_keeps_trashed_ones", testDriveTrashSubtree},
	{"RestoreTrashRoot", "takes_the_items_of_the_root_but_not_the_root_out_of_the_bin", testDriveRestoreTrashRoot},
	{"DeleteFile", "removes_the_file_releases_its_bytes_and_queues_its_object", testDriveDeleteFile},
	{"DeleteFolder", "removes_the_whole_subtree_in_every_state", testDriveDeleteFolder},
	{"PendingObjectDeletions", "lists_oldest_first_up_to_limit", testDrivePending},
	{"ObjectsDeleted", "forgets_the_given_deletions_and_ignores_unknown_ids", testDriveObjectsDeleted},
}

// wantPath checks the folder's path, outside and inside Update.
func (f *driveFixture) wantPath(t *testing.T, folder core.DriveFolder, want ...core.DriveFolder) {
	t.Helper()
	got, err := f.d.Path(f.ctx, folder.DriveID, folder.ID)
	storeWantNoErr(t, "Path", err)
	storeWantEqual(t, "Path", got, want, driveNormFolders)
	f.update(folder.DriveID, func(tx ports.DriveTx) error {
		got, err := tx.Path(f.ctx, folder.ID)
		storeWantNoErr(t, "tx.Path", err)
		storeWantEqual(t, "tx.Path", got, want, driveNormFolders)
		return nil
	})
}

func testDrivePath(t *testing.T, f *driveFixture) {
	drive := f.drive()
	a := f.addFolder(drive, "", "a")
	b := f.addFolder(drive, a.ID, "b")
	c := f.addFolder(drive, b.ID, "c")
	d := f.addFolder(drive, c.ID, "d")
	f.addFolder(drive, b.ID, "c2")
	f.wantPath(t, d, d, c, b, a)
	f.wantPath(t, b, b, a)
	f.wantPath(t, a, a)
	// Trashed folders are on the path too.
	b = f.trashFolder(b, f.at(time.Hour))
	c, d = along(c, b.ID, f.at(time.Hour)), along(d, b.ID, f.at(time.Hour))
	f.wantPath(t, d, d, c, b, a)
}

// wantHeight checks the folder's height.
func (f *driveFixture) wantHeight(t *testing.T, folder core.DriveFolder, want int) {
	t.Helper()
	f.update(folder.DriveID, func(tx ports.DriveTx) error {
		got, err := tx.Height(f.ctx, folder.ID)
		storeWantNoErr(t, "Height", err)
		if got != want {
			t.Errorf("Height(%s) = %d, want %d", folder.Name, got, want)
		}
		return nil
	})
}

func testDriveHeight(t *testing.T, f *driveFixture) {
	drive := f.drive()
	a := f.addFolder(drive, "", "a")
	b := f.addFolder(drive, a.ID, "b")
	c := f.addFolder(drive, b.ID, "c")
	d := f.addFolder(drive, a.ID, "d")
	f.addFile(drive, c.ID, "deep.jpg", 1)
	f.addFile(drive, d.ID, "file.jpg", 1)
	f.wantHeight(t, a, 3)
	f.wantHeight(t, b, 2)
	f.wantHeight(t, c, 1)
	f.wantHeight(t, d, 1)
	// A trashed subfolder, and one trashed along, still count.
	e := f.addFolder(drive, c.ID, "e")
	f.addFolder(drive, e.ID, "g")
	f.trashFolder(e, f.at(time.Hour))
	f.trashFolder(b, f.at(2*time.Hour))
	f.wantHeight(t, a, 5)
	f.wantHeight(t, b, 4)
	f.wantHeight(t, d, 1)
}

// driveSubtree is a tree in every state, built by newDriveSubtree:
//
//	root/            live
//	  s1/            live
//	    f1           live
//	    s3/          live
//	      f5         live
//	  s2/            trashed itself at t1
//	    f2           trashed along with s2 at t1
//	  f3             live
//	  f4             trashed itself at t1
//	x/               live, outside root
//	  fx             live
type driveSubtree struct {
	root, s1, s2, s3, x    core.DriveFolder
	f1, f2, f3, f4, f5, fx core.DriveFile
	t1                     time.Time
}

// newDriveSubtree builds a driveSubtree in the drive; file sizes are
// powers of two (f1 1, f2 2, f3 4, f4 8, f5 16, fx 32).
func (f *driveFixture) newDriveSubtree(drive string) driveSubtree {
	f.t.Helper()
	var s driveSubtree
	s.t1 = f.at(time.Hour)
	s.root = f.addFolder(drive, "", "Root")
	s.s1 = f.addFolder(drive, s.root.ID, "S1")
	s.s2 = f.addFolder(drive, s.root.ID, "S2")
	s.s3 = f.addFolder(drive, s.s1.ID, "S3")
	s.x = f.addFolder(drive, "", "X")
	s.f1 = f.addFile(drive, s.s1.ID, "f1", 1)
	s.f2 = f.addFile(drive, s.s2.ID, "f2", 2)
	s.f3 = f.addFile(drive, s.root.ID, "f3", 4)
	s.f4 = f.addFile(drive, s.root.ID, "f4", 8)
	s.f5 = f.addFile(drive, s.s3.ID, "f5", 16)
	s.fx = f.addFile(drive, s.x.ID, "fx", 32)
	s.s2 = f.trashFolder(s.s2, s.t1)
	s.f2 = along(s.f2, s.s2.ID, s.t1)
	s.f4 = f.trashFile(s.f4, s.t1)
	return s
}

// want checks every item of the tree.
func (s driveSubtree) want(t *testing.T, f *driveFixture) {
	t.Helper()
	for _, fl := range []core.DriveFolder{s.root, s.s1, s.s2, s.s3, s.x} {
		f.wantFolder(t, fl)
	}
	for _, fl := range []core.DriveFile{s.f1, s.f2, s.f3, s.f4, s.f5, s.fx} {
		f.wantFile(t, fl)
	}
}

func testDriveTrashSubtree(t *testing.T, f *driveFixture) {
	drive := f.drive()
	s := f.newDriveSubtree(drive)
	s.want(t, f)
	t2 := f.at(2 * time.Hour)
	// Alone, TrashSubtree leaves the folder itself as it is.
	f.update(drive, func(tx ports.DriveTx) error { return tx.TrashSubtree(f.ctx, s.root.ID, t2) })
	s.s1, s.s3 = along(s.s1, s.root.ID, t2), along(s.s3, s.root.ID, t2)
	s.f1, s.f3, s.f5 = along(s.f1, s.root.ID, t2), along(s.f3, s.root.ID, t2), along(s.f5, s.root.ID, t2)
	s.want(t, f)
	f.wantUsage(t, drive, 63, 0)

	// The core's delete of a folder: the folder listed, its subtree along.
	other := f.drive()
	o := f.newDriveSubtree(other)
	o.root = f.trashFolder(o.root, t2)
	o.s1, o.s3 = along(o.s1, o.root.ID, t2), along(o.s3, o.root.ID, t2)
	o.f1, o.f3, o.f5 = along(o.f1, o.root.ID, t2), along(o.f3, o.root.ID, t2), along(o.f5, o.root.ID, t2)
	o.want(t, f)
	s.want(t, f)
}

func testDriveRestoreTrashRoot(t *testing.T, f *driveFixture) {
	drive := f.drive()
	s := f.newDriveSubtree(drive)
	live := s
	t2, t3 := f.at(2*time.Hour), f.at(3*time.Hour)
	s.root = f.trashFolder(s.root, t2)
	restored := func(fl core.DriveItem) core.DriveItem {
		fl.TrashedAt, fl.TrashRoot, fl.UpdatedAt = time.Time{}, "", t3
		return fl
	}
	// Alone, RestoreTrashRoot leaves the root in the bin.
	f.update(drive, func(tx ports.DriveTx) error { return tx.RestoreTrashRoot(f.ctx, s.root.ID, t3) })
	for _, fl := range []*core.DriveFolder{&s.s1, &s.s3} {
		fl.DriveItem = restored(fl.DriveItem)
	}
	for _, fl := range []*core.DriveFile{&s.f1, &s.f3, &s.f5} {
		fl.DriveItem = restored(fl.DriveItem)
	}
	s.want(t, f)
	// Items that went to the bin on their own stay there; the root
	// restored with UpdateFolder and its items, as the core does.
	f.update(drive, func(tx ports.DriveTx) error {
		if err := tx.UpdateFolder(f.ctx, live.root); err != nil {
			return err
		}
		return tx.RestoreTrashRoot(f.ctx, s.s2.ID, t3)
	})
	s.root = live.root
	s.f2.DriveItem = restored(s.f2.DriveItem)
	s.want(t, f)
	// A file's root restores nothing else.
	f.update(drive, func(tx ports.DriveTx) error { return tx.RestoreTrashRoot(f.ctx, s.f4.ID, t3) })
	s.want(t, f)
	f.wantUsage(t, drive, 63, 0)
}

func testDriveDeleteFile(t *testing.T, f *driveFixture) {
	drive := f.drive()
	a := f.addFile(drive, "", "a.jpg", 10)
	b := f.trashFile(f.addFile(drive, "", "b.jpg", 20), f.at(time.Hour))
	c := f.addFile(drive, "", "c.jpg", 30)
	f.reserve(drive, 5)
	f.wantUsage(t, drive, 60, 5)
	for _, fl := range []core.DriveFile{a, b} {
		f.update(drive, func(tx ports.DriveTx) error {
			if err := tx.DeleteFile(f.ctx, fl.ID); err != nil {
				return err
			}
			_, err := tx.File(f.ctx, fl.ID)
			storeWantKind(t, err, core.KindNotFound, "")
			return nil
		})
		f.wantNoFile(t, drive, fl.ID, fl.StorageKey)
	}
	f.wantFile(t, c)
	f.wantUsage(t, drive, 30, 5)
	f.wantPending(t, a.StorageKey, b.StorageKey)
	l, err := f.d.List(f.ctx, drive, core.DriveQuery{Limit: 10})
	storeWantNoErr(t, "List", err)
	storeWantEqual(t, "List", l.Files, []core.DriveFile{c}, driveNormFiles)
	tr, err := f.d.Trash(f.ctx, drive, core.TrashQuery{Limit: 10})
	storeWantNoErr(t, "Trash", err)
	storeWantEqual(t, "Trash", tr.Files, nil, driveNormFiles)
	// A deleted file's id is unknown for good.
	err = f.d.Update(f.ctx, drive, func(tx ports.DriveTx) error { return tx.DeleteFile(f.ctx, a.ID) })
	storeWantKind(t, err, core.KindNotFound, "")
	f.wantUsage(t, drive, 30, 5)
}

func testDriveDeleteFolder(t *testing.T, f *driveFixture) {
	drive := f.drive()
	s := f.newDriveSubtree(drive)
	f.wantUsage(t, drive, 63, 0)
	// A listed folder, as the purge job deletes it.
	f.update(drive, func(tx ports.DriveTx) error { return tx.DeleteFolder(f.ctx, s.s2.ID) })
	f.wantNoFolder(t, drive, s.s2.ID)
	f.wantNoFile(t, drive, s.f2.ID, s.f2.StorageKey)
	f.wantUsage(t, drive, 61, 0)
	f.wantPending(t, s.f2.StorageKey)
	// A live folder with items in every state.
	s.s1 = f.trashFolder(s.s1, f.at(2*time.Hour))
	f.update(drive, func(tx ports.DriveTx) error {
		if err := tx.DeleteFolder(f.ctx, s.root.ID); err != nil {
			return err
		}
		_, err := tx.Path(f.ctx, s.s3.ID)
		storeWantKind(t, err, core.KindNotFound, "")
		return nil
	})
	for _, fl := range []core.DriveFolder{s.root, s.s1, s.s3} {
		f.wantNoFolder(t, drive, fl.ID)
	}
	for _, fl := range []core.DriveFile{s.f1, s.f3, s.f4, s.f5} {
		f.wantNoFile(t, drive, fl.ID, fl.StorageKey)
	}
	f.wantFolder(t, s.x)
	f.wantFile(t, s.fx)
	f.wantUsage(t, drive, 32, 0)
	keys := f.pendingKeys(t)
	if len(keys) == 0 || keys[0] != s.f2.StorageKey {
		t.Fatalf("pending deletions %q do not start with the first delete's", keys)
	}
	want := []string{s.f1.StorageKey, s.f3.StorageKey, s.f4.StorageKey, s.f5.StorageKey}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(keys[1:]))
	storeWantEqual(t, "pending deletion keys of the folder", got, want, slices.Clone)
	tr, err := f.d.Trash(f.ctx, drive, core.TrashQuery{Limit: 10})
	storeWantNoErr(t, "Trash", err)
	storeWantEqual(t, "Trash folders", tr.Folders, nil, driveNormFolders)
	storeWantEqual(t, "Trash files", tr.Files, nil, driveNormFiles)
	err = f.d.Update(f.ctx, drive, func(tx ports.DriveTx) error { return tx.DeleteFolder(f.ctx, s.root.ID) })
	storeWantKind(t, err, core.KindNotFound, "")
}

func testDrivePending(t *testing.T, f *driveFixture) {
	drive, other := f.drive(), f.drive()
	var keys []string
	for i, d := range []string{drive, other, drive} {
		fl := f.addFile(d, "", "f"+string(rune('a'+i)), 1)
		f.update(d, func(tx ports.DriveTx) error { return tx.DeleteFile(f.ctx, fl.ID) })
		keys = append(keys, fl.StorageKey)
	}
	f.wantPending(t, keys...)
	for _, limit := range []int{1, 2} {
		got, err := f.d.PendingObjectDeletions(f.ctx, limit)
		storeWantNoErr(t, "PendingObjectDeletions", err)
		if len(got) != limit || got[0].StorageKey != keys[0] || got[limit-1].StorageKey != keys[limit-1] {
			t.Fatalf("PendingObjectDeletions(%d) = %+v, want the first %d of %q", limit, got, limit, keys)
		}
	}
	for _, limit := range []int{0, -1} {
		got, err := f.d.PendingObjectDeletions(f.ctx, limit)
		storeWantNoErr(t, "PendingObjectDeletions", err)
		if len(got) != 0 {
			t.Fatalf("PendingObjectDeletions(%d) = %+v, want none", limit, got)
		}
	}
}

func testDriveObjectsDeleted(t *testing.T, f *driveFixture) {
	drive := f.drive()
	for _, name := range []string{"a", "b", "c"} {
		fl := f.addFile(drive, "", name, 1)
		f.update(drive, func(tx ports.DriveTx) error { return tx.DeleteFile(f.ctx, fl.ID) })
	}
	all, err := f.d.PendingObjectDeletions(f.ctx, 10)
	storeWantNoErr(t, "PendingObjectDeletions", err)
	if len(all) != 3 {
		t.Fatalf("PendingObjectDeletions = %+v, want 3", all)
	}
	storeWantNoErr(t, "ObjectsDeleted", f.d.ObjectsDeleted(f.ctx, []string{all[1].ID, "del_unknown"}))
	f.wantPending(t, all[0].StorageKey, all[2].StorageKey)
	storeWantNoErr(t, "ObjectsDeleted(none)", f.d.ObjectsDeleted(f.ctx, nil))
	storeWantNoErr(t, "ObjectsDeleted(again)", f.d.ObjectsDeleted(f.ctx, []string{all[1].ID}))
	f.wantPending(t, all[0].StorageKey, all[2].StorageKey)
	storeWantNoErr(t, "ObjectsDeleted", f.d.ObjectsDeleted(f.ctx, []string{all[2].ID, all[0].ID}))
	f.wantPending(t)
	f.wantUsage(t, drive, 0, 0)
}
