package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// SessionStore implements ports.SessionStore on Redis. A session is a JSON
// document under prefix+"session:"+digest whose TTL is its lifetime
// (ExpiresAt − CreatedAt, at least 1 ms), so Redis drops it by itself and no
// purge is needed; SessionByDigest also checks now against ExpiresAt, so a
// caller's clock is obeyed to the nanosecond.
type SessionStore struct {
	c *Client
}

var _ ports.SessionStore = (*SessionStore)(nil)

// sessionRecord is the stored form of a session, kept apart from
// core.Session so that a change to the domain type does not silently change
// what is in Redis. The digest is the key and is not repeated.
type sessionRecord struct {
	ProfileID string    `json:"profileId"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (s *SessionStore) key(digest string) string { return s.c.prefix + "session:" + digest }

// CreateSession implements ports.SessionStore. A session with the digest of
// an existing one replaces it.
func (s *SessionStore) CreateSession(ctx context.Context, sess core.Session) error {
	b, err := json.Marshal(sessionRecord{
		ProfileID: sess.ProfileID,
		CreatedAt: sess.CreatedAt.UTC(),
		ExpiresAt: sess.ExpiresAt.UTC(),
	})
	if err != nil {
		return core.Internal(fmt.Errorf("redis session: encode: %w", err))
	}
	ttl := pxTTL(sess.ExpiresAt.Sub(sess.CreatedAt))
	return translate(ctx, "set session", "", s.c.rdb.Set(ctx, s.key(sess.TokenDigest), b, ttl).Err())
}

// SessionByDigest implements ports.SessionStore.
func (s *SessionStore) SessionByDigest(ctx context.Context, digest string, now time.Time) (core.Session, error) {
	b, err := s.c.rdb.Get(ctx, s.key(digest)).Bytes()
	if err != nil {
		return core.Session{}, translate(ctx, "get session", "session", err)
	}
	var r sessionRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return core.Session{}, core.Internal(fmt.Errorf("redis session: decode: %w", err))
	}
	if !now.Before(r.ExpiresAt) {
		return core.Session{}, core.NotFound("session")
	}
	return core.Session{TokenDigest: digest, ProfileID: r.ProfileID, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}, nil
}

// DeleteSession implements ports.SessionStore.
func (s *SessionStore) DeleteSession(ctx context.Context, digest string) error {
	return translate(ctx, "del session", "", s.c.rdb.Del(ctx, s.key(digest)).Err())
}
