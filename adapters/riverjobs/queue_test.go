package riverjobs

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfig(t *testing.T) {
	t.Parallel()

	t.Run("zero_value_takes_the_defaults", func(t *testing.T) {
		t.Parallel()
		c, err := Config{}.withDefaults()
		require.NoError(t, err)
		require.Equal(t, "webhooks", c.Queue)
		require.Equal(t, time.Minute, c.JobTimeout)
		require.Equal(t, 5*time.Minute, c.RescueStuckJobsAfter)
		require.Equal(t, 10, c.MaxWorkers)
		require.Equal(t, time.Second, c.FetchPollInterval)
		require.Equal(t, 25, c.MaxAttempts)
		require.NotNil(t, c.Logger)
		require.False(t, c.Logger.Enabled(context.Background(), slog.LevelInfo), "the default logger drops River's Info chatter")
	})

	t.Run("long_job_timeout_raises_the_default_rescue_delay", func(t *testing.T) {
		t.Parallel()
		c, err := Config{JobTimeout: 10 * time.Minute}.withDefaults()
		require.NoError(t, err)
		require.Equal(t, 10*time.Minute, c.RescueStuckJobsAfter)
	})

	invalid := map[string]Config{
		"queue_with_upper_case":    {Queue: "Webhooks"},
		"queue_with_space":         {Queue: "web hooks"},
		"queue_too_long":           {Queue: strings.Repeat("a", 65)},
		"negative_job_timeout":     {JobTimeout: -1},
		"rescue_before_timeout":    {JobTimeout: time.Minute, RescueStuckJobsAfter: 30 * time.Second},
		"negative_max_workers":     {MaxWorkers: -1},
		"too_many_workers":         {MaxWorkers: 10_001},
		"poll_interval_below_1ms":  {FetchPollInterval: time.Microsecond},
		"negative_max_attempts":    {MaxAttempts: -1},
		"negative_rescue_interval": {RescueStuckJobsAfter: -time.Second},
	}
	for name, c := range invalid {
		t.Run(name+"_is_refused", func(t *testing.T) {
			t.Parallel()
			_, err := c.withDefaults()
			require.Error(t, err)
			_, err = StartWorker(context.Background(), SQLite(&sql.DB{}), c, func(context.Context, string) (Outcome, error) { return Outcome{Done: true}, nil })
			require.Error(t, err)
		})
	}
}

func TestDialects(t *testing.T) {
	t.Parallel()
	db := &sql.DB{} // never used: the dialect is refused first
	for _, d := range []string{"", "pg", "postgresql", "sqlite3"} {
		_, err := NewQueue(db, d, Config{})
		require.ErrorContains(t, err, "unknown dialect", d)
		require.ErrorContains(t, Migrate(context.Background(), db, d), "unknown dialect", d)
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	t.Run("fresh_sqlite_file", func(t *testing.T) {
		t.Parallel()
		e := migrated(t, openSQLite(t))
		q := newQueue(t, e, testConfig("after-migrate"))
		enqueue(t, e, q, true, "d1")
		require.Len(t, jobs(t, e, "after-migrate"), 1)
	})
	forEachDialect(t, func(t *testing.T, e testEnv) {
		// e is migrated already: again is a no-op, concurrently too.
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		errs := make(chan error, 3)
		for range 3 {
			go func() { errs <- Migrate(ctx, e.db, e.dialect) }()
		}
		for range 3 {
			require.NoError(t, <-errs)
		}
	})
}

func TestMigrate_processes_starting_together(t *testing.T) {
	t.Parallel()
	// A fresh schema migrated by four "processes" at once, each with its
	// own pool and without the in-process mutex: the advisory lock makes
	// them take turns; without it they fail on objects created twice.
	e := openPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	errs := make(chan error, 4)
	for range 4 {
		db := openPool(t, e.dsn)
		go func() { errs <- migratePostgresLocked(ctx, db) }()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
	e = migrated(t, e)
	q := newQueue(t, e, testConfig("after-migrate"))
	enqueue(t, e, q, true, "d1")
	require.Len(t, jobs(t, e, "after-migrate"), 1)
}

func TestEnqueueDeliveriesTx(t *testing.T) {
	t.Parallel()

	t.Run("rolled_back_enqueues_nothing_committed_is_handled", func(t *testing.T) {
		t.Parallel()
		forEachDialect(t, func(t *testing.T, e testEnv) {
			const queue = "commit-rollback"
			cfg := testConfig(queue)
			q := newQueue(t, e, cfg)
			enqueue(t, e, q, false, "d-rolled-back")
			enqueue(t, e, q, true, "d-committed")

			js := jobs(t, e, queue)
			require.Len(t, js, 1, "the rolled-back transaction left no job")
			require.Equal(t, "d-committed", js[0].DeliveryID)
			require.Equal(t, "available", js[0].State)

			var rec recorder
			startWorker(t, e.source(), cfg, func(ctx context.Context, id string) (Outcome, error) {
				rec.add("w", id)
				// The handler records its attempt on the application's pool
				// (a single connection on SQLite) while River runs.
				if err := markHandled(ctx, e, id); err != nil {
					return Outcome{}, err
				}
				return Outcome{Done: true}, nil
			})
			waitJobState(t, e, queue, "d-committed", "completed")
			require.Equal(t, []string{"d-committed"}, rec.ids())
			require.Equal(t, 1, handledCount(t, e, "d-committed"))
		})
	})

	t.Run("one_job_per_delivery_id", func(t *testing.T) {
		t.Parallel()
		forEachDialect(t, func(t *testing.T, e testEnv) {
			const queue = "unique"
			q := newQueue(t, e, testConfig(queue))
			ctx := context.Background()
			tx, err := e.db.BeginTx(ctx, nil)
			require.NoError(t, err)
			require.NoError(t, q.EnqueueDeliveriesTx(ctx, tx, []string{"d1", "d2", "d1"}), "a repeat in one call is skipped")
			require.NoError(t, q.EnqueueDeliveriesTx(ctx, tx, []string{"d1"}), "a duplicate in the same transaction is skipped")
			require.NoError(t, tx.Commit())
			tx, err = e.db.BeginTx(ctx, nil)
			require.NoError(t, err)
			require.NoError(t, q.EnqueueDeliveriesTx(ctx, tx, []string{"d2", "d3"}), "a duplicate in a later transaction is skipped")
			require.NoError(t, tx.Commit())

			var ids []string
			for _, j := range jobs(t, e, queue) {
				ids = append(ids, j.DeliveryID)
			}
			require.Equal(t, []string{"d1", "d2", "d3"}, ids)
		})
	})

	t.Run("no_ids_is_a_no_op_and_an_empty_id_an_error", func(t *testing.T) {
		t.Parallel()
		e := sqliteEnv(t)
		q := newQueue(t, e, testConfig("edge"))
		ctx := context.Background()
		require.NoError(t, q.EnqueueDeliveriesTx(ctx, nil, nil))
		tx, err := e.db.BeginTx(ctx, nil)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback() }()
		require.ErrorContains(t, q.EnqueueDeliveriesTx(ctx, tx, []string{"d1", ""}), "empty delivery id")
		require.ErrorContains(t, q.EnqueueDeliveriesTx(ctx, nil, []string{"d1"}), "nil transaction")
	})
}

func TestEnqueueDeliveries(t *testing.T) {
	t.Parallel()

	t.Run("a_live_job_blocks_a_second_one_a_lost_one_does_not", func(t *testing.T) {
		t.Parallel()
		forEachDialect(t, func(t *testing.T, e testEnv) {
			const queue = "requeue"
			cfg := testConfig(queue)
			cfg.MaxAttempts = 1 // one handler error discards the job
			q := newQueue(t, e, cfg)
			ctx := context.Background()
			enqueue(t, e, q, true, "d-live", "d-lost")
			// A delivery stored without its job: a job row deleted by hand.
			_, err := e.db.ExecContext(ctx, "INSERT INTO deliveries (id) VALUES ('d-nojob')")
			require.NoError(t, err)

			// Before any worker runs: the available jobs block a second one.
			require.NoError(t, q.EnqueueDeliveries(ctx, []string{"d-live", "d-lost"}))
			require.Len(t, jobs(t, e, queue), 2)

			var rec recorder
			startWorker(t, e.source(), cfg, func(ctx context.Context, id string) (Outcome, error) {
				n := rec.add("w", id)
				switch {
				case id == "d-live":
					return Outcome{RetryIn: time.Hour}, nil // snoozed: waiting, still live
				case id == "d-lost" && n == 1:
					return Outcome{}, errors.New("database down")
				}
				if err := markHandled(ctx, e, id); err != nil {
					return Outcome{}, err
				}
				return Outcome{Done: true}, nil
			})
			waitJobState(t, e, queue, "d-live", "scheduled")
			waitJobState(t, e, queue, "d-lost", "discarded")

			require.NoError(t, q.EnqueueDeliveries(ctx, []string{"d-live", "d-lost", "d-nojob", "d-lost"}))
			waitFor(t, "the new jobs of d-lost and d-nojob to run", func() bool {
				return handledCount(t, e, "d-lost") == 1 && handledCount(t, e, "d-nojob") == 1
			})
			states := func() map[string][]string {
				out := map[string][]string{}
				for _, j := range jobs(t, e, queue) {
					out[j.DeliveryID] = append(out[j.DeliveryID], j.State)
				}
				return out
			}
			waitFor(t, "the new jobs to complete", func() bool {
				s := states()
				return len(s["d-lost"]) == 2 && s["d-lost"][1] == "completed" && len(s["d-nojob"]) == 1 && s["d-nojob"][0] == "completed"
			})
			require.Equal(t, map[string][]string{
				"d-live":  {"scheduled"},              // no second job
				"d-lost":  {"discarded", "completed"}, // a new job, run
				"d-nojob": {"completed"},
			}, states())
			require.Len(t, rec.of("d-live"), 1, "the live job was not run again")
			require.Len(t, rec.of("d-lost"), 2)

			// Completed jobs block a new one too (for River's 24 h).
			require.NoError(t, q.EnqueueDeliveries(ctx, []string{"d-lost", "d-nojob"}))
			require.Len(t, jobs(t, e, queue), 4)
		})
	})

	t.Run("no_ids_is_a_no_op_and_an_empty_id_enqueues_nothing", func(t *testing.T) {
		t.Parallel()
		e := sqliteEnv(t)
		q := newQueue(t, e, testConfig("requeue-edge"))
		ctx := context.Background()
		require.NoError(t, q.EnqueueDeliveries(ctx, nil))
		require.ErrorContains(t, q.EnqueueDeliveries(ctx, []string{"d1", ""}), "empty delivery id")
		require.Empty(t, jobs(t, e, "requeue-edge"))
	})
}
