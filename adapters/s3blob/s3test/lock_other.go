//go:build !unix

package s3test

// lockFile does not lock where flock is missing: parallel test binaries may
// then install versitygw twice, which is slow but harmless.
func lockFile(string) (func(), error) { return func() {}, nil }
