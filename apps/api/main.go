// Command api is gellhub's HTTP API server.
//
// With no configuration it runs the embedded default: 127.0.0.1:8080,
// SQLite and local files under ./data, in-process cache and rate limits,
// background jobs in-process. GELLHUB_DATABASE_URL and GELLHUB_REDIS_URL
// switch it to PostgreSQL and Redis; the README lists every variable.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/gellhub/gellhub/apps/api/internal/httpapi"
	"github.com/gellhub/gellhub/apps/internal/config"
	"github.com/gellhub/gellhub/apps/internal/jobs"
	"github.com/gellhub/gellhub/apps/internal/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "gellhub api:", err)
		os.Exit(1)
	}
}

// shutdownTimeout bounds how long in-flight requests may take to finish.
const shutdownTimeout = 15 * time.Second

// run starts the server and blocks until ctx ends, then shuts down
// gracefully. When ready is not nil it receives the listening address.
func run(ctx context.Context, getenv func(string) string, out io.Writer, ready chan<- string) error {
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

	checks := make([]httpapi.Check, 0, len(p.Checks))
	for _, c := range p.Checks {
		checks = append(checks, httpapi.Check{Name: c.Name, Pinger: c.Pinger})
	}
	deps := httpapi.Deps{
		Log: log, Accounts: p.Accounts, Plans: p.Plans, Developer: p.Developer, Connect: p.Connect,
		Gallery: p.Gallery, Drive: p.Drive, Billing: p.Billing, Messaging: p.Messaging, Checks: checks,
		BaseURL: cfg.BaseURL, SecureCookies: cfg.SecureCookies(), BodyLimit: cfg.BodyLimit,
		TrustedProxies: cfg.TrustedProxies,
	}
	if p.Local != nil {
		deps.LocalUploads = p.Local
	}
	app := httpapi.New(deps)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	jobCtx, stopJobs := context.WithCancel(ctx)
	jobsDone := make(chan struct{})
	if cfg.Embedded() {
		deliveries, err := p.StartDeliveries(jobCtx, log)
		if err != nil {
			stopJobs()
			_ = ln.Close()
			return err
		}
		runner := jobs.NewRunner(log, slices.Concat(jobs.Standard(log, p.Clock, p.Store, p.Uploads), jobs.Drive(log, p.Drive),
			jobs.Billing(log, p.Billing), jobs.Messaging(log, p.Messaging))...)
		go func() {
			defer close(jobsDone)
			runner.Run(jobCtx)
			stopCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			if err := deliveries.Stop(stopCtx); err != nil {
				log.Warn("webhook delivery worker stopped with an error", "err", err)
			}
		}()
	} else {
		close(jobsDone) // the worker program runs the jobs
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- app.Listener(httpapi.LingeringListener(ln)) }()
	addr := ln.Addr().String()
	log.Info("gellhub api listening", "addr", addr, "url", "http://"+addr, "base_url", cfg.BaseURL,
		"embedded", cfg.Embedded(), "data_dir", cfg.DataDir, "env", string(cfg.Env))
	if ready != nil {
		ready <- addr
	}

	select {
	case err = <-serveErr:
	case <-ctx.Done():
		log.Info("shutting down")
		err = app.ShutdownWithTimeout(shutdownTimeout)
	}
	stopJobs()
	<-jobsDone
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
