// Package inproc holds the in-process twins of the Redis adapters: a Cache,
// a RateLimiter and a CodeCache that live in the memory of one process. They are the
// embedded default (a single instance, no Redis) and what testkit hands to
// tests; they pass the same contract suites as adapters/redisstore.
//
// Both read time only from the injected ports.Clock, so expiry and refill
// are testable without sleeping. Neither starts a goroutine: expired entries
// are removed when they are touched and by a sweep whose cost is amortised
// over the writes, and each type has a hard memory bound beyond which writes
// fail with core.KindUnavailable (as Redis's default noeviction policy
// does) rather than evicting live entries.
//
// They are not shared between processes: run more than one API instance and
// the cache and limits must move to Redis.
package inproc
