package testkit

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// RunSessionStoreSuite is the contract of ports.SessionStore. Every adapter
// must pass it (memory, SQL, Redis).
//
// open returns the store for one subtest; subtests run in parallel and may
// share one backing database, so every session uses a fresh random digest.
// When the store is also a ports.AccountStore (a SQL store whose sessions
// reference profiles, or the memory store), the suite first creates an
// account to own its sessions and checks that a session of an unknown
// profile is refused with core.KindConflict, as a foreign key would;
// otherwise (Redis) the owner is only an id and that check is skipped.
//
// Times are whole milliseconds in UTC, which every backend stores exactly,
// and are compared with time.Time.Equal.
func RunSessionStoreSuite(t *testing.T, open func(t *testing.T) ports.SessionStore) {
	t.Helper()
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	const lifetime = time.Hour

	newSession := func(t *testing.T, s ports.SessionStore) core.Session {
		t.Helper()
		return core.Session{
			TokenDigest: core.Digest(rand.Text()),
			ProfileID:   sessionSuiteOwner(t, s, t0),
			CreatedAt:   t0,
			ExpiresAt:   t0.Add(lifetime),
		}
	}
	create := func(t *testing.T, s ports.SessionStore, sess core.Session) {
		t.Helper()
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
	}

	t.Run("create_get_delete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		sess := newSession(t, s)
		create(t, s, sess)
		got, err := s.SessionByDigest(ctx, sess.TokenDigest, t0)
		if err != nil {
			t.Fatalf("SessionByDigest: %v", err)
		}
		sessionWantSame(t, got, sess)
		if err := s.DeleteSession(ctx, sess.TokenDigest); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		_, err = s.SessionByDigest(ctx, sess.TokenDigest, t0)
		wantErrKind(t, "SessionByDigest after DeleteSession", err, core.KindNotFound)
	})

	t.Run("unknown_digest_is_not_found", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.SessionByDigest(ctx, core.Digest(rand.Text()), t0)
		wantErrKind(t, "SessionByDigest of an unknown digest", err, core.KindNotFound)
	})

	t.Run("expired_is_not_found", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		sess := newSession(t, s)
		create(t, s, sess)
		if _, err := s.SessionByDigest(ctx, sess.TokenDigest, sess.ExpiresAt.Add(-time.Millisecond)); err != nil {
			t.Fatalf("SessionByDigest 1 ms before ExpiresAt: %v", err)
		}
		_, err := s.SessionByDigest(ctx, sess.TokenDigest, sess.ExpiresAt)
		wantErrKind(t, "SessionByDigest at ExpiresAt", err, core.KindNotFound)
		_, err = s.SessionByDigest(ctx, sess.TokenDigest, sess.ExpiresAt.Add(24*time.Hour))
		wantErrKind(t, "SessionByDigest a day after ExpiresAt", err, core.KindNotFound)
	})

	t.Run("delete_unknown_is_fine", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if err := s.DeleteSession(ctx, core.Digest(rand.Text())); err != nil {
			t.Fatalf("DeleteSession of an unknown digest: %v", err)
		}
		sess := newSession(t, s)
		create(t, s, sess)
		for i := range 2 {
			if err := s.DeleteSession(ctx, sess.TokenDigest); err != nil {
				t.Fatalf("DeleteSession #%d: %v", i+1, err)
			}
		}
	})

	t.Run("sessions_are_independent", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a, b := newSession(t, s), newSession(t, s)
		b.ExpiresAt = t0.Add(2 * lifetime)
		create(t, s, a)
		create(t, s, b)
		gotA, err := s.SessionByDigest(ctx, a.TokenDigest, t0)
		if err != nil {
			t.Fatalf("SessionByDigest(a): %v", err)
		}
		sessionWantSame(t, gotA, a)
		if err := s.DeleteSession(ctx, a.TokenDigest); err != nil {
			t.Fatalf("DeleteSession(a): %v", err)
		}
		// b outlives a's expiry and a's deletion.
		gotB, err := s.SessionByDigest(ctx, b.TokenDigest, a.ExpiresAt)
		if err != nil {
			t.Fatalf("SessionByDigest(b) after a was deleted, at a's expiry: %v", err)
		}
		sessionWantSame(t, gotB, b)
	})

	t.Run("CreateSession", func(t *testing.T) {
		t.Parallel()

		t.Run("same_digest_replaces", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			first := newSession(t, s)
			// The replacement differs in every field but the digest: another
			// owner, a later start and an earlier end.
			second := newSession(t, s)
			second.TokenDigest = first.TokenDigest
			second.CreatedAt = t0.Add(time.Minute)
			second.ExpiresAt = t0.Add(lifetime / 2)
			create(t, s, first)
			if err := s.CreateSession(ctx, second); err != nil {
				t.Fatalf("CreateSession with the digest of a stored session: %v, want it to replace that session", err)
			}
			got, err := s.SessionByDigest(ctx, first.TokenDigest, t0)
			if err != nil {
				t.Fatalf("SessionByDigest: %v", err)
			}
			sessionWantSame(t, got, second)
			// The first session's later expiry is gone with it.
			_, err = s.SessionByDigest(ctx, first.TokenDigest, second.ExpiresAt)
			wantErrKind(t, "SessionByDigest at the replacement's ExpiresAt", err, core.KindNotFound)
			// One session is stored under the digest, not two.
			if err := s.DeleteSession(ctx, first.TokenDigest); err != nil {
				t.Fatalf("DeleteSession: %v", err)
			}
			_, err = s.SessionByDigest(ctx, first.TokenDigest, t0)
			wantErrKind(t, "SessionByDigest after DeleteSession", err, core.KindNotFound)
		})

		// Only a store that keeps profiles has this rule (Redis does not):
		// the case is not registered for the others, rather than skipped.
		if _, keepsProfiles := open(t).(ports.AccountStore); keepsProfiles {
			t.Run("unknown_profile_is_conflict", func(t *testing.T) {
				t.Parallel()
				s := open(t)
				orphan := newSession(t, s)
				orphan.ProfileID = "prf_missing" + strings.ToLower(rand.Text())
				err := s.CreateSession(ctx, orphan)
				wantErrKind(t, "CreateSession for an unknown profile", err, core.KindConflict)
				_, err = s.SessionByDigest(ctx, orphan.TokenDigest, t0)
				wantErrKind(t, "SessionByDigest of the refused session", err, core.KindNotFound)

				// A refused replacement leaves the stored session as it was.
				kept := newSession(t, s)
				create(t, s, kept)
				bad := kept
				bad.ProfileID = orphan.ProfileID
				bad.ExpiresAt = t0.Add(2 * lifetime)
				err = s.CreateSession(ctx, bad)
				wantErrKind(t, "CreateSession replacing a session with one of an unknown profile", err, core.KindConflict)
				got, err := s.SessionByDigest(ctx, kept.TokenDigest, t0)
				if err != nil {
					t.Fatalf("SessionByDigest after the refused replacement: %v", err)
				}
				sessionWantSame(t, got, kept)
			})
		}
	})

	t.Run("several_sessions_per_profile", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a := newSession(t, s)
		b := a
		b.TokenDigest = core.Digest(rand.Text())
		create(t, s, a)
		create(t, s, b)
		for _, sess := range []core.Session{a, b} {
			got, err := s.SessionByDigest(ctx, sess.TokenDigest, t0)
			if err != nil {
				t.Fatalf("SessionByDigest: %v", err)
			}
			sessionWantSame(t, got, sess)
		}
	})
}

// sessionSuiteOwner returns a profile id to own a test session. When s also
// stores accounts, it creates that account first.
func sessionSuiteOwner(t *testing.T, s ports.SessionStore, now time.Time) string {
	t.Helper()
	suffix := strings.ToLower(rand.Text())
	id := "prf_test" + suffix
	as, ok := s.(ports.AccountStore)
	if !ok {
		return id
	}
	email := fmt.Sprintf("session-suite-%s@example.com", suffix)
	acct := core.Account{
		Profile: core.Profile{
			ID:              id,
			Email:           email,
			EmailNormalized: email,
			PasswordHash:    "not-a-real-hash",
			DisplayName:     "Session Suite",
			AccountKind:     core.AccountStudio,
			CreatedAt:       now,
			UpdatedAt:       now,
		},
		Studio: core.Studio{ID: "std_test" + suffix, ProfileID: id, CreatedAt: now},
		Drive:  core.Drive{ID: "drv_test" + suffix, ProfileID: id, CreatedAt: now},
	}
	if err := as.CreateAccount(context.Background(), acct); err != nil {
		t.Fatalf("creating the account that owns the test sessions: %v", err)
	}
	return id
}

func sessionWantSame(t *testing.T, got, want core.Session) {
	t.Helper()
	if got.TokenDigest != want.TokenDigest || got.ProfileID != want.ProfileID ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("session = %+v, want %+v", got, want)
	}
}
