package bunstore

import (
	"context"
	"time"

	"github.com/gellhub/gellhub/core"
)

// CreateSession implements ports.SessionStore. A session with the digest of
// a stored one replaces it, in one upsert statement (INSERT … ON CONFLICT DO
// UPDATE, which PostgreSQL and SQLite 3.24+ both accept). The session's
// profile must exist (sessions are deleted with their profile): an unknown
// profile is core.KindConflict, and a replacement that fails this way
// leaves the stored session as it was.
func (s *Store) CreateSession(ctx context.Context, sess core.Session) error {
	row := sessionRow{
		TokenDigest: sess.TokenDigest,
		ProfileID:   sess.ProfileID,
		CreatedAt:   sess.CreatedAt.UTC(),
		ExpiresAt:   sess.ExpiresAt.UTC(),
	}
	_, err := s.db.NewInsert().Model(&row).
		On("CONFLICT (token_digest) DO UPDATE").
		Set("profile_id = EXCLUDED.profile_id").
		Set("created_at = EXCLUDED.created_at").
		Set("expires_at = EXCLUDED.expires_at").
		Exec(ctx)
	return s.fail(ctx, "create session", err)
}

// SessionByDigest implements ports.SessionStore. A session is expired at
// now when now is not before its ExpiresAt.
func (s *Store) SessionByDigest(ctx context.Context, digest string, now time.Time) (core.Session, error) {
	var row sessionRow
	err := s.db.NewSelect().Model(&row).
		Where("token_digest = ?", digest).
		Where("expires_at > ?", now.UTC()).
		Scan(ctx)
	if err != nil {
		return core.Session{}, s.fail(ctx, "session by digest", notFound(err, "session"))
	}
	return row.core(), nil
}

// DeleteSession implements ports.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, digest string) error {
	_, err := s.db.NewDelete().Model((*sessionRow)(nil)).Where("token_digest = ?", digest).Exec(ctx)
	return s.fail(ctx, "delete session", err)
}

// PurgeExpiredSessions implements ports.SessionPurger: it deletes every
// session whose ExpiresAt is at or before now, using the expires_at index.
func (s *Store) PurgeExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.NewDelete().Model((*sessionRow)(nil)).Where("expires_at <= ?", now.UTC()).Exec(ctx)
	if err != nil {
		return 0, s.fail(ctx, "purge expired sessions", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail(ctx, "purge expired sessions", err)
	}
	return int(n), nil
}
