package riverjobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
)

func TestWorker_outcomes(t *testing.T) {
	t.Parallel()

	t.Run("not_done_is_retried_after_RetryIn_an_error_with_backoff_done_stops", func(t *testing.T) {
		t.Parallel()
		forEachDialect(t, func(t *testing.T, e testEnv) {
			const queue = "outcomes"
			cfg := testConfig(queue)
			// Three snoozes would exhaust two attempts if they counted.
			cfg.MaxAttempts = 2
			q := newQueue(t, e, cfg)
			enqueue(t, e, q, true, "d1")

			var rec recorder
			startWorker(t, e.source(), cfg, func(ctx context.Context, id string) (Outcome, error) {
				switch rec.add("w", id) {
				case 1, 2, 3:
					return Outcome{RetryIn: 200 * time.Millisecond}, nil
				case 4:
					return Outcome{}, errors.New("database down")
				default:
					return Outcome{Done: true}, nil
				}
			})

			j := waitJobState(t, e, queue, "d1", "completed")
			calls := rec.of("d1")
			require.Len(t, calls, 5, "done stops the job")
			require.Equal(t, []string{"d1", "d1", "d1", "d1", "d1"}, rec.ids())
			for i := 1; i < 4; i++ {
				require.GreaterOrEqual(t, calls[i].at.Sub(calls[i-1].at), 200*time.Millisecond, "call %d waited RetryIn", i+1)
			}
			// River's first retry after an error: 1 s ± 10 %.
			require.GreaterOrEqual(t, calls[4].at.Sub(calls[3].at), 900*time.Millisecond, "the error was retried with River's backoff")
			require.Equal(t, 2, j.Attempt, "snoozes used no attempt; the error used one")
			require.Contains(t, j.Errors, "database down")
			var meta struct{ Snoozes int }
			require.NoError(t, json.Unmarshal([]byte(j.Metadata), &meta))
			require.Equal(t, 3, meta.Snoozes)
		})
	})

	t.Run("errors_stop_after_MaxAttempts", func(t *testing.T) {
		t.Parallel()
		forEachDialect(t, func(t *testing.T, e testEnv) {
			const queue = "max-attempts"
			cfg := testConfig(queue)
			cfg.MaxAttempts = 1
			q := newQueue(t, e, cfg)
			enqueue(t, e, q, true, "d1")
			var rec recorder
			startWorker(t, e.source(), cfg, func(ctx context.Context, id string) (Outcome, error) {
				rec.add("w", id)
				return Outcome{}, errors.New("database down")
			})
			j := waitJobState(t, e, queue, "d1", "discarded")
			require.Equal(t, 1, j.Attempt)
			require.Equal(t, 1, rec.len())
		})
	})
}

func TestWorker_two_workers_never_run_one_job_twice_at_once(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, e testEnv) {
		const (
			queue = "shared"
			n     = 12
			runs  = 3 // per delivery: two snoozes, then done
		)
		cfg := testConfig(queue)
		cfg.MaxWorkers = 4
		q := newQueue(t, e, cfg)
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("d%02d", i)
		}
		enqueue(t, e, q, true, ids...)

		var (
			rec     recorder
			mu      sync.Mutex
			running = map[string]int{}
			overlap []string
		)
		handler := func(name string) Handler {
			return func(ctx context.Context, id string) (Outcome, error) {
				mu.Lock()
				running[id]++
				if running[id] > 1 {
					overlap = append(overlap, id)
				}
				mu.Unlock()
				defer func() {
					mu.Lock()
					running[id]--
					mu.Unlock()
				}()
				k := rec.add(name, id)
				select {
				case <-time.After(30 * time.Millisecond): // long enough for the other worker to try
				case <-ctx.Done():
					return Outcome{}, ctx.Err()
				}
				if k < runs {
					return Outcome{RetryIn: 10 * time.Millisecond}, nil
				}
				return Outcome{Done: true}, nil
			}
		}
		startWorker(t, e.source(), cfg, handler("a"))
		startWorker(t, e.source(), cfg, handler("b"))

		waitFor(t, "every job completed", func() bool {
			for _, j := range jobs(t, e, queue) {
				if j.State != "completed" {
					return false
				}
			}
			return true
		})
		mu.Lock()
		require.Empty(t, overlap, "deliveries run by two workers at once")
		mu.Unlock()
		byWorker := map[string]int{}
		for _, id := range ids {
			calls := rec.of(id)
			require.Len(t, calls, runs, "delivery %s", id)
			for _, c := range calls {
				byWorker[c.worker]++
			}
		}
		t.Logf("calls per worker: %v", byWorker)
	})
}

func TestWorker_hears_of_new_jobs_without_polling(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, e testEnv) {
		const queue = "announced"
		cfg := testConfig(queue)
		cfg.FetchPollInterval = time.Minute // a poll would come far too late
		q := newQueue(t, e, cfg)
		handled := make(chan string, 2)
		startWorker(t, e.source(), cfg, func(ctx context.Context, id string) (Outcome, error) {
			handled <- id
			return Outcome{Done: true}, nil
		})
		// The first job may be found by the worker's first fetch; the
		// second comes when the worker is idle.
		for i, id := range []string{"d1", "d2"} {
			if i > 0 {
				// A Queue announces a queue's new jobs at most once per
				// River's FetchCooldown; later ones wait for a poll.
				time.Sleep(2 * river.FetchCooldownDefault)
			}
			committed := time.Now()
			enqueue(t, e, q, true, id)
			select {
			case got := <-handled:
				require.Equal(t, id, got)
				t.Logf("%s handled %s after its commit", id, time.Since(committed).Round(time.Millisecond))
			case <-time.After(5 * time.Second):
				t.Fatalf("%s not handled 5 s after its commit: the worker was not told", id)
			}
		}
	})
}

func TestWorker_runs_only_its_queue(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, e testEnv) {
		cfgA, cfgB := testConfig("queue-a"), testConfig("queue-b")
		// B's job goes in first: a worker fetching across queues would take
		// it in the same fetch as A's, or before.
		enqueue(t, e, newQueue(t, e, cfgB), true, "d-b")
		enqueue(t, e, newQueue(t, e, cfgA), true, "d-a")

		var recA, recB recorder
		startWorker(t, e.source(), cfgA, func(ctx context.Context, id string) (Outcome, error) {
			recA.add("a", id)
			return Outcome{Done: true}, nil
		})
		waitJobState(t, e, "queue-a", "d-a", "completed")
		require.Equal(t, []string{"d-a"}, recA.ids())
		require.Equal(t, "available", jobOf(t, e, "queue-b", "d-b").State)

		startWorker(t, e.source(), cfgB, func(ctx context.Context, id string) (Outcome, error) {
			recB.add("b", id)
			return Outcome{Done: true}, nil
		})
		waitJobState(t, e, "queue-b", "d-b", "completed")
		require.Equal(t, []string{"d-b"}, recB.ids())
		require.Equal(t, []string{"d-a"}, recA.ids())
	})
}

// TestWorker_sqlite_single_connection enqueues from many goroutines, each
// in its own transaction on the one-connection pool, while the worker runs
// and its handler writes through the same pool. A deadlock fails it after
// waitTimeout.
func TestWorker_sqlite_single_connection(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	require.Equal(t, 1, e.db.Stats().MaxOpenConnections)
	const (
		queue      = "single-conn"
		goroutines = 4
		perG       = 5
	)
	cfg := testConfig(queue)
	q := newQueue(t, e, cfg)

	var rec recorder
	startWorker(t, SQLite(e.db), cfg, func(ctx context.Context, id string) (Outcome, error) {
		// The first run snoozes so River's own writes interleave more.
		if rec.add("w", id) == 1 {
			return Outcome{RetryIn: 10 * time.Millisecond}, markHandled(ctx, e, id)
		}
		return Outcome{Done: true}, markHandled(ctx, e, id)
	})

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				id := fmt.Sprintf("d-%d-%d", g, i)
				err := func() error {
					tx, err := e.db.BeginTx(ctx, nil)
					if err != nil {
						return err
					}
					defer func() { _ = tx.Rollback() }()
					if _, err := tx.ExecContext(ctx, "INSERT INTO deliveries (id) VALUES (?)", id); err != nil {
						return err
					}
					if err := q.EnqueueDeliveriesTx(ctx, tx, []string{id}); err != nil {
						return err
					}
					return tx.Commit()
				}()
				if err != nil {
					errs <- fmt.Errorf("enqueue %s: %w", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	waitFor(t, "every delivery handled twice", func() bool {
		var n int
		require.NoError(t, e.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM deliveries WHERE handled = 2").Scan(&n))
		return n == goroutines*perG
	})
	require.Equal(t, 2*goroutines*perG, rec.len())
}

func TestWorker_stop(t *testing.T) {
	t.Parallel()

	t.Run("graceful_stop_waits_for_running_jobs", func(t *testing.T) {
		t.Parallel()
		forEachDialect(t, func(t *testing.T, e testEnv) {
			const queue = "graceful"
			cfg := testConfig(queue)
			enqueue(t, e, newQueue(t, e, cfg), true, "d1")
			started := make(chan struct{})
			w, err := StartWorker(context.Background(), e.source(), cfg, func(ctx context.Context, id string) (Outcome, error) {
				close(started)
				time.Sleep(300 * time.Millisecond)
				return Outcome{Done: true}, ctx.Err()
			})
			require.NoError(t, err)
			waitClosed(t, started)
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			require.NoError(t, w.Stop(ctx))
			require.Equal(t, "completed", jobOf(t, e, queue, "d1").State, "the job finished before Stop returned")
			require.NoError(t, w.Stop(ctx), "a second Stop is a no-op")
		})
	})

	t.Run("stop_past_its_deadline_cancels_the_job_which_keeps_its_attempt", func(t *testing.T) {
		t.Parallel()
		forEachDialect(t, func(t *testing.T, e testEnv) {
			const queue = "hard-stop"
			cfg := testConfig(queue)
			cfg.MaxAttempts = 1 // an interrupted run that counted would discard the job
			enqueue(t, e, newQueue(t, e, cfg), true, "d1")
			started := make(chan struct{})
			w, err := StartWorker(context.Background(), e.source(), cfg, func(ctx context.Context, id string) (Outcome, error) {
				close(started)
				<-ctx.Done()
				// A handler's own error wrapping something else; the
				// worker adds the cancellation.
				return Outcome{}, errors.New("attempt interrupted")
			})
			require.NoError(t, err)
			waitClosed(t, started)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			begin := time.Now()
			require.NoError(t, w.Stop(ctx))
			require.Less(t, time.Since(begin), hardStopTimeout, "the cancelled handler returned at once")
			j := jobOf(t, e, queue, "d1")
			require.Equal(t, "available", j.State)
			require.Equal(t, 0, j.Attempt)

			var rec recorder
			startWorker(t, e.source(), cfg, func(ctx context.Context, id string) (Outcome, error) {
				rec.add("w2", id)
				return Outcome{Done: true}, nil
			})
			waitJobState(t, e, queue, "d1", "completed")
			require.Equal(t, []string{"d1"}, rec.ids())
		})
	})

	t.Run("handler_ignoring_cancellation_makes_stop_fail_after_the_grace", func(t *testing.T) {
		t.Parallel()
		e := sqliteEnv(t)
		cfg := testConfig("stuck")
		enqueue(t, e, newQueue(t, e, cfg), true, "d1")
		started, release := make(chan struct{}), make(chan struct{})
		w, err := StartWorker(context.Background(), SQLite(e.db), cfg, func(ctx context.Context, id string) (Outcome, error) {
			close(started)
			<-release
			return Outcome{Done: true}, nil
		})
		require.NoError(t, err)
		w.hardStop = 300 * time.Millisecond
		waitClosed(t, started)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		begin := time.Now()
		err = w.Stop(ctx)
		elapsed := time.Since(begin)
		close(release)
		require.ErrorContains(t, err, "still running")
		require.GreaterOrEqual(t, elapsed, w.hardStop)
		require.Less(t, elapsed, w.hardStop+2*time.Second)
	})
}

func TestStartWorker_errors(t *testing.T) {
	t.Parallel()
	ok := func(context.Context, string) (Outcome, error) { return Outcome{Done: true}, nil }
	ctx := context.Background()

	_, err := StartWorker(ctx, WorkerSource{}, Config{}, ok)
	require.ErrorContains(t, err, "empty source")
	_, err = StartWorker(ctx, SQLite(&sql.DB{}), Config{}, nil)
	require.ErrorContains(t, err, "nil handler")

	t.Run("unreachable_postgres_fails_within_ctx", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := StartWorker(ctx, Postgres("postgres://nobody:s3cret@127.0.0.1:1/x?sslmode=disable"), Config{}, ok)
		require.Error(t, err)
		require.NotContains(t, err.Error(), "s3cret")
	})

	t.Run("bad_dsn_does_not_echo_the_password", func(t *testing.T) {
		t.Parallel()
		_, err := StartWorker(ctx, Postgres("postgres://nobody:s3cret@127.0.0.1:bad/x"), Config{}, ok)
		require.Error(t, err)
		require.NotContains(t, err.Error(), "s3cret")
	})

	t.Run("database_without_river_tables_is_refused", func(t *testing.T) {
		t.Parallel()
		for _, open := range []func(*testing.T) testEnv{openSQLite, openPostgres} {
			e := open(t)
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			_, err := StartWorker(ctx, e.source(), Config{}, ok)
			cancel()
			require.ErrorContains(t, err, "run Migrate", e.dialect)
		}
	})

	t.Run("enqueue_without_river_tables_fails", func(t *testing.T) {
		t.Parallel()
		e := sqliteEnv(t)
		_, err := e.db.ExecContext(ctx, "DROP TABLE river_job")
		require.NoError(t, err)
		q := newQueue(t, e, testConfig("no-tables"))
		tx, err := e.db.BeginTx(ctx, nil)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback() }()
		err = q.EnqueueDeliveriesTx(ctx, tx, []string{"d1"})
		require.Error(t, err)
		require.True(t, strings.HasPrefix(err.Error(), "riverjobs: enqueue deliveries: "), err.Error())
	})
}

// waitClosed waits for ch to close, failing the test after waitTimeout.
func waitClosed(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitTimeout):
		t.Fatalf("timed out after %s", waitTimeout)
	}
}
