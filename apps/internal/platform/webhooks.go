package platform

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gellhub/gellhub/adapters/riverjobs"
	"github.com/gellhub/gellhub/adapters/webhook"
	"github.com/gellhub/gellhub/apps/internal/config"
)

// openWebhooks builds the outgoing webhook sender and the delivery queue
// (p.Queue): River's tables are migrated next to gellhub's, and the store
// enqueues each webhook event in the transaction that creates it; the
// sweep of stalled deliveries queues again, through the same queue, those
// whose job was lost. Private targets (GELLHUB_WEBHOOK_ALLOW_PRIVATE) are
// announced loudly.
func (p *Platform) openWebhooks(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	p.Sender = webhook.New(webhook.Config{AllowPrivate: cfg.WebhookAllowPrivate})
	if cfg.WebhookAllowPrivate {
		log.Warn("WEBHOOKS MAY REACH PRIVATE ADDRESSES: GELLHUB_WEBHOOK_ALLOW_PRIVATE=true lets skill and handoff " +
			"webhooks call loopback, private and link-local hosts and accepts plain http:// webhook URLs; " +
			"for development and tests only")
	}
	if err := riverjobs.Migrate(ctx, p.Store.DB(), p.Store.Dialect()); err != nil {
		return fmt.Errorf("migrate the job queue: %w", err)
	}
	q, err := riverjobs.NewQueue(p.Store.DB(), p.Store.Dialect(), p.jobConfig(cfg, log))
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	p.Store.SetEnqueuer(q)
	p.Queue = q
	return nil
}

// jobConfig is the queue's configuration. A job may run for
// config.MinJobRescueAfter (a delivery attempt takes at most 10 s), so that
// GELLHUB_JOB_RESCUE_AFTER never takes over a job still running.
func (p *Platform) jobConfig(cfg config.Config, log *slog.Logger) riverjobs.Config {
	return riverjobs.Config{JobTimeout: config.MinJobRescueAfter, RescueStuckJobsAfter: cfg.JobRescueAfter, Logger: log}
}

// StartDeliveries runs the webhook delivery worker until Stop: on
// PostgreSQL through its own connection pool (LISTEN/NOTIFY), on the
// embedded SQLite through the store's. Any number of processes may run
// one: River hands each job to one worker at a time.
func (p *Platform) StartDeliveries(ctx context.Context, log *slog.Logger) (*riverjobs.Worker, error) {
	src := riverjobs.SQLite(p.Store.DB())
	if !p.Config.Embedded() {
		src = riverjobs.Postgres(p.Config.DatabaseURL)
	}
	w, err := riverjobs.StartWorker(ctx, src, p.jobConfig(p.Config, log), func(ctx context.Context, id string) (riverjobs.Outcome, error) {
		o, err := p.Messaging.Deliver(ctx, id)
		return riverjobs.Outcome{Done: o.Done, RetryIn: o.RetryIn}, err
	})
	if err != nil {
		return nil, fmt.Errorf("start the webhook delivery worker: %w", err)
	}
	log.Info("webhook delivery worker started")
	return w, nil
}
