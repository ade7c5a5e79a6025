package inproc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/inproc"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

var epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func TestCache(t *testing.T) {
	t.Parallel()
	testkit.RunCacheSuite(t, func(t *testing.T) (ports.Cache, func(time.Duration)) {
		clock := testkit.NewClock(epoch)
		return inproc.NewCache(clock), clock.Advance
	})
}

func TestCacheExpiresExactlyAtTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock(epoch)
	c := inproc.NewCache(clock)
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute - time.Nanosecond)
	if _, err := c.Get(ctx, "k"); err != nil {
		t.Fatalf("Get 1 ns before the ttl: %v", err)
	}
	clock.Advance(time.Nanosecond)
	if _, err := c.Get(ctx, "k"); !core.IsKind(err, core.KindNotFound) {
		t.Fatalf("Get at the ttl: %v, want KindNotFound", err)
	}
}

func TestCacheSweepsExpiredEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock(epoch)
	c := inproc.NewCache(clock)
	const n = 1000
	for i := range n {
		if err := c.Set(ctx, fmt.Sprintf("old-%d", i), []byte("v"), time.Second); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Second)
	// Nobody reads the old keys again: the writes alone must clear them.
	for i := range n {
		if err := c.Set(ctx, fmt.Sprintf("new-%d", i%10), []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Len(); got > 10 {
		t.Fatalf("Len = %d after the old entries expired and %d writes, want 10", got, n)
	}
}

func TestCacheMemoryBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock(epoch)
	// Room for ten entries of a 2-byte key and a 30-byte value.
	c := inproc.NewCache(clock, inproc.WithMaxBytes(10*(2+30+64)))
	val := make([]byte, 30)
	for i := range 10 {
		if err := c.Set(ctx, fmt.Sprintf("k%d", i), val, time.Minute); err != nil {
			t.Fatalf("Set #%d within the bound: %v", i, err)
		}
	}

	t.Run("a_new_key_past_the_bound_is_unavailable", func(t *testing.T) {
		err := c.Set(ctx, "kx", val, time.Minute)
		if !core.IsKind(err, core.KindUnavailable) || !errors.Is(err, inproc.ErrFull) {
			t.Fatalf("Set past the bound: %v, want KindUnavailable wrapping ErrFull", err)
		}
		if ok, err := c.SetNX(ctx, "kx", val, time.Minute); ok || !core.IsKind(err, core.KindUnavailable) {
			t.Fatalf("SetNX past the bound = %v, %v; want KindUnavailable", ok, err)
		}
	})
	t.Run("live_entries_are_not_evicted", func(t *testing.T) {
		for i := range 10 {
			if _, err := c.Get(ctx, fmt.Sprintf("k%d", i)); err != nil {
				t.Fatalf("Get(k%d) after refused writes: %v", i, err)
			}
		}
	})
	t.Run("replacing_a_key_in_place_fits", func(t *testing.T) {
		if err := c.Set(ctx, "k0", val, time.Minute); err != nil {
			t.Fatalf("overwrite within the bound: %v", err)
		}
	})
	t.Run("room_comes_back_when_entries_expire", func(t *testing.T) {
		clock.Advance(time.Minute)
		if err := c.Set(ctx, "kx", val, time.Minute); err != nil {
			t.Fatalf("Set after every entry expired: %v", err)
		}
	})
	t.Run("room_comes_back_on_delete", func(t *testing.T) {
		c := inproc.NewCache(clock, inproc.WithMaxBytes(2+30+64))
		if err := c.Set(ctx, "k1", val, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, "k2", val, time.Minute); !core.IsKind(err, core.KindUnavailable) {
			t.Fatalf("second Set = %v, want KindUnavailable", err)
		}
		if _, err := c.Take(ctx, "k1"); err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, "k2", val, time.Minute); err != nil {
			t.Fatalf("Set after Take freed the room: %v", err)
		}
	})
	t.Run("an_entry_larger_than_the_bound_is_an_error", func(t *testing.T) {
		c := inproc.NewCache(clock, inproc.WithMaxBytes(100))
		if err := c.Set(ctx, "big", make([]byte, 200), time.Minute); err == nil {
			t.Fatal("no error")
		}
	})
}
