// Package testkit gives tests and embedders everything to run the real core
// without infrastructure: an in-memory Store that implements every store port,
// a fake Clock, a Kit that bundles them with the in-process cache and rate
// limiter, and one contract suite per port (RunStoreSuite, RunCacheSuite, …)
// that every adapter of that port must pass.
//
// testkit imports core, ports and the two dependency-free adapters it hands
// out (adapters/inproc, adapters/argon2id); never a database, Redis or HTTP
// adapter.
package testkit
