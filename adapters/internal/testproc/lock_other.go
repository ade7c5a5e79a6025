//go:build !unix

package testproc

// lockFile does not lock where flock is missing: parallel test binaries may
// then install a tool twice, which is slow but harmless.
func lockFile(string) (func(), error) { return func() {}, nil }
