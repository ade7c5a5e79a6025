package testkit

import (
	"context"
	"sync"
	"time"
)

// MemQueue backoff after a handler error: memQueueBackoff, doubling with
// each consecutive error up to memQueueMaxBackoff; an id is dropped after
// memQueueMaxErrors consecutive errors.
const (
	memQueueBackoff    = 100 * time.Millisecond
	memQueueMaxBackoff = 5 * time.Second
	memQueueMaxErrors  = 20
)

// MemQueue is an in-process queue of webhook deliveries, for unit and HTTP
// tests and for embedding the core without a database: pass its Enqueue to
// Store.SetEnqueuer, and a handler that attempts one delivery (the role
// River's worker plays in production, adapters/riverjobs).
//
// Each queued id runs in its own goroutine, one run per id at a time. A
// run that is not done runs again after the retryIn its handler returned;
// a run that fails (err != nil) runs again after a short backoff (100 ms,
// doubling, at most 5 s), and the id is dropped after 20 failures in a
// row. Nothing survives the process: a queue that is closed, or a process
// that stops, forgets its ids.
type MemQueue struct {
	h      func(ctx context.Context, id string) (retryIn time.Duration, done bool, err error)
	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // running handlers

	// Backoff settings; the package's tests shorten them.
	backoff, maxBackoff time.Duration
	maxErrors           int

	mu     sync.Mutex
	closed bool
	items  map[string]*memQueueItem // queued ids: running or waiting to run
}

// memQueueItem is one queued id. Guarded by MemQueue.mu.
type memQueueItem struct {
	timer  *time.Timer // waiting for the next run; nil while running
	errors int         // consecutive failed runs
}

// NewMemQueue returns a queue that runs h for each id. h gets a context
// that Close cancels, and answers when to run the id again (retryIn, when
// not done) or that it failed (err, retried after a backoff).
func NewMemQueue(h func(ctx context.Context, id string) (retryIn time.Duration, done bool, err error)) *MemQueue {
	ctx, cancel := context.WithCancel(context.Background())
	return &MemQueue{
		h: h, ctx: ctx, cancel: cancel,
		backoff: memQueueBackoff, maxBackoff: memQueueMaxBackoff, maxErrors: memQueueMaxErrors,
		items: map[string]*memQueueItem{},
	}
}

// Enqueue queues ids, each run at once in its own goroutine. An id queued
// already (running, or waiting for its next run) is not queued twice.
// After Close, Enqueue does nothing.
func (q *MemQueue) Enqueue(ids []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	for _, id := range ids {
		if _, queued := q.items[id]; queued {
			continue
		}
		it := &memQueueItem{}
		q.items[id] = it
		q.wg.Add(1)
		go q.run(id, it)
	}
}

// run runs the handler once for id, then schedules its next run or
// forgets it. q.wg was incremented for it.
func (q *MemQueue) run(id string, it *memQueueItem) {
	defer q.wg.Done()
	retryIn, done, err := q.h(q.ctx, id)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	switch {
	case err != nil:
		it.errors++
		if it.errors >= q.maxErrors {
			delete(q.items, id)
			return
		}
		retryIn = q.backoff
		for i := 1; i < it.errors && retryIn < q.maxBackoff; i++ {
			retryIn *= 2
		}
		retryIn = min(retryIn, q.maxBackoff)
	case done:
		delete(q.items, id)
		return
	default:
		it.errors = 0
	}
	it.timer = time.AfterFunc(max(retryIn, 0), func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.closed {
			return
		}
		it.timer = nil
		q.wg.Add(1) // under q.mu, before Close can start waiting
		go q.run(id, it)
	})
}

// Close stops the queue: no run starts any more, the handlers' context is
// canceled, and Close waits for the running handlers to return. Queued ids
// are forgotten. Calling Close again only waits.
func (q *MemQueue) Close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.wg.Wait()
		return
	}
	q.closed = true
	for _, it := range q.items {
		if it.timer != nil {
			it.timer.Stop()
		}
	}
	q.items = nil
	q.mu.Unlock()
	q.cancel()
	q.wg.Wait()
}
