package accounts_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	login := func(email, pw string) accounts.LoginInput {
		return accounts.LoginInput{Email: email, Password: pw, ClientIP: "192.0.2.1"}
	}

	t.Run("right_password_opens_a_new_session", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.register(t, input("ann@example.com"))
		f.clock.Advance(time.Hour)

		got, err := f.svc.Login(ctx, login("ann@example.com", password))
		require.NoError(t, err)
		require.Equal(t, r.Account.Profile, got.Profile)
		require.NotEqual(t, r.SessionToken, got.SessionToken)
		require.Equal(t, start.Add(time.Hour+accounts.DefaultSessionTTL), got.SessionExpires)

		who, err := f.svc.SessionPrincipal(ctx, got.SessionToken)
		require.NoError(t, err)
		require.Equal(t, r.Account.Profile.ID, who.ProfileID)
		require.Equal(t, core.AuthSession, who.Via)
	})

	t.Run("email_is_case_insensitive", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.register(t, input("Ann.Lee@Example.com"))
		for _, email := range []string{"ann.lee@example.com", "ANN.LEE@EXAMPLE.COM", "  Ann.Lee@example.COM "} {
			got, err := f.svc.Login(ctx, login(email, password))
			require.NoError(t, err, email)
			require.Equal(t, r.Account.Profile.ID, got.Profile.ID)
			require.Equal(t, "Ann.Lee@Example.com", got.Profile.Email, "the email as typed at registration")
		}
	})

	t.Run("wrong_password_and_unknown_email_are_the_same_error", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.register(t, input("ann@example.com"))

		_, wrongPassword := f.svc.Login(ctx, login("ann@example.com", "not the password"))
		_, unknownEmail := f.svc.Login(ctx, login("bob@example.com", password))
		_, caseOfPassword := f.svc.Login(ctx, login("ann@example.com", strings.ToUpper(password)))
		_, overLong := f.svc.Login(ctx, login("ann@example.com", strings.Repeat("p", core.MaxPasswordLen+1)))
		requireKind(t, overLong, core.KindInvalid, "invalid_request", "password")

		want := requireKind(t, wrongPassword, core.KindUnauthenticated, "unauthorized", "")
		for _, err := range []error{unknownEmail, caseOfPassword} {
			e := requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")
			require.Equal(t, want.Message, e.Message)
			require.Equal(t, wrongPassword.Error(), err.Error())
		}
	})

	invalid := []struct {
		name, email, password, detail string
	}{
		{"missing_email", "", password, "email"},
		{"malformed_email", "ann", password, "email"},
		{"missing_password", "ann@example.com", "", "password"},
	}
	for _, tt := range invalid {
		t.Run(tt.name+"_is_invalid_"+tt.detail, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			_, err := f.svc.Login(ctx, login(tt.email, tt.password))
			requireKind(t, err, core.KindInvalid, "invalid_request", tt.detail)
		})
	}

	t.Run("per_email_burst_then_rate_limited_even_with_the_right_password", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withLimiter)
		f.register(t, input("ann@example.com"))
		for i := range accounts.LoginPerEmail.Burst {
			in := login("ann@example.com", "wrong password")
			in.ClientIP = fmt.Sprintf("198.51.100.%d", i)
			_, err := f.svc.Login(ctx, in)
			requireKind(t, err, core.KindUnauthenticated, "", "")
		}
		_, err := f.svc.Login(ctx, login("ANN@example.com", password))
		e := requireKind(t, err, core.KindRateLimited, "rate_limited", "")
		require.Positive(t, e.RetryAfter)
		require.LessOrEqual(t, e.RetryAfter, accounts.LoginPerEmail.Period)

		_, err = f.svc.Login(ctx, login("bob@example.com", password))
		requireKind(t, err, core.KindUnauthenticated, "", "")

		f.clock.Advance(e.RetryAfter)
		_, err = f.svc.Login(ctx, login("ann@example.com", password))
		require.NoError(t, err, "allowed again once RetryAfter has passed")
	})

	t.Run("per_ip_burst_then_rate_limited", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withLimiter)
		f.register(t, input("ann@example.com"))
		for i := range accounts.LoginPerIP.Burst {
			_, err := f.svc.Login(ctx, login(fmt.Sprintf("guess%d@example.com", i), password))
			requireKind(t, err, core.KindUnauthenticated, "", "")
		}
		_, err := f.svc.Login(ctx, login("ann@example.com", password))
		e := requireKind(t, err, core.KindRateLimited, "rate_limited", "")
		require.Positive(t, e.RetryAfter)

		elsewhere := login("ann@example.com", password)
		elsewhere.ClientIP = "203.0.113.5"
		_, err = f.svc.Login(ctx, elsewhere)
		require.NoError(t, err)
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("revokes_the_session", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.register(t, input("ann@example.com"))
		other, err := f.svc.Login(ctx, accounts.LoginInput{Email: "ann@example.com", Password: password})
		require.NoError(t, err)

		require.NoError(t, f.svc.Logout(ctx, r.SessionToken))
		_, err = f.svc.SessionPrincipal(ctx, r.SessionToken)
		requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")

		_, err = f.svc.SessionPrincipal(ctx, other.SessionToken)
		require.NoError(t, err, "the other session of the profile lives on")
		_, err = f.svc.KeyPrincipal(ctx, r.APIKey)
		require.NoError(t, err, "API keys are not sessions")
	})

	for _, tt := range []struct{ name, token string }{
		{"empty", ""},
		{"unknown", "not-a-session-token"},
		{"over_long", strings.Repeat("t", 129)},
	} {
		t.Run(tt.name+"_token_is_not_an_error", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			require.NoError(t, f.svc.Logout(ctx, tt.token))
		})
	}

	t.Run("twice_is_not_an_error", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.register(t, input("ann@example.com"))
		require.NoError(t, f.svc.Logout(ctx, r.SessionToken))
		require.NoError(t, f.svc.Logout(ctx, r.SessionToken))
	})
}

func TestSessionPrincipal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("expires_after_the_ttl", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.register(t, input("ann@example.com"))

		f.clock.Advance(accounts.DefaultSessionTTL - time.Second)
		_, err := f.svc.SessionPrincipal(ctx, r.SessionToken)
		require.NoError(t, err, "still valid a second before expiry")

		f.clock.Advance(time.Second)
		_, err = f.svc.SessionPrincipal(ctx, r.SessionToken)
		requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")
	})

	t.Run("configured_ttl", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(cfg *accounts.Config) { cfg.SessionTTL = time.Hour })
		r := f.register(t, input("ann@example.com"))
		require.Equal(t, start.Add(time.Hour), r.SessionExpires)

		f.clock.Advance(59 * time.Minute)
		_, err := f.svc.SessionPrincipal(ctx, r.SessionToken)
		require.NoError(t, err)
		f.clock.Advance(time.Minute)
		_, err = f.svc.SessionPrincipal(ctx, r.SessionToken)
		requireKind(t, err, core.KindUnauthenticated, "", "")
	})

	t.Run("carries_the_admin_flag", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withAdmins("staff@gellhub.test"))
		_, who := f.session(t, "STAFF@gellhub.test")
		require.True(t, who.IsAdmin)
		require.NoError(t, who.RequireAdmin())
	})

	f := newFixture(t)
	r := f.register(t, input("ann@example.com"))
	for _, tt := range []struct{ name, token string }{
		{"empty", ""},
		{"unknown", "x" + r.SessionToken},
		{"over_long", strings.Repeat("t", 129)},
		{"api_key_as_a_session", r.APIKey},
		{"digest_instead_of_token", core.Digest(r.SessionToken)},
	} {
		t.Run(tt.name+"_token_is_unauthenticated", func(t *testing.T) {
			t.Parallel()
			_, err := f.svc.SessionPrincipal(ctx, tt.token)
			requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")
		})
	}
}
