package blobarg_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/internal/blobarg"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

func TestCheckKey(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"a", "clientGallery/studio_1/up_2/IMG 0001.jpg", "é/ü"} {
		require.NoError(t, blobarg.CheckKey(ok, 255), ok)
	}
	for _, bad := range []string{"", "/abs", "a//b", "a/./b", "a/../b", "..", "a\\b", "a\x00b", strings.Repeat("k", 1025), "\xff"} {
		require.True(t, core.IsKind(blobarg.CheckKey(bad, 0), core.KindInvalid), "%q", bad)
	}
	require.Error(t, blobarg.CheckKey("a/"+strings.Repeat("s", 256), 255))
	require.NoError(t, blobarg.CheckKey("a/"+strings.Repeat("s", 256), 0))
}

func TestCheckContentTypeAndRange(t *testing.T) {
	t.Parallel()
	require.NoError(t, blobarg.CheckContentType("image/jpeg"))
	require.Error(t, blobarg.CheckContentType(""))
	require.Error(t, blobarg.CheckContentType("a\nb"))
	require.NoError(t, blobarg.CheckRange(nil))
	require.NoError(t, blobarg.CheckRange(&ports.ByteRange{Start: 3, End: -1}))
	require.Error(t, blobarg.CheckRange(&ports.ByteRange{Start: -1, End: 2}))
	require.Error(t, blobarg.CheckRange(&ports.ByteRange{Start: 5, End: 2}))
}

func TestLimitedReader(t *testing.T) {
	t.Parallel()
	t.Run("at_the_limit_reads_all", func(t *testing.T) {
		l := &blobarg.LimitedReader{R: bytes.NewReader(make([]byte, 10)), Limit: 10}
		n, err := io.Copy(io.Discard, l)
		require.NoError(t, err)
		require.EqualValues(t, 10, n)
		require.False(t, l.TooLarge)
	})
	t.Run("one_byte_over_fails", func(t *testing.T) {
		l := &blobarg.LimitedReader{R: bytes.NewReader(make([]byte, 11)), Limit: 10}
		_, err := io.Copy(io.Discard, l)
		require.ErrorIs(t, err, blobarg.ErrTooLarge)
		require.True(t, l.TooLarge)
		require.LessOrEqual(t, l.N, int64(11), "never reads past one byte over")
	})
	t.Run("reader_error_is_kept", func(t *testing.T) {
		boom := errors.New("boom")
		l := &blobarg.LimitedReader{R: io.MultiReader(bytes.NewReader([]byte("ab")), errReader{boom}), Limit: 10}
		_, err := io.Copy(io.Discard, l)
		require.ErrorIs(t, err, boom)
		require.ErrorIs(t, l.ReadErr, boom)
	})
	t.Run("cancelled_context_stops", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		l := &blobarg.LimitedReader{Ctx: ctx, R: bytes.NewReader(make([]byte, 10)), Limit: 10}
		_, err := l.Read(make([]byte, 4))
		require.ErrorIs(t, err, context.Canceled)
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
