package riverjobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/gellhub/gellhub/adapters/bunstore/buntest"
)

// waitTimeout bounds every wait for the worker: a deadlock or a lost job
// fails the test after it instead of hanging.
const waitTimeout = 20 * time.Second

// testEnv is one isolated database (a fresh PostgreSQL schema or SQLite
// file) with River's tables and a deliveries table standing in for
// bunstore's webhook_deliveries.
type testEnv struct {
	dialect string
	db      *sql.DB // the application's pool, opened as bunstore opens it
	dsn     string  // PostgreSQL only
}

// source is where a worker on e fetches its jobs.
func (e testEnv) source() WorkerSource {
	if e.dialect == DialectPostgres {
		return Postgres(e.dsn)
	}
	return SQLite(e.db)
}

// ph returns the dialect's placeholder for the n-th argument.
func (e testEnv) ph(n int) string {
	if e.dialect == DialectPostgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// postgresEnv opens a fresh schema the way bunstore.OpenPostgres does (pgx
// stdlib driver, "exec" query mode) and migrates it.
func postgresEnv(t *testing.T) testEnv {
	t.Helper()
	return migrated(t, openPostgres(t))
}

// openPostgres opens a fresh, empty schema as postgresEnv does.
func openPostgres(t *testing.T) testEnv {
	t.Helper()
	dsn := buntest.PostgresDSN(t)
	return testEnv{dialect: DialectPostgres, db: openPool(t, dsn), dsn: dsn}
}

// openPool opens a pool on dsn as bunstore.OpenPostgres does and closes it
// when t ends.
func openPool(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(4)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// sqliteEnv opens a fresh, migrated file: a copy of a template migrated
// once per test binary (River's migrations cost about a second each under
// the race detector).
func sqliteEnv(t *testing.T) testEnv {
	t.Helper()
	sqliteTemplate.once.Do(func() { sqliteTemplate.path, sqliteTemplate.err = makeSQLiteTemplate() })
	require.NoError(t, sqliteTemplate.err, "SQLite template")
	b, err := os.ReadFile(sqliteTemplate.path)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "gellhub.db")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return testEnv{dialect: DialectSQLite, db: openSQLiteDB(t, path)}
}

// sqliteTemplate is the migrated SQLite file sqliteEnv copies; TestMain
// removes it.
var sqliteTemplate struct {
	once sync.Once
	path string
	err  error
}

func makeSQLiteTemplate() (string, error) {
	dir, err := os.MkdirTemp("", "riverjobs-test-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "template.db")
	db, err := sql.Open(sqliteshim.ShimName, sqliteDSN(path))
	if err != nil {
		return "", err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := Migrate(ctx, db, DialectSQLite); err != nil {
		return "", err
	}
	if _, err := db.ExecContext(ctx, createDeliveries); err != nil {
		return "", err
	}
	// Everything into the main file, so copying it alone is enough.
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return "", err
	}
	return path, db.Close()
}

// openSQLite opens a fresh, empty file as sqliteEnv does.
func openSQLite(t *testing.T) testEnv {
	t.Helper()
	return testEnv{dialect: DialectSQLite, db: openSQLiteDB(t, filepath.Join(t.TempDir(), "gellhub.db"))}
}

// openSQLiteDB opens path the way bunstore.OpenSQLite does (modernc
// through sqliteshim, WAL, busy timeout, IMMEDIATE transactions, one
// connection) and closes it when t ends.
func openSQLiteDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open(sqliteshim.ShimName, sqliteDSN(path))
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// sqliteDSN is bunstore's DSN for path.
func sqliteDSN(path string) string {
	u := url.URL{Path: filepath.ToSlash(path)}
	return "file:" + u.EscapedPath() + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
}

// createDeliveries creates the table standing in for webhook_deliveries.
const createDeliveries = "CREATE TABLE deliveries (id TEXT PRIMARY KEY, handled INTEGER NOT NULL DEFAULT 0)"

func TestMain(m *testing.M) {
	code := m.Run()
	if sqliteTemplate.path != "" {
		_ = os.RemoveAll(filepath.Dir(sqliteTemplate.path))
	}
	os.Exit(code)
}

// migrated migrates e and adds the deliveries table.
func migrated(t *testing.T, e testEnv) testEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(t, Migrate(ctx, e.db, e.dialect))
	_, err := e.db.ExecContext(ctx, createDeliveries)
	require.NoError(t, err)
	return e
}

// forEachDialect runs f as a parallel subtest on PostgreSQL and on SQLite.
func forEachDialect(t *testing.T, f func(t *testing.T, e testEnv)) {
	t.Helper()
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		f(t, postgresEnv(t))
	})
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, sqliteEnv(t))
	})
}

// testLogger discards River's logs unless RIVERJOBS_TEST_LOG is set: River
// keeps logging from its goroutines after a test has ended, which t.Log
// does not allow.
func testLogger() *slog.Logger {
	if os.Getenv("RIVERJOBS_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testConfig is a fast-polling configuration on queue.
func testConfig(queue string) Config {
	return Config{Queue: queue, FetchPollInterval: 100 * time.Millisecond, Logger: testLogger()}
}

// newQueue returns a Queue on e for cfg.
func newQueue(t *testing.T, e testEnv, cfg Config) *Queue {
	t.Helper()
	q, err := NewQueue(e.db, e.dialect, cfg)
	require.NoError(t, err)
	return q
}

// enqueue stores a deliveries row per id and enqueues their jobs in one
// transaction, as bunstore does, then commits it or rolls it back.
func enqueue(t *testing.T, e testEnv, q *Queue, commit bool, ids ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	tx, err := e.db.BeginTx(ctx, nil)
	require.NoError(t, err)
	for _, id := range ids {
		_, err := tx.ExecContext(ctx, "INSERT INTO deliveries (id) VALUES ("+e.ph(1)+")", id)
		require.NoError(t, err)
	}
	if err := q.EnqueueDeliveriesTx(ctx, tx, ids); err != nil {
		_ = tx.Rollback()
		require.NoError(t, err)
	}
	if commit {
		require.NoError(t, tx.Commit())
	} else {
		require.NoError(t, tx.Rollback())
	}
}

// markHandled adds one to the delivery's handled count in a transaction
// on the application's pool, as a handler recording an attempt does.
func markHandled(ctx context.Context, e testEnv, id string) error {
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "UPDATE deliveries SET handled = handled + 1 WHERE id = "+e.ph(1), id); err != nil {
		return err
	}
	return tx.Commit()
}

// handledCount returns the delivery's handled count.
func handledCount(t *testing.T, e testEnv, id string) int {
	t.Helper()
	var n int
	err := e.db.QueryRowContext(context.Background(), "SELECT handled FROM deliveries WHERE id = "+e.ph(1), id).Scan(&n)
	require.NoError(t, err)
	return n
}

// riverJob is a row of river_job as the tests read it.
type riverJob struct {
	DeliveryID string
	State      string
	Attempt    int
	Errors     string
	Metadata   string
}

// jobs returns the jobs of queue, oldest first.
func jobs(t *testing.T, e testEnv, queue string) []riverJob {
	t.Helper()
	// SQLite keeps River's JSON columns as JSONB blobs.
	cols := "args::text, state, attempt, COALESCE(errors::text, ''), metadata::text"
	if e.dialect == DialectSQLite {
		cols = "json(args), state, attempt, COALESCE(json(errors), ''), json(metadata)"
	}
	rows, err := e.db.QueryContext(context.Background(),
		"SELECT "+cols+" FROM river_job WHERE queue = "+e.ph(1)+" ORDER BY id", queue)
	require.NoError(t, err)
	defer rows.Close()
	var out []riverJob
	for rows.Next() {
		var (
			args string
			j    riverJob
			a    deliveryArgs
		)
		require.NoError(t, rows.Scan(&args, &j.State, &j.Attempt, &j.Errors, &j.Metadata))
		require.NoError(t, json.Unmarshal([]byte(args), &a))
		j.DeliveryID = a.DeliveryID
		out = append(out, j)
	}
	require.NoError(t, rows.Err())
	return out
}

// jobOf returns the only job of delivery id in queue.
func jobOf(t *testing.T, e testEnv, queue, id string) riverJob {
	t.Helper()
	var found []riverJob
	for _, j := range jobs(t, e, queue) {
		if j.DeliveryID == id {
			found = append(found, j)
		}
	}
	require.Len(t, found, 1, "jobs of delivery %s in queue %s", id, queue)
	return found[0]
}

// waitJobState waits until the job of delivery id in queue is in state.
func waitJobState(t *testing.T, e testEnv, queue, id, state string) riverJob {
	t.Helper()
	var last riverJob
	waitFor(t, fmt.Sprintf("job of %s in state %s", id, state), func() bool {
		last = jobOf(t, e, queue, id)
		return last.State == state
	})
	return last
}

// waitFor polls cond until it holds, failing the test after waitTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitTimeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startWorker starts a worker and stops it when t ends.
func startWorker(t *testing.T, src WorkerSource, cfg Config, h Handler) *Worker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	w, err := StartWorker(ctx, src, cfg, h)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := w.Stop(ctx); err != nil {
			t.Errorf("stop worker: %v", err)
		}
	})
	return w
}

// call is one handler call.
type call struct {
	id     string
	at     time.Time
	worker string
}

// recorder records handler calls.
type recorder struct {
	mu    sync.Mutex
	calls []call
}

func (r *recorder) add(worker, id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call{id: id, at: time.Now(), worker: worker})
	n := 0
	for _, c := range r.calls {
		if c.id == id {
			n++
		}
	}
	return n
}

// of returns the calls for id, in order.
func (r *recorder) of(id string) []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []call
	for _, c := range r.calls {
		if c.id == id {
			out = append(out, c)
		}
	}
	return out
}

// ids returns the ids called, in call order, with repeats.
func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.calls))
	for i, c := range r.calls {
		out[i] = c.id
	}
	return out
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// tcpProxy forwards TCP connections to a target until killed: killing it
// cuts every connection at once and refuses new ones, which is what a
// database client sees when the process holding them dies.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	conns  []net.Conn
	killed bool
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &tcpProxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.kill)
	return p
}

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(c)
	}
}

func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.killed {
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.conns = append(p.conns, c, up)
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
	go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
}

func (p *tcpProxy) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killed = true
	_ = p.ln.Close()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// viaProxy returns dsn with its host replaced by p's address.
func (p *tcpProxy) viaProxy(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	u.Host = p.ln.Addr().String()
	return u.String()
}

// hostOf returns the host:port of a postgres:// URL.
func hostOf(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	host := u.Host
	if !strings.Contains(host, ":") {
		host += ":5432"
	}
	return host
}
