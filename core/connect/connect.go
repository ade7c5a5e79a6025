// Package connect holds embedded connect: a partner app sends a person to
// gellhub (start), they register or sign in, gellhub sends them back to the
// app's registered return URL with a one-time code (finalize, or the
// payment return), and the app's backend redeems the code for the
// merchant's keys (exchange) and later checks the link (verify).
package connect

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/developer"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/ports"
)

// Lifetimes and limits.
const (
	FlowTTL     = 20 * time.Minute // a started flow waits this long for sign-in
	PaymentTTL  = time.Hour        // and this long for a checkout to return
	CodeTTL     = 10 * time.Minute // a code must be exchanged within this
	MaxStateLen = 512
	maxCodeLen  = 128
	maxFlowLen  = 128
	maxIDLen    = 128
)

// Rate limits on the back channel, per IP (before the client is known) and
// per client (after it authenticated, so a stranger cannot spend an app's
// budget).
var (
	ExchangePerIP = ports.Limit{Rate: 600, Period: time.Minute, Burst: 300}
	// StartPerIP bounds the flows one address can open (each is stored
	// for up to FlowTTL).
	StartPerIP        = ports.Limit{Rate: 60, Period: time.Minute, Burst: 30}
	ExchangePerClient = ports.Limit{Rate: 1200, Period: time.Minute, Burst: 600}
	VerifyPerIP       = ports.Limit{Rate: 600, Period: time.Minute, Burst: 300}
	VerifyPerClient   = ports.Limit{Rate: 1200, Period: time.Minute, Burst: 600}
)

// Config wires a Service. Payments, Settle and Limiter are optional.
type Config struct {
	Developer *developer.Service
	Accounts  *accounts.Service
	Store     ports.AccountStore
	Links     ports.LinkStore
	Plans     *plans.Service
	Codes     ports.CodeCache
	Flows     ports.Cache
	Payments  ports.Payments
	// Settle, optional, applies a paid checkout session to the
	// subscription at once (billing.Service.SyncCheckout), so the partner's
	// exchange after stripe-return need not wait for the payment webhook.
	Settle  func(ctx context.Context, checkoutSessionID string) error
	Limiter ports.RateLimiter
	Clock   ports.Clock
	Random  io.Reader
	BaseURL string
	// Report receives errors that must not fail a flow (analytics).
	Report func(ctx context.Context, err error)
}

// Service runs embedded connect.
type Service struct{ cfg Config }

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Report == nil {
		cfg.Report = func(context.Context, error) {}
	}
	return &Service{cfg: cfg}
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC().Truncate(time.Microsecond) }

// flow is a started connect flow, kept server-side; the browser holds only
// its random id in a cookie.
type flow struct {
	AppID          string           `json:"appId"`
	AppName        string           `json:"appName"`
	ReturnURL      string           `json:"returnUrl"`
	State          string           `json:"state"`
	Line           core.ProductLine `json:"line"`
	PlanID         string           `json:"planId,omitempty"`
	Next           string           `json:"next"`
	PaymentPending bool             `json:"paymentPending,omitempty"`
	ProfileID      string           `json:"profileId,omitempty"`
	// Token is shown to the sign-in pages (GET context) and must come back
	// in the login or register body for the flow to continue: the cookie
	// alone, which another site can plant with a top-level navigation, is
	// never enough to hand an account to an app.
	Token     string    `json:"token"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func flowKey(id string) string { return "connect:flow:" + core.Digest(id) }

func (s *Service) loadFlow(ctx context.Context, id string) (flow, error) {
	if id == "" || len(id) > maxFlowLen {
		return flow{}, errNoFlow
	}
	raw, err := s.cfg.Flows.Get(ctx, flowKey(id))
	if core.IsKind(err, core.KindNotFound) {
		return flow{}, errNoFlow
	}
	if err != nil {
		return flow{}, core.Errorf("connect flow", err)
	}
	var f flow
	if err := json.Unmarshal(raw, &f); err != nil {
		return flow{}, core.Internal(err)
	}
	return f, nil
}

func (s *Service) saveFlow(ctx context.Context, id string, f flow) error {
	raw, err := json.Marshal(f)
	if err != nil {
		return core.Internal(err)
	}
	ttl := f.ExpiresAt.Sub(s.now())
	if ttl <= 0 {
		return errNoFlow
	}
	return core.Errorf("save connect flow", s.cfg.Flows.Set(ctx, flowKey(id), raw, ttl))
}

var errNoFlow = core.Invalid("connect", "no embedded connect flow is active (start it again from the partner app)")

// claimFlow takes the flow out of the cache in one atomic step: of
// concurrent completions of one flow exactly one proceeds.
func (s *Service) claimFlow(ctx context.Context, id string) error {
	_, err := s.cfg.Flows.Take(ctx, flowKey(id))
	if core.IsKind(err, core.KindNotFound) {
		return errNoFlow
	}
	return core.Errorf("claim connect flow", err)
}

// reference is what a checkout carries back to tell its flow: a digest of
// the flow id, so the cookie's value never leaves gellhub.
func reference(flowID string) string { return core.Digest("connect-flow:" + flowID) }

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

func (s *Service) record(ctx context.Context, appID string, st core.AppStat) {
	if err := s.cfg.Developer.Record(ctx, appID, st); err != nil {
		s.cfg.Report(ctx, core.Errorf("record "+string(st), err))
	}
}

// withCodeAndState appends code and state to a registered return URL,
// keeping whatever query it already has exactly as registered (registered
// URLs have no fragment).
func withCodeAndState(returnURL, code, state string) string {
	q := "code=" + url.QueryEscape(code) + "&state=" + url.QueryEscape(state)
	switch {
	case !strings.Contains(returnURL, "?"):
		return returnURL + "?" + q
	case strings.HasSuffix(returnURL, "?"), strings.HasSuffix(returnURL, "&"):
		return returnURL + q
	default:
		return returnURL + "&" + q
	}
}
