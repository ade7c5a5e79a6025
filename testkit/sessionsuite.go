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
// reference profiles), the suite first creates an account to own its
// sessions; otherwise the owner is only an id.
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
