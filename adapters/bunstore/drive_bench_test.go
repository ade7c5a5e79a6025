package bunstore_test

import (
	"context"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/bunstore"
	"github.com/gellhub/gellhub/adapters/bunstore/buntest"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// driveSeed is a PostgreSQL drive holding big folders, built by
// seedDrive.
type driveSeed struct {
	s       *bunstore.Store
	driveID string
	big     string // a folder of n files
	small   string // a folder of 1,000 files
}

// seedDrive creates an account whose drive has n files at its root, n in
// a folder "Big" and 1,000 in a folder "Small", with one bulk INSERT …
// SELECT generate_series each (names are md5 hashes, so the order of
// names is not the order of insertion), then ANALYZEs the tables.
func seedDrive(tb testing.TB, s *bunstore.Store, n int) driveSeed {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	id := func(prefix string) string {
		v, err := core.NewID(prefix, now, rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
	pid := id("prf")
	a := core.Account{
		Profile: core.Profile{
			ID: pid, Email: pid + "@example.com", EmailNormalized: pid + "@example.com", PasswordHash: "h",
			DisplayName: "Bench", AccountKind: core.AccountDrive, CreatedAt: now, UpdatedAt: now,
		},
		Studio: core.Studio{ID: id("std"), ProfileID: pid, CreatedAt: now},
		Drive:  core.Drive{ID: id("drv"), ProfileID: pid, CreatedAt: now},
	}
	if err := s.CreateAccount(ctx, a); err != nil {
		tb.Fatalf("CreateAccount: %v", err)
	}
	seed := driveSeed{s: s, driveID: a.Drive.ID}
	folder := func(name string) string {
		fl := core.DriveFolder{DriveItem: core.DriveItem{
			ID: id("dfo"), DriveID: a.Drive.ID, Name: name, NameNormalized: core.NormalizeDriveName(name),
			CreatedAt: now, UpdatedAt: now,
		}}
		err := s.Update(ctx, a.Drive.ID, func(tx ports.DriveTx) error { return tx.CreateFolder(ctx, fl) })
		if err != nil {
			tb.Fatalf("CreateFolder: %v", err)
		}
		return fl.ID
	}
	seed.big, seed.small = folder("Big"), folder("Small")
	db := bunstore.RawDB(s)
	for _, f := range []struct {
		parent any
		prefix string
		n      int
	}{{nil, "root", n}, {seed.big, "big", n}, {seed.small, "small", 1000}} {
		_, err := db.ExecContext(ctx, `INSERT INTO drive_files
				(id, drive_id, parent_id, name, name_normalized, content_type, size, storage_key, etag, created_at, updated_at)
			SELECT 'dfi_' || $1 || '_' || lpad(i::text, 8, '0'), $2, $3,
				md5($1 || i::text) || '.JPG', md5($1 || i::text) || '.jpg',
				'image/jpeg', 1024, 'drives/' || $2 || '/' || $1 || '/' || i, '"etag"', $4, $4
			FROM generate_series(1, $5::int) AS i`,
			f.prefix, a.Drive.ID, f.parent, now, f.n)
		if err != nil {
			tb.Fatalf("seed %s: %v", f.prefix, err)
		}
	}
	if _, err := db.ExecContext(ctx, "ANALYZE drive_files; ANALYZE drive_folders"); err != nil {
		tb.Fatalf("analyze: %v", err)
	}
	return seed
}

// cursors returns about k cursors spread evenly over the folder's files
// (the root for ""), in name order, each followed by a full page of 100.
func (d driveSeed) cursors(tb testing.TB, parentID string, k int) []*core.DriveCursor {
	tb.Helper()
	var parent any
	if parentID != "" {
		parent = parentID
	}
	rows, err := bunstore.RawDB(d.s).QueryContext(context.Background(), `SELECT name_normalized, id FROM (
			SELECT name_normalized, id, row_number() OVER (ORDER BY name_normalized, id) AS n
			FROM drive_files WHERE drive_id = $1 AND parent_id IS NOT DISTINCT FROM $2 AND trashed_at IS NULL
		) AS ranked
		WHERE n % (SELECT GREATEST(COUNT(*) / $3, 1) FROM drive_files
			WHERE drive_id = $1 AND parent_id IS NOT DISTINCT FROM $2) = 0
		AND n <= (SELECT COUNT(*) - 100 FROM drive_files
			WHERE drive_id = $1 AND parent_id IS NOT DISTINCT FROM $2)`,
		d.driveID, parent, k)
	if err != nil {
		tb.Fatalf("cursors: %v", err)
	}
	defer rows.Close()
	var out []*core.DriveCursor
	for rows.Next() {
		c := &core.DriveCursor{Kind: core.DriveFileKind}
		if err := rows.Scan(&c.NameNormalized, &c.ID); err != nil {
			tb.Fatal(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// BenchmarkDriveListPage lists pages of 100 files from cursors spread over
// a folder of 100,000 files (and over the root, which holds as many, and a
// folder of 1,000 for comparison) on PostgreSQL, and reports the p50 and
// p99 latency of one List call.
func BenchmarkDriveListPage(b *testing.B) {
	const n = 100_000
	s := buntest.OpenPostgres(b)
	seed := seedDrive(b, s, n)
	for _, c := range []struct{ name, parent string }{
		{"folder_100k", seed.big},
		{"root_100k", ""},
		{"folder_1k", seed.small},
	} {
		cursors := seed.cursors(b, c.parent, 200)
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			var lat []time.Duration
			i := 0
			for b.Loop() {
				q := core.DriveQuery{ParentID: c.parent, Limit: 100, After: cursors[i%len(cursors)]}
				i++
				start := time.Now()
				l, err := s.List(ctx, seed.driveID, q)
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if len(l.Files) != 100 {
					b.Fatalf("List after %+v returned %d files, want 100", q.After, len(l.Files))
				}
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}
