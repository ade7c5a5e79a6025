package httpapi

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

// mintCodes runs n connect flows to completion for one signed-in merchant
// (start, then finalize with the session: no password hashing) and returns
// their one-time codes.
func mintCodes(b *testing.B, s *testServer, app partnerApp, session string, n int) []string {
	b.Helper()
	codes := make([]string, 0, n)
	for i := 0; i < n; i++ {
		flow, _ := s.startFlow(url.Values{"client_id": {app.clientID}, "return_url": {callback}, "state": {"bench"}})
		fin := s.do("POST", "/api/integrations/connect/finalize", nil, withSession(session), withCookie(ConnectCookie, flow))
		if fin.status != http.StatusOK {
			b.Fatalf("finalize: %d %s", fin.status, fin.body)
		}
		code, _, _ := codeOf(b, fin.json(b)["redirectUrl"].(string))
		codes = append(codes, code)
	}
	return codes
}

// BenchmarkExchange is one exchange after another through the whole stack on
// PostgreSQL + Redis (client authentication, GETDEL of the code, profile
// reads, three keys minted and stored in one transaction).
func BenchmarkExchange(b *testing.B) {
	s := newTestServer(b, "postgres+redis", options{})
	app := s.createApp("drive", callback)
	merchant := s.register(uniqueEmail("bench-merchant"))
	codes := mintCodes(b, s, app, merchant.session, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := s.do("POST", "/api/integrations/connect/exchange", map[string]any{"code": codes[i], "client_id": app.clientID, "client_secret": app.secret})
		if r.status != http.StatusOK {
			b.Fatalf("exchange: %d %s", r.status, r.body)
		}
	}
}

// BenchmarkExchangeLoad is the load target: exchanges arriving at a
// steady 200/s for 10 s (open loop: each request leaves on schedule whether
// or not earlier ones have answered) over real HTTP on loopback, against
// PostgreSQL + Redis. It reports latency percentiles; run it with
// -benchtime=1x (go tool task bench does).
func BenchmarkExchangeLoad(b *testing.B) {
	const rate, seconds = 200, 10
	s := newTestServer(b, "postgres+redis", options{})
	app := s.createApp("drive", callback)
	merchant := s.register(uniqueEmail("load-merchant"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = s.app.Listener(ln) }()
	b.Cleanup(func() { _ = s.app.Shutdown() })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 10 * time.Second}
	endpoint := "http://" + ln.Addr().String() + "/api/integrations/connect/exchange"

	for n := 0; n < b.N; n++ {
		b.StopTimer()
		codes := mintCodes(b, s, app, merchant.session, rate*seconds)
		b.StartTimer()
		lat := make([]time.Duration, len(codes))
		failed := 0
		var mu sync.Mutex
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / rate)
		start := time.Now()
		for i, code := range codes {
			<-tick.C
			wg.Add(1)
			go func() {
				defer wg.Done()
				body, _ := json.Marshal(map[string]string{"code": code, "client_id": app.clientID, "client_secret": app.secret})
				t0 := time.Now()
				res, err := client.Post(endpoint, "application/json", bytes.NewReader(body))
				d := time.Since(t0)
				ok := err == nil && res.StatusCode == http.StatusOK
				if err == nil {
					res.Body.Close()
				}
				mu.Lock()
				lat[i] = d
				if !ok {
					failed++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		tick.Stop()
		elapsed := time.Since(start)
		slices.Sort(lat)
		pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(float64(len(codes))/elapsed.Seconds(), "exchanges/s")
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
		b.ReportMetric(float64(failed), "failed")
		if failed > 0 {
			b.Errorf("%d of %d exchanges failed", failed, len(codes))
		}
	}
}
