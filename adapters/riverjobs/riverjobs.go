// Package riverjobs is the job queue that delivers outgoing webhook events,
// built on River (github.com/riverqueue/river) over the same database as
// the relational store: PostgreSQL or SQLite.
//
// A change that causes a webhook event stores its delivery row and, in the
// same transaction, enqueues a job naming the delivery (Queue.
// EnqueueDeliveriesTx): the job exists exactly when the change committed. A
// Worker runs the jobs and calls a Handler with each delivery id; the
// handler makes one attempt, records it, and answers whether the delivery
// is done or when to try again. The handler owns the delivery's attempts
// and retry schedule; River only carries the job:
//
//   - Outcome.Done ends the job (River marks it completed);
//   - a delivery not done is snoozed for Outcome.RetryIn. A snooze does not
//     count as one of River's attempts (River v0.51 decrements the attempt
//     when a job snoozes), so a delivery may be retried for as long as the
//     handler wants, whatever MaxAttempts is;
//   - a handler error (the database is down, say) is retried by River with
//     its own backoff (about attempt⁴ seconds, ±10 %), at most MaxAttempts
//     times in all, after which the job is discarded (gellhub's
//     webhooks.requeue_stalled job queues a delivery still pending an hour
//     past its next attempt again, through Queue.EnqueueDeliveries).
//
// A worker that dies while a job runs leaves it "running"; the River leader
// (one of the running workers, elected) rescues it once it has run for
// RescueStuckJobsAfter, and it is tried again. See Config.RescueStuckJobsAfter
// for the worst-case delay.
//
// Jobs are unique per delivery id: enqueueing an id whose job is pending,
// running, waiting for a retry or completed (completed jobs are kept 24
// hours) inserts nothing. A discarded or cancelled job does not block a new
// one.
//
// River's own tables are created and upgraded by Migrate.
//
// Every Worker takes part in River's leader election, and the leader runs
// River's maintenance for the whole database: rescuing stuck jobs,
// scheduling retries, deleting old jobs. Its rescuer discards stuck jobs of
// kinds it has no worker for, so any other River client working jobs in
// the same database (and schema) must also register JobKind, or not be
// eligible to lead (river.Config.LeaderElectionDisabled).
package riverjobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// The database dialects NewQueue and Migrate accept: the names
// bunstore.Store.Dialect returns.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// JobKind is the River kind of a webhook delivery job. Its arguments are
// the JSON object {"deliveryId": "<id>"}.
const JobKind = "webhook_delivery"

// Defaults of Config's fields (see Config).
const (
	DefaultQueue                = "webhooks"      // Config.Queue
	DefaultJobTimeout           = time.Minute     // Config.JobTimeout
	DefaultRescueStuckJobsAfter = 5 * time.Minute // Config.RescueStuckJobsAfter
	DefaultMaxWorkers           = 10              // Config.MaxWorkers
	DefaultFetchPollInterval    = time.Second     // Config.FetchPollInterval
	DefaultMaxAttempts          = 25              // Config.MaxAttempts
)

// queueNameRE is River's rule for queue names: lower-case letters and
// digits, words separated by one underscore or hyphen, at most 64 bytes.
var queueNameRE = regexp.MustCompile(`^(?:[a-z0-9])+(?:[_|\-]?[a-z0-9]+)*$`)

// Outcome is a Handler's answer about one delivery.
type Outcome struct {
	// Done ends the job: the delivery succeeded or was given up.
	Done bool
	// RetryIn is when to call the handler again for a delivery that is not
	// Done. Zero (or less) means at once; no lower bound is enforced, so a
	// handler must not answer the zero Outcome by mistake.
	RetryIn time.Duration
}

// Handler makes one delivery attempt of the delivery deliveryID and
// records it. An error means the attempt could not be made or recorded
// (the database is down, say): River then tries again with its own backoff,
// up to Config.MaxAttempts. ctx is cancelled when the job's time
// (Config.JobTimeout) is up or the worker stops; the handler must return
// promptly then. A delivery that no longer exists should be answered Done.
type Handler func(ctx context.Context, deliveryID string) (Outcome, error)

// Config configures a Queue and a Worker. The zero value is usable: every
// zero field takes its default. A Queue reads only Queue, MaxAttempts and
// Logger.
type Config struct {
	// Queue is the River queue jobs go to and are fetched from; default
	// "webhooks". Lower-case letters and digits, words separated by "_" or
	// "-", at most 64 bytes. A Worker fetches only its own queue's jobs.
	Queue string

	// JobTimeout bounds one run of the handler: its context is cancelled
	// after it. Default 1 minute (a delivery attempt's HTTP timeout is 10 s).
	JobTimeout time.Duration

	// RescueStuckJobsAfter is how long a job may stay running before the
	// River leader considers its worker dead and schedules it again; it
	// must be at least JobTimeout. Default 5 minutes. A job that really is
	// still running after it may run twice at once: the handler must
	// tolerate that (it records attempts by number, one of two racing
	// attempts loses).
	//
	// River checks for stuck jobs every 30 seconds, on the elected leader
	// only, and the interval cannot be configured (River v0.51.2 keeps it
	// internal). A job whose worker died is therefore run again after at
	// most RescueStuckJobsAfter + 30 s (the rescuer's interval) + River's
	// retry delay (about 1 s for a job's first error, attempt⁴ s with
	// ±10 % jitter in general) + 5 s (the scheduler's interval) + one fetch
	// (immediate on PostgreSQL, ≤ 50 ms on SQLite). When the dead worker
	// was the leader, another worker takes over within 15 s (the
	// leadership's lifetime) + 6 s (the election interval), which overlaps
	// RescueStuckJobsAfter when that is longer than 21 s.
	RescueStuckJobsAfter time.Duration

	// MaxWorkers is how many jobs one Worker runs at once; default 10, at
	// most 10000.
	MaxWorkers int

	// FetchPollInterval is how often a Worker looks for jobs when nothing
	// tells it about new ones; default 1 s. A Queue announces new jobs when
	// their transaction commits, through LISTEN/NOTIFY on PostgreSQL and
	// River's notification table on SQLite (read every 50 ms), but at most
	// once per queue every 100 ms (River's FetchCooldown): a job enqueued
	// soon after another waits for the next poll. The interval also
	// matters for jobs that come due by themselves: snoozed deliveries and
	// retries due within 5 s.
	FetchPollInterval time.Duration

	// MaxAttempts caps River's runs of one job that end in a handler error
	// (or a rescue); snoozes (not Done) are not counted. Default 25, which
	// River's backoff spreads over about three weeks.
	MaxAttempts int

	// Logger receives River's logs and the worker's. Nil logs Warn and
	// above to slog.Default(); River logs a failed job (a handler error)
	// at Info, so the worker logs it at Warn itself.
	Logger *slog.Logger
}

// withDefaults returns c with its zero fields set to their defaults, or an
// error naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.Queue == "" {
		c.Queue = DefaultQueue
	}
	if c.JobTimeout == 0 {
		c.JobTimeout = DefaultJobTimeout
	}
	if c.RescueStuckJobsAfter == 0 {
		c.RescueStuckJobsAfter = max(DefaultRescueStuckJobsAfter, c.JobTimeout)
	}
	if c.MaxWorkers == 0 {
		c.MaxWorkers = DefaultMaxWorkers
	}
	if c.FetchPollInterval == 0 {
		c.FetchPollInterval = DefaultFetchPollInterval
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Logger == nil {
		c.Logger = defaultLogger()
	}

	switch {
	case len(c.Queue) > 64 || !queueNameRE.MatchString(c.Queue):
		return c, fmt.Errorf("riverjobs: config: queue %q: use lower-case letters and digits, words separated by _ or -, at most 64 bytes", c.Queue)
	case c.JobTimeout < 0:
		return c, errors.New("riverjobs: config: JobTimeout must be positive")
	case c.RescueStuckJobsAfter < c.JobTimeout:
		return c, fmt.Errorf("riverjobs: config: RescueStuckJobsAfter (%s) must be at least JobTimeout (%s)", c.RescueStuckJobsAfter, c.JobTimeout)
	case c.MaxWorkers < 0 || c.MaxWorkers > river.QueueNumWorkersMax:
		return c, fmt.Errorf("riverjobs: config: MaxWorkers must be between 1 and %d", river.QueueNumWorkersMax)
	case c.FetchPollInterval < time.Millisecond:
		return c, errors.New("riverjobs: config: FetchPollInterval must be at least 1ms")
	case c.MaxAttempts < 0:
		return c, errors.New("riverjobs: config: MaxAttempts must be positive")
	}
	return c, nil
}

// Migrate creates River's tables on db, or brings them up to date; it does
// nothing when they are. dialect is DialectPostgres or DialectSQLite.
//
// On PostgreSQL the tables go in the first schema of the connection's
// search_path, and a transaction-level advisory lock (per schema) makes
// processes starting together migrate one at a time (calls within one
// process take turns too): db must allow two connections, one holding the
// lock while River migrates on another.
func Migrate(ctx context.Context, db *sql.DB, dialect string) error {
	switch dialect {
	case DialectPostgres:
		return migratePostgres(ctx, db)
	case DialectSQLite:
		if err := migrate(ctx, riversqlite.New(db)); err != nil {
			return fmt.Errorf("riverjobs: migrate sqlite: %w", err)
		}
		return nil
	default:
		return unknownDialect("migrate", dialect)
	}
}

// migrationLockKey is the first key of the PostgreSQL advisory lock taken
// while River migrates ("rivr"); the second is a hash of the schema. It
// differs from bunstore's, so the two migrations do not wait for each
// other.
const migrationLockKey = 0x7269_7672

// migrateMu makes a process's PostgreSQL migrations take turns: two at
// once on one pool could each hold a connection waiting for the lock while
// the lock's holder waits for a connection.
var migrateMu sync.Mutex

func migratePostgres(ctx context.Context, db *sql.DB) error {
	migrateMu.Lock()
	defer migrateMu.Unlock()
	return migratePostgresLocked(ctx, db)
}

// migratePostgresLocked migrates under the advisory lock, which serialises
// processes.
func migratePostgresLocked(ctx context.Context, db *sql.DB) error {
	lock, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("riverjobs: migrate postgres: lock: %w", err)
	}
	// The lock is the transaction's: rolling back releases it, and so does
	// a connection that breaks.
	defer func() { _ = lock.Rollback() }()
	if _, err := lock.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", migrationLockKey); err != nil {
		return fmt.Errorf("riverjobs: migrate postgres: lock: %w", err)
	}
	if err := migrate(ctx, riverdatabasesql.New(db)); err != nil {
		return fmt.Errorf("riverjobs: migrate postgres: %w", err)
	}
	return nil
}

func migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: defaultLogger()})
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// insertDriver returns the database/sql River driver of dialect, which
// inserts jobs in the caller's *sql.Tx.
func insertDriver(db *sql.DB, dialect string) (riverdriver.Driver[*sql.Tx], error) {
	switch dialect {
	case DialectPostgres:
		return riverdatabasesql.New(db), nil
	case DialectSQLite:
		return riversqlite.New(db), nil
	default:
		return nil, unknownDialect("new queue", dialect)
	}
}

func unknownDialect(op, dialect string) error {
	return fmt.Errorf("riverjobs: %s: unknown dialect %q (want %q or %q)", op, dialect, DialectPostgres, DialectSQLite)
}

// defaultLogger logs Warn and above to slog.Default().
func defaultLogger() *slog.Logger {
	return slog.New(minLevelHandler{min: slog.LevelWarn, next: slog.Default().Handler()})
}

// minLevelHandler passes records of at least min to next.
type minLevelHandler struct {
	min  slog.Level
	next slog.Handler
}

func (h minLevelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.next.Enabled(ctx, l)
}

func (h minLevelHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(ctx, r)
}

func (h minLevelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevelHandler{min: h.min, next: h.next.WithAttrs(attrs)}
}

func (h minLevelHandler) WithGroup(name string) slog.Handler {
	return minLevelHandler{min: h.min, next: h.next.WithGroup(name)}
}

// riverConfig is the River client configuration of cfg (defaults applied).
// workers is nil for an insert-only client.
func riverConfig(cfg Config, workers *river.Workers) *river.Config {
	rc := &river.Config{
		Logger:      cfg.Logger,
		MaxAttempts: cfg.MaxAttempts,
	}
	if workers != nil {
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{cfg.Queue: {MaxWorkers: cfg.MaxWorkers}}
		rc.JobTimeout = cfg.JobTimeout
		rc.RescueStuckJobsAfter = cfg.RescueStuckJobsAfter
		rc.FetchPollInterval = cfg.FetchPollInterval
		// River requires FetchCooldown ≤ FetchPollInterval.
		rc.FetchCooldown = min(river.FetchCooldownDefault, cfg.FetchPollInterval)
	}
	return rc
}
