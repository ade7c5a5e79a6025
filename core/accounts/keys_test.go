package accounts_test

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

// flip changes one character of a key's body.
func flip(raw string, i int) string {
	b := []byte(raw)
	if b[i] == 'a' {
		b[i] = 'b'
	} else {
		b[i] = 'a'
	}
	return string(b)
}

func TestKeyPrincipal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	f := newFixture(t)
	r := f.register(t, input("ann@example.com"))
	stored, err := f.store.ActiveAPIKeys(ctx, r.Account.Profile.ID)
	require.NoError(t, err)
	keyIDs := map[core.ProductLine]string{}
	for _, k := range stored {
		keyIDs[k.Line] = k.ID
	}

	for raw, line := range map[string]core.ProductLine{r.APIKey: core.LineClientGallery, r.DriveAPIKey: core.LineDrive} {
		t.Run("valid_"+string(line)+"_key", func(t *testing.T) {
			t.Parallel()
			who, err := f.svc.KeyPrincipal(ctx, raw)
			require.NoError(t, err)
			require.Equal(t, core.Principal{
				ProfileID: r.Account.Profile.ID, Email: "ann@example.com",
				Via: core.AuthAPIKey, Line: line, KeyID: keyIDs[line],
			}, who)
			require.Error(t, who.RequireSession(), "a key is not a session")
		})
	}

	unknown, err := core.NewAPIKeySecret(core.LineClientGallery, rand.Reader)
	require.NoError(t, err)
	tests := []struct{ name, raw string }{
		{"empty", ""},
		{"malformed", "sk_not-a-key"},
		{"flipped_character", flip(r.APIKey, 10)},
		{"truncated", r.APIKey[:len(r.APIKey)-1]},
		{"over_long", r.APIKey + strings.Repeat("0", 128)},
		{"unknown", unknown},
		{"gallery_key_with_the_drive_prefix", "drv_" + strings.TrimPrefix(r.APIKey, "sk_")},
		{"digest_instead_of_key", core.Digest(r.APIKey)},
		{"session_token_as_a_key", r.SessionToken},
	}
	for _, tt := range tests {
		t.Run(tt.name+"_key_is_unauthenticated", func(t *testing.T) {
			t.Parallel()
			_, err := f.svc.KeyPrincipal(ctx, tt.raw)
			requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")
		})
	}

	t.Run("revoked_key_is_unauthenticated", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r, who := f.session(t, "bob@example.com")
		_, err := f.svc.RotateKey(ctx, who, "drive")
		require.NoError(t, err)
		_, err = f.svc.KeyPrincipal(ctx, r.DriveAPIKey)
		requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")
	})
}

func TestRotateKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	for _, tt := range []struct {
		product string
		line    core.ProductLine
	}{
		{"clientGallery", core.LineClientGallery},
		{"drive", core.LineDrive},
	} {
		t.Run(tt.product+"_new_key_works_and_old_key_is_refused_at_once", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			r, who := f.session(t, "ann@example.com")
			old, kept := r.APIKey, r.DriveAPIKey
			if tt.line == core.LineDrive {
				old, kept = kept, old
			}
			f.clock.Advance(time.Minute)

			got, err := f.svc.RotateKey(ctx, who, tt.product)
			require.NoError(t, err)
			require.Equal(t, tt.line, got.Line)
			line, ok := core.ParseAPIKey(got.Key)
			require.True(t, ok)
			require.Equal(t, tt.line, line)
			require.NotEqual(t, old, got.Key)

			byKey, err := f.svc.KeyPrincipal(ctx, got.Key)
			require.NoError(t, err)
			require.Equal(t, r.Account.Profile.ID, byKey.ProfileID)
			require.Equal(t, tt.line, byKey.Line)

			_, err = f.svc.KeyPrincipal(ctx, old)
			requireKind(t, err, core.KindUnauthenticated, "", "")
			_, err = f.svc.KeyPrincipal(ctx, kept)
			require.NoError(t, err, "the other line's key is untouched")

			keys, err := f.store.ActiveAPIKeys(ctx, r.Account.Profile.ID)
			require.NoError(t, err)
			require.Len(t, keys, 2, "one active key per line")
			for _, k := range keys {
				if k.Line == tt.line {
					require.Equal(t, core.Digest(got.Key), k.Digest)
					require.Equal(t, core.KeyDisplayPrefix(got.Key), k.DisplayPrefix)
					require.Equal(t, start.Add(time.Minute), k.CreatedAt)
				}
			}

			me, err := f.svc.Me(ctx, who)
			require.NoError(t, err)
			var prefixes []string
			for _, k := range me.Keys {
				prefixes = append(prefixes, k.DisplayPrefix)
			}
			require.Contains(t, prefixes, core.KeyDisplayPrefix(got.Key))
			require.NotContains(t, prefixes, core.KeyDisplayPrefix(old))
		})
	}

	t.Run("rotating_twice_keeps_only_the_last_key", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, who := f.session(t, "ann@example.com")
		first, err := f.svc.RotateKey(ctx, who, "clientGallery")
		require.NoError(t, err)
		second, err := f.svc.RotateKey(ctx, who, "clientGallery")
		require.NoError(t, err)
		_, err = f.svc.KeyPrincipal(ctx, first.Key)
		requireKind(t, err, core.KindUnauthenticated, "", "")
		_, err = f.svc.KeyPrincipal(ctx, second.Key)
		require.NoError(t, err)
	})

	t.Run("concurrent_rotations_leave_one_active_key", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r, who := f.session(t, "ann@example.com")
		const n = 8
		keys := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				got, err := f.svc.RotateKey(ctx, who, "drive")
				if err == nil {
					keys[i] = got.Key
				}
			})
		}
		wg.Wait()
		var working int
		for _, k := range keys {
			require.NotEmpty(t, k)
			if _, err := f.svc.KeyPrincipal(ctx, k); err == nil {
				working++
			}
		}
		require.Equal(t, 1, working)
		active, err := f.store.ActiveAPIKeys(ctx, r.Account.Profile.ID)
		require.NoError(t, err)
		require.Len(t, active, 2)
	})

	for _, tt := range []struct{ name, product string }{
		{"missing", ""},
		{"messaging", "messaging"},
		{"unknown", "photos"},
		{"wrong_case", "Drive"},
	} {
		t.Run(tt.name+"_product_is_invalid_product", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			r, who := f.session(t, "ann@example.com")
			_, err := f.svc.RotateKey(ctx, who, tt.product)
			requireKind(t, err, core.KindInvalid, "invalid_request", "product")
			_, err = f.svc.KeyPrincipal(ctx, r.APIKey)
			require.NoError(t, err, "nothing was revoked")
			_, err = f.svc.KeyPrincipal(ctx, r.DriveAPIKey)
			require.NoError(t, err, "nothing was revoked")
		})
	}

	t.Run("api_key_principal_is_forbidden", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.register(t, input("ann@example.com"))
		who, err := f.svc.KeyPrincipal(ctx, r.APIKey)
		require.NoError(t, err)
		_, err = f.svc.RotateKey(ctx, who, "clientGallery")
		requireKind(t, err, core.KindForbidden, "forbidden", "")
		_, err = f.svc.KeyPrincipal(ctx, r.APIKey)
		require.NoError(t, err, "the key still works")
	})

	t.Run("unknown_profile_is_not_found", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, err := f.svc.RotateKey(ctx, core.Principal{ProfileID: "prof_gone", Via: core.AuthSession}, "drive")
		requireKind(t, err, core.KindNotFound, "", "")
	})
}
