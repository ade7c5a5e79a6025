package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// CodeCache implements ports.CodeCache on Redis. A grant is a JSON document
// under prefix+"code:"+key, written with SET … PX ttl so Redis drops it by
// itself, and redeemed with one GETDEL (Redis 6.2 or later), which Redis
// runs atomically: of any number of concurrent redemptions exactly one gets
// the document.
//
// IssuedAt is stored in UTC as RFC 3339 with nanoseconds, so it reads back
// equal (time.Time.Equal) to what was put, in UTC.
type CodeCache struct {
	c *Client
}

var _ ports.CodeCache = (*CodeCache)(nil)

// Codes returns the ports.CodeCache on this connection.
func (c *Client) Codes() *CodeCache { return &CodeCache{c: c} }

// grantRecord is the stored form of a grant, kept apart from
// core.ConnectGrant so that a change to the domain type does not silently
// change what is in Redis (a code outlives a deploy by up to its TTL).
type grantRecord struct {
	AppID     string    `json:"appId"`
	ProfileID string    `json:"profileId"`
	LinkID    string    `json:"linkId"`
	State     string    `json:"state"`
	Line      string    `json:"line"`
	PlanID    string    `json:"planId"`
	IssuedAt  time.Time `json:"issuedAt"`
}

func (k *CodeCache) key(key string) string { return k.c.prefix + "code:" + key }

// PutCode implements ports.CodeCache. A grant put under the key of a stored
// one replaces it. A ttl <= 0 is an error.
func (k *CodeCache) PutCode(ctx context.Context, key string, g core.ConnectGrant, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("redis codes: put: ttl must be > 0, got %s", ttl)
	}
	b, err := json.Marshal(grantRecord{
		AppID:     g.AppID,
		ProfileID: g.ProfileID,
		LinkID:    g.LinkID,
		State:     g.State,
		Line:      string(g.Line),
		PlanID:    g.PlanID,
		IssuedAt:  g.IssuedAt.UTC(),
	})
	if err != nil {
		return core.Internal(fmt.Errorf("redis codes: encode: %w", err))
	}
	return translate(ctx, "set code", "", k.c.rdb.Set(ctx, k.key(key), b, pxTTL(ttl)).Err())
}

// RedeemCode implements ports.CodeCache with GETDEL.
func (k *CodeCache) RedeemCode(ctx context.Context, key string) (core.ConnectGrant, error) {
	b, err := k.c.rdb.GetDel(ctx, k.key(key)).Bytes()
	if err != nil {
		return core.ConnectGrant{}, translate(ctx, "getdel code", "connect code", err)
	}
	var r grantRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return core.ConnectGrant{}, core.Internal(fmt.Errorf("redis codes: decode: %w", err))
	}
	return core.ConnectGrant{
		AppID:     r.AppID,
		ProfileID: r.ProfileID,
		LinkID:    r.LinkID,
		State:     r.State,
		Line:      core.ProductLine(r.Line),
		PlanID:    r.PlanID,
		IssuedAt:  r.IssuedAt.UTC(),
	}, nil
}
