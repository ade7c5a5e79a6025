package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchmarkRoute measures one GET through the whole Fiber stack (request id,
// access log, CSRF check, auth, use case, store, JSON), in process.
func benchmarkRoute(b *testing.B, backend, path string, withKey bool) {
	s := newTestServer(b, backend, options{})
	a := s.register(uniqueEmail("bench"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", path, nil)
		if withKey {
			req.Header.Set("x-api-key", a.apiKey)
		}
		res, err := s.app.Test(req, -1)
		if err != nil {
			b.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
		res.Body.Close()
	}
}

func BenchmarkBillingStatusWithAPIKey(b *testing.B) {
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) { benchmarkRoute(b, backend, "/api/billing/status", true) })
	}
}

func BenchmarkPublicPlans(b *testing.B) {
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) { benchmarkRoute(b, backend, "/api/public/plans?type=drive", false) })
	}
}
