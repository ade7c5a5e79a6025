package redisstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// rawRedis is a plain client on the test server, to look at what the
// adapter wrote.
func rawRedis(t *testing.T) *goredis.Client {
	t.Helper()
	opt, err := goredis.ParseURL(redisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func TestKeysLiveUnderThePrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openRedis(t)
	rdb := rawRedis(t)
	now := time.Now()
	if err := c.Cache().Set(ctx, "code:abc", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.Codes().PutCode(ctx, "abc", core.ConnectGrant{AppID: "a"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RateLimiter().Allow(ctx, "login:ip", ports.Limit{Rate: 1, Period: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := c.Sessions().CreateSession(ctx, core.Session{TokenDigest: "d1", ProfileID: "p", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, "*"+c.Prefix()+"*").Result() // anything mentioning the prefix, anywhere
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	p := c.Prefix()
	// A cache key that looks like a code's lives in another namespace.
	if want := []string{p + "cache:code:abc", p + "code:abc", p + "rate:login:ip", p + "session:d1"}; !slices.Equal(keys, want) {
		t.Fatalf("keys = %q, want %q", keys, want)
	}
	for _, k := range keys {
		if ttl, err := rdb.PTTL(ctx, k).Result(); err != nil || ttl <= 0 {
			t.Errorf("PTTL(%s) = %s, %v; want every key to expire", k, ttl, err)
		}
	}
}

func TestSessionTTLIsItsLifetime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openRedis(t)
	rdb := rawRedis(t)
	created := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) // the TTL is relative: the date does not matter
	for _, tc := range []struct {
		name     string
		lifetime time.Duration
		min, max time.Duration
	}{
		{"hours", 14 * 24 * time.Hour, 14*24*time.Hour - time.Minute, 14 * 24 * time.Hour},
		{"sub_millisecond_rounds_up", 300 * time.Microsecond, 0, time.Millisecond},
		{"already_expired_gets_1ms", -time.Hour, 0, time.Millisecond},
	} {
		digest := "ttl-" + tc.name
		s := core.Session{TokenDigest: digest, ProfileID: "p", CreatedAt: created, ExpiresAt: created.Add(tc.lifetime)}
		if err := c.Sessions().CreateSession(ctx, s); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ttl, err := rdb.PTTL(ctx, c.Prefix()+"session:"+digest).Result()
		if err != nil {
			t.Fatal(err)
		}
		// A 1 ms key may be at 0 or gone already (PTTL -2): only the upper
		// bound says something (pxTTL's own test covers the rounding).
		if tc.max == time.Millisecond && ttl <= tc.max {
			continue
		}
		if ttl <= tc.min || ttl > tc.max {
			t.Errorf("%s: PTTL = %s, want in (%s, %s]", tc.name, ttl, tc.min, tc.max)
		}
	}
}
