package core_test

import (
	"crypto/rand"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

const base62Chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newKey mints a fresh raw key of line from crypto/rand.
func newKey(t *testing.T, line core.ProductLine) string {
	t.Helper()
	raw, err := core.NewAPIKeySecret(line, rand.Reader)
	require.NoError(t, err)
	return raw
}

// otherBase62 returns a base62 character different from c.
func otherBase62(c byte) byte {
	if c == 'a' {
		return 'b'
	}
	return 'a'
}

func TestKeyPrefix(t *testing.T) {
	t.Parallel()

	tests := []struct {
		line core.ProductLine
		want string
	}{
		{core.LineClientGallery, "sk_"},
		{core.LineDrive, "drv_"},
		{core.LineMessaging, "msg_"},
		{core.ProductLine("unknown"), ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.line)+"_is_"+tt.want, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, core.KeyPrefix(tt.line))
		})
	}
}

func TestNewAPIKeySecret(t *testing.T) {
	t.Parallel()

	for _, line := range core.ProductLines {
		t.Run(string(line)+"_key_has_prefix_body_and_checksum", func(t *testing.T) {
			t.Parallel()
			raw := newKey(t, line)
			prefix := core.KeyPrefix(line)
			require.True(t, strings.HasPrefix(raw, prefix), "key %q lacks prefix %q", raw, prefix)
			rest := strings.TrimPrefix(raw, prefix)
			require.Len(t, rest, 32+6, "32 characters of body and 6 of checksum")
			for _, c := range rest {
				require.Contains(t, base62Chars, string(c), "key %q is not base62 after its prefix", raw)
			}
		})
	}

	t.Run("1000_keys_are_distinct", func(t *testing.T) {
		t.Parallel()
		seen := map[string]bool{}
		digests := map[string]bool{}
		for i := range 1000 {
			raw := newKey(t, core.ProductLines[i%len(core.ProductLines)])
			require.False(t, seen[raw], "duplicate key %q", raw)
			seen[raw] = true
			digests[core.Digest(raw)] = true
		}
		require.Len(t, digests, 1000)
	})

	t.Run("failing_randomness_is_an_error", func(t *testing.T) {
		t.Parallel()
		_, err := core.NewAPIKeySecret(core.LineDrive, iotest.ErrReader(iotest.ErrTimeout))
		require.ErrorIs(t, err, iotest.ErrTimeout)
	})
}

func TestParseAPIKey(t *testing.T) {
	t.Parallel()

	for _, line := range core.ProductLines {
		t.Run("accepts_a_fresh_"+string(line)+"_key", func(t *testing.T) {
			t.Parallel()
			for range 50 {
				got, ok := core.ParseAPIKey(newKey(t, line))
				require.True(t, ok)
				require.Equal(t, line, got)
			}
		})

		t.Run("rejects_any_flipped_character_of_a_"+string(line)+"_key", func(t *testing.T) {
			t.Parallel()
			raw := newKey(t, line)
			for i := range len(raw) {
				b := []byte(raw)
				b[i] = otherBase62(b[i])
				_, ok := core.ParseAPIKey(string(b))
				require.False(t, ok, "flipping position %d of %q was accepted: %q", i, raw, b)
			}
		})
	}

	sk := newKey(t, core.LineClientGallery)
	body := strings.TrimPrefix(sk, "sk_")
	tests := []struct {
		name string
		raw  string
	}{
		{"empty", ""},
		{"prefix_only", "sk_"},
		{"wrong_checksum", "sk_" + body[:32] + "000000"},
		{"checksum_of_another_body", "sk_" + body[:32] + strings.TrimPrefix(newKey(t, core.LineClientGallery), "sk_")[32:]},
		{"wrong_prefix", "pk_" + body},
		{"upper_case_prefix", "SK_" + body},
		{"no_prefix", body},
		{"truncated_by_one", sk[:len(sk)-1]},
		{"truncated_checksum", sk[:len(sk)-6]},
		{"one_character_too_many", sk + "0"},
		{"non_base62_character", "sk_" + body[:10] + "-" + body[11:]},
		{"surrounding_space", " " + sk},
		{"trailing_newline", sk + "\n"},
	}
	for _, tt := range tests {
		t.Run("rejects_"+tt.name, func(t *testing.T) {
			t.Parallel()
			line, ok := core.ParseAPIKey(tt.raw)
			require.False(t, ok)
			require.Empty(t, line)
		})
	}
}

func TestKeyDisplayPrefix(t *testing.T) {
	t.Parallel()

	for _, line := range core.ProductLines {
		t.Run(string(line)+"_shows_prefix_and_8_characters", func(t *testing.T) {
			t.Parallel()
			raw := newKey(t, line)
			got := core.KeyDisplayPrefix(raw)
			require.Len(t, got, len(core.KeyPrefix(line))+8)
			require.True(t, strings.HasPrefix(raw, got))
			require.Equal(t, got+"…", core.MaskKey(got))
		})
	}
	t.Run("malformed_key_has_no_display_prefix", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, core.KeyDisplayPrefix("sk_tooshort"))
		require.Empty(t, core.KeyDisplayPrefix(""))
	})
	t.Run("mask_of_empty_is_empty", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, core.MaskKey(""))
	})
	t.Run("mask_example", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "sk_4fZq9TbW…", core.MaskKey("sk_4fZq9TbW"))
	})
}

func TestAPIKeyActive(t *testing.T) {
	t.Parallel()

	require.True(t, core.APIKey{}.Active())
	now := fixedTime
	require.False(t, core.APIKey{RevokedAt: &now}.Active())
}
