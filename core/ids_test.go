package core_test

import (
	"bytes"
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

var fixedTime = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

const crockfordChars = "0123456789abcdefghjkmnpqrstvwxyz"

// newID returns a fresh id of prefix at now from crypto/rand.
func newID(t *testing.T, prefix string, now time.Time) string {
	t.Helper()
	id, err := core.NewID(prefix, now, rand.Reader)
	require.NoError(t, err)
	return id
}

func TestNewID(t *testing.T) {
	t.Parallel()

	t.Run("prefix_underscore_and_26_crockford_characters", func(t *testing.T) {
		t.Parallel()
		for _, prefix := range []string{"prof", "key", "plan", "emb"} {
			id := newID(t, prefix, fixedTime)
			require.True(t, strings.HasPrefix(id, prefix+"_"), id)
			body := strings.TrimPrefix(id, prefix+"_")
			require.Len(t, body, 26)
			for _, c := range body {
				require.Contains(t, crockfordChars, string(c), "id %q has a non-crockford character", id)
			}
		}
	})

	t.Run("sort_order_follows_time", func(t *testing.T) {
		t.Parallel()
		times := []time.Time{
			time.UnixMilli(0),
			time.UnixMilli(1),
			time.UnixMilli(31),
			time.UnixMilli(32),
			time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
			fixedTime,
			fixedTime.Add(time.Millisecond),
			fixedTime.Add(time.Second),
			time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
			time.UnixMilli(1<<48 - 1), // the last millisecond 48 bits hold
		}
		var ids []string
		for _, tm := range times {
			ids = append(ids, newID(t, "x", tm))
		}
		require.True(t, slices.IsSorted(ids), "ids out of time order: %v", ids)
	})

	t.Run("same_millisecond_shares_the_time_part", func(t *testing.T) {
		t.Parallel()
		a := newID(t, "x", fixedTime)
		b := newID(t, "x", fixedTime.Add(999*time.Microsecond))
		require.Equal(t, a[:2+10], b[:2+10], "the first 10 characters encode the millisecond")
		require.NotEqual(t, a, b)
	})

	t.Run("randomness_fills_the_rest", func(t *testing.T) {
		t.Parallel()
		zeros := bytes.NewReader(make([]byte, 10))
		id, err := core.NewID("x", time.UnixMilli(0), zeros)
		require.NoError(t, err)
		require.Equal(t, "x_"+strings.Repeat("0", 26), id)
	})

	t.Run("10000_ids_at_one_instant_are_distinct", func(t *testing.T) {
		t.Parallel()
		seen := make(map[string]bool, 10000)
		for range 10000 {
			id := newID(t, "x", fixedTime)
			require.False(t, seen[id], "duplicate id %q", id)
			seen[id] = true
		}
	})

	t.Run("failing_randomness_is_an_error", func(t *testing.T) {
		t.Parallel()
		_, err := core.NewID("x", fixedTime, iotest.ErrReader(iotest.ErrTimeout))
		require.ErrorIs(t, err, iotest.ErrTimeout)
	})
}

func TestDigest(t *testing.T) {
	t.Parallel()

	t.Run("hex_sha256", func(t *testing.T) {
		t.Parallel()
		// SHA-256("abc") from FIPS 180-2.
		require.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", core.Digest("abc"))
	})
	t.Run("does_not_contain_the_secret", func(t *testing.T) {
		t.Parallel()
		raw := newKey(t, core.LineClientGallery)
		require.NotContains(t, core.Digest(raw), raw)
		require.Len(t, core.Digest(raw), 64)
	})
}

func TestRandomToken(t *testing.T) {
	t.Parallel()

	t.Run("url_safe_and_distinct", func(t *testing.T) {
		t.Parallel()
		a, err := core.RandomToken(rand.Reader, 32)
		require.NoError(t, err)
		b, err := core.RandomToken(rand.Reader, 32)
		require.NoError(t, err)
		require.NotEqual(t, a, b)
		for _, c := range a {
			require.Contains(t, base62Chars, string(c))
		}
		require.GreaterOrEqual(t, len(a), 30, "32 bytes need about 43 base62 characters")
	})
	t.Run("failing_randomness_is_an_error", func(t *testing.T) {
		t.Parallel()
		_, err := core.RandomToken(iotest.ErrReader(iotest.ErrTimeout), 16)
		require.ErrorIs(t, err, iotest.ErrTimeout)
	})
}
