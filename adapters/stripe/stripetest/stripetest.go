// Package stripetest starts stripe-mock (github.com/stripe/stripe-mock),
// Stripe's own mock of its API, for tests: a fresh process per test on a
// free loopback port.
//
// The binary is GELLHUB_STRIPE_MOCK when set, else <repo>/.bin/stripe-mock,
// which Start installs at the pinned Version with `go install` when it is
// missing (.ci/services.sh does it before CI's tests). Parallel test
// binaries install it once, under a file lock.
//
// stripe-mock validates requests against Stripe's OpenAPI description and
// answers with fixtures: it keeps no state, so tests assert on the requests
// gellhub sends and on how it reads the answers, not on stored objects.
package stripetest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/internal/testproc"
	"github.com/gellhub/gellhub/testkit"
)

// Version is the stripe-mock release the tests run against.
const Version = "v0.203.0"

// Package is what `go install` builds.
const Package = "github.com/stripe/stripe-mock"

// SecretKey is a test key stripe-mock accepts (any sk_test_ key works).
const SecretKey = "sk_test_gellhub"

const service = "stripe-mock"

// Start runs a fresh stripe-mock for t and returns its base URL
// (http://127.0.0.1:port). It stops when t ends. When it cannot be
// installed or started, the test fails in CI and is skipped elsewhere
// (testkit.RequireService).
func Start(t testing.TB) string {
	t.Helper()
	bin, err := Binary()
	testkit.RequireService(t, service, err)
	client := &http.Client{Timeout: time.Second}
	addr, err := testproc.Start(t, testproc.Server{
		Name: service,
		Bin:  bin,
		// HTTPS too listens unless given a port: an ephemeral one, so that
		// parallel instances never collide on its default.
		Args: func(addr string) []string { return []string{"-http-addr", addr, "-https-addr", "127.0.0.1:0"} },
		// Any HTTP answer (401 without a key) means it serves.
		Ready: func(addr string) bool {
			resp, err := client.Get("http://" + addr + "/v1/customers")
			if err == nil {
				_ = resp.Body.Close()
			}
			return err == nil
		},
	})
	testkit.RequireService(t, service, err)
	return "http://" + addr
}

// Binary returns the stripe-mock to run: GELLHUB_STRIPE_MOCK when set,
// else <repo>/.bin/stripe-mock, installed when it is missing or of
// another version.
func Binary() (string, error) {
	return testproc.Tool{Name: "stripe-mock", Package: Package, Version: Version, Env: "GELLHUB_STRIPE_MOCK"}.Binary()
}

// Sign returns a Stripe-Signature header for payload signed with secret at
// t, as Stripe signs webhook deliveries: t=<unix>,v1=<hex HMAC-SHA256 of
// "<unix>.<payload>">. Each further secret adds a v1 signature, as Stripe
// does while a secret is rolled.
func Sign(payload []byte, t time.Time, secrets ...string) string {
	ts := fmt.Sprint(t.Unix())
	parts := []string{"t=" + ts}
	for _, s := range secrets {
		parts = append(parts, "v1="+hmacHex(s, ts+"."+string(payload)))
	}
	return strings.Join(parts, ",")
}
