// Command worker runs gellhub's background jobs against the same
// configuration as the API. Any number of workers may run: every job is
// idempotent.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/gellhub/gellhub/apps/internal/config"
	"github.com/gellhub/gellhub/apps/internal/jobs"
	"github.com/gellhub/gellhub/apps/internal/platform"
)

// shutdownTimeout bounds how long running webhook deliveries may take to
// finish at shutdown.
const shutdownTimeout = 15 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "gellhub worker:", err)
		os.Exit(1)
	}
}

// run wires the platform and runs the jobs until ctx ends. When started is
// not nil it receives the names of the scheduled jobs.
func run(ctx context.Context, getenv func(string) string, out io.Writer, started chan<- []string) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := platform.NewLogger(out, cfg.LogLevel)
	p, err := platform.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.Close()
	deliveries, err := p.StartDeliveries(ctx, log)
	if err != nil {
		return err
	}
	runner := jobs.NewRunner(log, slices.Concat(jobs.Standard(log, p.Clock, p.Store, p.Uploads), jobs.Drive(log, p.Drive),
		jobs.Billing(log, p.Billing), jobs.Messaging(log, p.Messaging))...)
	names := make([]string, 0, len(runner.Jobs()))
	for _, j := range runner.Jobs() {
		names = append(names, j.Name)
	}
	log.Info("gellhub worker started", "jobs", names, "embedded", cfg.Embedded())
	if started != nil {
		started <- names
	}
	runner.Run(ctx)
	// Running deliveries get shutdownTimeout to finish; one cut short is
	// retried by another worker (GELLHUB_JOB_RESCUE_AFTER).
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := deliveries.Stop(stopCtx); err != nil {
		log.Warn("webhook delivery worker stopped with an error", "err", err)
	}
	log.Info("gellhub worker stopped")
	return nil
}
