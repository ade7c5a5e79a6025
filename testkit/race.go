package testkit

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gellhub/gellhub/core"
)

// requireOneWinner starts n goroutines at once, each calling try, and
// asserts that exactly one wins: try returns nil for a win and an error
// of KindNotFound for a loss; any other error is a failure. what names
// the call and round names the attempt in failure messages.
func requireOneWinner(t *testing.T, what, round string, n int, try func() error) {
	t.Helper()
	var (
		wins  atomic.Int32
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		errs  []error
	)
	for range n {
		wg.Go(func() {
			<-start
			switch err := try(); {
			case err == nil:
				wins.Add(1)
			case !core.IsKind(err, core.KindNotFound):
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Errorf("%s: a losing %s: %v (kind %s), want KindNotFound", round, what, err, core.ErrorKind(err))
	}
	if got := wins.Load(); got != 1 {
		t.Fatalf("%s: %d of %d concurrent %ss won, want exactly 1", round, got, n, what)
	}
}
