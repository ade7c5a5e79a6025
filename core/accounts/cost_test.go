package accounts_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/ports"
)

// countingHasher counts Verify calls of a real hasher.
type countingHasher struct {
	ports.PasswordHasher
	verifies atomic.Int32
}

func (h *countingHasher) Verify(encoded, password string) (bool, error) {
	h.verifies.Add(1)
	return h.PasswordHasher.Verify(encoded, password)
}

// countingStore counts key lookups of a real store.
type countingStore struct {
	ports.AccountStore
	lookups atomic.Int32
}

func (s *countingStore) APIKeyByDigest(ctx context.Context, digest string) (core.APIKey, error) {
	s.lookups.Add(1)
	return s.AccountStore.APIKeyByDigest(ctx, digest)
}

func TestUnknownEmailCostsAPasswordCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var h *countingHasher
	f := newFixture(t, func(cfg *accounts.Config) {
		h = &countingHasher{PasswordHasher: cfg.Hasher}
		cfg.Hasher = h
	})
	f.register(t, input("ann@example.com"))

	h.verifies.Store(0)
	_, err := f.svc.Login(ctx, accounts.LoginInput{Email: "nobody@example.com", Password: password, ClientIP: "192.0.2.1"})
	requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")
	require.EqualValues(t, 1, h.verifies.Load(), "an unknown email runs one verify, like a known one")

	_, err = f.svc.Login(ctx, accounts.LoginInput{Email: "ann@example.com", Password: "wrong password", ClientIP: "192.0.2.1"})
	requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")
	require.EqualValues(t, 2, h.verifies.Load())
}

func TestMalformedKeysSkipTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var cs *countingStore
	f := newFixture(t, func(cfg *accounts.Config) {
		cs = &countingStore{AccountStore: cfg.Accounts}
		cfg.Accounts = cs
	})
	r := f.register(t, input("ann@example.com"))
	flipped := r.APIKey[:len(r.APIKey)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(r.APIKey, "A")]
	for _, raw := range []string{"", "sk_short", flipped, strings.Repeat("x", 200), "msg_" + strings.Repeat("0", 38)} {
		_, err := f.svc.KeyPrincipal(ctx, raw)
		requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")
	}
	require.EqualValues(t, 0, cs.lookups.Load(), "malformed keys never reach the store")

	_, err := f.svc.KeyPrincipal(ctx, r.APIKey)
	require.NoError(t, err)
	require.EqualValues(t, 1, cs.lookups.Load())
}
