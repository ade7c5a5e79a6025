package bunstore_test

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/bunstore"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

// session returns a session of profileID expiring at expires.
func session(t *testing.T, profileID string, expires time.Time) core.Session {
	t.Helper()
	tok, err := core.RandomToken(rand.Reader, 32)
	if err != nil {
		t.Fatal(err)
	}
	return core.Session{TokenDigest: core.Digest(tok), ProfileID: profileID, CreatedAt: expires.Add(-time.Hour), ExpiresAt: expires}
}

func TestSessionStoreSuite(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			testkit.RunSessionStoreSuite(t, func(t *testing.T) ports.SessionStore { return d.open(t) })
		})
	}
}

// TestSessions covers what the session suite leaves to SQL stores:
// microsecond times, the profile foreign key, duplicate digests.
func TestSessions(t *testing.T) {
	t.Parallel()
	// Nanoseconds and a non-UTC zone: the store keeps microseconds.
	now := time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.FixedZone("UTC-7", -7*3600))

	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		ctx := t.Context()
		p := createProfile(t, s)

		t.Run("round_trip_until_expiry", func(t *testing.T) {
			sess := session(t, p.ID, now.Add(time.Hour))
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
			got, err := s.SessionByDigest(ctx, sess.TokenDigest, now)
			if err != nil {
				t.Fatalf("SessionByDigest: %v", err)
			}
			if got.TokenDigest != sess.TokenDigest || got.ProfileID != p.ID ||
				!got.CreatedAt.Equal(sess.CreatedAt.Truncate(time.Microsecond)) ||
				!got.ExpiresAt.Equal(sess.ExpiresAt.Truncate(time.Microsecond)) {
				t.Fatalf("got %+v, want %+v to the microsecond", got, sess)
			}
			expires := sess.ExpiresAt.Truncate(time.Microsecond)
			if _, err := s.SessionByDigest(ctx, sess.TokenDigest, expires.Add(-time.Microsecond)); err != nil {
				t.Fatalf("a microsecond before expiry: %v", err)
			}
			if _, err := s.SessionByDigest(ctx, sess.TokenDigest, expires); !core.IsKind(err, core.KindNotFound) {
				t.Fatalf("at expiry: %v, want not found", err)
			}
		})

		t.Run("unknown_digest_is_not_found", func(t *testing.T) {
			_, err := s.SessionByDigest(ctx, core.Digest("nope"), now)
			if !core.IsKind(err, core.KindNotFound) {
				t.Fatalf("got %v, want not found", err)
			}
		})

		t.Run("delete_revokes_and_unknown_is_no_error", func(t *testing.T) {
			sess := session(t, p.ID, now.Add(time.Hour))
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteSession(ctx, sess.TokenDigest); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SessionByDigest(ctx, sess.TokenDigest, now); !core.IsKind(err, core.KindNotFound) {
				t.Fatalf("after delete: %v, want not found", err)
			}
			if err := s.DeleteSession(ctx, sess.TokenDigest); err != nil {
				t.Fatalf("deleting again: %v", err)
			}
		})

		t.Run("duplicate_digest_replaces", func(t *testing.T) {
			sess := session(t, p.ID, now.Add(time.Hour))
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
			again := sess
			again.ExpiresAt = now.Add(2 * time.Hour)
			if err := s.CreateSession(ctx, again); err != nil {
				t.Fatalf("second session with the same digest: %v, want it to replace the first", err)
			}
			got, err := s.SessionByDigest(ctx, sess.TokenDigest, now)
			if err != nil {
				t.Fatalf("SessionByDigest: %v", err)
			}
			if !got.ExpiresAt.Equal(again.ExpiresAt.Truncate(time.Microsecond)) {
				t.Fatalf("ExpiresAt = %v, want the replacement's %v", got.ExpiresAt, again.ExpiresAt)
			}
		})

		t.Run("unknown_profile_is_conflict", func(t *testing.T) {
			sess := session(t, "prf_unknown", now.Add(time.Hour))
			if err := s.CreateSession(ctx, sess); !core.IsKind(err, core.KindConflict) {
				t.Fatalf("got %v, want conflict (foreign key)", err)
			}
		})
	})
}

func TestPurgeExpiredSessions(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.FixedZone("UTC+2", 2*3600))

	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		ctx := t.Context()
		p := createProfile(t, s)
		expired := []core.Session{
			session(t, p.ID, now.Add(-24*time.Hour)),
			session(t, p.ID, now.Add(-time.Microsecond)),
			session(t, p.ID, now), // expired at now: now is not before ExpiresAt
		}
		live := []core.Session{
			session(t, p.ID, now.Add(time.Microsecond)),
			session(t, p.ID, now.Add(30*24*time.Hour)),
		}
		for _, sess := range append(expired, live...) {
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
		}

		n, err := s.PurgeExpiredSessions(ctx, now)
		if err != nil {
			t.Fatalf("PurgeExpiredSessions: %v", err)
		}
		if n != len(expired) {
			t.Fatalf("purged %d sessions, want %d", n, len(expired))
		}
		for _, sess := range live {
			if _, err := s.SessionByDigest(ctx, sess.TokenDigest, now); err != nil {
				t.Fatalf("live session purged: %v", err)
			}
		}
		// The purged rows are gone, not merely expired: a clock moved back
		// does not bring them back.
		for _, sess := range expired {
			if _, err := s.SessionByDigest(ctx, sess.TokenDigest, now.Add(-48*time.Hour)); !core.IsKind(err, core.KindNotFound) {
				t.Fatalf("purged session still stored: %v", err)
			}
		}
		if n, err := s.PurgeExpiredSessions(ctx, now); err != nil || n != 0 {
			t.Fatalf("second purge: %d, %v; want 0, nil", n, err)
		}
	})
}
