// Package platform composes gellhub's core with the adapters the
// configuration selects. The API and the worker both start from here, so the
// wiring is written once and read in one place.
package platform

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gellhub/gellhub/adapters/argon2id"
	"github.com/gellhub/gellhub/adapters/bunstore"
	"github.com/gellhub/gellhub/adapters/engine/local"
	"github.com/gellhub/gellhub/adapters/engine/openai"
	"github.com/gellhub/gellhub/adapters/inproc"
	"github.com/gellhub/gellhub/adapters/localblob"
	"github.com/gellhub/gellhub/adapters/redisstore"
	"github.com/gellhub/gellhub/adapters/riverjobs"
	"github.com/gellhub/gellhub/apps/internal/config"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/billing"
	"github.com/gellhub/gellhub/core/connect"
	"github.com/gellhub/gellhub/core/developer"
	"github.com/gellhub/gellhub/core/drive"
	"github.com/gellhub/gellhub/core/gallery"
	"github.com/gellhub/gellhub/core/messaging"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/core/uploads"
	"github.com/gellhub/gellhub/ports"
)

// SystemClock is the real ports.Clock.
type SystemClock struct{}

// Now implements ports.Clock.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// Check is a named readiness probe.
type Check struct {
	Name string
	ports.Pinger
}

// Platform is the composed application: the use-case services and the
// adapters behind them.
type Platform struct {
	Config    config.Config
	Clock     ports.Clock
	Store     *bunstore.Store
	Sessions  ports.SessionStore
	Cache     ports.Cache
	Limiter   ports.RateLimiter // nil when rate limits are off
	Codes     ports.CodeCache
	Accounts  *accounts.Service
	Plans     *plans.Service
	Developer *developer.Service
	Connect   *connect.Service
	Blobs     ports.BlobStore
	Local     *localblob.Store // the embedded default's object storage; nil with S3
	Uploads   *uploads.Service
	Gallery   *gallery.Service
	Drive     *drive.Service
	Billing   *billing.Service
	Engine    ports.Engine        // Messaging's AI engine
	Sender    ports.WebhookSender // skill calls and handoff events
	Queue     *riverjobs.Queue    // webhook delivery jobs
	Messaging *messaging.Service
	Checks    []Check

	closers    []func() error
	signingKey []byte
}

// Open connects every adapter cfg names, runs the migrations, seeds the
// plan catalog and builds the services.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *Platform, err error) {
	p := &Platform{Config: cfg, Clock: SystemClock{}}
	defer func() {
		if err != nil {
			_ = p.Close()
		}
	}()

	p.Store, err = bunstore.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	p.closers = append(p.closers, p.Store.Close)
	p.Checks = append(p.Checks, Check{"database", p.Store})
	log.Info("database ready", "driver", p.Store.Dialect())

	if cfg.RedisURL != "" {
		rc, err := redisstore.Open(ctx, cfg.RedisURL, cfg.RedisPrefix)
		if err != nil {
			return nil, fmt.Errorf("open redis: %w", err)
		}
		p.closers = append(p.closers, rc.Close)
		p.Sessions, p.Cache, p.Limiter, p.Codes = rc.Sessions(), rc.Cache(), rc.RateLimiter(), rc.Codes()
		p.Checks = append(p.Checks, Check{"cache", rc})
		log.Info("cache ready", "backend", "redis")
	} else {
		p.Sessions = p.Store // sessions survive restarts of the embedded default
		p.Cache = inproc.NewCache(p.Clock)
		p.Limiter = inproc.NewRateLimiter(p.Clock)
		p.Codes = inproc.NewCodeCache(p.Clock)
		log.Info("cache ready", "backend", "in-process")
	}
	if !cfg.RateLimits {
		p.Limiter = nil
		log.Warn("rate limits are off (GELLHUB_RATE_LIMITS=off): use only for tests and load runs")
	}

	if err := p.openBlobs(ctx, cfg, log); err != nil {
		return nil, err
	}

	p.Developer = developer.New(p.Store, p.Clock, rand.Reader)
	p.Plans = plans.New(p.Store, p.Clock, rand.Reader, p.Developer)
	if err := p.Plans.Seed(ctx); err != nil {
		return nil, err
	}
	p.Accounts, err = accounts.New(accounts.Config{
		Accounts:    p.Store,
		Sessions:    p.Sessions,
		Plans:       p.Plans,
		Hasher:      argon2id.New(argon2id.DefaultParams),
		Clock:       p.Clock,
		Random:      rand.Reader,
		Limiter:     p.Limiter,
		AdminEmails: cfg.AdminEmails,
		SessionTTL:  cfg.SessionTTL,
	})
	if err != nil {
		return nil, err
	}
	if err := p.openBilling(cfg, log); err != nil {
		return nil, err
	}
	p.Accounts.SetCheckout(p.Billing.RegistrationCheckout())
	p.Connect = connect.New(connect.Config{
		Developer: p.Developer, Accounts: p.Accounts, Store: p.Store, Links: p.Store, Plans: p.Plans,
		Codes: p.Codes, Flows: p.Cache, Limiter: p.Limiter, Clock: p.Clock, Random: rand.Reader,
		Payments: p.Billing.Payments(), Settle: p.Billing.SyncCheckout, BaseURL: cfg.BaseURL,
		Report: func(ctx context.Context, err error) { log.WarnContext(ctx, "connect side effect failed", "err", err) },
	})
	p.Uploads = uploads.New(uploads.Config{
		Blobs: p.Blobs, Quota: p.Store, Clock: p.Clock, Random: rand.Reader, MaxFileBytes: cfg.MaxFileBytes,
	})
	p.Gallery = gallery.New(gallery.Config{
		Store: p.Store, Accounts: p.Accounts, Uploads: p.Uploads, Blobs: p.Blobs, Clock: p.Clock,
		Random: rand.Reader, SigningKey: p.signingKey, BaseURL: cfg.BaseURL,
	})
	p.Drive = drive.New(drive.Config{
		Store: p.Store, Accounts: p.Accounts, Uploads: p.Uploads, Apps: p.Store, Links: p.Store, Blobs: p.Blobs,
		Clock: p.Clock, Random: rand.Reader, SigningKey: p.signingKey, BaseURL: cfg.BaseURL,
	})
	if p.Engine, err = openEngine(cfg.AI); err != nil {
		return nil, err
	}
	log.Info("ai engine ready", "engine", cfg.AI.String()) // never the API key
	if err := p.openWebhooks(ctx, cfg, log); err != nil {
		return nil, err
	}
	p.Messaging = messaging.New(messaging.Config{
		Store: p.Store, Keys: p.Store, Accounts: p.Accounts, Engine: p.Engine, Limiter: p.Limiter,
		Sender: p.Sender, Webhooks: p.Store, Requeue: p.Queue.EnqueueDeliveries,
		AllowPrivateWebhooks: cfg.WebhookAllowPrivate, Clock: p.Clock, Random: rand.Reader, BaseURL: cfg.BaseURL,
	})
	return p, nil
}

// openEngine builds the AI engine cfg names: the local one by default.
func openEngine(cfg config.AI) (ports.Engine, error) {
	if cfg.Engine != config.AIEngineOpenAI {
		return local.New(), nil
	}
	e, err := openai.New(openai.Config{BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, Model: cfg.Model})
	if err != nil {
		return nil, fmt.Errorf("ai engine: %w", err)
	}
	return e, nil
}

// Close releases every adapter, the last opened first.
func (p *Platform) Close() error {
	var errs []error
	for i := len(p.closers) - 1; i >= 0; i-- {
		errs = append(errs, p.closers[i]())
	}
	p.closers = nil
	return errors.Join(errs...)
}
