package accounts_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/argon2id"
	"github.com/gellhub/gellhub/adapters/inproc"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

var start = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

const password = "correct horse battery"

// fixture is an accounts.Service wired on in-memory adapters, with the
// default plan catalog seeded.
type fixture struct {
	store  *testkit.Store
	clock  *testkit.Clock
	hasher *argon2id.Hasher
	plans  *plans.Service
	svc    *accounts.Service
}

// newFixture wires a service; opts adjust its config before New.
func newFixture(t *testing.T, opts ...func(*accounts.Config)) fixture {
	t.Helper()
	f := fixture{
		store:  testkit.NewStore(),
		clock:  testkit.NewClock(start),
		hasher: argon2id.New(argon2id.TestParams),
	}
	f.plans = plans.New(f.store, f.clock, rand.Reader, nil)
	require.NoError(t, f.plans.Seed(context.Background()))
	cfg := accounts.Config{
		Accounts: f.store, Sessions: f.store, Plans: f.plans,
		Hasher: f.hasher, Clock: f.clock, Random: rand.Reader,
	}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := accounts.New(cfg)
	require.NoError(t, err)
	f.svc = svc
	return f
}

// withLimiter rate-limits the service with the in-process GCRA limiter on
// the fixture's fake clock.
func withLimiter(cfg *accounts.Config) { cfg.Limiter = inproc.NewRateLimiter(cfg.Clock) }

func withAdmins(emails ...string) func(*accounts.Config) {
	return func(cfg *accounts.Config) { cfg.AdminEmails = emails }
}

// input is a valid registration of email.
func input(email string) accounts.RegisterInput {
	return accounts.RegisterInput{
		Email: email, Password: password, DisplayName: "Ann Lee", AccountType: "studio", ClientIP: "192.0.2.1",
	}
}

// register registers in and fails the test on error.
func (f fixture) register(t *testing.T, in accounts.RegisterInput) accounts.Registered {
	t.Helper()
	r, err := f.svc.Register(context.Background(), in)
	require.NoError(t, err)
	return r
}

// session registers email and returns its session principal.
func (f fixture) session(t *testing.T, email string) (accounts.Registered, core.Principal) {
	t.Helper()
	r := f.register(t, input(email))
	who, err := f.svc.SessionPrincipal(context.Background(), r.SessionToken)
	require.NoError(t, err)
	return r, who
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

// checkout is a small real accounts.Checkout: it opens numbered payment
// pages and remembers what each was for. fail, when set, refuses them all.
type checkout struct {
	mu   sync.Mutex
	reqs []accounts.CheckoutRequest
	fail error
}

func (c *checkout) StartCheckout(_ context.Context, req accounts.CheckoutRequest) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return "", c.fail
	}
	c.reqs = append(c.reqs, req)
	return fmt.Sprintf("https://pay.example.test/session/cs_%d", len(c.reqs)), nil
}

func (c *checkout) requests() []accounts.CheckoutRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]accounts.CheckoutRequest(nil), c.reqs...)
}

// limiterFunc injects a limiter failure (function-field fakes are for
// failures only; real limiting uses inproc.RateLimiter).
type limiterFunc func(ctx context.Context, key string, l ports.Limit) (ports.RateDecision, error)

func (f limiterFunc) Allow(ctx context.Context, key string, l ports.Limit) (ports.RateDecision, error) {
	return f(ctx, key, l)
}

func TestNew(t *testing.T) {
	t.Parallel()

	t.Run("failing_randomness_is_internal", func(t *testing.T) {
		t.Parallel()
		store := testkit.NewStore()
		clock := testkit.NewClock(start)
		_, err := accounts.New(accounts.Config{
			Accounts: store, Sessions: store, Plans: plans.New(store, clock, rand.Reader, nil),
			Hasher: argon2id.New(argon2id.TestParams), Clock: clock, Random: iotest.ErrReader(errors.New("no entropy")),
		})
		requireKind(t, err, core.KindInternal, "internal", "")
	})
}

func TestMe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("shows_profile_studio_drive_plans_and_keys", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r, who := f.session(t, "ann@example.com")

		me, err := f.svc.Me(ctx, who)
		require.NoError(t, err)
		require.Equal(t, r.Account.Profile, me.Profile)
		require.Equal(t, r.Account.Studio, me.Studio)
		require.Equal(t, r.Account.Drive, me.Drive)
		require.False(t, me.IsAdmin)

		require.Len(t, me.Plans, 2, "clientGallery and drive; messaging starts unsubscribed")
		require.Equal(t, core.LineClientGallery, me.Plans[0].Line)
		require.Equal(t, "plan_gallery_free", me.Plans[0].Plan.ID)
		require.Equal(t, core.LineDrive, me.Plans[1].Line)
		require.Equal(t, "plan_drive_free", me.Plans[1].Plan.ID)
		for _, sn := range me.Plans {
			require.Equal(t, core.StatusActive, sn.Status)
			require.True(t, sn.Eligible)
		}

		prefixes := map[core.ProductLine]string{}
		for _, k := range me.Keys {
			prefixes[k.Line] = k.DisplayPrefix
		}
		require.Equal(t, map[core.ProductLine]string{
			core.LineClientGallery: core.KeyDisplayPrefix(r.APIKey),
			core.LineDrive:         core.KeyDisplayPrefix(r.DriveAPIKey),
		}, prefixes)
	})

	t.Run("is_admin_when_the_email_is_listed_case_insensitively", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withAdmins(" STAFF@gellhub.test ", "", "ops@gellhub.test"))
		_, staff := f.session(t, "Staff@GellHub.test")
		require.True(t, staff.IsAdmin)
		me, err := f.svc.Me(ctx, staff)
		require.NoError(t, err)
		require.True(t, me.IsAdmin)

		_, ann := f.session(t, "ann@example.com")
		require.False(t, ann.IsAdmin)
		me, err = f.svc.Me(ctx, ann)
		require.NoError(t, err)
		require.False(t, me.IsAdmin)
	})

	t.Run("paid_plan_pending_payment_is_not_eligible", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		in := input("ann@example.com")
		in.PlanID = "plan_gallery_pro_monthly"
		r := f.register(t, in)
		who, err := f.svc.SessionPrincipal(ctx, r.SessionToken)
		require.NoError(t, err)
		me, err := f.svc.Me(ctx, who)
		require.NoError(t, err)
		require.Equal(t, "plan_gallery_pro_monthly", me.Plans[0].Plan.ID)
		require.Equal(t, core.StatusIncomplete, me.Plans[0].Status)
		require.False(t, me.Plans[0].Eligible)
		require.True(t, me.Plans[1].Eligible)
	})

	t.Run("snapshot_keeps_an_archived_plan", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, who := f.session(t, "ann@example.com")
		admin := core.Principal{IsAdmin: true, Via: core.AuthSession}
		archived := string(core.PlanArchived)
		_, err := f.plans.AdminCreate(ctx, admin, plans.PlanInput{PlanType: "drive", Name: "Drive Starter", Price: 0})
		require.NoError(t, err)
		_, err = f.plans.AdminUpdate(ctx, admin, "plan_drive_free", plans.PlanPatch{Status: &archived})
		require.NoError(t, err)
		me, err := f.svc.Me(ctx, who)
		require.NoError(t, err)
		require.Equal(t, "plan_drive_free", me.Plans[1].Plan.ID)
		require.Equal(t, core.PlanArchived, me.Plans[1].Plan.Status)
	})

	t.Run("api_key_principal_is_forbidden", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.register(t, input("ann@example.com"))
		who, err := f.svc.KeyPrincipal(ctx, r.APIKey)
		require.NoError(t, err)
		_, err = f.svc.Me(ctx, who)
		requireKind(t, err, core.KindForbidden, "forbidden", "")
	})
}

func TestBillingStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("key_principal_sees_its_line", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.register(t, input("ann@example.com"))
		for raw, want := range map[string]struct {
			line core.ProductLine
			plan string
		}{
			r.APIKey:      {core.LineClientGallery, "plan_gallery_free"},
			r.DriveAPIKey: {core.LineDrive, "plan_drive_free"},
		} {
			who, err := f.svc.KeyPrincipal(ctx, raw)
			require.NoError(t, err)
			snap, ok, err := f.svc.BillingStatus(ctx, who)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, want.line, snap.Line)
			require.Equal(t, want.plan, snap.Plan.ID)
			require.Equal(t, core.StatusActive, snap.Status)
			require.True(t, snap.Eligible)
		}
	})

	t.Run("paid_plan_pending_payment_is_incomplete_and_not_eligible", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		in := input("ann@example.com")
		in.AccountType, in.PlanID = "drive", "plan_drive_plus_annual"
		r := f.register(t, in)
		who, err := f.svc.KeyPrincipal(ctx, r.DriveAPIKey)
		require.NoError(t, err)
		snap, ok, err := f.svc.BillingStatus(ctx, who)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "plan_drive_plus_annual", snap.Plan.ID)
		require.Equal(t, core.StatusIncomplete, snap.Status)
		require.False(t, snap.Eligible)
	})

	t.Run("line_without_subscription_is_not_ok", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.register(t, input("ann@example.com"))
		who := core.Principal{ProfileID: r.Account.Profile.ID, Via: core.AuthAPIKey, Line: core.LineMessaging}
		_, ok, err := f.svc.BillingStatus(ctx, who)
		require.NoError(t, err)
		require.False(t, ok)
	})

	t.Run("session_principal_is_forbidden", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, who := f.session(t, "ann@example.com")
		_, _, err := f.svc.BillingStatus(ctx, who)
		requireKind(t, err, core.KindForbidden, "forbidden", "")
	})
}
