// Package messaging holds Messaging's use cases: the messaging account
// (credits, counters, the msg_ key), agents and their knowledge, chat
// turns, and the website chat widget (embed settings, install snippets,
// the public widget routes).
//
// A chat turn is answered by the first of these that takes it:
//
//  1. a person: a conversation handed off (core.Conversation.HandedOffAt)
//     gets no answer; the visitor's message is stored and sent to the
//     partner's handoff webhook as a core.EventHandoffMessage event;
//  2. human handoff: when the agent has HumanHandoffEnabled and the
//     visitor asks for a person (in English, Spanish, French, German or
//     Portuguese), the turn is acknowledged in the visitor's language, a
//     core.EventHandoffRequested event is queued for the profile's
//     handoff webhook and the conversation is handed off until the
//     partner hands it back (HandBack);
//  3. dynamic skills: a keyword of the profile's skills calls the
//     merchant's skills webhook, whose validated answer (message and ui)
//     is the reply; a failed call falls through to the engine;
//  4. the AI engine.
//
// Only engine turns cost credits (CreditsPerTurn). Webhook events are
// stored and queued in the transaction that stores their turn
// (ports.ChatTurn.Deliveries), and delivered by the worker through
// Deliver, with retries on DefaultRetrySchedule; RequeueStalledDeliveries
// queues again the pending ones whose job was lost.
//
// Agent, knowledge, embed and webhook configuration changes run inside
// ports.MessagingStore.UpdateMessaging, which serialises one profile's
// changes: the rules checked here on what the transaction reads (at most
// core.MaxAgents agents, exactly one default, the last agent stays, the
// source caps) hold when it commits. Credits move only through the
// store's atomic calls: an engine turn checks the balance before the
// engine runs and is charged, with its messages stored, in one
// conditional step after the engine answers, so the balance never drops
// below zero.
//
// Credits: a messaging plan's MonthlyCredits are granted once per
// calendar month (UTC) and plan, lazily, the first time the account or a
// turn is used in that month; unused credits carry over.
package messaging

import (
	"context"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/ports"
)

// CreditsPerTurn is what one AI turn costs, whatever its length. Skill
// and handoff turns cost nothing.
const CreditsPerTurn int64 = 1

// Rate limits of the public widget chat: per visitor of one embed, and
// per client address across embeds.
var (
	EmbedChatPerVisitor = ports.Limit{Rate: 20, Period: time.Minute, Burst: 20}
	EmbedChatPerIP      = ports.Limit{Rate: 60, Period: time.Minute, Burst: 60}
	// EmbedConfigPerIP bounds the widget bootstraps one address asks for
	// (a page view each, so looser than chat).
	EmbedConfigPerIP = ports.Limit{Rate: 120, Period: time.Minute, Burst: 120}
)

// DefaultRetrySchedule is how long a handoff event waits after each
// failed attempt before the next one (±10% jitter): 7 attempts over about
// 18 hours, the last 10 hours after the sixth failure.
var DefaultRetrySchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour,
}

// Config wires a Service. Store, Keys, Accounts, Engine, Clock, Random and
// BaseURL are required; so are Sender (skill calls, handoff deliveries)
// and Webhooks (handoff events) where skills and handoff are used.
// Limiter and Requeue are optional.
type Config struct {
	Store    ports.MessagingStore
	Keys     ports.AccountStore // the msg_ key's rotation and display
	Accounts *accounts.Service  // subscriptions and key minting
	Engine   ports.Engine
	Sender   ports.WebhookSender // skill calls and handoff deliveries
	Webhooks ports.WebhookStore  // handoff events and their attempts
	// AllowPrivateWebhooks accepts webhook URLs on plain http and private
	// hosts (development and tests only; the Sender must allow them too).
	AllowPrivateWebhooks bool
	// RetrySchedule is the wait after each failed delivery attempt: an
	// event gets len(RetrySchedule)+1 attempts. nil is
	// DefaultRetrySchedule.
	RetrySchedule []time.Duration
	// Requeue queues the delivery of stored events again (the queue's
	// unique insert: an event whose job still exists gets no second one),
	// for RequeueStalledDeliveries. nil disables the sweep.
	Requeue func(ctx context.Context, ids []string) error
	Limiter ports.RateLimiter // nil: the public widget is not rate limited
	Clock   ports.Clock
	Random  io.Reader
	BaseURL string // gellhub's public URL, without a trailing slash
}

// Service runs the Messaging use cases.
type Service struct {
	cfg     Config
	ownHost string // BaseURL's host name: the /chat/ page's origin
}

// New returns a Service.
func New(cfg Config) *Service {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.RetrySchedule == nil {
		cfg.RetrySchedule = slices.Clone(DefaultRetrySchedule)
	}
	s := &Service{cfg: cfg}
	if u, err := url.Parse(cfg.BaseURL); err == nil {
		s.ownHost = strings.ToLower(u.Hostname())
	}
	return s
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) newID(prefix string) (string, error) {
	id, err := core.NewID(prefix, s.now(), s.cfg.Random)
	if err != nil {
		return "", core.Internal(err)
	}
	return id, nil
}

// checkLine refuses another product line's key.
func checkLine(who core.Principal) error {
	if who.Via == core.AuthAPIKey && who.Line != core.LineMessaging {
		return core.Forbidden("this route takes the Messaging key (msg_…)")
	}
	return nil
}

func errSubscriptionRequired() error {
	return core.E(core.KindPaymentRequired, "an active Messaging plan is required").WithCode("subscription_required")
}

func errInsufficientCredits() error {
	return core.E(core.KindPaymentRequired, "not enough AI credits for this turn").WithCode("insufficient_credits")
}

// subscribed returns the profile's messaging plan snapshot when it is
// eligible (the guide's rule), else 402 subscription_required. It grants
// the plan's credits of the month, once.
func (s *Service) subscribed(ctx context.Context, profileID string) (accounts.PlanSnapshot, error) {
	snap, ok, err := s.cfg.Accounts.Subscription(ctx, profileID, core.LineMessaging)
	if err != nil {
		return accounts.PlanSnapshot{}, err
	}
	if !ok || !snap.Eligible {
		return accounts.PlanSnapshot{}, errSubscriptionRequired()
	}
	if err := s.grantMonthly(ctx, profileID, snap.Plan); err != nil {
		return accounts.PlanSnapshot{}, err
	}
	return snap, nil
}

// caller checks the caller's line and subscription: every key use case
// (and its session twin) needs an eligible Messaging plan.
func (s *Service) caller(ctx context.Context, who core.Principal) (string, error) {
	if err := checkLine(who); err != nil {
		return "", err
	}
	if _, err := s.subscribed(ctx, who.ProfileID); err != nil {
		return "", err
	}
	return who.ProfileID, nil
}

// MonthlyGrantKey is the idempotency key of plan's grant in the month of
// at: one grant per profile, calendar month (UTC) and plan.
func MonthlyGrantKey(planID string, at time.Time) string {
	return "monthly:" + at.UTC().Format("2006-01") + ":" + planID
}

// grantMonthly grants plan's credits of the current month unless they
// were granted already.
func (s *Service) grantMonthly(ctx context.Context, profileID string, plan core.Plan) error {
	if plan.MonthlyCredits <= 0 {
		return nil
	}
	now := s.now()
	id, err := s.newID("cred")
	if err != nil {
		return err
	}
	_, err = s.cfg.Store.GrantCredits(ctx, core.CreditEntry{
		ID: id, ProfileID: profileID, Amount: plan.MonthlyCredits, Reason: core.CreditMonthlyGrant,
		Key: MonthlyGrantKey(plan.ID, now), CreatedAt: now,
	})
	return core.Errorf("monthly credits", err)
}
