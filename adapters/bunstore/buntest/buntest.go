// Package buntest gives tests real, isolated databases for bunstore: a
// fresh PostgreSQL schema or a SQLite file per test, removed when the test
// ends.
//
// PostgreSQL is the server GELLHUB_TEST_DATABASE_URL names (default
// DefaultDatabaseURL: the gellhub_test database of a local server,
// postgres://postgres@127.0.0.1:5432/gellhub_test?sslmode=disable). When it
// cannot be reached the test fails in CI and is skipped, loudly, elsewhere
// (testkit.RequireService).
package buntest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/gellhub/gellhub/adapters/bunstore"
	"github.com/gellhub/gellhub/testkit"
)

// DatabaseURLEnv names the environment variable holding the PostgreSQL
// server tests use.
const DatabaseURLEnv = "GELLHUB_TEST_DATABASE_URL"

// DefaultDatabaseURL is the PostgreSQL server tests use when DatabaseURLEnv
// is unset: the local server the project's scripts start.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/gellhub_test?sslmode=disable"

// setupTimeout bounds connecting, creating and dropping a test schema.
const setupTimeout = 15 * time.Second

// PostgresDSN creates a uniquely named schema on the test server and
// returns a DSN whose search_path is that schema, so everything a store
// creates lands there. The schema is dropped (CASCADE) when t ends; close
// stores on it first (t.Cleanup runs last-registered first, so a store
// opened after this call and closed in its own Cleanup is fine).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := testkit.EnvOr(DatabaseURLEnv, DefaultDatabaseURL)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("buntest: %s must be a postgres:// URL", DatabaseURLEnv)
	}

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	admin, err := adminDB(ctx, base)
	if err != nil {
		testkit.RequireService(t, "PostgreSQL", err)
	}

	schema := "test_" + randomHex(t, 8)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("buntest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("buntest: drop schema %s: %v", schema, err)
		}
	})

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// SQLitePath returns the path of a not yet existing SQLite file in
// t.TempDir(), removed with it when t ends.
func SQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), bunstore.SQLiteFileName)
}

// OpenPostgres opens a migrated store on a fresh PostgreSQL schema
// (PostgresDSN) and closes it when t ends.
func OpenPostgres(t testing.TB) *bunstore.Store {
	t.Helper()
	dsn := PostgresDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	s, err := bunstore.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatalf("buntest: open PostgreSQL store: %v", err)
	}
	t.Cleanup(func() { closeStore(t, s) })
	return s
}

// OpenSQLite opens a migrated store on a fresh SQLite file (SQLitePath)
// and closes it when t ends.
func OpenSQLite(t testing.TB) *bunstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	s, err := bunstore.OpenSQLite(ctx, SQLitePath(t))
	if err != nil {
		t.Fatalf("buntest: open SQLite store: %v", err)
	}
	t.Cleanup(func() { closeStore(t, s) })
	return s
}

// adminPools are the small pools, one per server URL and shared by the
// whole test binary, that create and drop schemas. They stay open until the
// process exits.
var adminPools struct {
	sync.Mutex
	byURL map[string]*sql.DB
}

// adminDB returns the admin pool for url, connecting on first use. A failed
// connection is not remembered: the next test tries again.
func adminDB(ctx context.Context, url string) (*sql.DB, error) {
	adminPools.Lock()
	defer adminPools.Unlock()
	if db := adminPools.byURL[url]; db != nil {
		return db, nil
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	if adminPools.byURL == nil {
		adminPools.byURL = map[string]*sql.DB{}
	}
	adminPools.byURL[url] = db
	return db, nil
}

func closeStore(t testing.TB, s *bunstore.Store) {
	if err := s.Close(); err != nil {
		t.Errorf("buntest: %v", err)
	}
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("buntest: %v", fmt.Errorf("random schema name: %w", err))
	}
	return hex.EncodeToString(b)
}
