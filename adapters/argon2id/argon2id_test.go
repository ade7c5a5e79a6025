package argon2id_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/argon2id"
	"github.com/gellhub/gellhub/core"
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

// result is what one Hash or Verify call returned.
type result struct {
	ok  bool // Verify's answer; true for a Hash without error
	err error
}

// gatedHasher returns a hasher with one slot and one place in line, whose
// slot holder announces itself on entered and then waits for release; a
// caller that gets the place in line announces itself on queued.
func gatedHasher(t *testing.T, maxWait time.Duration) (h *argon2id.Hasher, entered, release, queued chan struct{}) {
	t.Helper()
	h = argon2id.NewWithLimits(argon2id.TestParams, 1, 1, maxWait)
	entered, release, queued = make(chan struct{}), make(chan struct{}), make(chan struct{})
	argon2id.SetTestHooks(h,
		func() { entered <- struct{}{}; <-release },
		func() { queued <- struct{}{} })
	return h, entered, release, queued
}

// goHash starts h.Hash in a goroutine and returns where its result will be.
func goHash(h *argon2id.Hasher) <-chan result {
	c := make(chan result, 1)
	go func() {
		_, err := h.Hash("pw-123456")
		c <- result{ok: err == nil, err: err}
	}()
	return c
}

// goVerify starts h.Verify in a goroutine and returns where its result will be.
func goVerify(h *argon2id.Hasher, enc string) <-chan result {
	c := make(chan result, 1)
	go func() {
		ok, err := h.Verify(enc, "pw-123456")
		c <- result{ok: ok, err: err}
	}()
	return c
}

func requireBusy(t *testing.T, what string, err error) {
	t.Helper()
	require.Error(t, err, what)
	require.ErrorIs(t, err, argon2id.ErrBusy, what)
	require.Equal(t, core.KindUnavailable, core.ErrorKind(err), "%s: %v", what, err)
}

// await returns c's result. The bound only turns a hang into a failure.
func await(t *testing.T, what string, c <-chan result) result {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(time.Minute):
		t.Fatalf("%s: no result after a minute", what)
		return result{}
	}
}

func TestHasherLimits(t *testing.T) {
	t.Parallel()
	enc, err := argon2id.New(argon2id.TestParams).Hash("pw-123456")
	require.NoError(t, err)

	t.Run("full_line_fails_at_once_and_drains", func(t *testing.T) {
		t.Parallel()
		h, entered, release, queued := gatedHasher(t, time.Hour)
		// The second round shows that the first left the slot and the
		// place in line free again.
		for round := range 2 {
			holder := goHash(h)
			<-entered // the holder has the only slot
			waiter := goVerify(h, enc)
			<-queued // the waiter has the only place in line
			select {
			case r := <-waiter:
				t.Fatalf("round %d: the waiter returned %+v while the slot was held", round, r)
			default:
			}

			// Nobody leaves the slot until release, so a third caller that
			// waited would never return: these calls return at once.
			requireBusy(t, "Hash with the line full", await(t, "third Hash", goHash(h)).err)
			requireBusy(t, "Verify with the line full", await(t, "third Verify", goVerify(h, enc)).err)

			release <- struct{}{} // the holder hashes and leaves
			r := await(t, "holder", holder)
			require.NoError(t, r.err, "round %d: holder", round)
			<-entered // the waiter takes the slot
			release <- struct{}{}
			r = await(t, "waiter", waiter)
			require.NoError(t, r.err, "round %d: waiter", round)
			require.True(t, r.ok, "round %d: the waiter's password verifies", round)
		}
	})

	t.Run("wait_is_bounded_and_frees_its_place", func(t *testing.T) {
		t.Parallel()
		h, entered, release, queued := gatedHasher(t, time.Millisecond)
		holder := goHash(h)
		<-entered
		for i := range 2 { // the second waiter gets the place the first gave up
			waiter := goHash(h)
			select {
			case <-queued:
			case r := <-waiter:
				t.Fatalf("waiter %d: %v before getting a place in line, want it to wait", i+1, r.err)
			}
			requireBusy(t, "Hash that waited past maxWait", await(t, "waiter", waiter).err)
		}
		release <- struct{}{}
		require.NoError(t, await(t, "holder", holder).err)
	})

	t.Run("no_line_fails_at_once", func(t *testing.T) {
		t.Parallel()
		h := argon2id.NewWithLimits(argon2id.TestParams, 1, 0, time.Hour)
		entered, release := make(chan struct{}), make(chan struct{})
		argon2id.SetTestHooks(h, func() { entered <- struct{}{}; <-release }, nil)
		holder := goHash(h)
		<-entered
		_, err := h.Hash("pw-123456")
		requireBusy(t, "Hash with no line and the slot held", err)
		close(release)
		require.NoError(t, await(t, "holder", holder).err)
		next := goHash(h)
		<-entered
		require.NoError(t, await(t, "Hash with the slot free", next).err)
	})

	t.Run("invalid_limits_panic", func(t *testing.T) {
		t.Parallel()
		for _, l := range []struct {
			concurrent, waiting int
			maxWait             time.Duration
		}{{0, 1, time.Second}, {1, -1, time.Second}, {1, 1, 0}} {
			require.Panics(t, func() { argon2id.NewWithLimits(argon2id.TestParams, l.concurrent, l.waiting, l.maxWait) }, "%+v", l)
		}
	})
}
