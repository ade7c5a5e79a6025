package inproc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/inproc"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

func TestCodeCache(t *testing.T) {
	t.Parallel()
	testkit.RunCodeCacheSuite(t, func(t *testing.T) (ports.CodeCache, func(time.Duration)) {
		clock := testkit.NewClock(epoch)
		return inproc.NewCodeCache(clock), clock.Advance
	})
}

func TestCodeCacheExpiresExactlyAtTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock(epoch)
	c := inproc.NewCodeCache(clock)
	g := core.ConnectGrant{AppID: "app", ProfileID: "prf", IssuedAt: epoch}
	for _, key := range []string{"before", "at"} {
		if err := c.PutCode(ctx, key, g, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Minute - time.Nanosecond)
	if _, err := c.RedeemCode(ctx, "before"); err != nil {
		t.Fatalf("RedeemCode 1 ns before the ttl: %v", err)
	}
	clock.Advance(time.Nanosecond)
	if _, err := c.RedeemCode(ctx, "at"); !core.IsKind(err, core.KindNotFound) {
		t.Fatalf("RedeemCode at the ttl: %v, want KindNotFound", err)
	}
	if n := c.Len(); n != 0 {
		t.Fatalf("Len = %d after one code was redeemed and one expired, want 0", n)
	}
}

func TestCodeCacheMemoryBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock(epoch)
	// Room for one code (its key, about 110 bytes of JSON and 64 of
	// overhead) and not two.
	c := inproc.NewCodeCache(clock, inproc.WithMaxBytes(300))
	g := core.ConnectGrant{AppID: "app", ProfileID: "prf", IssuedAt: epoch}
	if err := c.PutCode(ctx, "k1", g, time.Minute); err != nil {
		t.Fatalf("first PutCode within the bound: %v", err)
	}
	err := c.PutCode(ctx, "k2", g, time.Minute)
	if !core.IsKind(err, core.KindUnavailable) || !errors.Is(err, inproc.ErrFull) {
		t.Fatalf("PutCode past the bound: %v, want KindUnavailable wrapping ErrFull", err)
	}
	if _, err := c.RedeemCode(ctx, "k1"); err != nil {
		t.Fatalf("the live code was evicted by the refused put: %v", err)
	}
	if err := c.PutCode(ctx, "k2", g, time.Minute); err != nil {
		t.Fatalf("PutCode after the redemption freed the room: %v", err)
	}
}
