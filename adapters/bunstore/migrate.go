package bunstore

import (
	"cmp"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// migrationFS holds the hand-written migrations, one directory per dialect
// (migrations/postgres, migrations/sqlite). A file is named
// NNNN_description.sql; NNNN is its version. Both dialects keep the same
// versions. Migrations are never edited once released: a change is a new
// file.
//
//go:embed migrations
var migrationFS embed.FS

// migrationLockKey namespaces gellhub's PostgreSQL advisory lock; the second
// key of the lock is a hash of the schema, so stores in different schemas of
// one database migrate independently.
const migrationLockKey = 0x6765_6c6c // "gell"

// migration is one versioned SQL file.
type migration struct {
	version int64
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order.
func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version number", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

// migrate applies the migrations the database has not seen yet, each in
// its own transaction together with its schema_migrations row. On
// PostgreSQL every transaction first takes a transaction-level advisory
// lock, so API instances starting together apply each migration once: the
// others wait, then find it recorded. On SQLite, IMMEDIATE transactions
// serialise starters the same way.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations(s.dialect)
	if err != nil {
		return fmt.Errorf("bunstore: migrate: %w", err)
	}
	appliedAt := "TIMESTAMPTZ"
	if s.dialect == DialectSQLite {
		appliedAt = "TIMESTAMP"
	}
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.lockMigrations(ctx, tx); err != nil {
			return err
		}
		_, err := tx.Tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    BIGINT NOT NULL PRIMARY KEY,
			applied_at `+appliedAt+` NOT NULL
		)`)
		return err
	})
	if err != nil {
		return s.fail(ctx, "migrate: create schema_migrations", err)
	}
	for _, m := range ms {
		if err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error { return s.apply(ctx, tx, m) }); err != nil {
			return s.fail(ctx, "migrate: "+m.name, err)
		}
	}
	return nil
}

// apply runs m in tx unless schema_migrations already records it.
func (s *Store) apply(ctx context.Context, tx bun.Tx, m migration) error {
	if err := s.lockMigrations(ctx, tx); err != nil {
		return err
	}
	done, err := tx.NewSelect().Table("schema_migrations").Where("version = ?", m.version).Exists(ctx)
	if err != nil {
		return fmt.Errorf("check version: %w", err)
	}
	if done {
		return nil
	}
	// Straight to database/sql: Bun would read the "?" in the SQL text as
	// placeholders.
	if _, err := tx.Tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
		m.version, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("record version: %w", err)
	}
	return nil
}

// lockMigrations takes the migration lock until tx ends (PostgreSQL only).
func (s *Store) lockMigrations(ctx context.Context, tx bun.Tx) error {
	if s.dialect != DialectPostgres {
		return nil
	}
	_, err := tx.ExecContext(ctx,
		"SELECT pg_advisory_xact_lock(?, hashtext(coalesce(current_schema(), '')))", migrationLockKey)
	if err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	return nil
}
