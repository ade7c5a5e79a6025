//go:build !unix

package stripetest

// lockFile does not lock where flock is missing: parallel test binaries may
// then install stripe-mock twice, which is slow but harmless.
func lockFile(string) (func(), error) { return func() {}, nil }
