package connect_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/connect"
	"github.com/gellhub/gellhub/ports"
)

// The limits are package variables that no test may change (the other
// tests run in parallel). These tests drive the bursts at their real
// values, on an inproc limiter on the fixture's fake clock, and are not
// parallel themselves.

func TestExchange_rate_limits(t *testing.T) {
	ctx := context.Background()

	t.Run("per_ip_before_the_client_is_known", func(t *testing.T) {
		f := newFixture(t, withLimiter)
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		code := f.connect(t, p, who.ProfileID)
		bad := connect.ExchangeInput{Code: "x", ClientID: "gh_app_unknown", ClientSecret: "gh_secret_x", ClientIP: "203.0.113.9"}

		for i := range connect.ExchangePerIP.Burst {
			if _, err := f.svc.Exchange(ctx, bad); !core.IsKind(err, core.KindUnauthenticated) {
				t.Fatalf("call %d: want unauthenticated, got %v", i, err)
			}
		}
		_, err := f.svc.Exchange(ctx, bad)
		e := requireKind(t, err, core.KindRateLimited, "rate_limited", "")
		require.Positive(t, e.RetryAfter)

		good := connect.ExchangeInput{Code: code, ClientID: p.app.ClientID, ClientSecret: p.secret, ClientIP: bad.ClientIP}
		_, err = f.svc.Exchange(ctx, good)
		requireKind(t, err, core.KindRateLimited, "rate_limited", "") // the IP is limited whoever asks
		good.ClientIP = "203.0.113.10"
		_, err = f.svc.Exchange(ctx, good)
		require.NoError(t, err, "another IP is not, and the refused call did not burn the code")

		f.clock.Advance(e.RetryAfter)
		_, err = f.svc.Exchange(ctx, bad)
		requireKind(t, err, core.KindUnauthenticated, "", "") // allowed again after RetryAfter
	})

	t.Run("per_client_across_ips", func(t *testing.T) {
		f := newFixture(t, withLimiter)
		p, other := f.partner(t, core.LineDrive), f.partner(t, core.LineDrive)
		in := func(p partner, i int) connect.ExchangeInput {
			return connect.ExchangeInput{Code: "nope", ClientID: p.app.ClientID, ClientSecret: p.secret, ClientIP: fmt.Sprintf("10.0.%d.%d", i/256, i%256)}
		}
		for i := range connect.ExchangePerClient.Burst {
			if _, err := f.svc.Exchange(ctx, in(p, i)); !core.IsKind(err, core.KindInvalid) {
				t.Fatalf("call %d: want invalid code, got %v", i, err)
			}
		}
		_, err := f.svc.Exchange(ctx, in(p, 9999))
		requireKind(t, err, core.KindRateLimited, "rate_limited", "")
		_, err = f.svc.Exchange(ctx, in(other, 0))
		requireKind(t, err, core.KindInvalid, "", "code") // another client has its own budget
	})

	t.Run("a_limiter_that_is_down_lets_calls_through", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(_ *fixture, cfg *connect.Config) {
			cfg.Limiter = limiterFunc(func(context.Context, string, ports.Limit) (ports.RateDecision, error) {
				return ports.RateDecision{}, core.Unavailable("rate limiter", nil)
			})
		})
		p := f.partner(t, core.LineDrive)
		_, who := f.merchant(t)
		_, err := f.exchange(p, f.connect(t, p, who.ProfileID))
		require.NoError(t, err)
		_, err = f.verify(p, who.ProfileID)
		require.NoError(t, err)
	})
}

func TestVerify_rate_limits(t *testing.T) {
	ctx := context.Background()

	f := newFixture(t, withLimiter)
	p := f.partner(t, core.LineDrive)
	_, who := f.merchant(t)
	_, err := f.exchange(p, f.connect(t, p, who.ProfileID))
	require.NoError(t, err)

	in := connect.VerifyInput{ProfileID: who.ProfileID, ClientID: p.app.ClientID, ClientSecret: p.secret, ClientIP: "203.0.113.20"}
	for i := range connect.VerifyPerIP.Burst {
		_, err := f.svc.Verify(ctx, in)
		require.NoError(t, err, "call %d", i)
	}
	_, err = f.svc.Verify(ctx, in)
	requireKind(t, err, core.KindRateLimited, "rate_limited", "")
	f.clock.Advance(time.Minute)
	_, err = f.svc.Verify(ctx, in)
	require.NoError(t, err, "the budget refills")
}

// limiterFunc injects a limiter failure (function-field fakes are for
// failures only; real limiting uses inproc.RateLimiter).
type limiterFunc func(ctx context.Context, key string, l ports.Limit) (ports.RateDecision, error)

func (f limiterFunc) Allow(ctx context.Context, key string, l ports.Limit) (ports.RateDecision, error) {
	return f(ctx, key, l)
}
