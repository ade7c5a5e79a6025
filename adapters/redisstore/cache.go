package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/gellhub/gellhub/ports"
)

// Cache implements ports.Cache on Redis: SET with PX, SET NX PX, GET,
// GETDEL (Redis 6.2 or later) and DEL, each under prefix+"cache:"+key.
type Cache struct {
	c *Client
}

var _ ports.Cache = (*Cache)(nil)

const cacheEntry = "cache entry"

// Set implements ports.Cache.
func (k *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("redis cache: set: ttl must be > 0, got %s", ttl)
	}
	return translate(ctx, "set", "", k.c.rdb.Set(ctx, k.c.prefix+"cache:"+key, value, pxTTL(ttl)).Err())
}

// SetNX implements ports.Cache.
func (k *Cache) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("redis cache: setnx: ttl must be > 0, got %s", ttl)
	}
	ok, err := k.c.rdb.SetNX(ctx, k.c.prefix+"cache:"+key, value, pxTTL(ttl)).Result()
	if err != nil {
		return false, translate(ctx, "setnx", "", err)
	}
	return ok, nil
}

// Get implements ports.Cache.
func (k *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := k.c.rdb.Get(ctx, k.c.prefix+"cache:"+key).Bytes()
	if err != nil {
		return nil, translate(ctx, "get", cacheEntry, err)
	}
	return b, nil
}

// Take implements ports.Cache with GETDEL, which Redis runs atomically.
func (k *Cache) Take(ctx context.Context, key string) ([]byte, error) {
	b, err := k.c.rdb.GetDel(ctx, k.c.prefix+"cache:"+key).Bytes()
	if err != nil {
		return nil, translate(ctx, "getdel", cacheEntry, err)
	}
	return b, nil
}

// Delete implements ports.Cache.
func (k *Cache) Delete(ctx context.Context, key string) error {
	return translate(ctx, "del", "", k.c.rdb.Del(ctx, k.c.prefix+"cache:"+key).Err())
}
