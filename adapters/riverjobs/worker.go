package riverjobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// hardStopTimeout is how long Stop waits, once it has cancelled the
// running jobs, for them to return.
const hardStopTimeout = 5 * time.Second

// WorkerSource says where a Worker fetches its jobs: Postgres or SQLite.
type WorkerSource struct {
	dsn string  // PostgreSQL
	db  *sql.DB // SQLite
}

// Postgres fetches jobs from the PostgreSQL database dsn names (a
// postgres:// URL or key=value pairs, as pgx reads them; its search_path
// selects River's schema). The Worker opens its own pgx pool on it, so it
// hears of new jobs through LISTEN/NOTIFY at once, and closes the pool when
// it stops. The pool's size is pgx's default (at least 4, pool_max_conns
// in dsn changes it): River holds one connection for LISTEN and takes
// others briefly; handlers use their own store's pool.
func Postgres(dsn string) WorkerSource { return WorkerSource{dsn: dsn} }

// SQLite fetches jobs from the SQLite database db, the caller's pool
// (bunstore's, with its single connection: River never holds a connection
// while it waits for another, so it shares a one-connection pool with the
// store, and handlers may use that pool). The Worker does not close db.
// River polls its notification table every 50 ms for new jobs.
func SQLite(db *sql.DB) WorkerSource { return WorkerSource{db: db} }

// Worker runs webhook delivery jobs in the background until Stop.
type Worker struct {
	client   riverClient
	closeDB  func()
	log      *slog.Logger
	hardStop time.Duration // hardStopTimeout; shorter in tests

	mu      sync.Mutex
	stopped bool
}

// riverClient is the part of *river.Client[TTx] Worker uses, whatever the
// driver's transaction type.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Stopped() <-chan struct{}
}

// StartWorker starts a Worker that fetches cfg.Queue's jobs from src and
// calls h with each job's delivery id (see Handler and Outcome), up to
// cfg.MaxWorkers at once. River's tables must exist (Migrate). ctx bounds
// the start only (connecting and checking the database); its values, not
// its cancellation, reach the handlers. Workers on one queue may run in
// many processes: a job runs on one of them at a time.
func StartWorker(ctx context.Context, src WorkerSource, cfg Config, h Handler) (*Worker, error) {
	if h == nil {
		return nil, errors.New("riverjobs: start worker: nil handler")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliveryWorker{handle: h, log: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("riverjobs: start worker: %w", err)
	}
	rc := riverConfig(cfg, workers)

	switch {
	case src.dsn != "":
		pool, err := pgxpool.New(ctx, src.dsn)
		if err != nil {
			// pgx's parse errors mask the password.
			return nil, fmt.Errorf("riverjobs: start worker: postgres: %w", err)
		}
		if err := pool.Ping(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("riverjobs: start worker: postgres: %w", err)
		}
		driver := riverpgxv5.New(pool)
		if err := checkMigrated(ctx, driver); err != nil {
			pool.Close()
			return nil, err
		}
		client, err := river.NewClient(driver, rc)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("riverjobs: start worker: %w", err)
		}
		return start(ctx, client, pool.Close, cfg.Logger)
	case src.db != nil:
		if err := src.db.PingContext(ctx); err != nil {
			return nil, fmt.Errorf("riverjobs: start worker: sqlite: %w", err)
		}
		driver := riversqlite.New(src.db)
		if err := checkMigrated(ctx, driver); err != nil {
			return nil, err
		}
		client, err := river.NewClient(driver, rc)
		if err != nil {
			return nil, fmt.Errorf("riverjobs: start worker: %w", err)
		}
		return start(ctx, client, func() {}, cfg.Logger)
	default:
		return nil, errors.New("riverjobs: start worker: empty source (use Postgres or SQLite)")
	}
}

// checkMigrated fails when River's tables are missing or behind: River
// would start anyway and log errors on every fetch.
func checkMigrated[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: defaultLogger()})
	if err != nil {
		return fmt.Errorf("riverjobs: start worker: %w", err)
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("riverjobs: start worker: check River's tables: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("riverjobs: start worker: River's tables are not migrated (run Migrate): %s", strings.Join(res.Messages, "; "))
	}
	return nil
}

func start(ctx context.Context, client riverClient, closeDB func(), log *slog.Logger) (*Worker, error) {
	// River runs until its start context is cancelled: the worker's life is
	// up to Stop, not to the caller's ctx.
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		closeDB()
		return nil, fmt.Errorf("riverjobs: start worker: %w", err)
	}
	return &Worker{client: client, closeDB: closeDB, log: log, hardStop: hardStopTimeout}, nil
}

// Stop stops the worker: it fetches no more jobs and waits for the running
// ones to finish until ctx is done; then it cancels their contexts (a job
// stopped this way is run again later, without using up one of its
// attempts) and waits up to 5 more seconds for them to return. Stop closes
// the worker's PostgreSQL pool. A handler that ignores its cancelled
// context keeps running: Stop returns an error then, and the pool is
// closed when the handler returns. Calls after the first return nil.
func (w *Worker) Stop(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return nil
	}
	w.stopped = true

	if err := w.client.Stop(ctx); err == nil {
		w.closeDB()
		return nil
	}
	w.log.WarnContext(ctx, "riverjobs: graceful stop timed out; cancelling running webhook deliveries")
	hardCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.hardStop)
	defer cancel()
	if err := w.client.StopAndCancel(hardCtx); err != nil {
		stopped := w.client.Stopped()
		go func() {
			<-stopped
			w.closeDB()
		}()
		return fmt.Errorf("riverjobs: stop worker: jobs still running %s after cancellation: %w", w.hardStop, err)
	}
	w.closeDB()
	return nil
}

// deliveryWorker is the River worker of delivery jobs.
type deliveryWorker struct {
	river.WorkerDefaults[deliveryArgs]
	handle Handler
	log    *slog.Logger
}

// Work implements river.Worker: it calls the handler and maps its answer
// (see the package documentation).
func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	id := job.Args.DeliveryID
	if id == "" {
		return river.JobCancel(errors.New("webhook delivery job without a delivery id"))
	}
	out, err := w.handle(ctx, id)
	if err != nil {
		level := slog.LevelWarn
		if ctxErr := ctx.Err(); ctxErr != nil {
			// Keep the cancellation visible to River: a job cancelled by
			// Stop is then put back without using up an attempt.
			if !errors.Is(err, ctxErr) {
				err = fmt.Errorf("%w (%w)", err, ctxErr)
			}
			level = slog.LevelInfo
		}
		w.log.Log(ctx, level, "riverjobs: webhook delivery failed; River retries it",
			slog.String("delivery_id", id),
			slog.Int("attempt", job.Attempt),
			slog.Int("max_attempts", job.MaxAttempts),
			slog.String("error", err.Error()))
		return fmt.Errorf("deliver %s: %w", id, err)
	}
	if out.Done {
		return nil
	}
	return river.JobSnooze(max(out.RetryIn, 0))
}
