package testkit

import (
	"os"
	"testing"
)

// InCI reports whether the tests run in CI (CI=true), where every
// integration test must run and a missing service is a failure.
func InCI() bool {
	v := os.Getenv("CI")
	return v == "true" || v == "1"
}

// RequireService stops an integration test whose service could not be
// reached: in CI it fails the test, elsewhere it skips it, saying which
// service and how to start it. It never skips silently. It does nothing when
// err is nil.
func RequireService(t testing.TB, service string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if InCI() {
		t.Fatalf("%s is required in CI but unreachable: %v", service, err)
	}
	t.Skipf("SKIP integration test: %s unreachable (%v); run `go tool task test`, which starts it", service, err)
}

// EnvOr returns the environment variable key, or def when it is empty.
func EnvOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
