package testkit

import "time"

// Test hooks for the external test package.

// SetMemQueueBackoff shortens q's error backoff and give-up count; call it
// before the first Enqueue.
func SetMemQueueBackoff(q *MemQueue, backoff, maxBackoff time.Duration, maxErrors int) {
	q.backoff, q.maxBackoff, q.maxErrors = backoff, maxBackoff, maxErrors
}

// MemQueueLen is the number of ids q holds: running or waiting to run.
func MemQueueLen(q *MemQueue) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
