package redisstore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gellhub/gellhub/adapters/redisstore"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// fast are URL options that keep a dead server's tests short.
const fast = "?dial_timeout=200ms&read_timeout=200ms&write_timeout=200ms&max_retries=1"

// noHang bounds how long a call to a dead or silent server may take before
// it reports KindUnavailable. With the fast options it gives up in well
// under a second (two 200 ms attempts and a backoff); the bound is far
// above that, for a loaded 2-core CI machine running the race detector, so
// it only fails on a hang. It stays below the ~12 s a silent server costs
// with go-redis's default timeouts (four 3 s reads), so losing the fast
// options still fails.
const noHang = 10 * time.Second

// closedAddr returns a 127.0.0.1 address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// silentAddr returns the address of a server that accepts connections and
// reads them but never answers, like a hung Redis.
func silentAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(io.Discard, conn) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// clientFor wraps a go-redis client on addr with the fast options, without
// Open's ping.
func clientFor(t *testing.T, addr string) *redisstore.Client {
	t.Helper()
	opt, err := goredis.ParseURL("redis://" + addr + "/0" + fast)
	if err != nil {
		t.Fatal(err)
	}
	opt.DialerRetries = 1
	c := redisstore.New(goredis.NewClient(opt), "gellhub-test:")
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// everyOperation runs each port method once against c.
func everyOperation(c *redisstore.Client) map[string]func(ctx context.Context) error {
	cache, rl, sessions := c.Cache(), c.RateLimiter(), c.Sessions()
	now := time.Now()
	return map[string]func(ctx context.Context) error{
		"Ping": c.Ping,
		"Cache.Set": func(ctx context.Context) error {
			return cache.Set(ctx, "k", []byte("v"), time.Minute)
		},
		"Cache.SetNX": func(ctx context.Context) error {
			_, err := cache.SetNX(ctx, "k", []byte("v"), time.Minute)
			return err
		},
		"Cache.Get": func(ctx context.Context) error {
			_, err := cache.Get(ctx, "k")
			return err
		},
		"Cache.Take": func(ctx context.Context) error {
			_, err := cache.Take(ctx, "k")
			return err
		},
		"Cache.Delete": func(ctx context.Context) error { return cache.Delete(ctx, "k") },
		"RateLimiter.Allow": func(ctx context.Context) error {
			_, err := rl.Allow(ctx, "k", ports.Limit{Rate: 1, Period: time.Second})
			return err
		},
		"Sessions.CreateSession": func(ctx context.Context) error {
			return sessions.CreateSession(ctx, core.Session{TokenDigest: "d", ProfileID: "p", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		},
		"Sessions.SessionByDigest": func(ctx context.Context) error {
			_, err := sessions.SessionByDigest(ctx, "d", now)
			return err
		},
		"Sessions.DeleteSession": func(ctx context.Context) error { return sessions.DeleteSession(ctx, "d") },
	}
}

func wantUnavailable(t *testing.T, what string, err error, took, limit time.Duration) {
	t.Helper()
	if !core.IsKind(err, core.KindUnavailable) {
		t.Errorf("%s: %v (kind %s), want KindUnavailable", what, err, core.ErrorKind(err))
	}
	if took > limit {
		t.Errorf("%s took %s, want under %s", what, took, limit)
	}
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	for name, addr := range map[string]string{"closed_port": closedAddr(t), "silent_server": silentAddr(t)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			c, err := redisstore.Open(context.Background(), "redis://"+addr+"/0"+fast, "")
			if err == nil {
				_ = c.Close()
			}
			wantUnavailable(t, "Open", err, time.Since(start), noHang)
		})
	}
}

func TestStoppedRedisIsUnavailable(t *testing.T) {
	t.Parallel()
	for name, addr := range map[string]string{"closed_port": closedAddr(t), "silent_server": silentAddr(t)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := clientFor(t, addr)
			var wg sync.WaitGroup
			for op, call := range everyOperation(c) {
				wg.Go(func() {
					start := time.Now()
					err := call(context.Background())
					wantUnavailable(t, op, err, time.Since(start), noHang)
				})
			}
			wg.Wait()
		})
	}
}

func TestClosedClientIsUnavailable(t *testing.T) {
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
	for op, call := range everyOperation(closed) {
		err := call(context.Background())
		if !core.IsKind(err, core.KindUnavailable) || !errors.Is(err, goredis.ErrClosed) {
			t.Errorf("%s after Close: %v (kind %s), want KindUnavailable", op, err, core.ErrorKind(err))
		}
	}
}

func TestCallerCancellationPassesThrough(t *testing.T) {
	t.Parallel()
	t.Run("canceled_before_the_call", func(t *testing.T) {
		t.Parallel()
		c := openRedis(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for op, call := range everyOperation(c) {
			err := call(ctx)
			if !errors.Is(err, context.Canceled) || core.IsKind(err, core.KindUnavailable) {
				t.Errorf("%s with a canceled context: %v (kind %s), want context.Canceled, not unavailable", op, err, core.ErrorKind(err))
			}
		}
	})
	t.Run("deadline_hit_while_waiting_for_the_server", func(t *testing.T) {
		t.Parallel()
		// The socket's own timeout is far beyond noHang, so a call that
		// returns within noHang was ended by the caller's deadline.
		opt, err := goredis.ParseURL("redis://" + silentAddr(t) + "/0?read_timeout=1m&max_retries=-1")
		if err != nil {
			t.Fatal(err)
		}
		opt.ContextTimeoutEnabled = true
		c := redisstore.New(goredis.NewClient(opt), "gellhub-test:")
		t.Cleanup(func() { _ = c.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = c.Cache().Get(ctx, "k")
		if took := time.Since(start); took > noHang {
			t.Errorf("Get took %s, want about the caller's 100 ms (under %s), not the 1 min read timeout", took, noHang)
		}
		if !errors.Is(err, context.DeadlineExceeded) || core.IsKind(err, core.KindUnavailable) {
			t.Errorf("Get past the caller's deadline: %v (kind %s), want context.DeadlineExceeded, not unavailable", err, core.ErrorKind(err))
		}
	})
}

func TestOpenRejectsBadURLWithoutLeakingIt(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"http://user:s3cret@127.0.0.1:6379/0",
		"redis://user:s3cret@127.0.0.1:notaport/0",
		"redis://user:s3cret@127.0.0.1:6379/notadb",
		"redis://user:s3cret@[::1/0",
	} {
		c, err := redisstore.Open(context.Background(), raw, "")
		if err == nil {
			_ = c.Close()
			t.Errorf("Open(%q): no error", raw)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): the error %q shows the password", raw, err)
		}
	}
}
