package bunstore_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/bunstore"
	"github.com/gellhub/gellhub/adapters/bunstore/buntest"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

func TestDriveStoreSuite(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			testkit.RunDriveStoreSuite(t, func(t *testing.T) testkit.DriveStoreUnderTest { return d.open(t) })
		})
	}
}

// explain returns PostgreSQL's plan of query, one line per node.
func explain(t *testing.T, s *bunstore.Store, query string) string {
	t.Helper()
	rows, err := bunstore.RawDB(s).QueryContext(t.Context(), "EXPLAIN "+query)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", query, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestDriveListPlan checks on PostgreSQL that a page of a folder of
// 100,000 files (and of a root of as many) is an index scan of the
// live-name index that seeks to the cursor, without a sort.
func TestDriveListPlan(t *testing.T) {
	t.Parallel()
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("SKIP the Drive listing plan: it seeds 200,000 files, which -short leaves out (never skipped in CI)")
	}
	s := buntest.OpenPostgres(t)
	seed := seedDrive(t, s, 100_000)
	for _, c := range []struct{ name, parent string }{{"folder", seed.big}, {"root", ""}} {
		after := seed.cursors(t, c.parent, 2)[0]
		for _, q := range []core.DriveQuery{
			{ParentID: c.parent, Limit: 100},
			{ParentID: c.parent, Limit: 100, After: after},
			{ParentID: c.parent, Limit: 100, After: &core.DriveCursor{Kind: core.DriveFolderKind, NameNormalized: "m", ID: "dfo_x"}, HideAppFolders: true},
		} {
			// The folders table holds two rows: a scan of it is right.
			_, files := bunstore.DriveListSQL(s, seed.driveID, q)
			plan := explain(t, s, files)
			if !strings.Contains(plan, "Index Scan using drive_files_live_name_key") ||
				strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Sort") {
				t.Errorf("%s: List does not walk the live-name index:\n%s\n%s", c.name, files, plan)
			}
			if q.After != nil && q.After.Kind == core.DriveFileKind && !strings.Contains(plan, "name_normalized >=") {
				t.Errorf("%s: the index scan does not seek to the cursor:\n%s", c.name, plan)
			}
		}
	}
}

// driveTestTime is when the items of these tests happen, as the core
// passes times: UTC, to the microsecond.
var driveTestTime = time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC)

// newDrive stores a new account and returns its drive id.
func newDrive(t *testing.T, s *bunstore.Store) string {
	t.Helper()
	a := newAccount(t)
	if err := s.CreateAccount(t.Context(), a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return a.Drive.ID
}

// testFolder returns a live folder of the drive; it is not stored.
func testFolder(driveID, parentID, id, name string) core.DriveFolder {
	return core.DriveFolder{DriveItem: core.DriveItem{
		ID: id, DriveID: driveID, ParentID: parentID, Name: name, NameNormalized: core.NormalizeDriveName(name),
		CreatedAt: driveTestTime, UpdatedAt: driveTestTime,
	}}
}

// mustUpdate runs fn in an Update of the drive and fails the test on error.
func mustUpdate(t *testing.T, s *bunstore.Store, driveID string, fn func(tx ports.DriveTx) error) {
	t.Helper()
	if err := s.Update(t.Context(), driveID, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// wantKind fails the test unless err is a *core.Error of kind and code.
func wantKind(t *testing.T, what string, err error, kind core.Kind, code string) {
	t.Helper()
	e, ok := core.AsError(err)
	if !ok || e.Kind != kind || (code != "" && e.Code != code) {
		t.Fatalf("%s: %v, want kind %s code %q", what, err, kind, code)
	}
}

// TestDriveUpdate_refused_writes_change_nothing_and_fn_goes_on checks that
// a DriveTx write refused by the store's guards leaves the transaction
// usable (PostgreSQL aborts a transaction at its first failed statement)
// and writes nothing, so fn can go on and commit its other changes.
func TestDriveUpdate_refused_writes_change_nothing_and_fn_goes_on(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		ctx := t.Context()
		drive := newDrive(t, s)
		a := testFolder(drive, "", "dfo_a", "A")
		mustUpdate(t, s, drive, func(tx ports.DriveTx) error { return tx.CreateFolder(ctx, a) })
		r := core.Reservation{ID: "rsv_1", OwnerID: drive, StorageKey: "k1", Bytes: 5, CreatedAt: driveTestTime, ExpiresAt: driveTestTime.Add(time.Hour)}
		if err := s.Reserve(ctx, r, 1<<30); err != nil {
			t.Fatal(err)
		}
		file := core.DriveFile{DriveItem: testFolder(drive, a.ID, "dfi_1", "f.jpg").DriveItem, Size: 5, StorageKey: "k1"}
		mustUpdate(t, s, drive, func(tx ports.DriveTx) error { return tx.CreateFile(ctx, file, r.ID) })
		r2 := r
		r2.ID, r2.StorageKey = "rsv_2", "k2"
		if err := s.Reserve(ctx, r2, 1<<30); err != nil {
			t.Fatal(err)
		}

		b := testFolder(drive, "", "dfo_b", "B")
		mustUpdate(t, s, drive, func(tx ports.DriveTx) error {
			wantKind(t, "CreateFolder of a taken name", tx.CreateFolder(ctx, testFolder(drive, "", "dfo_x", "a")), core.KindConflict, "name_taken")
			wantKind(t, "CreateFolder of a taken id", tx.CreateFolder(ctx, testFolder(drive, "", a.ID, "other")), core.KindConflict, "conflict")
			wantKind(t, "CreateFolder in a missing parent", tx.CreateFolder(ctx, testFolder(drive, "dfo_missing", "dfo_y", "y")), core.KindNotFound, "")
			dupKey := file
			dupKey.ID, dupKey.Name, dupKey.NameNormalized = "dfi_2", "g.jpg", "g.jpg"
			wantKind(t, "CreateFile of a taken key", tx.CreateFile(ctx, dupKey, r2.ID), core.KindConflict, "file_exists")
			noRsv := dupKey
			noRsv.StorageKey = "k3"
			wantKind(t, "CreateFile without a reservation", tx.CreateFile(ctx, noRsv, "rsv_missing"), core.KindNotFound, "")
			if _, err := tx.File(ctx, noRsv.ID); !core.IsKind(err, core.KindNotFound) {
				t.Errorf("a CreateFile refused for its reservation left its file: %v", err)
			}
			renamed := a
			renamed.ID = "dfo_missing"
			wantKind(t, "UpdateFolder of a missing folder", tx.UpdateFolder(ctx, renamed), core.KindNotFound, "")
			moved := a
			moved.ParentID = "dfo_missing"
			wantKind(t, "UpdateFolder into a missing parent", tx.UpdateFolder(ctx, moved), core.KindNotFound, "")
			return tx.CreateFolder(ctx, b)
		})
		for _, id := range []string{a.ID, b.ID} {
			if _, err := s.Folder(ctx, drive, id); err != nil {
				t.Errorf("Folder(%s): %v", id, err)
			}
		}
		got, err := s.Folder(ctx, drive, a.ID)
		if err != nil || got.ParentID != "" || got.Name != "A" {
			t.Errorf("Folder(a) = %+v, %v: a refused UpdateFolder changed it", got, err)
		}
		if u, err := s.Usage(ctx, drive); err != nil || u != (core.Usage{UsedBytes: 5, ReservedBytes: 5}) {
			t.Errorf("Usage = %+v, %v, want 5 used and 5 reserved", u, err)
		}
		if _, err := s.ReservationByKey(ctx, drive, "k2"); err != nil {
			t.Errorf("a refused CreateFile took its reservation: %v", err)
		}
	})
}

// TestDriveUpdate_locks_one_drive_at_a_time checks on PostgreSQL (SQLite
// runs one writer at a time anyway) that an Update waits for another
// Update of its drive, not for one of another drive.
func TestDriveUpdate_locks_one_drive_at_a_time(t *testing.T) {
	t.Parallel()
	s := buntest.OpenPostgres(t)
	ctx := t.Context()
	a, b := newDrive(t, s), newDrive(t, s)
	entered, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.Update(ctx, a, func(tx ports.DriveTx) error {
			close(entered)
			<-release
			return tx.CreateFolder(ctx, testFolder(a, "", "dfo_first", "First"))
		})
	}()
	<-entered

	// Another drive does not wait.
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, b, func(tx ports.DriveTx) error {
			return tx.CreateFolder(ctx, testFolder(b, "", "dfo_other", "Other"))
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Update of another drive: %v", err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("an Update of another drive waited for the held one")
	}

	// The same drive waits until the first commits, then sees its folder.
	second := make(chan error, 1)
	var sawFirst bool
	go func() {
		second <- s.Update(ctx, a, func(tx ports.DriveTx) error {
			taken, err := tx.NameTaken(ctx, core.DriveFolderKind, "", "first")
			sawFirst = taken
			return err
		})
	}()
	select {
	case err := <-second:
		close(release)
		t.Fatalf("an Update of the same drive ran while another held it (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first Update: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("second Update: %v", err)
	}
	if !sawFirst {
		t.Fatal("the second Update did not see the first one's folder")
	}
}

// driveCommitRefusals install, per dialect, a check that fails at COMMIT
// whenever a drive folder is inserted.
var driveCommitRefusals = map[string][]string{
	bunstore.DialectPostgres: {
		`CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN RAISE EXCEPTION 'refused at commit'; END $$`,
		`CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON drive_folders
		 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit()`,
	},
	bunstore.DialectSQLite: {
		`CREATE TABLE commit_parent (id TEXT PRIMARY KEY)`,
		`CREATE TABLE commit_child (parent_id TEXT REFERENCES commit_parent (id) DEFERRABLE INITIALLY DEFERRED)`,
		`CREATE TRIGGER refuse_commit AFTER INSERT ON drive_folders
		 BEGIN INSERT INTO commit_child (parent_id) VALUES ('missing'); END`,
	},
}

func TestDriveUpdate_failed_commit_is_returned_and_writes_nothing(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		ctx := t.Context()
		drive := newDrive(t, s)
		for _, q := range driveCommitRefusals[s.Dialect()] {
			if _, err := bunstore.RawDB(s).ExecContext(ctx, q); err != nil {
				t.Fatalf("install commit refusal: %v", err)
			}
		}
		err := s.Update(ctx, drive, func(tx ports.DriveTx) error {
			return tx.CreateFolder(ctx, testFolder(drive, "", "dfo_a", "A"))
		})
		if err == nil || !strings.Contains(err.Error(), "commit") {
			t.Fatalf("Update with a failing COMMIT: %v, want the commit's error", err)
		}
		if _, err := s.Folder(ctx, drive, "dfo_a"); !core.IsKind(err, core.KindNotFound) {
			t.Fatalf("Folder after a failed commit: %v, want not found", err)
		}
		// fn's own error is returned untouched.
		boom := errors.New("boom")
		if err := s.Update(ctx, drive, func(ports.DriveTx) error { return boom }); err != boom {
			t.Fatalf("Update = %v, want fn's error itself", err)
		}
	})
}

// seedFiles inserts n files of size bytes into the drive's folder with one
// INSERT … SELECT, as if uploaded (the usage row counts them).
func seedFiles(t *testing.T, s *bunstore.Store, driveID, folderID, prefix string, n int, size int64) {
	t.Helper()
	ctx := t.Context()
	at := "2025-03-01 12:00:00+00:00"
	_, err := bunstore.RawDB(s).ExecContext(ctx, fmt.Sprintf(`WITH RECURSIVE n (i) AS (
			SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d
		)
		INSERT INTO drive_files
			(id, drive_id, parent_id, name, name_normalized, content_type, size, storage_key, etag, created_at, updated_at)
		SELECT 'dfi_%[2]s_' || i, '%[3]s', '%[4]s', 'F' || i, 'f' || i, 'text/plain', %[5]d,
			'drives/%[3]s/%[2]s/' || i, '"e"', '%[6]s', '%[6]s'
		FROM n`, n, prefix, driveID, folderID, size, at))
	if err != nil {
		t.Fatalf("seed files: %v", err)
	}
	_, err = bunstore.RawDB(s).ExecContext(ctx, fmt.Sprintf(`INSERT INTO storage_usage (owner_id, used_bytes, reserved_bytes)
		VALUES ('%[1]s', %[2]d, 0) ON CONFLICT (owner_id) DO UPDATE SET used_bytes = storage_usage.used_bytes + %[2]d`,
		driveID, int64(n)*size))
	if err != nil {
		t.Fatalf("seed usage: %v", err)
	}
}

// countRows counts the rows of table that where selects.
func countRows(t *testing.T, s *bunstore.Store, table, where string) int {
	t.Helper()
	var n int
	if err := bunstore.RawDB(s).QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table+" WHERE "+where).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// TestDriveSubtree_calls_are_set_based checks TrashSubtree,
// RestoreTrashRoot and DeleteFolder on a subtree of 4,000 files in four
// folders, next to 1,000 files that stay, and logs how long each took
// (each is a fixed number of statements, whatever the subtree's size).
func TestDriveSubtree_calls_are_set_based(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		ctx := t.Context()
		drive := newDrive(t, s)
		root := testFolder(drive, "", "dfo_root", "Root")
		s1 := testFolder(drive, root.ID, "dfo_s1", "S1")
		s2 := testFolder(drive, s1.ID, "dfo_s2", "S2")
		s3 := testFolder(drive, root.ID, "dfo_s3", "S3")
		keep := testFolder(drive, "", "dfo_keep", "Keep")
		mustUpdate(t, s, drive, func(tx ports.DriveTx) error {
			for _, f := range []core.DriveFolder{root, s1, s2, s3, keep} {
				if err := tx.CreateFolder(ctx, f); err != nil {
					return err
				}
			}
			return nil
		})
		for _, f := range []core.DriveFolder{root, s1, s2, s3, keep} {
			seedFiles(t, s, drive, f.ID, f.ID, 1000, 3)
		}
		drive1 := "drive_id = '" + drive + "'"

		at := driveTestTime.Add(time.Hour)
		start := time.Now()
		mustUpdate(t, s, drive, func(tx ports.DriveTx) error {
			trashed := root
			trashed.TrashedAt, trashed.TrashRoot, trashed.UpdatedAt = at, root.ID, at
			if err := tx.UpdateFolder(ctx, trashed); err != nil {
				return err
			}
			return tx.TrashSubtree(ctx, root.ID, at)
		})
		t.Logf("trash 4,000 files: %v", time.Since(start))
		if n := countRows(t, s, "drive_files", drive1+" AND trash_root = 'dfo_root'"); n != 4000 {
			t.Fatalf("%d files went along with the root, want 4000", n)
		}
		if n := countRows(t, s, "drive_folders", drive1+" AND trash_root = 'dfo_root'"); n != 4 {
			t.Fatalf("%d folders in the bin, want 4", n)
		}
		tr, err := s.Trash(ctx, drive, core.TrashQuery{Limit: 10})
		if err != nil || len(tr.Folders) != 1 || len(tr.Files) != 0 || tr.Next != nil {
			t.Fatalf("Trash = %+v, %v: want the root alone", tr, err)
		}

		start = time.Now()
		mustUpdate(t, s, drive, func(tx ports.DriveTx) error {
			if err := tx.UpdateFolder(ctx, root); err != nil {
				return err
			}
			return tx.RestoreTrashRoot(ctx, root.ID, at)
		})
		t.Logf("restore 4,000 files: %v", time.Since(start))
		if n := countRows(t, s, "drive_files", drive1+" AND trashed_at IS NULL"); n != 5000 {
			t.Fatalf("%d live files after the restore, want 5000", n)
		}

		start = time.Now()
		mustUpdate(t, s, drive, func(tx ports.DriveTx) error { return tx.DeleteFolder(ctx, root.ID) })
		t.Logf("delete 4,000 files: %v", time.Since(start))
		if n := countRows(t, s, "drive_files", drive1); n != 1000 {
			t.Fatalf("%d files left, want the 1000 outside the subtree", n)
		}
		if n := countRows(t, s, "drive_folders", drive1); n != 1 {
			t.Fatalf("%d folders left, want 1", n)
		}
		pending, err := s.PendingObjectDeletions(ctx, 10_000)
		if err != nil || len(pending) != 4000 {
			t.Fatalf("PendingObjectDeletions: %d, %v, want 4000", len(pending), err)
		}
		if u, err := s.Usage(ctx, drive); err != nil || u.UsedBytes != 3000 {
			t.Fatalf("Usage = %+v, %v, want 3000 used", u, err)
		}
	})
}

// TestDriveDeletingAnAccountDeletesItsTree checks the schema's cascade: a
// drive's folders and files go with it, whatever order the database
// removes them in.
func TestDriveDeletingAnAccountDeletesItsTree(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		ctx := t.Context()
		a := newAccount(t)
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		drive := a.Drive.ID
		top := testFolder(drive, "", "dfo_top", "Top")
		sub := testFolder(drive, top.ID, "dfo_sub", "Sub")
		mustUpdate(t, s, drive, func(tx ports.DriveTx) error {
			if err := tx.CreateFolder(ctx, top); err != nil {
				return err
			}
			return tx.CreateFolder(ctx, sub)
		})
		seedFiles(t, s, drive, sub.ID, "sub", 10, 1)
		seedFiles(t, s, drive, top.ID, "top", 10, 1)
		if _, err := bunstore.RawDB(s).ExecContext(ctx, "DELETE FROM profiles WHERE id = '"+a.Profile.ID+"'"); err != nil {
			t.Fatalf("delete the account: %v", err)
		}
		for _, table := range []string{"drive_files", "drive_folders"} {
			if n := countRows(t, s, table, "drive_id = '"+drive+"'"); n != 0 {
				t.Errorf("%d %s rows outlive their drive", n, table)
			}
		}
	})
}

// TestDriveListPlanSQLite checks that SQLite pages through the live-name
// index too, without a sort.
func TestDriveListPlanSQLite(t *testing.T) {
	t.Parallel()
	s := buntest.OpenSQLite(t)
	after := &core.DriveCursor{Kind: core.DriveFileKind, NameNormalized: "m", ID: "dfi_x"}
	for _, q := range []core.DriveQuery{{ParentID: "", Limit: 100, After: after}, {ParentID: "dfo_p", Limit: 100, After: after}} {
		_, files := bunstore.DriveListSQL(s, "drv_x", q)
		rows, err := bunstore.RawDB(s).QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+files)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notUsed int
			var detail string
			if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "\n")
		if !strings.Contains(p, "USING INDEX drive_files_live_name_key") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("List does not walk the live-name index:\n%s\n%s", files, p)
		}
	}
}
