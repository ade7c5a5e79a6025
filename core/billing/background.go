package billing

import (
	"context"
	"sync"
)

// background tracks the goroutines that apply webhook events after their
// delivery was acknowledged, so that Close can stop them before the
// stores they use are closed.
type background struct {
	ctx    context.Context // cancelled by close
	cancel context.CancelFunc

	mu      sync.Mutex
	running int
	idle    chan struct{} // closed when running drops to 0
	closed  bool
}

func newBackground() *background {
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	return &background{ctx: ctx, cancel: cancel, idle: idle}
}

// start runs fn in a goroutine unless close was called; it reports
// whether fn runs.
func (b *background) start(fn func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	if b.running == 0 {
		b.idle = make(chan struct{})
	}
	b.running++
	go func() {
		defer b.done()
		fn()
	}()
	return true
}

func (b *background) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running--; b.running == 0 {
		close(b.idle)
	}
}

// wait returns once no goroutine runs.
func (b *background) wait() {
	b.mu.Lock()
	idle := b.idle
	b.mu.Unlock()
	<-idle
}

// close refuses new goroutines, cancels b.ctx and waits for the running
// ones.
func (b *background) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	b.wait()
}

// Wait returns once no webhook event is being applied in the background
// (ReceiveWebhook): each has been applied, or has failed and been
// rescheduled.
func (s *Service) Wait() { s.bg.wait() }

// Close stops applying webhook events in the background: events received
// afterwards are recorded only, and the attempts in flight are cancelled
// and waited for. Neither kind is lost or counted as a failed attempt:
// their events stay due in the inbox, for the billing.retry_events job of
// any instance. Call it before closing the stores. Close is idempotent;
// the other use cases keep working.
func (s *Service) Close() { s.bg.close() }
