package argon2id_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/argon2id"
)

func TestHasher(t *testing.T) {
	t.Parallel()
	h := argon2id.New(argon2id.TestParams)

	enc, err := h.Hash("correct horse battery")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(enc, "$argon2id$v=19$m=256,t=1,p=1$"), enc)

	t.Run("right_password_verifies", func(t *testing.T) {
		ok, err := h.Verify(enc, "correct horse battery")
		require.NoError(t, err)
		require.True(t, ok)
	})
	t.Run("wrong_password_fails", func(t *testing.T) {
		ok, err := h.Verify(enc, "correct horse batterY")
		require.NoError(t, err)
		require.False(t, ok)
	})
	t.Run("salted_hashes_differ", func(t *testing.T) {
		enc2, err := h.Hash("correct horse battery")
		require.NoError(t, err)
		require.NotEqual(t, enc, enc2)
	})
	t.Run("hash_made_with_other_params_verifies", func(t *testing.T) {
		strong, err := argon2id.New(argon2id.Params{Memory: 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}).Hash("pw-123456")
		require.NoError(t, err)
		ok, err := h.Verify(strong, "pw-123456")
		require.NoError(t, err)
		require.True(t, ok)
	})
	t.Run("malformed_hash_is_an_error", func(t *testing.T) {
		for _, bad := range []string{"", "plain", "$argon2i$v=19$m=256,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$aGFzaA"} {
			_, err := h.Verify(bad, "x")
			require.Error(t, err, bad)
		}
	})
}
