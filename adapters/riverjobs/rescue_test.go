package riverjobs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/testkit"
)

// TestWorker_job_of_a_dead_worker_is_rescued kills a worker in the middle
// of a job: its handler blocks forever and every connection of its pool is
// cut (it reaches PostgreSQL through a proxy the test kills), which is what
// the database sees when the process dies. The worker was the River leader,
// so a second worker must first wait for the dead one's leadership to
// expire (15 s after its last renewal), win the election (tried every 5-6
// s), then rescue the job (its rescuer runs at once on becoming leader,
// then every 30 s), and run it.
func TestWorker_job_of_a_dead_worker_is_rescued(t *testing.T) {
	if testing.Short() && !testkit.InCI() {
		t.Skip("SKIP rescue: it waits about 20 s for River's leadership to expire, which -short leaves out (never skipped in CI)")
	}
	t.Parallel()
	e := postgresEnv(t)
	const queue = "rescue"
	cfg := testConfig(queue)
	cfg.JobTimeout = time.Second
	cfg.RescueStuckJobsAfter = 2 * time.Second

	proxy := startProxy(t, hostOf(t, e.dsn))
	started, release := make(chan struct{}), make(chan struct{})
	dying, err := StartWorker(context.Background(), Postgres(proxy.viaProxy(t, e.dsn)), cfg, func(ctx context.Context, id string) (Outcome, error) {
		close(started)
		<-release // blocks forever, deaf to its context
		return Outcome{Done: true}, nil
	})
	require.NoError(t, err)
	dying.hardStop = 500 * time.Millisecond
	t.Cleanup(func() {
		close(release)
		// Its database is gone: Stop cannot finish cleanly; it must not hang.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = dying.Stop(ctx)
	})

	enqueue(t, e, newQueue(t, e, cfg), true, "d1")
	waitClosed(t, started)
	require.Equal(t, "running", jobOf(t, e, queue, "d1").State)
	proxy.kill()
	killedAt := time.Now()

	var rec recorder
	startWorker(t, e.source(), cfg, func(ctx context.Context, id string) (Outcome, error) {
		rec.add("survivor", id)
		return Outcome{Done: true}, nil
	})
	deadline := time.Now().Add(60 * time.Second)
	for rec.len() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the job was not rescued within 60 s; job: %+v", jobOf(t, e, queue, "d1"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("rescued and run %s after the worker died", time.Since(killedAt).Round(100*time.Millisecond))
	require.Equal(t, []string{"d1"}, rec.ids())
	j := waitJobState(t, e, queue, "d1", "completed")
	require.Contains(t, j.Errors, "Stuck job rescued")
	require.Equal(t, 2, j.Attempt)
}
