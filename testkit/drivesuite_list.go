package testkit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
)

// driveListCases are RunDriveStoreSuite's sub-tests of the listings: a
// folder's page, the recycle bin and the expired trash.
var driveListCases = []driveCase{
	{"List", "pages_folders_then_files_by_normalized_name_in_byte_order", testDriveListPages},
	{"List", "cursor_compares_the_normalized_name_then_the_id", testDriveListCursor},
	{"List", "pages_stay_stable_when_items_change", testDriveListStable},
	{"List", "lists_the_root_and_hides_app_folders_on_request", testDriveListRoot},
	{"List", "another_drives_folder_or_root_lists_nothing", testDriveListOtherDrive},
	{"Trash", "pages_listed_items_folders_first_newest_first", testDriveTrashPages},
	{"TrashExpired", "lists_listed_items_of_every_drive_trashed_at_or_before_oldest_first", testDriveTrashExpired},
}

// listPages reads every page of q.ParentID's items, q.Limit at a time,
// checking that pages are full but for the last, that Next is nil exactly
// on the last page, and that no folder follows a file.
func (f *driveFixture) listPages(t *testing.T, driveID string, q core.DriveQuery) ([]core.DriveFolder, []core.DriveFile) {
	t.Helper()
	var folders []core.DriveFolder
	var files []core.DriveFile
	for range 1000 {
		l, err := f.d.List(f.ctx, driveID, q)
		storeWantNoErr(t, "List", err)
		n := len(l.Folders) + len(l.Files)
		if q.After != nil && n == 0 {
			t.Fatalf("List by %d: a Next led to an empty page", q.Limit)
		}
		if len(files) > 0 && len(l.Folders) > 0 {
			t.Fatalf("List by %d: folders after files", q.Limit)
		}
		folders, files = append(folders, l.Folders...), append(files, l.Files...)
		if l.Next == nil {
			if n > q.Limit {
				t.Fatalf("List by %d: the last page has %d items", q.Limit, n)
			}
			return folders, files
		}
		if n != q.Limit {
			t.Fatalf("List by %d: a page with a next has %d items", q.Limit, n)
		}
		q.After = l.Next
	}
	t.Fatal("List never returned a last page")
	return nil, nil
}

// wantList checks every page of the folder's listing, at several limits.
func (f *driveFixture) wantList(t *testing.T, driveID string, q core.DriveQuery, folders []core.DriveFolder, files []core.DriveFile) {
	t.Helper()
	n := len(folders) + len(files)
	for _, limit := range []int{1, 2, 3, max(1, len(folders)), n, n + 1, 100} {
		q.Limit = max(1, limit)
		gotFolders, gotFiles := f.listPages(t, driveID, q)
		storeWantEqual(t, fmt.Sprintf("List by %d: folders", q.Limit), gotFolders, folders, driveNormFolders)
		storeWantEqual(t, fmt.Sprintf("List by %d: files", q.Limit), gotFiles, files, driveNormFiles)
	}
}

func driveFolderItem(f core.DriveFolder) core.DriveItem { return f.DriveItem }

func driveFileItem(f core.DriveFile) core.DriveItem { return f.DriveItem }

func testDriveListPages(t *testing.T, f *driveFixture) {
	drive, other := f.drive(), f.drive()
	p := f.addFolder(drive, "", "P")
	var folders []core.DriveFolder
	for _, name := range []string{"Zeta", "alpha", "_under", "10", "9", "Élan", "Ärger", "Beta", "report"} {
		folders = append(folders, f.addFolder(drive, p.ID, name))
	}
	var files []core.DriveFile
	for _, name := range []string{"Report", "a.txt", "Alpha.txt", "B.txt", "ü.txt", "_.txt", "Z.txt"} {
		files = append(files, f.addFile(drive, p.ID, name, 1))
	}
	// Not listed: trashed items, a subfolder's items, the root's, another
	// drive's.
	f.trashFolder(f.addFolder(drive, p.ID, "aaa"), f.at(time.Hour))
	f.trashFile(f.addFile(drive, p.ID, "aaa.txt", 1), f.at(time.Hour))
	f.addFile(drive, folders[1].ID, "inner.txt", 1)
	f.addFolder(drive, "", "at the root")
	f.addFile(other, "", "b.txt", 1)
	folders = driveSortByName(folders, driveFolderItem)
	files = driveSortByName(files, driveFileItem)
	if folders[0].Name != "10" || folders[3].Name != "alpha" || folders[len(folders)-1].Name != "Élan" {
		t.Fatalf("the suite's own order is wrong: %v", folders)
	}
	f.wantList(t, drive, core.DriveQuery{ParentID: p.ID}, folders, files)
}

func testDriveListCursor(t *testing.T, f *driveFixture) {
	drive := f.drive()
	var folders []core.DriveFolder
	for _, name := range []string{"a", "beta", "c"} {
		folders = append(folders, f.addFolder(drive, "", name))
	}
	var files []core.DriveFile
	for _, name := range []string{"a", "beta", "c"} {
		files = append(files, f.addFile(drive, "", name, 1))
	}
	checks := []struct {
		after   core.DriveCursor
		folders []core.DriveFolder
		files   []core.DriveFile
	}{
		{core.DriveCursor{Kind: core.DriveFolderKind, NameNormalized: "beta", ID: ""}, folders[1:], files},
		{core.DriveCursor{Kind: core.DriveFolderKind, NameNormalized: "beta", ID: "~"}, folders[2:], files},
		{core.DriveCursor{Kind: core.DriveFolderKind, NameNormalized: "b", ID: "~"}, folders[1:], files},
		{core.DriveCursor{Kind: core.DriveFolderKind, NameNormalized: "zzz", ID: ""}, nil, files},
		{core.DriveCursor{Kind: core.DriveFileKind, NameNormalized: "", ID: ""}, nil, files},
		{core.DriveCursor{Kind: core.DriveFileKind, NameNormalized: "beta", ID: ""}, nil, files[1:]},
		{core.DriveCursor{Kind: core.DriveFileKind, NameNormalized: "beta", ID: "~"}, nil, files[2:]},
		{core.DriveCursor{Kind: core.DriveFileKind, NameNormalized: "c", ID: files[2].ID}, nil, nil},
	}
	for _, c := range checks {
		l, err := f.d.List(f.ctx, drive, core.DriveQuery{After: &c.after, Limit: 10})
		storeWantNoErr(t, "List", err)
		what := fmt.Sprintf("List after %+v", c.after)
		storeWantEqual(t, what+": folders", l.Folders, c.folders, driveNormFolders)
		storeWantEqual(t, what+": files", l.Files, c.files, driveNormFiles)
		if l.Next != nil {
			t.Fatalf("%s: Next = %+v on the last page", what, *l.Next)
		}
	}
}

func testDriveListStable(t *testing.T, f *driveFixture) {
	drive := f.drive()
	var folders []core.DriveFolder
	for _, name := range []string{"b", "d", "f"} {
		folders = append(folders, f.addFolder(drive, "", name))
	}
	var files []core.DriveFile
	for _, name := range []string{"b", "d"} {
		files = append(files, f.addFile(drive, "", name, 1))
	}
	first, err := f.d.List(f.ctx, drive, core.DriveQuery{Limit: 2})
	storeWantNoErr(t, "List", err)
	storeWantEqual(t, "first page", first.Folders, folders[:2], driveNormFolders)
	if first.Next == nil {
		t.Fatal("first page: Next = nil")
	}
	// The page's last item goes to the bin, new items come before and
	// after the cursor.
	f.trashFolder(folders[1], f.at(time.Hour))
	f.addFolder(drive, "", "a")
	e := f.addFolder(drive, "", "e")
	c := f.addFile(drive, "", "c", 1)
	second, err := f.d.List(f.ctx, drive, core.DriveQuery{After: first.Next, Limit: 3})
	storeWantNoErr(t, "List", err)
	storeWantEqual(t, "second page: folders", second.Folders, []core.DriveFolder{e, folders[2]}, driveNormFolders)
	storeWantEqual(t, "second page: files", second.Files, files[:1], driveNormFiles)
	third, err := f.d.List(f.ctx, drive, core.DriveQuery{After: second.Next, Limit: 3})
	storeWantNoErr(t, "List", err)
	storeWantEqual(t, "third page: folders", third.Folders, nil, driveNormFolders)
	storeWantEqual(t, "third page: files", third.Files, []core.DriveFile{c, files[1]}, driveNormFiles)
	if third.Next != nil {
		t.Fatalf("third page: Next = %+v, want nil", *third.Next)
	}
}

func testDriveListRoot(t *testing.T, f *driveFixture) {
	drive := f.drive()
	apps := f.folder(drive, "", "Apps")
	apps.AppID = "app_1"
	f.mkFolder(apps)
	docs := f.addFolder(drive, "", "Docs")
	zz := f.folder(drive, "", "zz app")
	zz.AppID = "app_2"
	f.mkFolder(zz)
	readme := f.addFile(drive, "", "readme", 1)
	f.addFolder(drive, docs.ID, "inside")
	f.addFolder(drive, apps.ID, "uploads")
	f.wantList(t, drive, core.DriveQuery{}, []core.DriveFolder{apps, docs, zz}, []core.DriveFile{readme})
	f.wantList(t, drive, core.DriveQuery{HideAppFolders: true}, []core.DriveFolder{docs}, []core.DriveFile{readme})
	// Inside an app folder, hiding app folders hides nothing.
	uploads, err := f.d.List(f.ctx, drive, core.DriveQuery{ParentID: apps.ID, HideAppFolders: true, Limit: 10})
	storeWantNoErr(t, "List", err)
	if len(uploads.Folders) != 1 || uploads.Folders[0].Name != "uploads" {
		t.Fatalf("List of an app folder = %+v, want its folder", uploads)
	}
}

func testDriveListOtherDrive(t *testing.T, f *driveFixture) {
	drive, other := f.drive(), f.drive()
	dir := f.addFolder(drive, "", "Dir")
	f.addFolder(drive, dir.ID, "Sub")
	f.addFile(drive, dir.ID, "f", 1)
	f.addFile(drive, "", "top", 1)
	for _, parent := range []string{dir.ID, "", f.id("dfo")} {
		l, err := f.d.List(f.ctx, other, core.DriveQuery{ParentID: parent, Limit: 10})
		storeWantNoErr(t, "List", err)
		if len(l.Folders)+len(l.Files) != 0 || l.Next != nil {
			t.Fatalf("List(another drive, %q) = %+v, want nothing", parent, l)
		}
	}
}

// trashPages reads every page of the drive's bin, limit at a time, with
// the checks of listPages.
func (f *driveFixture) trashPages(t *testing.T, driveID string, limit int) ([]core.DriveFolder, []core.DriveFile) {
	t.Helper()
	var folders []core.DriveFolder
	var files []core.DriveFile
	q := core.TrashQuery{Limit: limit}
	for range 1000 {
		l, err := f.d.Trash(f.ctx, driveID, q)
		storeWantNoErr(t, "Trash", err)
		n := len(l.Folders) + len(l.Files)
		if q.After != nil && n == 0 {
			t.Fatalf("Trash by %d: a Next led to an empty page", limit)
		}
		if len(files) > 0 && len(l.Folders) > 0 {
			t.Fatalf("Trash by %d: folders after files", limit)
		}
		folders, files = append(folders, l.Folders...), append(files, l.Files...)
		if l.Next == nil {
			if n > limit {
				t.Fatalf("Trash by %d: the last page has %d items", limit, n)
			}
			return folders, files
		}
		if n != limit {
			t.Fatalf("Trash by %d: a page with a next has %d items", limit, n)
		}
		q.After = l.Next
	}
	t.Fatal("Trash never returned a last page")
	return nil, nil
}

// driveSortTrash sorts a copy of folders or files as the bin lists them.
func driveSortTrash[T driveItemType](xs []T, item func(T) core.DriveItem) []T {
	out := slices.Clone(xs)
	slices.SortFunc(out, func(a, b T) int {
		ia, ib := item(a), item(b)
		return cmp.Or(ib.TrashedAt.Compare(ia.TrashedAt), strings.Compare(ib.ID, ia.ID))
	})
	return out
}

func testDriveTrashPages(t *testing.T, f *driveFixture) {
	drive, other := f.drive(), f.drive()
	var folders []core.DriveFolder
	for _, at := range []time.Duration{time.Hour, 3 * time.Hour, time.Hour, 2 * time.Hour} {
		fl := f.addFolder(drive, "", "folder "+at.String()+" "+f.id("n"))
		f.addFolder(drive, fl.ID, "along")
		f.addFile(drive, fl.ID, "along", 1)
		folders = append(folders, f.trashFolder(fl, f.at(at)))
	}
	var files []core.DriveFile
	for _, at := range []time.Duration{2 * time.Hour, 0, 2 * time.Hour, time.Microsecond} {
		files = append(files, f.trashFile(f.addFile(drive, "", "file "+f.id("n"), 1), f.at(at)))
	}
	// Not listed: live items, another drive's bin.
	f.addFolder(drive, "", "live")
	f.addFile(drive, "", "live", 1)
	f.trashFile(f.addFile(other, "", "theirs", 1), f.at(time.Hour))
	folders = driveSortTrash(folders, driveFolderItem)
	files = driveSortTrash(files, driveFileItem)
	if !folders[0].TrashedAt.Equal(f.at(3*time.Hour)) || !files[3].TrashedAt.Equal(f.at(0)) {
		t.Fatalf("the suite's own order is wrong: %v %v", folders, files)
	}
	for _, limit := range []int{1, 2, 3, 4, 5, 8, 9, 100} {
		gotFolders, gotFiles := f.trashPages(t, drive, limit)
		storeWantEqual(t, fmt.Sprintf("Trash by %d: folders", limit), gotFolders, folders, driveNormFolders)
		storeWantEqual(t, fmt.Sprintf("Trash by %d: files", limit), gotFiles, files, driveNormFiles)
	}
	l, err := f.d.Trash(f.ctx, f.drive(), core.TrashQuery{Limit: 10})
	storeWantNoErr(t, "Trash", err)
	if len(l.Folders)+len(l.Files) != 0 || l.Next != nil {
		t.Fatalf("Trash(an empty drive) = %+v, want nothing", l)
	}
}

func testDriveTrashExpired(t *testing.T, f *driveFixture) {
	drive, other := f.drive(), f.drive()
	before := f.at(10 * time.Hour)
	ref := func(it core.DriveItem, kind core.DriveItemKind) core.DriveItemRef {
		return core.DriveItemRef{DriveID: it.DriveID, Kind: kind, ID: it.ID}
	}
	f1 := f.addFolder(drive, "", "f1")
	f.addFile(drive, f1.ID, "along", 1)
	f1 = f.trashFolder(f1, before.Add(-3*time.Hour))
	a := f.trashFile(f.addFile(drive, "", "a", 1), before.Add(-2*time.Hour))
	b := f.trashFile(f.addFile(other, "", "b", 1), before.Add(-2*time.Hour))
	if b.ID < a.ID {
		a, b = b, a
	}
	g := f.trashFolder(f.addFolder(other, "", "g"), before.Add(-time.Hour))
	f2 := f.trashFolder(f.addFolder(drive, "", "f2"), before)
	f.trashFile(f.addFile(drive, "", "late", 1), before.Add(time.Microsecond))
	f.addFile(drive, "", "live", 1)
	want := []core.DriveItemRef{
		ref(f1.DriveItem, core.DriveFolderKind), ref(a.DriveItem, core.DriveFileKind), ref(b.DriveItem, core.DriveFileKind),
		ref(g.DriveItem, core.DriveFolderKind), ref(f2.DriveItem, core.DriveFolderKind),
	}
	for _, limit := range []int{10, len(want), 2} {
		got, err := f.d.TrashExpired(f.ctx, before, limit)
		storeWantNoErr(t, "TrashExpired", err)
		storeWantEqual(t, fmt.Sprintf("TrashExpired(limit %d)", limit), got, want[:min(limit, len(want))], slices.Clone)
	}
	for _, limit := range []int{0, -1} {
		got, err := f.d.TrashExpired(f.ctx, before, limit)
		storeWantNoErr(t, "TrashExpired", err)
		if len(got) != 0 {
			t.Fatalf("TrashExpired(limit %d) = %+v, want none", limit, got)
		}
	}
	got, err := f.d.TrashExpired(f.ctx, before.Add(-3*time.Hour-time.Microsecond), 10)
	storeWantNoErr(t, "TrashExpired", err)
	if len(got) != 0 {
		t.Fatalf("TrashExpired(before everything) = %+v, want none", got)
	}
}
