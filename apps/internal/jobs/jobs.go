// Package jobs runs gellhub's periodic background jobs. The worker program
// runs them; the embedded default runs them inside the API process.
//
// Every job is idempotent, so several workers may run the same schedule.
// Jobs that must commit with the change that causes them (webhook
// deliveries, Stripe event handling) arrive with River in later issues.
package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gellhub/gellhub/core/uploads"
	"github.com/gellhub/gellhub/ports"
)

// Job is one periodic task.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// Runner runs jobs on their schedules until its context ends.
type Runner struct {
	log  *slog.Logger
	jobs []Job
}

// NewRunner returns a runner of jobs.
func NewRunner(log *slog.Logger, jobs ...Job) *Runner { return &Runner{log: log, jobs: jobs} }

// Jobs lists the runner's jobs.
func (r *Runner) Jobs() []Job { return r.jobs }

// Run runs each job once at start and then every job.Every, until ctx is
// done; it returns when every job has stopped. A failing run is logged and
// retried at the next tick.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, j := range r.jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(j.Every)
			defer t.Stop()
			for {
				r.runOnce(ctx, j)
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	wg.Wait()
}

func (r *Runner) runOnce(ctx context.Context, j Job) {
	if ctx.Err() != nil {
		return
	}
	start := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, j.Every)
	defer cancel()
	if err := j.Run(runCtx); err != nil && ctx.Err() == nil {
		r.log.Error("job failed", "job", j.Name, "err", err)
		return
	}
	r.log.Debug("job done", "job", j.Name, "duration_ms", time.Since(start).Milliseconds())
}

// Standard returns the periodic jobs of this release. sessions is the SQL
// store: its expired sessions are purged even when live sessions are in
// Redis, so rows left from an embedded run do not linger.
func Standard(log *slog.Logger, clock ports.Clock, sessions ports.SessionStore, ups *uploads.Service) []Job {
	var out []Job
	if ups != nil {
		out = append(out, Job{
			Name:  "uploads.expire_reservations",
			Every: 5 * time.Minute,
			Run: func(ctx context.Context) error {
				n, err := ups.ExpireReservations(ctx)
				if n > 0 {
					log.Info("released expired upload reservations", "count", n)
				}
				return err
			},
		})
	}
	if p, ok := sessions.(ports.SessionPurger); ok {
		out = append(out, Job{
			Name:  "sessions.purge_expired",
			Every: 15 * time.Minute,
			Run: func(ctx context.Context) error {
				n, err := p.PurgeExpiredSessions(ctx, clock.Now())
				if n > 0 {
					log.Info("purged expired sessions", "count", n)
				}
				return err
			},
		})
	}
	return out
}
