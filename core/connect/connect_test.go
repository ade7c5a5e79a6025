package connect_test

import (
	"context"
	"crypto/rand"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/argon2id"
	"github.com/gellhub/gellhub/adapters/inproc"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/connect"
	"github.com/gellhub/gellhub/core/developer"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

var start = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

const (
	callback      = "https://partner.example/oauth/cb"
	callbackQuery = "https://partner.example/oauth/cb?tenant=42"
	password      = "correct horse battery"
	clientIP      = "198.51.100.7"
)

// fixture is a connect.Service wired on in-memory adapters (store, code
// and flow caches, optional payments and rate limiter) on one fake clock,
// with the default plan catalog seeded.
type fixture struct {
	store    *testkit.Store
	clock    *testkit.Clock
	plans    *plans.Service
	accounts *accounts.Service
	dev      *developer.Service
	codes    *inproc.CodeCache
	flows    *inproc.Cache
	payments *testkit.Payments // nil unless withPayments
	reports  *reports
	svc      *connect.Service
}

// reports collects what the service reports without failing a flow.
type reports struct {
	mu   sync.Mutex
	errs []error
}

func (r *reports) add(_ context.Context, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *reports) all() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// take returns what was reported and forgets it.
func (r *reports) take() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := r.errs
	r.errs = nil
	return errs
}

type option func(f *fixture, cfg *connect.Config)

// withPayments wires testkit.Payments on the fixture's clock.
func withPayments(f *fixture, cfg *connect.Config) {
	f.payments = testkit.NewPayments(f.clock)
	cfg.Payments = f.payments
}

// withLimiter rate-limits with the in-process GCRA limiter on the fake clock.
func withLimiter(f *fixture, cfg *connect.Config) { cfg.Limiter = inproc.NewRateLimiter(f.clock) }

func newFixture(t *testing.T, opts ...option) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{store: testkit.NewStore(), clock: testkit.NewClock(start), reports: &reports{}}
	f.dev = developer.New(f.store, f.clock, rand.Reader)
	f.plans = plans.New(f.store, f.clock, rand.Reader, f.dev)
	require.NoError(t, f.plans.Seed(ctx))
	var err error
	f.accounts, err = accounts.New(accounts.Config{
		Accounts: f.store, Sessions: f.store, Plans: f.plans,
		Hasher: argon2id.New(argon2id.TestParams), Clock: f.clock, Random: rand.Reader,
	})
	require.NoError(t, err)
	f.codes, f.flows = inproc.NewCodeCache(f.clock), inproc.NewCache(f.clock)
	cfg := connect.Config{
		Developer: f.dev, Accounts: f.accounts, Store: f.store, Links: f.store, Plans: f.plans,
		Codes: f.codes, Flows: f.flows, Clock: f.clock, Random: rand.Reader,
		BaseURL: "https://gellhub.test", Report: f.reports.add,
	}
	for _, o := range opts {
		o(f, &cfg)
	}
	f.svc = connect.New(cfg)
	t.Cleanup(func() {
		if !t.Failed() {
			require.Empty(t, f.reports.all(), "nothing went wrong on the side")
		}
	})
	return f
}

// partner is a Developer Console app with its secret and its owner.
type partner struct {
	app    core.PartnerApp
	secret string
	owner  core.Principal
}

// partner registers a developer and an app of line with redirect URIs
// (callback when none are given).
func (f *fixture) partner(t *testing.T, line core.ProductLine, uris ...string) partner {
	t.Helper()
	if len(uris) == 0 {
		uris = []string{callback}
	}
	_, owner := f.merchant(t)
	c, err := f.dev.Create(context.Background(), owner, developer.AppInput{Name: "Shopline " + string(line), ProductType: string(line), RedirectURIs: uris})
	require.NoError(t, err)
	return partner{app: c.App, secret: c.ClientSecret, owner: owner}
}

// merchant registers a fresh studio account and returns it with its
// session principal.
func (f *fixture) merchant(t *testing.T) (accounts.Registered, core.Principal) {
	t.Helper()
	ctx := context.Background()
	r, err := f.accounts.Register(ctx, accounts.RegisterInput{
		Email: strings.ToLower(rand.Text()) + "@example.com", Password: password,
		DisplayName: "Merchant", AccountType: "studio", ClientIP: clientIP,
	})
	require.NoError(t, err)
	who, err := f.accounts.SessionPrincipal(ctx, r.SessionToken)
	require.NoError(t, err)
	return r, who
}

// start starts a flow for p; in's empty ClientID, ReturnURL and State
// default to p's client, p's first redirect URI and "st-1".
func (f *fixture) start(t *testing.T, p partner, in connect.StartInput) string {
	t.Helper()
	if in.ClientID == "" {
		in.ClientID = p.app.ClientID
	}
	if in.ReturnURL == "" {
		in.ReturnURL = p.app.RedirectURIs[0]
	}
	if in.State == "" {
		in.State = "st-1"
	}
	s, err := f.svc.Start(context.Background(), in)
	require.NoError(t, err)
	require.NotEmpty(t, s.FlowID)
	return s.FlowID
}

// signIn continues flowID for profileID with no payment pending and
// returns the redirect back to the partner.
func (f *fixture) signIn(t *testing.T, flowID, profileID string) string {
	t.Helper()
	o, err := f.afterSignIn(context.Background(), flowID, profileID, false)
	require.NoError(t, err)
	require.Empty(t, o.Error)
	require.Empty(t, o.CheckoutURL)
	require.NotEmpty(t, o.Redirect)
	return o.Redirect
}

// connect runs a whole flow for p and profileID and returns the code.
func (f *fixture) connect(t *testing.T, p partner, profileID string) string {
	t.Helper()
	code, _ := codeOf(t, f.signIn(t, f.start(t, p, connect.StartInput{}), profileID))
	return code
}

// exchange redeems code with p's credentials.
func (f *fixture) exchange(p partner, code string) (connect.Exchanged, error) {
	return f.svc.Exchange(context.Background(), connect.ExchangeInput{Code: code, ClientID: p.app.ClientID, ClientSecret: p.secret, ClientIP: clientIP})
}

// verify asks about profileID with p's credentials.
func (f *fixture) verify(p partner, profileID string) (connect.Verified, error) {
	return f.svc.Verify(context.Background(), connect.VerifyInput{ProfileID: profileID, ClientID: p.app.ClientID, ClientSecret: p.secret, ClientIP: clientIP})
}

// stats returns p's analytics totals as its owner sees them.
func (f *fixture) stats(t *testing.T, p partner) core.AppDayStats {
	t.Helper()
	an, err := f.dev.Analytics(context.Background(), p.owner, p.app.ID, 1)
	require.NoError(t, err)
	return an.Totals
}

// link returns the link of profileID and p.
func (f *fixture) link(t *testing.T, p partner, profileID string) core.ConnectLink {
	t.Helper()
	l, err := f.store.LinkFor(context.Background(), profileID, p.app.ID)
	require.NoError(t, err)
	return l
}

// codeOf parses a redirect back to the partner and returns its code and
// state.
func codeOf(t *testing.T, redirect string) (code, state string) {
	t.Helper()
	u, err := url.Parse(redirect)
	require.NoError(t, err)
	q := u.Query()
	require.Len(t, q["code"], 1, redirect)
	require.Len(t, q["state"], 1, redirect)
	return q.Get("code"), q.Get("state")
}

// portsParams asks for a checkout of plan for who, returning to success,
// with reference echoed on the session.
func portsParams(who core.Principal, plan core.Plan, success, reference string) ports.CheckoutParams {
	return ports.CheckoutParams{ProfileID: who.ProfileID, Email: who.Email, Line: plan.Line, Plan: plan, SuccessURL: success, Reference: reference}
}

// requireKind asserts err is a *core.Error of kind with code (when code is
// not empty) and detail (when detail is not empty), and returns it.
func requireKind(t *testing.T, err error, kind core.Kind, code, detail string) *core.Error {
	t.Helper()
	require.Error(t, err)
	e, ok := core.AsError(err)
	require.True(t, ok, "want a *core.Error, got %T: %v", err, err)
	require.Equal(t, kind, e.Kind, "error: %v", err)
	if code != "" {
		require.Equal(t, code, e.Code, "error: %v", err)
	}
	if detail != "" {
		require.Equal(t, detail, e.Detail, "error: %v", err)
	}
	return e
}

func TestStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("stores_the_flow_and_defaults_next_to_register", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		s, err := f.svc.Start(ctx, connect.StartInput{ClientID: p.app.ClientID, ReturnURL: callback, State: "st", Plan: "plan_drive_plus_monthly", Product: "drive"})
		require.NoError(t, err)
		require.Equal(t, "register", s.Next)
		require.GreaterOrEqual(t, len(s.FlowID), 40, "≥ 128 bits")

		v, err := f.svc.Context(ctx, s.FlowID)
		require.NoError(t, err)
		require.NotEmpty(t, v.Token, "the token the sign-in pages send back")
		v.Token = ""
		require.Equal(t, connect.View{Active: true, Product: core.LineDrive, AppName: "Shopline drive", PlanID: "plan_drive_plus_monthly", Next: "register"}, v)
		require.Equal(t, core.AppDayStats{Starts: 1}, f.stats(t, p))
	})

	t.Run("next_may_be_login", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineClientGallery)
		s, err := f.svc.Start(ctx, connect.StartInput{ClientID: p.app.ClientID, ReturnURL: callback, State: "st", Next: "login"})
		require.NoError(t, err)
		require.Equal(t, "login", s.Next)
		v, err := f.svc.Context(ctx, s.FlowID)
		require.NoError(t, err)
		require.Equal(t, "login", v.Next)
		require.Equal(t, core.LineClientGallery, v.Product, "the app's line without a product")
	})

	t.Run("each_flow_has_its_own_id", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		require.NotEqual(t, f.start(t, p, connect.StartInput{}), f.start(t, p, connect.StartInput{}))
	})

	t.Run("state_of_512_bytes_is_accepted", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		f.start(t, p, connect.StartInput{State: strings.Repeat("s", connect.MaxStateLen)})
	})
}

func TestStart_validation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	f := newFixture(t)
	p := f.partner(t, core.LineDrive, callback, callbackQuery)
	other := f.partner(t, core.LineMessaging, "https://other.example/cb")
	suspended := f.partner(t, core.LineDrive)
	_, err := f.dev.AdminSetStatus(ctx, core.Principal{IsAdmin: true, Via: core.AuthSession}, suspended.app.ID, "suspended")
	require.NoError(t, err)
	_, err = f.store.UpdatePlan(ctx, "plan_drive_plus_annual", func(pl *core.Plan, _ bool) error {
		pl.Status = core.PlanArchived
		return nil
	})
	require.NoError(t, err)

	// The fields in the order Start checks them. Each case breaks one
	// field and every field checked after it: the error must name the
	// first.
	type field int
	const (
		fClient field = iota
		fReturn
		fProduct
		fPlan
		fState
		fNext
	)
	breakAfter := func(in *connect.StartInput, f field) {
		if f < fReturn {
			in.ReturnURL = "https://evil.example/cb"
		}
		if f < fProduct {
			in.Product = "email"
		}
		if f < fPlan {
			in.Plan = "plan_nope"
		}
		if f < fState {
			in.State = ""
		}
		if f < fNext {
			in.Next = "home"
		}
	}
	tests := []struct {
		name   string
		field  field
		edit   func(in *connect.StartInput)
		kind   core.Kind
		detail string
	}{
		{"client_id_is_required", fClient, func(in *connect.StartInput) { in.ClientID = "" }, core.KindInvalid, "client_id"},
		{"client_id_is_capped", fClient, func(in *connect.StartInput) { in.ClientID = strings.Repeat("g", 129) }, core.KindInvalid, "client_id"},
		{"an_unknown_client_is_invalid", fClient, func(in *connect.StartInput) { in.ClientID = "gh_app_unknown" }, core.KindInvalid, "client_id"},
		{"a_suspended_client_is_not_found", fClient, func(in *connect.StartInput) { in.ClientID = suspended.app.ClientID }, core.KindNotFound, ""},
		{"return_url_is_required", fReturn, func(in *connect.StartInput) { in.ReturnURL = "" }, core.KindInvalid, "return_url"},
		{"return_url_must_be_registered_exactly", fReturn, func(in *connect.StartInput) { in.ReturnURL = callback + "/" }, core.KindInvalid, "return_url"},
		{"return_url_must_keep_its_query", fReturn, func(in *connect.StartInput) { in.ReturnURL = callback + "?tenant=43" }, core.KindInvalid, "return_url"},
		{"return_url_of_another_app_is_refused", fReturn, func(in *connect.StartInput) { in.ReturnURL = other.app.RedirectURIs[0] }, core.KindInvalid, "return_url"},
		{"return_url_is_capped", fReturn, func(in *connect.StartInput) { in.ReturnURL = callback + "?" + strings.Repeat("a", core.MaxURLLen) }, core.KindInvalid, "return_url"},
		{"product_must_be_a_line", fProduct, func(in *connect.StartInput) { in.Product = "gallery" }, core.KindInvalid, "product"},
		{"product_of_another_line_is_forbidden", fProduct, func(in *connect.StartInput) { in.Product = "messaging" }, core.KindForbidden, ""},
		{"plan_must_exist", fPlan, func(in *connect.StartInput) { in.Plan = "plan_nope" }, core.KindInvalid, "plan"},
		{"plan_must_be_well_formed", fPlan, func(in *connect.StartInput) { in.Plan = "plan/../x" }, core.KindInvalid, "plan"},
		{"an_archived_plan_is_invalid", fPlan, func(in *connect.StartInput) { in.Plan = "plan_drive_plus_annual" }, core.KindInvalid, "plan"},
		{"plan_of_another_line_is_forbidden", fPlan, func(in *connect.StartInput) { in.Plan = "plan_messaging_free" }, core.KindForbidden, ""},
		{"state_is_required", fState, func(in *connect.StartInput) { in.State = "" }, core.KindInvalid, "state"},
		{"state_is_capped_at_512", fState, func(in *connect.StartInput) { in.State = strings.Repeat("s", connect.MaxStateLen+1) }, core.KindInvalid, "state"},
		{"next_is_register_or_login", fNext, func(in *connect.StartInput) { in.Next = "Login" }, core.KindInvalid, "next"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := connect.StartInput{ClientID: p.app.ClientID, ReturnURL: callbackQuery, State: "st", Product: "drive", Plan: "plan_drive_free", Next: "login"}
			tt.edit(&in)
			breakAfter(&in, tt.field)
			_, err := f.svc.Start(ctx, in)
			e := requireKind(t, err, tt.kind, "", tt.detail)
			require.NotContains(t, e.Message, "evil.example", "the answer never echoes a return URL")
		})
	}

	require.Zero(t, f.flows.Len(), "no flow was stored")
	require.Equal(t, core.AppDayStats{}, f.stats(t, p), "no start was counted")
}

func TestContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	f := newFixture(t)
	p := f.partner(t, core.LineDrive)
	flow := f.start(t, p, connect.StartInput{})

	for _, id := range []string{"", "unknown", strings.Repeat("f", 129)} {
		v, err := f.svc.Context(ctx, id)
		require.NoError(t, err, "an unknown flow is not an error")
		require.Equal(t, connect.View{}, v)
	}

	f.clock.Advance(connect.FlowTTL - time.Second)
	v, err := f.svc.Context(ctx, flow)
	require.NoError(t, err)
	require.True(t, v.Active)

	f.clock.Advance(time.Second)
	v, err = f.svc.Context(ctx, flow)
	require.NoError(t, err)
	require.False(t, v.Active, "a flow lives FlowTTL")
	_, err = f.afterSignIn(ctx, flow, "prof_x", false)
	requireKind(t, err, core.KindInvalid, "invalid_request", "connect")
}

func TestAfterSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	returnURLs := []struct{ name, url, sep string }{
		{"without_a_query", callback, "?"},
		{"with_a_query", callbackQuery, "&"},
		{"ending_with_a_question_mark", callback + "?", ""},
		{"ending_with_an_ampersand", callbackQuery + "&", ""},
	}
	states := []string{
		"st-1",
		"two words",
		"a&b=c",
		"100%+plus/slash?#hash",
		"ünïcødé ✓ 🙂",
		"=&?;",
		`"quoted" <tag> 'x'`,
	}
	for _, ru := range returnURLs {
		t.Run("appends_code_and_state_to_a_return_url_"+ru.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			p := f.partner(t, core.LineDrive, callback, callbackQuery, callback+"?", callbackQuery+"&")
			_, who := f.merchant(t)
			for _, state := range states {
				flow := f.start(t, p, connect.StartInput{ReturnURL: ru.url, State: state})
				redirect := f.signIn(t, flow, who.ProfileID)

				require.True(t, strings.HasPrefix(redirect, ru.url+ru.sep+"code="), redirect)
				require.Equal(t, 1, strings.Count(redirect, "?"), "one query: %s", redirect)
				require.NotContains(t, redirect, "#")
				require.NotContains(t, redirect, " ")
				u, err := url.Parse(redirect)
				require.NoError(t, err)
				require.Equal(t, "partner.example", u.Host)
				require.Equal(t, "/oauth/cb", u.Path)
				code, got := codeOf(t, redirect)
				require.Equal(t, state, got, "state round-trips")
				require.GreaterOrEqual(t, len(code), 40, "≥ 128 bits")
				if ru.url != callback && ru.url != callback+"?" {
					require.Equal(t, "42", u.Query().Get("tenant"), "the registered query stays")
				}
				_, err = f.exchange(p, code)
				require.NoError(t, err, "the code in the URL is the one to exchange")
			}
		})
	}

	t.Run("links_the_profile_ends_the_flow_and_counts_a_completion", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{})
		f.signIn(t, flow, who.ProfileID)

		l := f.link(t, p, who.ProfileID)
		require.True(t, l.Active())
		require.Equal(t, start, l.CreatedAt)
		v, err := f.svc.Context(ctx, flow)
		require.NoError(t, err)
		require.False(t, v.Active, "the flow is over")
		_, err = f.afterSignIn(ctx, flow, who.ProfileID, false)
		requireKind(t, err, core.KindInvalid, "invalid_request", "connect")
		require.Equal(t, core.AppDayStats{Starts: 1, Completions: 1}, f.stats(t, p))
	})

	t.Run("a_pending_payment_makes_the_flow_wait", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{})
		o, err := f.afterSignIn(ctx, flow, who.ProfileID, true)
		require.NoError(t, err)
		require.Equal(t, connect.Outcome{}, o)
		v, err := f.svc.Context(ctx, flow)
		require.NoError(t, err)
		require.True(t, v.Active, "the flow waits for the payment")
		_, err = f.store.LinkFor(ctx, who.ProfileID, p.app.ID)
		requireKind(t, err, core.KindNotFound, "", "")
		require.Zero(t, f.stats(t, p).Completions)
	})

	t.Run("signing_in_again_while_a_payment_is_pending_issues_no_code", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{})
		_, err := f.afterSignIn(ctx, flow, who.ProfileID, true)
		require.NoError(t, err)

		o, err := f.afterSignIn(ctx, flow, who.ProfileID, false)
		require.NoError(t, err)
		require.NotEmpty(t, o.Error)
		require.Empty(t, o.Redirect)
		require.Empty(t, o.CheckoutURL)
		require.Zero(t, f.codes.Len(), "no code was issued")
		v, err := f.svc.Context(ctx, flow)
		require.NoError(t, err)
		require.True(t, v.Active, "the flow still waits")
	})

	t.Run("a_return_url_removed_since_start_gets_no_code", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive, callback, callbackQuery)
		_, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{ReturnURL: callbackQuery})
		_, err := f.dev.Update(ctx, p.owner, p.app.ID, developer.AppPatch{RedirectURIs: &[]string{callback}})
		require.NoError(t, err)

		_, err = f.afterSignIn(ctx, flow, who.ProfileID, false)
		requireKind(t, err, core.KindInvalid, "invalid_request", "return_url")
		require.Zero(t, f.codes.Len(), "no code was issued")
		_, err = f.store.LinkFor(ctx, who.ProfileID, p.app.ID)
		requireKind(t, err, core.KindNotFound, "", "")
	})

	t.Run("an_app_suspended_meanwhile_is_not_found", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		flow := f.start(t, p, connect.StartInput{})
		_, err := f.dev.AdminSetStatus(ctx, core.Principal{IsAdmin: true, Via: core.AuthSession}, p.app.ID, "suspended")
		require.NoError(t, err)
		_, err = f.afterSignIn(ctx, flow, who.ProfileID, false)
		requireKind(t, err, core.KindNotFound, "", "")
	})
}

// afterSignIn continues a flow as the sign-in pages do: with the token
// GET context hands them.
func (f *fixture) afterSignIn(ctx context.Context, flowID, profileID string, paymentPending bool) (connect.Outcome, error) {
	v, err := f.svc.Context(ctx, flowID)
	if err != nil {
		return connect.Outcome{}, err
	}
	o, ok, err := f.svc.AfterSignIn(ctx, flowID, v.Token, profileID, paymentPending)
	if err == nil && !ok {
		return connect.Outcome{}, errNotContinued
	}
	return o, err
}

var errNotContinued = core.Invalid("connect", "the flow was not continued")

// finalize returns where Finalize sends the browser: the partner, or the
// checkout.
func (f *fixture) finalize(ctx context.Context, who core.Principal, flowID string) (string, error) {
	r, err := f.svc.Finalize(ctx, who, flowID)
	if r.Redirect != "" {
		return r.Redirect, err
	}
	return r.CheckoutURL, err
}

func TestAfterSignInNeedsTheFlowToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	p := f.partner(t, core.LineDrive)
	_, who := f.merchant(t)
	flow := f.start(t, p, connect.StartInput{})
	for _, token := range []string{"", "not-the-token"} {
		o, ok, err := f.svc.AfterSignIn(ctx, flow, token, who.ProfileID, false)
		require.NoError(t, err)
		require.False(t, ok, "a sign-in that does not send the flow's token leaves it alone")
		require.Empty(t, o.Redirect)
	}
	v, err := f.svc.Context(ctx, flow)
	require.NoError(t, err)
	require.True(t, v.Active, "the flow is still there")
	o, ok, err := f.svc.AfterSignIn(ctx, flow, v.Token, who.ProfileID, false)
	require.NoError(t, err)
	require.True(t, ok)
	require.NotEmpty(t, o.Redirect)
}
