package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/ports"
)

func TestRegister(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("creates_profile_studio_drive_free_subscriptions_keys_and_session", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		in := input("  Ann.Lee@Example.COM ")
		in.DisplayName = "  Ann Lee  "
		r := f.register(t, in)
		a := r.Account

		galleryLine, ok := core.ParseAPIKey(r.APIKey)
		require.True(t, ok, "apiKey %q is not a valid key", r.APIKey)
		require.Equal(t, core.LineClientGallery, galleryLine)
		driveLine, ok := core.ParseAPIKey(r.DriveAPIKey)
		require.True(t, ok, "driveApiKey %q is not a valid key", r.DriveAPIKey)
		require.Equal(t, core.LineDrive, driveLine)
		require.NotEqual(t, r.APIKey, r.DriveAPIKey)

		require.True(t, strings.HasPrefix(a.Profile.ID, "prof_"), a.Profile.ID)
		require.True(t, strings.HasPrefix(a.Studio.ID, "studio_"), a.Studio.ID)
		require.True(t, strings.HasPrefix(a.Drive.ID, "drive_"), a.Drive.ID)
		require.Len(t, map[string]bool{a.Profile.ID: true, a.Studio.ID: true, a.Drive.ID: true}, 3)
		require.Equal(t, a.Profile.ID, a.Studio.ProfileID)
		require.Equal(t, a.Profile.ID, a.Drive.ProfileID)

		require.Equal(t, "Ann.Lee@Example.COM", a.Profile.Email)
		require.Equal(t, "ann.lee@example.com", a.Profile.EmailNormalized)
		require.Equal(t, "Ann Lee", a.Profile.DisplayName)
		require.Equal(t, core.AccountStudio, a.Profile.AccountKind)
		require.Equal(t, start, a.Profile.CreatedAt)

		subs := map[core.ProductLine]core.Subscription{}
		for _, s := range a.Subscriptions {
			subs[s.Line] = s
		}
		require.Len(t, subs, 2, "a studio and a drive subscription, no messaging")
		require.Equal(t, "plan_gallery_free", subs[core.LineClientGallery].PlanID)
		require.Equal(t, "plan_drive_free", subs[core.LineDrive].PlanID)
		for _, s := range subs {
			require.Equal(t, core.StatusActive, s.Status)
			require.Equal(t, a.Profile.ID, s.ProfileID)
			require.True(t, strings.HasPrefix(s.ID, "sub_"), s.ID)
		}
		stored, err := f.store.Subscriptions(ctx, a.Profile.ID)
		require.NoError(t, err)
		require.ElementsMatch(t, a.Subscriptions, stored)

		require.False(t, r.RequiresPayment)
		require.Empty(t, r.CheckoutURL)
		require.Empty(t, r.CheckoutError)

		who, err := f.svc.SessionPrincipal(ctx, r.SessionToken)
		require.NoError(t, err)
		require.Equal(t, core.Principal{ProfileID: a.Profile.ID, Email: a.Profile.Email, Via: core.AuthSession}, who)
		require.Equal(t, start.Add(accounts.DefaultSessionTTL), r.SessionExpires)
	})

	t.Run("drive_account_is_of_kind_drive_and_still_gets_a_studio", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		in := input("dana@example.com")
		in.AccountType = "drive"
		r := f.register(t, in)
		require.Equal(t, core.AccountDrive, r.Account.Profile.AccountKind)
		_, err := f.store.StudioByProfile(ctx, r.Account.Profile.ID)
		require.NoError(t, err)
		_, err = f.store.DriveByProfile(ctx, r.Account.Profile.ID)
		require.NoError(t, err)
		require.Len(t, r.Account.Subscriptions, 2)
	})

	t.Run("stores_a_password_hash_not_the_password", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.register(t, input("ann@example.com"))
		p, err := f.store.ProfileByID(ctx, r.Account.Profile.ID)
		require.NoError(t, err)
		require.NotEqual(t, password, p.PasswordHash)
		require.NotContains(t, p.PasswordHash, password)
		require.True(t, strings.HasPrefix(p.PasswordHash, "$argon2id$"), p.PasswordHash)
		ok, err := f.hasher.Verify(p.PasswordHash, password)
		require.NoError(t, err)
		require.True(t, ok)
	})

	t.Run("stores_keys_and_session_as_digests_only", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.register(t, input("ann@example.com"))

		keys, err := f.store.ActiveAPIKeys(ctx, r.Account.Profile.ID)
		require.NoError(t, err)
		require.Len(t, keys, 2)
		byLine := map[core.ProductLine]core.APIKey{}
		for _, k := range keys {
			byLine[k.Line] = k
		}
		for line, raw := range map[core.ProductLine]string{core.LineClientGallery: r.APIKey, core.LineDrive: r.DriveAPIKey} {
			k := byLine[line]
			require.Equal(t, core.Digest(raw), k.Digest, line)
			require.Equal(t, core.KeyDisplayPrefix(raw), k.DisplayPrefix, line)
			require.True(t, k.Active())
			require.True(t, strings.HasPrefix(k.ID, "key_"), k.ID)
			require.NotContains(t, fmt.Sprintf("%+v", k), raw)
		}

		// Nothing in the store, in any field, holds a secret in the clear.
		dump := fmt.Sprintf("%+v", f.store)
		for name, secret := range map[string]string{
			"apiKey": r.APIKey, "driveApiKey": r.DriveAPIKey, "session token": r.SessionToken, "password": password,
		} {
			require.NotContains(t, dump, secret, "the store holds the %s in the clear", name)
		}
		require.Contains(t, dump, core.Digest(r.SessionToken), "the session is stored by digest")
	})

	t.Run("email_taken_case_insensitively_is_conflict_email_taken", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		first := f.register(t, input("ann@example.com"))

		_, err := f.svc.Register(ctx, input("  ANN@Example.com"))
		requireKind(t, err, core.KindConflict, "email_taken", "")

		p, err := f.store.ProfileByEmail(ctx, "ann@example.com")
		require.NoError(t, err)
		require.Equal(t, first.Account.Profile.ID, p.ID, "the first account is untouched")
	})

	t.Run("concurrent_registrations_of_one_email_create_one_account", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		const n = 12
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = f.svc.Register(ctx, input([]string{"race@example.com", "RACE@example.com", "Race@Example.com"}[i%3]))
			})
		}
		wg.Wait()
		var ok int
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			requireKind(t, err, core.KindConflict, "email_taken", "")
		}
		require.Equal(t, 1, ok)
	})

	archived := func(t *testing.T, f fixture) {
		t.Helper()
		st := string(core.PlanArchived)
		_, err := f.plans.AdminUpdate(ctx, core.Principal{IsAdmin: true, Via: core.AuthSession}, "plan_gallery_pro_annual", plans.PlanPatch{Status: &st})
		require.NoError(t, err)
	}
	invalid := []struct {
		name   string
		edit   func(*accounts.RegisterInput)
		detail string
	}{
		{"missing_email", func(in *accounts.RegisterInput) { in.Email = "" }, "email"},
		{"malformed_email", func(in *accounts.RegisterInput) { in.Email = "ann at example.com" }, "email"},
		{"email_with_display_name", func(in *accounts.RegisterInput) { in.Email = "Ann <ann@example.com>" }, "email"},
		{"missing_password", func(in *accounts.RegisterInput) { in.Password = "" }, "password"},
		{"short_password", func(in *accounts.RegisterInput) { in.Password = "1234567" }, "password"},
		{"long_password", func(in *accounts.RegisterInput) { in.Password = strings.Repeat("p", core.MaxPasswordLen+1) }, "password"},
		{"missing_display_name", func(in *accounts.RegisterInput) { in.DisplayName = "   " }, "displayName"},
		{"display_name_too_long", func(in *accounts.RegisterInput) { in.DisplayName = strings.Repeat("n", core.MaxNameLen+1) }, "displayName"},
		{"display_name_with_control_character", func(in *accounts.RegisterInput) { in.DisplayName = "Ann\x1b[2J" }, "displayName"},
		{"unknown_account_type", func(in *accounts.RegisterInput) { in.AccountType = "agency" }, "accountType"},
		{"missing_account_type", func(in *accounts.RegisterInput) { in.AccountType = "" }, "accountType"},
		{"unknown_plan_id", func(in *accounts.RegisterInput) { in.PlanID = "plan_nope" }, "planId"},
		{"malformed_plan_id", func(in *accounts.RegisterInput) { in.PlanID = "plan nope" }, "planId"},
		{"plan_id_of_the_other_line", func(in *accounts.RegisterInput) { in.PlanID = "plan_drive_plus_monthly" }, "planId"},
		{"plan_id_of_messaging", func(in *accounts.RegisterInput) { in.PlanID = "plan_messaging_free" }, "planId"},
		{"gallery_plan_id_on_a_drive_account", func(in *accounts.RegisterInput) { in.AccountType, in.PlanID = "drive", "plan_gallery_free" }, "planId"},
		{"archived_plan_id", func(in *accounts.RegisterInput) { in.PlanID = "plan_gallery_pro_annual" }, "planId"},
		{"relative_success_url", func(in *accounts.RegisterInput) { in.SuccessURL = "/billing/done" }, "successUrl"},
		{"javascript_success_url", func(in *accounts.RegisterInput) { in.SuccessURL = "javascript:alert(1)" }, "successUrl"},
		{"relative_cancel_url", func(in *accounts.RegisterInput) { in.CancelURL = "pricing" }, "cancelUrl"},
	}
	for _, tt := range invalid {
		t.Run(tt.name+"_is_invalid_"+tt.detail, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			archived(t, f)
			in := input("ann@example.com")
			tt.edit(&in)
			r, err := f.svc.Register(ctx, in)
			requireKind(t, err, core.KindInvalid, "invalid_request", tt.detail)
			require.Empty(t, r.APIKey)
			require.Empty(t, r.SessionToken)
			_, err = f.store.ProfileByEmail(ctx, "ann@example.com")
			requireKind(t, err, core.KindNotFound, "", "")
		})
	}
}

func TestRegisterPaidPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	paid := func(accountType, planID string) accounts.RegisterInput {
		in := input("ann@example.com")
		in.AccountType, in.PlanID = accountType, planID
		in.SuccessURL, in.CancelURL = "https://app.example.com/welcome", "https://app.example.com/pricing"
		return in
	}
	subsByLine := func(r accounts.Registered) map[core.ProductLine]core.Subscription {
		out := map[core.ProductLine]core.Subscription{}
		for _, s := range r.Account.Subscriptions {
			out[s.Line] = s
		}
		return out
	}

	t.Run("without_billing_requires_payment_and_says_billing_is_not_configured", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.register(t, paid("studio", "plan_gallery_pro_monthly"))
		require.True(t, r.RequiresPayment)
		require.Empty(t, r.CheckoutURL)
		require.Contains(t, r.CheckoutError, "billing is not configured")

		subs := subsByLine(r)
		require.Equal(t, "plan_gallery_pro_monthly", subs[core.LineClientGallery].PlanID)
		require.Equal(t, core.StatusIncomplete, subs[core.LineClientGallery].Status)
		require.Equal(t, "plan_drive_free", subs[core.LineDrive].PlanID)
		require.Equal(t, core.StatusActive, subs[core.LineDrive].Status)

		_, err := f.svc.KeyPrincipal(ctx, r.APIKey)
		require.NoError(t, err, "the account exists and its key works, to retry checkout with")
	})

	t.Run("drive_account_on_a_paid_drive_plan", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.register(t, paid("drive", "plan_drive_plus_annual"))
		require.True(t, r.RequiresPayment)
		subs := subsByLine(r)
		require.Equal(t, core.StatusIncomplete, subs[core.LineDrive].Status)
		require.Equal(t, "plan_gallery_free", subs[core.LineClientGallery].PlanID)
		require.Equal(t, core.StatusActive, subs[core.LineClientGallery].Status)
	})

	t.Run("with_checkout_returns_the_payment_page", func(t *testing.T) {
		t.Parallel()
		co := &checkout{}
		f := newFixture(t, func(cfg *accounts.Config) { cfg.Checkout = co })
		r := f.register(t, paid("studio", "plan_gallery_pro_annual"))
		require.True(t, r.RequiresPayment)
		require.Equal(t, "https://pay.example.test/session/cs_1", r.CheckoutURL)
		require.Empty(t, r.CheckoutError)

		reqs := co.requests()
		require.Len(t, reqs, 1)
		require.Equal(t, r.Account.Profile.ID, reqs[0].ProfileID)
		require.Equal(t, "ann@example.com", reqs[0].Email)
		require.Equal(t, core.LineClientGallery, reqs[0].Line)
		require.Equal(t, "plan_gallery_pro_annual", reqs[0].Plan.ID)
		require.Equal(t, "https://app.example.com/welcome", reqs[0].SuccessURL)
		require.Equal(t, "https://app.example.com/pricing", reqs[0].CancelURL)
	})

	t.Run("checkout_wired_later_is_used", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		co := &checkout{}
		f.svc.SetCheckout(co)
		r := f.register(t, paid("drive", "plan_drive_plus_monthly"))
		require.Equal(t, "https://pay.example.test/session/cs_1", r.CheckoutURL)
		require.Equal(t, core.LineDrive, co.requests()[0].Line)
	})

	t.Run("failing_checkout_keeps_the_account_and_says_to_retry", func(t *testing.T) {
		t.Parallel()
		co := &checkout{fail: errors.New("stripe: card_declined")}
		f := newFixture(t, func(cfg *accounts.Config) { cfg.Checkout = co })
		r := f.register(t, paid("studio", "plan_gallery_pro_monthly"))
		require.True(t, r.RequiresPayment)
		require.Empty(t, r.CheckoutURL)
		require.Contains(t, r.CheckoutError, "retry")
		require.NotContains(t, r.CheckoutError, "stripe", "vendor errors are not shown")
		_, err := f.store.ProfileByID(ctx, r.Account.Profile.ID)
		require.NoError(t, err)
	})

	t.Run("free_plan_never_opens_checkout", func(t *testing.T) {
		t.Parallel()
		co := &checkout{}
		f := newFixture(t, func(cfg *accounts.Config) { cfg.Checkout = co })
		r := f.register(t, paid("studio", "plan_gallery_free"))
		require.False(t, r.RequiresPayment)
		require.Empty(t, r.CheckoutURL)
		require.Empty(t, co.requests())
	})
}

func TestRegisterRateLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("per_ip_burst_then_rate_limited_with_retry_after", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withLimiter)
		for i := range accounts.RegisterPerIP.Burst {
			f.register(t, input(fmt.Sprintf("user%d@example.com", i)))
		}
		_, err := f.svc.Register(ctx, input("one-more@example.com"))
		e := requireKind(t, err, core.KindRateLimited, "rate_limited", "")
		require.Positive(t, e.RetryAfter)
		require.LessOrEqual(t, e.RetryAfter, accounts.RegisterPerIP.Period)
		_, err = f.store.ProfileByEmail(ctx, "one-more@example.com")
		requireKind(t, err, core.KindNotFound, "", "")

		other := input("elsewhere@example.com")
		other.ClientIP = "198.51.100.7"
		f.register(t, other)

		f.clock.Advance(e.RetryAfter)
		f.register(t, input("one-more@example.com"))
	})

	t.Run("per_email_burst_then_rate_limited", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withLimiter)
		f.register(t, input("ann@example.com"))
		for i := 1; i < accounts.RegisterPerEmail.Burst; i++ {
			in := input("ANN@example.com")
			in.ClientIP = fmt.Sprintf("198.51.100.%d", i)
			_, err := f.svc.Register(ctx, in)
			requireKind(t, err, core.KindConflict, "email_taken", "")
		}
		in := input("ann@example.com")
		in.ClientIP = "203.0.113.9"
		_, err := f.svc.Register(ctx, in)
		e := requireKind(t, err, core.KindRateLimited, "rate_limited", "")
		require.Positive(t, e.RetryAfter)
	})

	t.Run("invalid_input_is_refused_before_it_counts", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withLimiter)
		bad := input("ann@example.com")
		bad.Password = "short"
		for range accounts.RegisterPerIP.Burst + 5 {
			_, err := f.svc.Register(ctx, bad)
			requireKind(t, err, core.KindInvalid, "", "password")
		}
		f.register(t, input("ann@example.com"))
	})

	t.Run("limiter_that_is_down_lets_registration_through", func(t *testing.T) {
		t.Parallel()
		down := limiterFunc(func(context.Context, string, ports.Limit) (ports.RateDecision, error) {
			return ports.RateDecision{}, core.Unavailable("redis", errors.New("connection refused"))
		})
		f := newFixture(t, func(cfg *accounts.Config) { cfg.Limiter = down })
		f.register(t, input("ann@example.com"))
	})

	t.Run("limiter_failure_of_another_kind_is_an_error", func(t *testing.T) {
		t.Parallel()
		broken := limiterFunc(func(context.Context, string, ports.Limit) (ports.RateDecision, error) {
			return ports.RateDecision{}, errors.New("bad limit")
		})
		f := newFixture(t, func(cfg *accounts.Config) { cfg.Limiter = broken })
		_, err := f.svc.Register(ctx, input("ann@example.com"))
		require.Error(t, err)
		require.Equal(t, core.KindInternal, core.ErrorKind(err), "an unexpected failure is internal")
	})
}
