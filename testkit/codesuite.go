package testkit

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// RunCodeCacheSuite is the contract of ports.CodeCache. Every adapter must
// pass it.
//
// open returns a fresh, empty code cache for one subtest (subtests run in
// parallel, each with its own open) and expire, which makes d pass for that
// cache: an in-process cache advances its fake clock, a remote one sleeps a
// little longer than d. The suite's TTLs are at most 100 ms, so a sleeping
// expire keeps it fast.
//
// A grant must come back with every field as it was put. IssuedAt is whole
// milliseconds in UTC, which any encoding keeps exactly (adapters store it
// as JSON), and must come back in UTC and equal to it by time.Time.Equal.
func RunCodeCacheSuite(t *testing.T, open func(t *testing.T) (c ports.CodeCache, expire func(d time.Duration))) {
	t.Helper()
	ctx := context.Background()
	long := time.Hour
	issued := time.Now().UTC().Truncate(time.Millisecond)

	// full has every field set, to values that exercise the encoding.
	full := core.ConnectGrant{
		AppID:     "app_suite",
		ProfileID: "prf_suite",
		LinkID:    "lnk_suite",
		State:     `st"ate <&> \ é ✓ ` + "\u2028",
		Line:      core.LineMessaging,
		PlanID:    "plan_suite",
		IssuedAt:  issued,
	}
	t.Run("sample_grant_sets_every_field", func(t *testing.T) {
		t.Parallel()
		// When core.ConnectGrant gains a field, give it a value in full.
		v := reflect.ValueOf(full)
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Errorf("the suite's sample grant leaves %s zero: set it so the round trip covers it", v.Type().Field(i).Name)
			}
		}
	})

	t.Run("put_then_redeem_round_trips_every_field", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		codePut(t, c, "k", full, long)
		codeWantGrant(t, c, "k", full)
	})

	t.Run("empty_fields_stay_empty", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		// A grant without a plan or a state, as a plain connect issues.
		g := core.ConnectGrant{AppID: "app_suite", ProfileID: "prf_suite", LinkID: "lnk_suite", Line: core.LineDrive, IssuedAt: issued}
		codePut(t, c, "k", g, long)
		codeWantGrant(t, c, "k", g)
	})

	t.Run("issued_at_comes_back_in_utc", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		g := full
		g.IssuedAt = issued.In(time.FixedZone("UTC+5:30", 5*3600+1800))
		codePut(t, c, "k", g, long)
		g.IssuedAt = issued
		codeWantGrant(t, c, "k", g)
	})

	t.Run("redeem_twice_is_not_found", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		codePut(t, c, "k", full, long)
		codeWantGrant(t, c, "k", full)
		_, err := c.RedeemCode(ctx, "k")
		wantErrKind(t, "second RedeemCode", err, core.KindNotFound)
	})

	t.Run("unknown_key_is_not_found", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		_, err := c.RedeemCode(ctx, "never-put")
		wantErrKind(t, "RedeemCode of an unknown key", err, core.KindNotFound)
	})

	t.Run("codes_expire_after_ttl", func(t *testing.T) {
		t.Parallel()
		c, expire := open(t)
		codePut(t, c, "early", full, cacheSuiteTTL)
		codePut(t, c, "late", full, cacheSuiteTTL)
		codePut(t, c, "long", full, long)
		codeWantGrant(t, c, "early", full) // redeemed within its ttl
		expire(cacheSuiteTTL)
		_, err := c.RedeemCode(ctx, "late")
		wantErrKind(t, "RedeemCode after the ttl", err, core.KindNotFound)
		codeWantGrant(t, c, "long", full)
	})

	t.Run("keys_are_independent", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		a, b := full, full
		a.State, b.State = "state-a", "state-b"
		codePut(t, c, "a", a, long)
		codePut(t, c, "b", b, long)
		codeWantGrant(t, c, "a", a)
		_, err := c.RedeemCode(ctx, "a")
		wantErrKind(t, "RedeemCode of a redeemed key", err, core.KindNotFound)
		codeWantGrant(t, c, "b", b)
	})

	t.Run("non_positive_ttl_is_an_error", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		for _, ttl := range []time.Duration{0, -time.Second} {
			if err := c.PutCode(ctx, "k", full, ttl); err == nil {
				t.Errorf("PutCode with ttl %s: no error", ttl)
			}
		}
		_, err := c.RedeemCode(ctx, "k")
		wantErrKind(t, "RedeemCode after refused puts", err, core.KindNotFound)
	})

	t.Run("concurrent_redeem_has_one_winner", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		const codes, redeemers = 50, 20
		for r := range codes {
			key := fmt.Sprintf("race-%d", r)
			want := full
			want.State = fmt.Sprintf("state-%d", r)
			codePut(t, c, key, want, long)
			requireOneWinner(t, "RedeemCode", fmt.Sprintf("code %d", r), redeemers, func() error {
				got, err := c.RedeemCode(ctx, key)
				if err == nil && !codeSame(got, want) {
					return fmt.Errorf("RedeemCode = %+v, want %+v", got, want)
				}
				return err
			})
		}
	})
}

func codePut(t *testing.T, c ports.CodeCache, key string, g core.ConnectGrant, ttl time.Duration) {
	t.Helper()
	if err := c.PutCode(context.Background(), key, g, ttl); err != nil {
		t.Fatalf("PutCode(%q): %v", key, err)
	}
}

// codeWantGrant redeems key and checks it gives want.
func codeWantGrant(t *testing.T, c ports.CodeCache, key string, want core.ConnectGrant) {
	t.Helper()
	got, err := c.RedeemCode(context.Background(), key)
	if err != nil {
		t.Fatalf("RedeemCode(%q): %v", key, err)
	}
	if !codeSame(got, want) {
		t.Fatalf("RedeemCode(%q) = %+v, want %+v", key, got, want)
	}
	if loc := got.IssuedAt.Location(); loc != time.UTC {
		t.Fatalf("RedeemCode(%q): IssuedAt in %s, want UTC", key, loc)
	}
}

// codeSame reports whether two grants are equal, IssuedAt by
// time.Time.Equal and every other field, present or future, exactly.
func codeSame(got, want core.ConnectGrant) bool {
	if !got.IssuedAt.Equal(want.IssuedAt) {
		return false
	}
	got.IssuedAt = want.IssuedAt
	return reflect.DeepEqual(got, want)
}
