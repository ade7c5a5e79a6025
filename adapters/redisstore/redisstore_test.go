package redisstore_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gellhub/gellhub/adapters/redisstore"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

// redisURL is the server the integration tests use.
func redisURL() string {
	return testkit.EnvOr("GELLHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
}

// openRedis connects to the test server under a fresh random prefix and
// deletes every key with that prefix when t ends. It skips (fails in CI)
// when Redis is unreachable.
func openRedis(t *testing.T) *redisstore.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	prefix := "gellhub-test:" + strings.ToLower(rand.Text()) + ":"
	c, err := redisstore.Open(ctx, redisURL(), prefix)
	testkit.RequireService(t, "Redis", err)
	t.Cleanup(func() {
		deleteKeys(t, prefix)
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// deleteKeys removes every key under prefix, found with SCAN.
func deleteKeys(t *testing.T, prefix string) {
	t.Helper()
	opt, err := goredis.ParseURL(redisURL())
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup: scan %s*: %v", prefix, err)
		return
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		// One key per DEL: keys of a Cluster may live on different slots.
		pipe := rdb.Pipeline()
		for _, k := range keys[:n] {
			pipe.Del(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Errorf("cleanup: del: %v", err)
			return
		}
		keys = keys[n:]
	}
}

// sleepExpire lets d pass for Redis: its clock and TTLs are ms-grained, so
// a little more than d.
func sleepExpire(d time.Duration) { time.Sleep(d + 5*time.Millisecond) }

func TestCache(t *testing.T) {
	t.Parallel()
	testkit.RunCacheSuite(t, func(t *testing.T) (ports.Cache, func(time.Duration)) {
		return openRedis(t).Cache(), sleepExpire
	})
}

func TestRateLimiter(t *testing.T) {
	t.Parallel()
	testkit.RunRateLimiterSuite(t, func(t *testing.T) (ports.RateLimiter, func(time.Duration)) {
		return openRedis(t).RateLimiter(), sleepExpire
	})
}

func TestSessionStore(t *testing.T) {
	t.Parallel()
	testkit.RunSessionStoreSuite(t, func(t *testing.T) ports.SessionStore {
		return openRedis(t).Sessions()
	})
}
