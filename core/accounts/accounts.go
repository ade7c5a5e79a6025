// Package accounts holds the account use cases: registration, login and
// sessions, API keys, the caller's overview and the subscription snapshot
// that billing status reports.
package accounts

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/ports"
)

// DefaultSessionTTL is how long a browser session lives.
const DefaultSessionTTL = 14 * 24 * time.Hour

// maxTokenLen caps presented session tokens and API keys before hashing.
const maxTokenLen = 128

// Rate limits on the credential routes. Per-IP limits slow down credential
// stuffing from one host. Guessing one account's password is limited per
// (email, IP), so a stranger cannot lock the owner out from the owner's own
// network, and per email across all addresses with a higher ceiling, which
// brakes a distributed attack at the price of a lockout only that attack
// can cause.
var (
	LoginPerIP       = ports.Limit{Rate: 30, Period: 5 * time.Minute, Burst: 30}
	LoginPerEmailIP  = ports.Limit{Rate: 10, Period: 15 * time.Minute, Burst: 10}
	LoginPerEmail    = ports.Limit{Rate: 100, Period: time.Hour, Burst: 100}
	RegisterPerIP    = ports.Limit{Rate: 10, Period: 10 * time.Minute, Burst: 10}
	RegisterPerEmail = ports.Limit{Rate: 5, Period: time.Hour, Burst: 5}
)

// CheckoutRequest asks the billing side for a payment page.
type CheckoutRequest struct {
	ProfileID  string
	Email      string
	Line       core.ProductLine
	Plan       core.Plan
	SuccessURL string
	CancelURL  string
	Reference  string // echoed on the checkout session (the connect flow's id)
}

// Checkout starts a hosted payment for a paid plan. The billing issue wires
// it; until then registration with a paid plan reports that billing is not
// configured.
type Checkout interface {
	// StartCheckout returns the URL of a payment page.
	StartCheckout(ctx context.Context, req CheckoutRequest) (string, error)
}

// Config wires a Service. Accounts, Sessions, Plans, Hasher, Clock and
// Random are required; Limiter and Checkout are optional.
type Config struct {
	Accounts    ports.AccountStore
	Sessions    ports.SessionStore
	Plans       *plans.Service
	Hasher      ports.PasswordHasher
	Clock       ports.Clock
	Random      io.Reader
	Limiter     ports.RateLimiter // nil: no rate limits
	Checkout    Checkout          // nil: billing not configured
	AdminEmails []string          // case-insensitive
	SessionTTL  time.Duration     // 0: DefaultSessionTTL
}

// Service runs the account use cases.
type Service struct {
	cfg       Config
	admins    map[string]bool
	dummyHash string
}

// New returns a Service. It hashes one throw-away password so that a login
// for an unknown email costs as much as one for a known email.
func New(cfg Config) (*Service, error) {
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	s := &Service{cfg: cfg, admins: map[string]bool{}}
	for _, e := range cfg.AdminEmails {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			s.admins[e] = true
		}
	}
	token, err := core.RandomToken(cfg.Random, 16)
	if err != nil {
		return nil, core.Internal(err)
	}
	if s.dummyHash, err = cfg.Hasher.Hash(token); err != nil {
		return nil, core.Internal(err)
	}
	return s, nil
}

// SetCheckout wires the billing side once it exists.
func (s *Service) SetCheckout(c Checkout) { s.cfg.Checkout = c }

// IsAdmin reports whether email belongs to platform staff.
func (s *Service) IsAdmin(email string) bool { return s.admins[strings.ToLower(email)] }

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

func (s *Service) newID(prefix string) (string, error) {
	id, err := core.NewID(prefix, s.now(), s.cfg.Random)
	if err != nil {
		return "", core.Internal(err)
	}
	return id, nil
}

// limit records one event under key; a refused event is KindRateLimited. A
// limiter that is down does not lock people out: the event is let through.
func (s *Service) limit(ctx context.Context, key string, l ports.Limit) error {
	if s.cfg.Limiter == nil {
		return nil
	}
	d, err := s.cfg.Limiter.Allow(ctx, key, l)
	if err != nil {
		if core.IsKind(err, core.KindUnavailable) {
			return nil
		}
		return core.Errorf("rate limit", err)
	}
	if !d.Allowed {
		return core.RateLimited(d.RetryAfter)
	}
	return nil
}

// newSession creates and stores a session for profileID and returns its
// raw token (shown once, in a cookie).
func (s *Service) newSession(ctx context.Context, profileID string) (string, time.Time, error) {
	token, err := core.RandomToken(s.cfg.Random, 32)
	if err != nil {
		return "", time.Time{}, core.Internal(err)
	}
	now := s.now()
	sess := core.Session{TokenDigest: core.Digest(token), ProfileID: profileID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.cfg.Sessions.CreateSession(ctx, sess); err != nil {
		return "", time.Time{}, core.Errorf("create session", err)
	}
	return token, sess.ExpiresAt, nil
}

// MintKey returns a fresh raw key of line and the record to store for it,
// minted for a connect link when linkID is set. Storing it is the caller's
// (one port call with whatever else must change at once).
func (s *Service) MintKey(profileID string, line core.ProductLine, linkID string) (string, core.APIKey, error) {
	raw, k, err := s.newKey(profileID, line)
	k.LinkID = linkID
	return raw, k, err
}

// newKey mints a raw key of line for profileID and its stored record.
func (s *Service) newKey(profileID string, line core.ProductLine) (string, core.APIKey, error) {
	raw, err := core.NewAPIKeySecret(line, s.cfg.Random)
	if err != nil {
		return "", core.APIKey{}, core.Internal(err)
	}
	id, err := s.newID("key")
	if err != nil {
		return "", core.APIKey{}, err
	}
	return raw, core.APIKey{
		ID: id, ProfileID: profileID, Line: line, Digest: core.Digest(raw),
		DisplayPrefix: core.KeyDisplayPrefix(raw), CreatedAt: s.now(),
	}, nil
}

// CheckoutVia adapts a payments port to Checkout.
func CheckoutVia(p ports.Payments) Checkout { return paymentsCheckout{p} }

type paymentsCheckout struct{ p ports.Payments }

func (c paymentsCheckout) StartCheckout(ctx context.Context, req CheckoutRequest) (string, error) {
	cs, err := c.p.CreateCheckoutSession(ctx, ports.CheckoutParams{
		ProfileID: req.ProfileID, Email: req.Email, Line: req.Line, Plan: req.Plan,
		SuccessURL: req.SuccessURL, CancelURL: req.CancelURL, Reference: req.Reference,
	})
	if err != nil {
		return "", err
	}
	return cs.URL, nil
}
