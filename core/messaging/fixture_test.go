package messaging_test

import (
	"context"
	"crypto/rand"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/argon2id"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/messaging"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

var start = time.Date(2026, 8, 3, 9, 30, 0, 0, time.UTC)

const baseURL = "https://gellhub.test"

// echoEngine is a small real engine: it answers with the knowledge source
// that shares the most words with the last user message, in the agent's
// name, or says it does not know. fail, when set, injects a failure.
type echoEngine struct {
	calls atomic.Int32
	fail  func() error
	gate  chan struct{} // when set, each Reply waits for it to close
}

func (e *echoEngine) Reply(_ context.Context, r ports.EngineRequest) (ports.EngineReply, error) {
	e.calls.Add(1)
	if e.gate != nil {
		<-e.gate
	}
	if e.fail != nil {
		if err := e.fail(); err != nil {
			return ports.EngineReply{}, err
		}
	}
	q := words(r.Messages[len(r.Messages)-1].Content)
	best, score := -1, 0
	for i, k := range r.Knowledge {
		n := 0
		for w := range words(k.Question + " " + k.Title + " " + k.Content) {
			if q[w] {
				n++
			}
		}
		if n > score {
			best, score = i, n
		}
	}
	name := r.Agent.BotDisplayName
	if name == "" {
		name = r.Agent.Name
	}
	if best < 0 {
		return ports.EngineReply{Content: name + ": sorry, I don't know that yet."}, nil
	}
	return ports.EngineReply{Content: name + ": " + r.Knowledge[best].Content, SourceIDs: []string{r.Knowledge[best].ID}}, nil
}

func words(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !('a' <= r && r <= 'z' || '0' <= r && r <= '9') }) {
		if len(w) > 2 {
			out[w] = true
		}
	}
	return out
}

// webhookAnswer is one answer of recordingSender: a status (with an
// optional Retry-After and body) or, when err is set, no answer at all.
type webhookAnswer struct {
	status     int
	retryAfter string
	body       string
	err        error
}

// recordingSender is a ports.WebhookSender that records every request
// and answers with the scripted answers in turn; once they run out, with
// otherwise (200 {"ok":true} when nil).
type recordingSender struct {
	mu        sync.Mutex
	reqs      []ports.WebhookRequest
	script    []webhookAnswer
	otherwise func(r ports.WebhookRequest) webhookAnswer
}

func (s *recordingSender) Send(_ context.Context, r ports.WebhookRequest) (ports.WebhookResponse, error) {
	s.mu.Lock()
	r.Header = maps.Clone(r.Header)
	r.Body = slices.Clone(r.Body)
	s.reqs = append(s.reqs, r)
	a := webhookAnswer{status: 200, body: `{"ok":true}`}
	switch {
	case len(s.script) > 0:
		a, s.script = s.script[0], s.script[1:]
	case s.otherwise != nil:
		a = s.otherwise(r)
	}
	s.mu.Unlock()
	if a.err != nil {
		return ports.WebhookResponse{}, a.err
	}
	return ports.WebhookResponse{
		StatusCode: a.status, ContentType: "application/json", RetryAfter: a.retryAfter, Body: []byte(a.body),
		Duration: 42 * time.Millisecond,
	}, nil
}

// answer scripts the next answers.
func (s *recordingSender) answer(as ...webhookAnswer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, as...)
}

// requests returns the requests sent so far, to urls starting with prefix
// ("" for all).
func (s *recordingSender) requests(prefix string) []ports.WebhookRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ports.WebhookRequest
	for _, r := range s.reqs {
		if strings.HasPrefix(r.URL, prefix) {
			out = append(out, r)
		}
	}
	return out
}

type fixture struct {
	ctx      context.Context
	clock    *testkit.Clock
	store    *testkit.Store
	plans    *plans.Service
	accounts *accounts.Service
	engine   *echoEngine
	sender   *recordingSender // skill calls and handoff deliveries
	svc      *messaging.Service
	cfg      messaging.Config

	mu     sync.Mutex
	queued []string // the delivery ids the store queued, in order
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		ctx: context.Background(), clock: testkit.NewClock(start), store: testkit.NewStore(), engine: &echoEngine{},
		sender: &recordingSender{},
	}
	f.store.SetEnqueuer(func(ids []string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.queued = append(f.queued, ids...)
	})
	f.plans = plans.New(f.store, f.clock, rand.Reader, nil)
	require.NoError(t, f.plans.Seed(f.ctx))
	acc, err := accounts.New(accounts.Config{
		Accounts: f.store, Sessions: f.store, Plans: f.plans, Hasher: argon2id.New(argon2id.TestParams),
		Clock: f.clock, Random: rand.Reader,
	})
	require.NoError(t, err)
	f.accounts = acc
	f.cfg = messaging.Config{
		Store: f.store, Keys: f.store, Accounts: acc, Engine: f.engine, Sender: f.sender, Webhooks: f.store,
		Clock: f.clock, Random: rand.Reader, BaseURL: baseURL + "/",
	}
	f.svc = messaging.New(f.cfg)
	return f
}

// rebuild makes a new service from f.cfg (after changing it).
func (f *fixture) rebuild() { f.svc = messaging.New(f.cfg) }

// user is a registered account as Messaging sees it.
type user struct {
	profileID string
	key       core.Principal // the Messaging key (msg_…)
	session   core.Principal
	drive     core.Principal // the Drive key
}

// register creates an account without a Messaging subscription.
func (f *fixture) register(t *testing.T) user {
	t.Helper()
	r, err := f.accounts.Register(f.ctx, accounts.RegisterInput{
		Email: "msg-" + strings.ToLower(rand.Text()[:10]) + "@example.com", Password: "correct horse battery",
		DisplayName: "Merchant", AccountType: "drive", ClientIP: "192.0.2.1",
	})
	require.NoError(t, err)
	pid := r.Account.Profile.ID
	return user{
		profileID: pid,
		key:       core.Principal{ProfileID: pid, Via: core.AuthAPIKey, Line: core.LineMessaging},
		session:   core.Principal{ProfileID: pid, Via: core.AuthSession},
		drive:     core.Principal{ProfileID: pid, Via: core.AuthAPIKey, Line: core.LineDrive},
	}
}

// subscribe puts the profile on planID with status.
func (f *fixture) subscribe(t *testing.T, u user, planID string, status core.SubscriptionStatus) {
	t.Helper()
	id, err := core.NewID("sub", f.clock.Now(), rand.Reader)
	require.NoError(t, err)
	require.NoError(t, f.store.SetSubscription(f.ctx, core.Subscription{
		ID: id, ProfileID: u.profileID, Line: core.LineMessaging, PlanID: planID, Status: status,
		CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now(),
	}))
}

// messagingPlan creates a free messaging plan granting credits a month.
func (f *fixture) messagingPlan(t *testing.T, credits int64) string {
	t.Helper()
	p, err := f.plans.AdminCreate(f.ctx, core.Principal{Via: core.AuthSession, IsAdmin: true}, plans.PlanInput{
		PlanType: "messaging", Name: "Test messaging " + rand.Text()[:6], MonthlyCredits: credits,
	})
	require.NoError(t, err)
	return p.ID
}

// merchant registers an account on a free plan without monthly credits,
// grants it credits and creates its first agent.
func (f *fixture) merchant(t *testing.T, credits int64) (user, core.Agent) {
	t.Helper()
	u := f.register(t)
	f.subscribe(t, u, f.messagingPlan(t, 0), core.StatusActive)
	if credits > 0 {
		f.grant(t, u, credits)
	}
	a, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "Sales bot", BotDisplayName: "Store assistant"})
	require.NoError(t, err)
	return u, a
}

func (f *fixture) grant(t *testing.T, u user, credits int64) {
	t.Helper()
	id, err := core.NewID("cred", f.clock.Now(), rand.Reader)
	require.NoError(t, err)
	_, err = f.store.GrantCredits(f.ctx, core.CreditEntry{ID: id, ProfileID: u.profileID, Amount: credits, Reason: core.CreditGrant, CreatedAt: f.clock.Now()})
	require.NoError(t, err)
}

func (f *fixture) credits(t *testing.T, u user) int64 {
	t.Helper()
	usage, err := f.store.MessagingUsage(f.ctx, u.profileID)
	require.NoError(t, err)
	return usage.Credits
}

// wantKind fails unless err is of kind and, when code is set, has code.
func wantKind(t *testing.T, err error, kind core.Kind, code string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, kind.String(), core.ErrorKind(err).String(), "error: %v", err)
	if code != "" {
		e, _ := core.AsError(err)
		require.Equal(t, code, e.Code, "error: %v", err)
	}
}

// parallel runs n calls of fn at once and returns their errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			errs[i] = fn(i)
		})
	}
	close(gate)
	wg.Wait()
	return errs
}

// defaults counts the default agents of a list.
func defaults(as []core.Agent) int {
	return len(slices.DeleteFunc(slices.Clone(as), func(a core.Agent) bool { return !a.IsDefault }))
}

func ptr[T any](v T) *T { return &v }

// queuedIDs returns the delivery ids queued so far.
func (f *fixture) queuedIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.queued)
}

func userMsg(s string) []core.ChatMessage {
	return []core.ChatMessage{{Role: core.RoleUser, Content: s}}
}
