// Package redisstore implements the ports that API instances share through
// Redis: ports.Cache, ports.RateLimiter (GCRA, by go-redis/redis_rate),
// ports.SessionStore and ports.CodeCache, plus ports.Pinger for readiness.
//
// Every key starts with the client's prefix ("gellhub:" by default) and
// every command touches a single key, so the adapter runs unchanged on Redis
// Cluster (pass a *goredis.ClusterClient to New). The cache's keys are
// prefix+"cache:"+key, the rate limiter's prefix+"rate:"+key, the sessions'
// prefix+"session:"+digest and the connect codes' prefix+"code:"+key: four
// namespaces that cannot collide.
//
// Errors are translated by type, never by message text: goredis.Nil is
// core.KindNotFound; a server that cannot be reached, a timeout of the
// client's own (dial, read, write, pool) and the server's "try again"
// replies (LOADING, READONLY, OOM, …) are core.KindUnavailable; the caller's
// own cancellation or deadline passes through, errors.Is-comparable with
// context.Canceled or context.DeadlineExceeded; anything else is internal.
// Error messages never include keys: a key may carry a one-time code.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"

	"github.com/gellhub/gellhub/ports"
)

// DefaultPrefix is the key prefix used when none is given.
const DefaultPrefix = "gellhub:"

// Timeouts Open applies when the URL does not set them (dial_timeout,
// read_timeout, write_timeout), and the dial attempts per connection (not a
// URL option). Cache, rate-limit and session commands take well under a
// millisecond, so a Redis that does not answer within these is treated as
// down (core.KindUnavailable) rather than holding requests for go-redis's
// 5 s defaults; with go-redis's 5 dial attempts and 3 command retries, a
// stopped server cost every command about 1.7 s before failing.
const (
	DefaultDialTimeout   = 2 * time.Second
	DefaultReadTimeout   = time.Second
	DefaultWriteTimeout  = time.Second
	DefaultDialerRetries = 2
)

// Client is a Redis connection shared by the cache, the rate limiter and the
// session store it hands out. It is safe for concurrent use.
type Client struct {
	rdb     goredis.UniversalClient
	prefix  string
	limiter *redis_rate.Limiter
}

var _ ports.Pinger = (*Client)(nil)

// Open connects to the Redis server at rawURL (redis://[user:password@]host:port/db
// or rediss:// for TLS, with go-redis's query options such as
// dial_timeout=500ms) and pings it: a server that cannot be reached is an
// error (core.KindUnavailable) at start, not at the first request. An empty
// prefix means DefaultPrefix. Timeouts the URL leaves unset get the Default
// values above, and the caller's context deadlines are honoured.
func Open(ctx context.Context, rawURL, prefix string) (*Client, error) {
	opt, err := goredis.ParseURL(rawURL)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep its cause.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("redisstore: invalid Redis URL: %w", err)
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = DefaultDialTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = DefaultReadTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = DefaultWriteTimeout
	}
	if opt.DialerRetries == 0 {
		opt.DialerRetries = DefaultDialerRetries
	}
	opt.ContextTimeoutEnabled = true
	c := New(goredis.NewClient(opt), prefix)
	if err := c.Ping(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// New wraps an existing client (a *goredis.Client, *goredis.ClusterClient or
// *goredis.Ring). The Client takes it over: Close closes it. An empty prefix
// means DefaultPrefix. Set ContextTimeoutEnabled in the client's options, as
// Open does, or a caller's deadline will not cut a slow command short.
func New(rdb goredis.UniversalClient, prefix string) *Client {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Client{
		rdb:     rdb,
		prefix:  prefix,
		limiter: redis_rate.NewLimiter(prefixed{rdb: rdb, prefix: prefix}),
	}
}

// Prefix returns the prefix of every key the client writes.
func (c *Client) Prefix() string { return c.prefix }

// Close closes the connection pool. Commands after Close fail with
// core.KindUnavailable.
func (c *Client) Close() error { return c.rdb.Close() }

// Ping implements ports.Pinger.
func (c *Client) Ping(ctx context.Context) error {
	return translate(ctx, "ping", "", c.rdb.Ping(ctx).Err())
}

// Cache returns the ports.Cache on this connection.
func (c *Client) Cache() *Cache { return &Cache{c: c} }

// RateLimiter returns the ports.RateLimiter on this connection.
func (c *Client) RateLimiter() *RateLimiter { return &RateLimiter{c: c} }

// Sessions returns the ports.SessionStore on this connection.
func (c *Client) Sessions() *SessionStore { return &SessionStore{c: c} }

// pxTTL rounds ttl up to whole milliseconds (Redis's PX resolution; go-redis
// would round down), at least 1 ms, so nothing expires early.
func pxTTL(ttl time.Duration) time.Duration {
	return max(time.Millisecond, (ttl + time.Millisecond - 1).Truncate(time.Millisecond))
}

// prefixed is the go-redis surface redis_rate needs, with every key moved
// under the client's prefix (redis_rate's own "rate:" stays after it).
type prefixed struct {
	rdb    goredis.UniversalClient
	prefix string
}

func (p prefixed) keys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = p.prefix + k
	}
	return out
}

// Eval calls the client's Eval with the keys under the prefix.
func (p prefixed) Eval(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return p.rdb.Eval(ctx, script, p.keys(keys), args...)
}

// EvalSha calls the client's EvalSha with the keys under the prefix.
func (p prefixed) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *goredis.Cmd {
	return p.rdb.EvalSha(ctx, sha1, p.keys(keys), args...)
}

// EvalRO calls the client's EvalRO with the keys under the prefix.
func (p prefixed) EvalRO(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return p.rdb.EvalRO(ctx, script, p.keys(keys), args...)
}

// EvalShaRO calls the client's EvalShaRO with the keys under the prefix.
func (p prefixed) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *goredis.Cmd {
	return p.rdb.EvalShaRO(ctx, sha1, p.keys(keys), args...)
}

// ScriptExists calls the client's ScriptExists (no keys involved).
func (p prefixed) ScriptExists(ctx context.Context, hashes ...string) *goredis.BoolSliceCmd {
	return p.rdb.ScriptExists(ctx, hashes...)
}

// ScriptLoad calls the client's ScriptLoad (no keys involved).
func (p prefixed) ScriptLoad(ctx context.Context, script string) *goredis.StringCmd {
	return p.rdb.ScriptLoad(ctx, script)
}

// Del calls the client's Del with the keys under the prefix.
func (p prefixed) Del(ctx context.Context, keys ...string) *goredis.IntCmd {
	return p.rdb.Del(ctx, p.keys(keys)...)
}
