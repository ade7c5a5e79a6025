// Package bunstore is the relational store of gellhub: one set of Bun
// models and queries on PostgreSQL (production, through the pgx stdlib
// driver and pgdialect) and SQLite (the embedded default, through
// sqliteshim's pure-Go driver and sqlitedialect).
//
// Store implements ports.AccountStore, ports.PlanStore, ports.SessionStore,
// ports.SessionPurger, ports.PartnerAppStore, ports.LinkStore,
// ports.QuotaStore, ports.GalleryStore, ports.DriveStore, ports.BillingStore,
// ports.MessagingStore, ports.WebhookStore and ports.Pinger. Opening a Store
// runs the embedded, versioned migrations of its dialect
// (migrations/postgres, migrations/sqlite).
//
// Every multi-row change runs in one transaction. Errors are translated by
// code, never by message text: a missing row is core.KindNotFound, a unique
// or foreign-key violation core.KindConflict, a database that cannot be
// reached core.KindUnavailable; context cancellation passes through; anything
// else is wrapped with the operation's name and is internal to callers.
package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/gellhub/gellhub/ports"
)

// The dialect names Dialect returns.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// SQLiteFileName is the file Open creates in the data directory when no
// database URL is configured.
const SQLiteFileName = "gellhub.db"

// PostgreSQL pool settings. Every API instance holds up to
// postgresMaxOpenConns connections; size max_connections accordingly.
const (
	postgresMaxOpenConns    = 20
	postgresMaxIdleConns    = 10
	postgresConnMaxLifetime = 30 * time.Minute
	postgresConnMaxIdleTime = 5 * time.Minute
)

// sqliteBusyTimeoutMS is how long a SQLite writer waits for the file lock
// held by another process before failing with SQLITE_BUSY.
const sqliteBusyTimeoutMS = 5000

// Store is the Bun-backed relational store, on PostgreSQL or SQLite.
// It is safe for concurrent use.
//
// Store implements ports.AccountStore, ports.PlanStore, ports.SessionStore,
// ports.SessionPurger, ports.PartnerAppStore (partner.go), ports.LinkStore
// (links.go), ports.QuotaStore (quota.go), ports.GalleryStore (gallery.go),
// ports.DriveStore (drive.go, drive_tx.go), ports.BillingStore (billing.go),
// ports.MessagingStore (messaging.go, messaging_tx.go), ports.WebhookStore
// (webhooks.go) and ports.Pinger.
type Store struct {
	db      *bun.DB
	dialect string
	// enqueuer queues the webhook deliveries of a turn in the turn's
	// transaction (SetEnqueuer); nil until set.
	enqueuer Enqueuer
}

// SetEnqueuer sets the queue that RecordTurn hands the ids of a turn's
// webhook deliveries to, inside the turn's transaction. Call it before the
// store is used: it is not safe to call concurrently with RecordTurn. A
// turn with deliveries and no enqueuer set is refused.
func (s *Store) SetEnqueuer(e Enqueuer) { s.enqueuer = e }

// DB returns the store's connection pool, for adapters that share it (the
// River job queue, adapters/riverjobs). Closing the store closes it.
func (s *Store) DB() *sql.DB { return s.db.DB }

var (
	_ ports.AccountStore  = (*Store)(nil)
	_ ports.PlanStore     = (*Store)(nil)
	_ ports.SessionStore  = (*Store)(nil)
	_ ports.SessionPurger = (*Store)(nil)
	_ ports.Pinger        = (*Store)(nil)
)

// Open opens the store that databaseURL names and migrates it:
//
//   - "" opens the SQLite file dataDir/gellhub.db, creating dataDir (mode
//     0700) when it is missing;
//   - "postgres://…" or "postgresql://…" opens PostgreSQL (see OpenPostgres);
//   - any other scheme is an error.
func Open(ctx context.Context, databaseURL, dataDir string) (*Store, error) {
	if databaseURL == "" {
		if dataDir == "" {
			return nil, errors.New("bunstore: open: no database URL and no data directory for the SQLite file")
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("bunstore: open: create data directory: %w", err)
		}
		return OpenSQLite(ctx, filepath.Join(dataDir, SQLiteFileName))
	}
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		return OpenPostgres(ctx, databaseURL)
	}
	// Only the scheme is repeated: the URL may carry a password.
	scheme, _, found := strings.Cut(databaseURL, "://")
	if !found || len(scheme) > 20 {
		scheme = ""
	}
	return nil, fmt.Errorf("bunstore: open: unsupported database URL (scheme %q): use postgres:// or postgresql://, or leave it empty for SQLite in the data directory", scheme)
}

// OpenPostgres connects to PostgreSQL with the pgx stdlib driver (not Bun's
// pgdriver, which River cannot share), checks the connection and migrates
// the schema. dsn is anything pgx accepts, a postgres:// URL or key=value
// pairs; its search_path parameter selects the schema. Unless dsn sets
// default_query_exec_mode, queries run in pgx's "exec" mode: Bun inlines
// arguments into the SQL text, so caching a prepared statement per distinct
// text would only cost a round trip and server memory.
//
// A server that cannot be reached is core.KindUnavailable.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors mask the password.
		return nil, fmt.Errorf("bunstore: open postgres: %w", err)
	}
	if !strings.Contains(dsn, "default_query_exec_mode") {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	sqldb := stdlib.OpenDB(*cfg)
	sqldb.SetMaxOpenConns(postgresMaxOpenConns)
	sqldb.SetMaxIdleConns(postgresMaxIdleConns)
	sqldb.SetConnMaxLifetime(postgresConnMaxLifetime)
	sqldb.SetConnMaxIdleTime(postgresConnMaxIdleTime)
	return open(ctx, bun.NewDB(sqldb, pgdialect.New()), DialectPostgres)
}

// OpenSQLite opens (creating it when missing) the SQLite database file at
// path with the pure-Go driver and migrates it. The connection uses WAL,
// a busy timeout, foreign keys and IMMEDIATE transactions, and the pool
// holds a single connection: SQLite has one writer, and queuing in the pool
// avoids SQLITE_BUSY under load.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("bunstore: open sqlite: empty path")
	}
	sqldb, err := sql.Open(sqliteshim.ShimName, sqliteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("bunstore: open sqlite: %w", err)
	}
	sqldb.SetMaxOpenConns(1)
	sqldb.SetMaxIdleConns(1)
	sqldb.SetConnMaxLifetime(0)
	sqldb.SetConnMaxIdleTime(0)
	return open(ctx, bun.NewDB(sqldb, sqlitedialect.New()), DialectSQLite)
}

// sqliteDSN builds the modernc.org/sqlite DSN for path. modernc ignores
// mattn-style options such as _busy_timeout: pragmas go in _pragma=. The
// path is escaped because SQLite reads a "file:" DSN as a URI.
func sqliteDSN(path string) string {
	u := url.URL{Path: filepath.ToSlash(path)}
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", sqliteBusyTimeoutMS),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
	}
	return "file:" + u.EscapedPath() + "?" + strings.Join(q, "&")
}

func open(ctx context.Context, db *bun.DB, dialect string) (*Store, error) {
	s := &Store{db: db, dialect: dialect}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, s.fail(ctx, "open "+dialect, err)
	}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bunstore: close: %w", err)
	}
	return nil
}

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// Ping implements ports.Pinger: nil when the database answers,
// core.KindUnavailable when it cannot be reached.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return s.fail(ctx, "ping", err)
	}
	return nil
}

// inTx runs fn in a transaction and commits it when fn returns nil. fn must
// use tx for every query: the SQLite pool has a single connection, so a
// query on s.db while tx is open would wait forever. inTx returns fn's error
// untouched and wraps a failed commit; callers translate with s.fail. The
// transaction is rolled back when fn fails or panics.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback() // the transaction is void either way; fn's error says why
		}
	}()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	committed = true // a failed COMMIT ends the transaction too
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// forUpdate locks the selected rows until the transaction ends. PostgreSQL
// needs it; SQLite has no row locks and needs none: its transactions begin
// IMMEDIATE, so writers are already serialised.
func (s *Store) forUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if s.dialect == DialectPostgres {
		return q.For("UPDATE")
	}
	return q
}
