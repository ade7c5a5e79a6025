package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// secretHeader is a header value that must never show in an error.
const secretHeader = "deadbeef-signature-SECRET"

// receiver is a real HTTP server that records what reaches it.
type receiver struct {
	*httptest.Server
	hits  atomic.Int64 // requests handled
	conns atomic.Int64 // connections accepted

	mu   sync.Mutex
	last *http.Request
	body []byte
}

// newReceiver starts a receiver on 127.0.0.1 that answers with handle
// (nil: 200 {"ok":true}).
func newReceiver(t *testing.T, handle http.HandlerFunc) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewUnstartedServer(rc.handler(handle))
	rc.Config.ConnState = rc.connState
	rc.Start()
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) handler(handle http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.last, rc.body = r.Clone(context.Background()), body
		rc.mu.Unlock()
		rc.hits.Add(1)
		if handle == nil {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":true}`)
			return
		}
		handle(w, r)
	}
}

func (rc *receiver) connState(_ net.Conn, st http.ConnState) {
	if st == http.StateNew {
		rc.conns.Add(1)
	}
}

// got returns the last request and its body.
func (rc *receiver) got(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.last == nil {
		t.Fatal("the receiver got no request")
	}
	return rc.last, rc.body
}

// port is the receiver's port.
func (rc *receiver) port() string {
	_, port, _ := net.SplitHostPort(rc.Listener.Addr().String())
	return port
}

// wantError checks err's kind and code and that it leaks no secret.
func wantError(t *testing.T, err error, kind core.Kind, code string) *core.Error {
	t.Helper()
	e, ok := core.AsError(err)
	if !ok {
		t.Fatalf("error = %v (%T), want a *core.Error", err, err)
	}
	if e.Kind != kind || e.Code != code {
		t.Fatalf("error = %v: kind %v code %q, want %v %q", err, e.Kind, e.Code, kind, code)
	}
	if strings.Contains(err.Error(), secretHeader) || strings.Contains(err.Error(), "token=") {
		t.Fatalf("error %q leaks a header value or the URL's query", err)
	}
	return e
}

// blockUntilGone waits until the client gives up (or a long time).
func blockUntilGone(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

func request(url string) ports.WebhookRequest {
	return ports.WebhookRequest{
		URL:              url,
		Header:           map[string]string{"X-GellHub-Signature": secretHeader},
		Body:             []byte(`{"version":1}`),
		Timeout:          5 * time.Second,
		MaxResponseBytes: 64 << 10,
	}
}

func TestSend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New(Config{AllowPrivate: true})
	t.Cleanup(s.CloseIdleConnections)

	t.Run("posts_body_and_headers", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"version":1,"message":"hi"}`)
		})
		body := []byte(`{"version":1,"skill":"booking"}`)
		resp, err := s.Send(ctx, ports.WebhookRequest{
			URL: rc.URL + "/hooks/skills?store=42",
			Header: map[string]string{
				"X-GellHub-Timestamp": "1700000000",
				"X-GellHub-Signature": secretHeader,
				"Content-Type":        "text/plain", // the sender's wins
			},
			Body:             body,
			Timeout:          5 * time.Second,
			MaxResponseBytes: 64 << 10,
		})
		if err != nil {
			t.Fatal(err)
		}
		r, got := rc.got(t)
		if r.Method != http.MethodPost || r.URL.Path != "/hooks/skills" || r.URL.RawQuery != "store=42" {
			t.Errorf("request = %s %s", r.Method, r.URL)
		}
		if !bytes.Equal(got, body) || r.ContentLength != int64(len(body)) {
			t.Errorf("body = %q (length %d), want %q", got, r.ContentLength, body)
		}
		for k, want := range map[string]string{
			"Content-Type":        "application/json",
			"User-Agent":          DefaultUserAgent,
			"X-Gellhub-Timestamp": "1700000000",
			"X-Gellhub-Signature": secretHeader,
		} {
			if v := r.Header.Get(k); v != want {
				t.Errorf("header %s = %q, want %q", k, v, want)
			}
		}
		if resp.StatusCode != 200 || resp.ContentType != "application/json; charset=utf-8" ||
			string(resp.Body) != `{"version":1,"message":"hi"}` || resp.Truncated || resp.Duration <= 0 {
			t.Errorf("response = %+v", resp)
		}
	})

	t.Run("custom_user_agent", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, nil)
		if _, err := New(Config{AllowPrivate: true, UserAgent: "Acme/2"}).Send(ctx, request(rc.URL)); err != nil {
			t.Fatal(err)
		}
		if r, _ := rc.got(t); r.Header.Get("User-Agent") != "Acme/2" {
			t.Errorf("User-Agent = %q", r.Header.Get("User-Agent"))
		}
	})

	t.Run("error_status_is_an_answer", func(t *testing.T) {
		t.Parallel()
		for _, status := range []int{500, 503, 429, 404} {
			rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "120")
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, "busy")
			})
			resp, err := s.Send(ctx, request(rc.URL))
			if err != nil {
				t.Fatalf("%d: %v", status, err)
			}
			if resp.StatusCode != status || resp.RetryAfter != "120" || resp.ContentType != "text/plain" || string(resp.Body) != "busy" {
				t.Errorf("%d: response = %+v", status, resp)
			}
		}
	})

	t.Run("redirect_not_followed", func(t *testing.T) {
		t.Parallel()
		target := newReceiver(t, nil)
		for _, status := range []int{301, 302, 303, 307, 308} {
			rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/elsewhere", status)
			})
			resp, err := s.Send(ctx, request(rc.URL))
			if err != nil {
				t.Fatalf("%d: %v", status, err)
			}
			if resp.StatusCode != status {
				t.Errorf("status = %d, want %d", resp.StatusCode, status)
			}
		}
		if n := target.hits.Load(); n != 0 {
			t.Errorf("the redirect target got %d requests, want 0", n)
		}
	})

	t.Run("oversized_answer_truncated", func(t *testing.T) {
		t.Parallel()
		big := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16) // 100 KiB
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(big) })
		for _, limit := range []int64{64 << 10, 0 /* the default, 64 KiB */} {
			req := request(rc.URL)
			req.MaxResponseBytes = limit
			resp, err := s.Send(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if !resp.Truncated || len(resp.Body) != 64<<10 || !bytes.Equal(resp.Body, big[:64<<10]) {
				t.Errorf("limit %d: truncated %v, %d bytes; want the first 65536 bytes", limit, resp.Truncated, len(resp.Body))
			}
		}
	})

	t.Run("answer_at_the_cap_is_whole", func(t *testing.T) {
		t.Parallel()
		exact := bytes.Repeat([]byte("x"), 1000)
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(exact) })
		req := request(rc.URL)
		req.MaxResponseBytes = 1000
		resp, err := s.Send(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Truncated || !bytes.Equal(resp.Body, exact) {
			t.Errorf("truncated %v, %d bytes; want 1000 whole", resp.Truncated, len(resp.Body))
		}
	})

	t.Run("slow_answer_times_out", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { blockUntilGone(r) })
		req := request(rc.URL)
		req.Timeout = 300 * time.Millisecond
		start := time.Now()
		_, err := s.Send(ctx, req)
		e := wantError(t, err, core.KindUnavailable, CodeUnreachable)
		if e.Message != "timed out after 300ms" {
			t.Errorf("message = %q", e.Message)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Send took %v: the timeout did not cut the exchange", d)
		}
	})

	t.Run("slow_body_times_out", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			_, _ = io.WriteString(w, `{"version":1,`)
			w.(http.Flusher).Flush()
			blockUntilGone(r)
		})
		req := request(rc.URL)
		req.Timeout = 300 * time.Millisecond
		start := time.Now()
		_, err := s.Send(ctx, req)
		e := wantError(t, err, core.KindUnavailable, CodeUnreachable)
		if !strings.HasPrefix(e.Message, "timed out") {
			t.Errorf("message = %q", e.Message)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Send took %v: the timeout did not bound the body", d)
		}
	})

	t.Run("caller_cancel", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { blockUntilGone(r) })
		cctx, cancel := context.WithCancel(ctx)
		go func() {
			for rc.hits.Load() == 0 {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
		}()
		_, err := s.Send(cctx, request(rc.URL))
		e := wantError(t, err, core.KindUnavailable, CodeUnreachable)
		if e.Message != "the request was cancelled" || !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v", err)
		}
	})

	t.Run("connection_refused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		_, err = s.Send(ctx, request("http://"+addr+"/hook?token=abc"))
		e := wantError(t, err, core.KindUnavailable, CodeUnreachable)
		if e.Message != "connection refused" {
			t.Errorf("message = %q", e.Message)
		}
	})

	t.Run("unknown_host", func(t *testing.T) {
		t.Parallel()
		req := request("http://no-such-host.invalid/hook")
		req.Timeout = 2 * time.Second
		_, err := s.Send(ctx, req)
		e := wantError(t, err, core.KindUnavailable, CodeUnreachable)
		// A machine without a DNS server may time out instead.
		if !strings.Contains(e.Message, "no-such-host.invalid") && !strings.HasPrefix(e.Message, "timed out") {
			t.Errorf("message = %q", e.Message)
		}
	})

	t.Run("only_http_urls", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, nil)
		host := rc.Listener.Addr().String()
		for _, u := range []string{
			"ftp://" + host + "/hook",
			"file:///etc/passwd",
			"gopher://" + host + "/",
			"javascript:alert(1)",
			"mailto:ops@example.com",
			"//" + host + "/hook",
			"/hook",
			"",
			"http:///nohost",
			"http://user:hunter2@" + host + "/hook?token=abc",
			"https://token@" + host + "/hook",
			"http://%zz/",
		} {
			_, err := s.Send(ctx, request(u))
			e := wantError(t, err, core.KindInvalid, "invalid_request")
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%q: error %q shows the password", u, err)
			}
			if e.Detail != "url" {
				t.Errorf("%q: detail = %q", u, e.Detail)
			}
		}
		if n := rc.hits.Load(); n != 0 {
			t.Errorf("the receiver got %d requests, want 0", n)
		}
	})

	t.Run("bad_header_refused", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, nil)
		for _, h := range []map[string]string{
			{"X-Bad": secretHeader + "\r\nInjected: 1"},
			{"Bad Name": "x"},
			{"": "x"},
		} {
			req := request(rc.URL)
			req.Header = h
			_, err := s.Send(ctx, req)
			wantError(t, err, core.KindInvalid, "invalid_request")
		}
		if n := rc.hits.Load(); n != 0 {
			t.Errorf("the receiver got %d requests, want 0", n)
		}
	})

	t.Run("https_http2_and_reused_connections", func(t *testing.T) {
		t.Parallel()
		rc := &receiver{}
		rc.Server = httptest.NewUnstartedServer(rc.handler(nil))
		rc.Config.ConnState = rc.connState
		rc.EnableHTTP2 = true
		rc.StartTLS()
		t.Cleanup(rc.Close)

		tlsSender := New(Config{AllowPrivate: true})
		t.Cleanup(tlsSender.CloseIdleConnections)
		pool := x509.NewCertPool()
		pool.AddCert(rc.Certificate())
		tlsSender.transport.TLSClientConfig = &tls.Config{RootCAs: pool}
		for range 3 {
			resp, err := tlsSender.Send(ctx, request(rc.URL))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("response %+v, error %v", resp, err)
			}
		}
		if r, _ := rc.got(t); r.ProtoMajor != 2 {
			t.Errorf("protocol = %s, want HTTP/2", r.Proto)
		}
		if n := rc.conns.Load(); n != 1 {
			t.Errorf("%d connections for 3 requests, want 1 (reused)", n)
		}
	})

	t.Run("http1_connections_reused", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, nil)
		own := New(Config{AllowPrivate: true})
		t.Cleanup(own.CloseIdleConnections)
		for range 3 {
			if _, err := own.Send(ctx, request(rc.URL)); err != nil {
				t.Fatal(err)
			}
		}
		if n := rc.conns.Load(); n != 1 {
			t.Errorf("%d connections for 3 requests, want 1 (reused)", n)
		}
	})

	t.Run("https_url_plain_http_receiver", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, nil)
		_, err := s.Send(ctx, request(strings.Replace(rc.URL, "http://", "https://", 1)))
		e := wantError(t, err, core.KindUnavailable, CodeUnreachable)
		if e.Message != "the receiver answered plain http to an https URL" {
			t.Errorf("message = %q", e.Message)
		}
	})

	t.Run("untrusted_certificate", func(t *testing.T) {
		t.Parallel()
		rc := httptest.NewUnstartedServer(http.NotFoundHandler())
		rc.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake error is expected
		rc.StartTLS()
		t.Cleanup(rc.Close)
		_, err := s.Send(ctx, request(rc.URL))
		e := wantError(t, err, core.KindUnavailable, CodeUnreachable)
		if !strings.Contains(e.Message, "certificate") {
			t.Errorf("message = %q", e.Message)
		}
	})
}

// TestSend_ignoresProxyEnvironment cannot run in parallel: it sets the
// environment.
func TestSend_ignoresProxyEnvironment(t *testing.T) {
	var proxied atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		http.Error(w, "proxy says no", http.StatusBadGateway)
	}))
	t.Cleanup(proxy.Close)
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")

	rc := newReceiver(t, nil)
	s := New(Config{AllowPrivate: true})
	// A name, not a loopback address: net/http never proxies loopback
	// addresses, so they would prove nothing.
	s.hooks = &testHooks{hosts: map[string]string{"receiver.test": "127.0.0.1"}}
	resp, err := s.Send(context.Background(), request("http://receiver.test:"+rc.port()+"/hook"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || rc.hits.Load() != 1 {
		t.Errorf("status %d, receiver hits %d: the request did not go straight to the receiver", resp.StatusCode, rc.hits.Load())
	}
	if n := proxied.Load(); n != 0 {
		t.Errorf("the environment's proxy got %d requests", n)
	}
}

func TestSend_refusesNonPublicAddresses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Receivers on loopback that must never see a connection.
	rc := newReceiver(t, nil)
	port := rc.port()
	var rc6 *receiver
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		rc6 = &receiver{}
		rc6.Server = httptest.NewUnstartedServer(rc6.handler(nil))
		rc6.Listener.Close()
		rc6.Listener = ln
		rc6.Config.ConnState = rc6.connState
		rc6.Start()
		t.Cleanup(rc6.Close)
	}
	port6 := port
	if rc6 != nil {
		port6 = rc6.port()
	}

	s := New(Config{})
	s.hooks = &testHooks{hosts: map[string]string{
		"private.test":  "127.0.0.1",
		"internal.test": "10.0.0.1",
		"metadata.test": "169.254.169.254",
	}}

	for _, c := range []struct{ url, host string }{
		{"http://127.0.0.1:" + port + "/hook?token=abc", "127.0.0.1"},
		{"https://127.0.0.1:" + port + "/hook", "127.0.0.1"},
		{"http://[::1]:" + port6 + "/hook", "::1"},
		{"http://[::ffff:127.0.0.1]:" + port + "/hook", "::ffff:127.0.0.1"},
		{"http://0.0.0.0:" + port + "/hook", "0.0.0.0"},
		{"http://[::]:" + port6 + "/hook", "::"},
		{"http://localhost:" + port + "/hook", "localhost"},
		{"http://private.test:" + port + "/hook", "private.test"},
		{"http://internal.test/hook", "internal.test"},
		{"http://metadata.test/latest/meta-data/", "metadata.test"},
		{"http://10.0.0.1/hook", "10.0.0.1"},
		{"https://10.0.0.1:8443/hook", "10.0.0.1"},
		{"http://172.16.5.4/", "172.16.5.4"},
		{"http://192.168.1.1/", "192.168.1.1"},
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254"},
		{"http://100.64.0.1:8080/", "100.64.0.1"},
		{"http://224.0.0.1/", "224.0.0.1"},
		{"http://255.255.255.255/", "255.255.255.255"},
		{"http://[fe80::1]/", "fe80::1"},
		{"http://[fc00::1]/", "fc00::1"},
		{"http://[ff02::1]/", "ff02::1"},
		{"http://[::ffff:10.0.0.1]/", "::ffff:10.0.0.1"},
		{"http://[64:ff9b::7f00:1]/", "64:ff9b::7f00:1"},
	} {
		start := time.Now()
		_, err := s.Send(ctx, request(c.url))
		e := wantError(t, err, core.KindForbidden, CodeAddressRefused)
		if !errors.Is(err, ErrAddressRefused) {
			t.Errorf("%s: errors.Is(err, ErrAddressRefused) = false", c.url)
		}
		if want := c.host + " is not a public address"; e.Message != want {
			t.Errorf("%s: message %q, want %q", c.url, e.Message, want)
		}
		// Refused before connecting: no dial timeout was waited for.
		if d := time.Since(start); d >= dialTimeout {
			t.Errorf("%s: refused after %v", c.url, d)
		}
	}
	if n := rc.conns.Load(); n != 0 {
		t.Errorf("the loopback receiver accepted %d connections, want 0", n)
	}
	if rc6 != nil && rc6.conns.Load() != 0 {
		t.Errorf("the [::1] receiver accepted %d connections, want 0", rc6.conns.Load())
	}
}

func TestSend_redirectToPrivateAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	private := newReceiver(t, nil)
	public := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, private.URL+"/admin", http.StatusFound)
	})

	s := New(Config{})
	// partner.test plays a public receiver: its exact address passes the
	// guard; the private one (same IP, other port) does not.
	s.hooks = &testHooks{
		hosts:       map[string]string{"partner.test": "127.0.0.1"},
		publicAddrs: map[string]bool{public.Listener.Addr().String(): true},
	}
	resp, err := s.Send(ctx, request("http://partner.test:"+public.port()+"/hook"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusFound || public.hits.Load() != 1 {
		t.Errorf("status %d, public hits %d; want the 302 itself", resp.StatusCode, public.hits.Load())
	}
	// The guard was on: the redirect's target is refused when asked
	// directly, and it never saw a connection.
	_, err = s.Send(ctx, request(private.URL+"/admin"))
	wantError(t, err, core.KindForbidden, CodeAddressRefused)
	if n := private.conns.Load(); n != 0 {
		t.Errorf("the private target accepted %d connections, want 0", n)
	}
}

func TestGuard(t *testing.T) {
	t.Parallel()
	g := newGuard()
	for _, c := range []struct {
		network, addr string
		ok            bool
	}{
		{"tcp4", "93.184.215.14:443", true},
		{"tcp4", "93.184.215.14:8443", true}, // any port
		{"tcp4", "8.8.8.8:80", true},
		{"tcp6", "[2606:4700:4700::1111]:443", true},
		{"tcp6", "[2a00:1450:4001:80b::200e]:9000", true},
		{"tcp4", "127.0.0.1:80", false},
		{"tcp4", "127.255.255.254:80", false},
		{"tcp4", "10.255.0.1:443", false},
		{"tcp4", "172.31.255.255:443", false},
		{"tcp4", "192.168.0.10:443", false},
		{"tcp4", "100.127.255.254:443", false},
		{"tcp4", "169.254.169.254:80", false},
		{"tcp4", "0.0.0.0:80", false},
		{"tcp4", "224.0.0.251:80", false},
		{"tcp4", "198.18.0.1:80", false},
		{"tcp6", "[::1]:80", false},
		{"tcp6", "[::]:80", false},
		{"tcp6", "[::ffff:127.0.0.1]:80", false},
		{"tcp6", "[::ffff:8.8.8.8]:80", false}, // mapped: never dialled as such
		{"tcp6", "[fe80::1]:80", false},
		{"tcp6", "[fd00:ec2::254]:80", false}, // AWS IPv6 metadata
		{"tcp6", "[ff02::1]:80", false},
		{"tcp6", "[2001:db8::1]:80", false},
		{"udp4", "8.8.8.8:53", false},
	} {
		err := g.check(c.network, c.addr)
		if (err == nil) != c.ok {
			t.Errorf("%s %s: error %v, want allowed=%v", c.network, c.addr, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrAddressRefused) {
			t.Errorf("%s %s: error %v does not wrap ErrAddressRefused", c.network, c.addr, err)
		}
	}
}
