// Package core holds gellhub's domain: entities, value types, validation rules
// and the closed set of error kinds that every layer speaks.
//
// It is the leaf of the dependency graph: it imports only the standard
// library. Use cases live in the sub-packages (core/accounts, core/plans, …);
// the interfaces they need from the outside world (stores, caches, clocks)
// live in package ports. Nothing here reads the clock or the system's
// randomness directly: both are passed in.
package core
