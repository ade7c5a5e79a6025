// Package ports declares the driven side of gellhub's hexagon: the
// interfaces the core needs from the outside world (stores, caches, rate
// limiters, password hashing, clock) and nothing else. Adapters implement
// them; the core and its use cases depend only on them.
//
// Every method documents the core error kinds it returns. An adapter
// translates its vendor's errors into those kinds (by error code, never by
// message text); any other error is treated as internal by the callers, and
// an adapter whose backend cannot be reached returns core.KindUnavailable.
package ports
