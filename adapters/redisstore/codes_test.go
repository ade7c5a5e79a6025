package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gellhub/gellhub/adapters/redisstore"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

func TestCodeCache(t *testing.T) {
	t.Parallel()
	testkit.RunCodeCacheSuite(t, func(t *testing.T) (ports.CodeCache, func(time.Duration)) {
		return openRedis(t).Codes(), sleepExpire
	})
}

func TestCodeIsStoredUnderThePrefixWithItsTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openRedis(t)
	rdb := rawRedis(t)
	g := core.ConnectGrant{AppID: "app", ProfileID: "prf", IssuedAt: time.Now()}
	if err := c.Codes().PutCode(ctx, "d1", g, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	key := c.Prefix() + "code:d1"
	ttl, err := rdb.PTTL(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 10*time.Minute-time.Minute || ttl > 10*time.Minute {
		t.Errorf("PTTL(%s) = %s, want just under 10m", key, ttl)
	}
	if _, err := c.Codes().RedeemCode(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Errorf("EXISTS %s after RedeemCode = %d, %v; want 0", key, n, err)
	}
}

func TestCodeUndecodableIsInternal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := openRedis(t)
	if err := rawRedis(t).Set(ctx, c.Prefix()+"code:bad", "not json", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := c.Codes().RedeemCode(ctx, "bad")
	if !core.IsKind(err, core.KindInternal) {
		t.Fatalf("RedeemCode of a corrupt record: %v (kind %s), want KindInternal", err, core.ErrorKind(err))
	}
}

// codeOperations runs each CodeCache method once against c.
func codeOperations(c *redisstore.Client) map[string]func(ctx context.Context) error {
	codes := c.Codes()
	return map[string]func(ctx context.Context) error{
		"Codes.PutCode": func(ctx context.Context) error {
			return codes.PutCode(ctx, "k", core.ConnectGrant{AppID: "app"}, time.Minute)
		},
		"Codes.RedeemCode": func(ctx context.Context) error {
			_, err := codes.RedeemCode(ctx, "k")
			return err
		},
	}
}

func TestCodesOfStoppedRedisAreUnavailable(t *testing.T) {
	t.Parallel()
	for name, addr := range map[string]string{"closed_port": closedAddr(t), "silent_server": silentAddr(t)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := clientFor(t, addr)
			for op, call := range codeOperations(c) {
				start := time.Now()
				err := call(context.Background())
				wantUnavailable(t, op, err, time.Since(start), noHang)
			}
		})
	}
}

func TestCodesOfClosedClientAreUnavailable(t *testing.T) {
	t.Parallel()
	c := openRedis(t)
	opt, err := goredis.ParseURL(redisURL())
	if err != nil {
		t.Fatal(err)
	}
	closed := redisstore.New(goredis.NewClient(opt), c.Prefix())
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	for op, call := range codeOperations(closed) {
		err := call(context.Background())
		if !core.IsKind(err, core.KindUnavailable) || !errors.Is(err, goredis.ErrClosed) {
			t.Errorf("%s after Close: %v (kind %s), want KindUnavailable", op, err, core.ErrorKind(err))
		}
	}
}

func TestCodesPassCallerCancellationThrough(t *testing.T) {
	t.Parallel()
	c := openRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for op, call := range codeOperations(c) {
		err := call(ctx)
		if !errors.Is(err, context.Canceled) || core.IsKind(err, core.KindUnavailable) {
			t.Errorf("%s with a canceled context: %v (kind %s), want context.Canceled, not unavailable", op, err, core.ErrorKind(err))
		}
	}
}
