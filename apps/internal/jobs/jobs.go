// Package jobs runs gellhub's periodic background jobs. The worker program
// runs them; the embedded default runs them inside the API process.
//
// Every job is idempotent, so several workers may run the same schedule.
// Stripe's events are handled through a transactional inbox polled by a
// job: the webhook records each event (payment_events) before it is
// acknowledged, applies it in the background, and billing.retry_events
// applies every event still due (a failed or interrupted application)
// every 10 s, with backoff per event, until it applies or is given up as
// dead. Outgoing webhook deliveries are not jobs of this package: they
// are queued in the transaction of the change that causes them
// (adapters/riverjobs); webhooks.purge_deliveries deletes them once they
// have been finished for messaging.DeliveryRetention, and
// webhooks.requeue_stalled queues again those whose job was lost.
package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gellhub/gellhub/core/billing"
	"github.com/gellhub/gellhub/core/drive"
	"github.com/gellhub/gellhub/core/messaging"
	"github.com/gellhub/gellhub/core/uploads"
	"github.com/gellhub/gellhub/ports"
)

// Job is one periodic task.
type Job struct {
	Name  string
	Every time.Duration
	// Timeout bounds one run (its context's deadline); 0 is Every. A run
	// that lasts longer than Every delays the next one.
	Timeout time.Duration
	Run     func(ctx context.Context) error
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
	timeout := j.Timeout
	if timeout <= 0 {
		timeout = j.Every
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
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

// Drive returns Drive's periodic jobs: the purge of what has been in the
// recycle bin for 30 days, and the removal from object storage of the
// objects of files deleted for good (each permanent delete queues its
// objects in the same transaction; this job removes them after the
// commit, so a failure leaves them queued, never lost).
func Drive(log *slog.Logger, svc *drive.Service) []Job {
	if svc == nil {
		return nil
	}
	return []Job{
		{
			Name:  "drive.purge_trash",
			Every: time.Hour,
			Run: func(ctx context.Context) error {
				n, err := svc.PurgeTrash(ctx)
				if n > 0 {
					log.Info("purged the recycle bin's expired items", "count", n)
				}
				return err
			},
		},
		{
			Name:  "drive.delete_objects",
			Every: time.Minute,
			Run: func(ctx context.Context) error {
				n, err := svc.DeleteObjects(ctx)
				if n > 0 {
					log.Info("removed the objects of deleted files", "count", n)
				}
				return err
			},
		},
	}
}

// BillingRetryEvery is how often billing.retry_events looks for due
// payment events, and BillingRetryTimeout how long one run may take: the
// run is cut short at its deadline (the attempt in flight is then not
// counted as a failure), so it must leave room for several attempts of
// billing.ApplyTimeout each.
const (
	BillingRetryEvery   = 10 * time.Second
	BillingRetryTimeout = 2 * time.Minute
)

// Billing returns billing's periodic job: it applies the payment events
// (Stripe's webhook deliveries, recorded in the inbox before they were
// acknowledged) that are due: those whose application failed, with
// backoff, and those whose application never ran or was cut short (a
// process stopped), so that none is lost while the provider or the
// database is down. It runs often so that a webhook whose background
// application did not happen is applied within seconds.
func Billing(log *slog.Logger, svc *billing.Service) []Job {
	if svc == nil {
		return nil
	}
	return []Job{{
		Name:    "billing.retry_events",
		Every:   BillingRetryEvery,
		Timeout: BillingRetryTimeout,
		Run: func(ctx context.Context) error {
			n, err := svc.RetryDue(ctx)
			if n > 0 {
				log.Info("applied payment events on retry", "count", n)
			}
			return err
		},
	}}
}

// MessagingPurgeTimeout bounds one run of webhooks.purge_deliveries: a
// run cut short by it has deleted whole batches, and the next run goes on
// with the rest.
const MessagingPurgeTimeout = 5 * time.Minute

// MessagingRequeueEvery is how often webhooks.requeue_stalled looks for
// stalled handoff events, and MessagingRequeueTimeout how long one run
// may take: a run cut short has handed over whole batches, and the next
// one goes through the rest.
const (
	MessagingRequeueEvery   = 10 * time.Minute
	MessagingRequeueTimeout = 2 * time.Minute
)

// Messaging returns Messaging's periodic jobs: the retention purge of
// handoff webhook events (and their attempts) finished more than
// messaging.DeliveryRetention ago (pending events are never purged), and
// the sweep that queues again the pending events whose job was lost
// (messaging.RequeueStalledDeliveries: due more than
// messaging.StalledAfter ago). It logs at Warn when it finds any, as a
// lost or very late job is a fault worth a look. The events themselves
// are delivered by the queue's workers, not by a job.
func Messaging(log *slog.Logger, svc *messaging.Service) []Job {
	if svc == nil {
		return nil
	}
	return []Job{
		{
			Name:    "webhooks.purge_deliveries",
			Every:   time.Hour,
			Timeout: MessagingPurgeTimeout,
			Run: func(ctx context.Context) error {
				n, err := svc.PurgeDeliveries(ctx)
				if n > 0 {
					log.Info("purged finished webhook deliveries", "count", n)
				}
				return err
			},
		},
		{
			Name:    "webhooks.requeue_stalled",
			Every:   MessagingRequeueEvery,
			Timeout: MessagingRequeueTimeout,
			Run: func(ctx context.Context) error {
				n, err := svc.RequeueStalledDeliveries(ctx)
				if n > 0 {
					log.Warn("re-enqueued stalled webhook deliveries", "count", n)
				}
				return err
			},
		},
	}
}
