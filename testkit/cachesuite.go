package testkit

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// cacheSuiteTTL is the lifetime of the suites' short-lived entries. Adapters
// whose expire sleeps (Redis) spend about this long per expiry subtest.
const cacheSuiteTTL = 100 * time.Millisecond

// RunCacheSuite is the contract of ports.Cache. Every adapter must pass it.
//
// open returns a fresh, empty cache for one subtest (subtests run in
// parallel, each with its own open) and expire, which makes d pass for that
// cache: an in-process cache advances its fake clock, a remote one sleeps a
// little longer than d (its server's clock is ms-grained). The suite's TTLs
// are at most 100 ms, so a sleeping expire keeps it fast.
func RunCacheSuite(t *testing.T, open func(t *testing.T) (c ports.Cache, expire func(d time.Duration))) {
	t.Helper()
	ctx := context.Background()
	long := time.Hour

	t.Run("set_then_get", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		cacheSet(t, c, "k", []byte("v1"), long)
		cacheWantValue(t, c, "k", "v1")
		cacheSet(t, c, "k", []byte("v2"), long)
		cacheWantValue(t, c, "k", "v2")
	})

	t.Run("binary_and_empty_values_round_trip", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		bin := []byte{0, 1, 2, 0xff, '\n', 0}
		cacheSet(t, c, "bin", bin, long)
		cacheWantValue(t, c, "bin", string(bin))
		cacheSet(t, c, "empty", []byte{}, long)
		cacheWantValue(t, c, "empty", "") // empty is a value, not an absence
	})

	t.Run("values_are_copied", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		v := []byte("original")
		cacheSet(t, c, "k", v, long)
		copy(v, "XXXXXXXX")
		got, err := c.Get(ctx, "k")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if string(got) != "original" {
			t.Fatalf("Get after the caller changed its slice = %q, want %q", got, "original")
		}
		copy(got, "YYYYYYYY")
		cacheWantValue(t, c, "k", "original")
	})

	t.Run("get_missing_is_not_found", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		_, err := c.Get(ctx, "nope")
		wantErrKind(t, "Get of a missing key", err, core.KindNotFound)
	})

	t.Run("keys_are_independent", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		cacheSet(t, c, "a", []byte("1"), long)
		cacheSet(t, c, "b", []byte("2"), long)
		if err := c.Delete(ctx, "a"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		cacheWantValue(t, c, "b", "2")
		_, err := c.Get(ctx, "a")
		wantErrKind(t, "Get of a deleted key", err, core.KindNotFound)
	})

	t.Run("non_positive_ttl_is_an_error", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		for _, ttl := range []time.Duration{0, -time.Second} {
			if err := c.Set(ctx, "k", []byte("v"), ttl); err == nil {
				t.Errorf("Set with ttl %s: no error", ttl)
			}
			if ok, err := c.SetNX(ctx, "k", []byte("v"), ttl); err == nil || ok {
				t.Errorf("SetNX with ttl %s = %v, %v; want an error", ttl, ok, err)
			}
		}
		_, err := c.Get(ctx, "k")
		wantErrKind(t, "Get after refused writes", err, core.KindNotFound)
	})

	t.Run("entries_expire_after_ttl", func(t *testing.T) {
		t.Parallel()
		c, expire := open(t)
		cacheSet(t, c, "short", []byte("v"), cacheSuiteTTL)
		cacheSet(t, c, "long", []byte("v"), long)
		cacheWantValue(t, c, "short", "v")
		expire(cacheSuiteTTL)
		_, err := c.Get(ctx, "short")
		wantErrKind(t, "Get after the ttl", err, core.KindNotFound)
		_, err = c.Take(ctx, "short")
		wantErrKind(t, "Take after the ttl", err, core.KindNotFound)
		cacheWantValue(t, c, "long", "v")
	})

	t.Run("set_replaces_the_ttl", func(t *testing.T) {
		t.Parallel()
		c, expire := open(t)
		cacheSet(t, c, "k", []byte("v1"), cacheSuiteTTL)
		cacheSet(t, c, "k", []byte("v2"), long)
		expire(cacheSuiteTTL)
		cacheWantValue(t, c, "k", "v2")
	})

	t.Run("setnx_only_when_absent", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		cacheWantSetNX(t, c, "k", "first", long, true)
		cacheWantSetNX(t, c, "k", "second", long, false)
		cacheWantValue(t, c, "k", "first")
		if err := c.Delete(ctx, "k"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		cacheWantSetNX(t, c, "k", "third", long, true)
		cacheWantValue(t, c, "k", "third")
	})

	t.Run("setnx_after_expiry", func(t *testing.T) {
		t.Parallel()
		c, expire := open(t)
		cacheWantSetNX(t, c, "k", "first", cacheSuiteTTL, true)
		expire(cacheSuiteTTL)
		cacheWantSetNX(t, c, "k", "second", long, true)
		cacheWantValue(t, c, "k", "second")
	})

	t.Run("delete_is_idempotent", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		if err := c.Delete(ctx, "never-set"); err != nil {
			t.Fatalf("Delete of an absent key: %v", err)
		}
		cacheSet(t, c, "k", []byte("v"), long)
		for i := range 2 {
			if err := c.Delete(ctx, "k"); err != nil {
				t.Fatalf("Delete #%d: %v", i+1, err)
			}
		}
		_, err := c.Get(ctx, "k")
		wantErrKind(t, "Get after Delete", err, core.KindNotFound)
	})

	t.Run("take_returns_then_deletes", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		cacheSet(t, c, "code", []byte("payload"), long)
		got, err := c.Take(ctx, "code")
		if err != nil || string(got) != "payload" {
			t.Fatalf("Take = %q, %v; want %q", got, err, "payload")
		}
		_, err = c.Take(ctx, "code")
		wantErrKind(t, "second Take", err, core.KindNotFound)
		_, err = c.Get(ctx, "code")
		wantErrKind(t, "Get after Take", err, core.KindNotFound)
		_, err = c.Take(ctx, "never-set")
		wantErrKind(t, "Take of a missing key", err, core.KindNotFound)
	})

	t.Run("concurrent_take_has_one_winner", func(t *testing.T) {
		t.Parallel()
		c, _ := open(t)
		const rounds, takers = 40, 50
		for r := range rounds {
			key := fmt.Sprintf("race-%d", r)
			want := fmt.Sprintf("value-%d", r)
			cacheSet(t, c, key, []byte(want), long)
			requireOneWinner(t, "Take", fmt.Sprintf("round %d", r), takers, func() error {
				got, err := c.Take(ctx, key)
				if err == nil && !bytes.Equal(got, []byte(want)) {
					return fmt.Errorf("Take = %q, want %q", got, want)
				}
				return err
			})
		}
	})
}

func cacheSet(t *testing.T, c ports.Cache, key string, value []byte, ttl time.Duration) {
	t.Helper()
	if err := c.Set(context.Background(), key, value, ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func cacheWantValue(t *testing.T, c ports.Cache, key, want string) {
	t.Helper()
	got, err := c.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if string(got) != want {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

func cacheWantSetNX(t *testing.T, c ports.Cache, key, value string, ttl time.Duration, want bool) {
	t.Helper()
	ok, err := c.SetNX(context.Background(), key, []byte(value), ttl)
	if err != nil {
		t.Fatalf("SetNX(%q): %v", key, err)
	}
	if ok != want {
		t.Fatalf("SetNX(%q) = %v, want %v", key, ok, want)
	}
}

func wantErrKind(t *testing.T, what string, err error, k core.Kind) {
	t.Helper()
	if !core.IsKind(err, k) {
		t.Fatalf("%s: error %v (kind %s), want kind %s", what, err, core.ErrorKind(err), k)
	}
}
