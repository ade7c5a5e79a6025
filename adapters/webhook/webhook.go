// Package webhook implements ports.WebhookSender with net/http: it POSTs
// the skill calls and handoff events to the URLs merchants and partners
// configure.
//
// Those URLs are chosen by users, so the sender is built not to be turned
// against gellhub's own network (server-side request forgery):
//
//   - Every connection is checked when it is dialled, on the IP address
//     actually dialled (after DNS resolution, so a name that resolves to a
//     private address is caught, and a DNS answer that changes between a
//     check and the connection cannot slip through): loopback, private,
//     link-local, CGNAT (100.64.0.0/10), cloud metadata (169.254.169.254),
//     unspecified, multicast, IPv4-mapped IPv6 and the other special
//     ranges of the IANA registries are refused (code.dny.dev/ssrf), on
//     any port. Config.AllowPrivate turns this off, for development and
//     tests only.
//   - No proxy is taken from the environment (HTTP_PROXY, HTTPS_PROXY…).
//   - No redirect is followed: a 3xx is returned as the answer.
//   - Only http and https URLs without userinfo are accepted.
//
// Each request is bounded by its Timeout (connection, headers and the
// answer's body together) and reads at most MaxResponseBytes of the
// answer. Errors are *core.Error values whose Message names the cause for
// the merchant ("timed out after 5s", "connection refused") and never
// holds a header value or the URL's query.
package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Defaults and fixed limits of the sender.
const (
	// DefaultUserAgent is sent when Config.UserAgent is empty.
	DefaultUserAgent = "GellHub-Webhooks/1.0"
	// DefaultTimeout bounds a request whose Timeout is 0.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxResponseBytes caps the answer of a request whose
	// MaxResponseBytes is 0.
	DefaultMaxResponseBytes = 64 << 10

	dialTimeout         = 5 * time.Second
	tlsHandshakeTimeout = 5 * time.Second
	maxHeaderBytes      = 64 << 10
)

// The error codes of Send's errors (core.Error.Code).
const (
	// CodeAddressRefused: the URL's host is, or resolves to, an address
	// that is not public (core.KindForbidden).
	CodeAddressRefused = "webhook_address_refused"
	// CodeUnreachable: no answer came — a timeout, a refused or reset
	// connection, a DNS or TLS failure (core.KindUnavailable).
	CodeUnreachable = "webhook_unreachable"
)

// ErrAddressRefused is the cause (core.Error.Err) of a refused address.
// It is what the dial guard returns, so errors.Is finds it through the
// wrapping of net and net/http.
var ErrAddressRefused = errors.New("webhook: the address is not public")

// Config configures a Sender.
type Config struct {
	// AllowPrivate lets requests reach loopback, private and other
	// non-public addresses: development and tests only
	// (GELLHUB_WEBHOOK_ALLOW_PRIVATE). The environment's proxy is ignored
	// either way.
	AllowPrivate bool
	// UserAgent is sent with every request; "" means DefaultUserAgent. A
	// request's own User-Agent header wins.
	UserAgent string
}

// Sender implements ports.WebhookSender. It keeps idle connections for
// reuse and is safe for concurrent use.
type Sender struct {
	userAgent string
	guard     *guard // nil when private addresses are allowed
	dialer    *net.Dialer
	transport *http.Transport
	client    *http.Client

	// hooks, set by this package's tests only, map host names to
	// addresses and play "public" receivers on loopback.
	hooks *testHooks
}

var _ ports.WebhookSender = (*Sender)(nil)

// New returns a Sender.
func New(cfg Config) *Sender {
	s := &Sender{userAgent: cfg.UserAgent}
	if s.userAgent == "" {
		s.userAgent = DefaultUserAgent
	}
	s.dialer = &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		s.guard = newGuard()
		s.dialer.Control = s.control
	}
	s.transport = &http.Transport{
		Proxy:                  nil, // never the environment's proxy
		DialContext:            s.dialContext,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxHeaderBytes,
	}
	s.client = &http.Client{
		Transport:     s.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s
}

// CloseIdleConnections closes the kept connections (at shutdown).
func (s *Sender) CloseIdleConnections() { s.transport.CloseIdleConnections() }

// Send implements ports.WebhookSender. A Timeout of 0 is DefaultTimeout
// and a MaxResponseBytes of 0 DefaultMaxResponseBytes. Content-Type is
// always application/json. On error the response holds only Duration.
func (s *Sender) Send(ctx context.Context, r ports.WebhookRequest) (ports.WebhookResponse, error) {
	u, err := checkURL(r.URL)
	if err != nil {
		return ports.WebhookResponse{}, err
	}
	if err := checkHeader(r.Header); err != nil {
		return ports.WebhookResponse{}, err
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	limit := r.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	// The timeout a failure reports: the request's, or the caller's
	// deadline when it comes first.
	budget := timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < budget {
		budget = max(time.Until(dl), 0)
	}

	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(r.Body))
	if err != nil {
		return ports.WebhookResponse{}, core.Invalid("url", "the webhook URL is not valid")
	}
	req.Header.Set("User-Agent", s.userAgent)
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")

	resp, err := s.client.Do(req)
	if err != nil {
		return ports.WebhookResponse{Duration: time.Since(start)}, s.failure(ctx, u, budget, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return ports.WebhookResponse{Duration: time.Since(start)}, s.failure(ctx, u, budget, err)
	}
	out := ports.WebhookResponse{
		StatusCode:  resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
		RetryAfter:  resp.Header.Get("Retry-After"),
		Body:        body,
	}
	if int64(len(body)) > limit {
		// The rest is not read: closing the body drops the connection.
		out.Body, out.Truncated = body[:limit:limit], true
	}
	out.Duration = time.Since(start)
	return out, nil
}

// checkURL accepts absolute http(s) URLs with a host and no userinfo.
// Its errors never repeat the URL, whose query may hold a token.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, core.Invalid("url", "the webhook URL is not valid")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, core.Invalid("url", "the webhook URL must be http or https")
	}
	if u.User != nil {
		return nil, core.Invalid("url", "the webhook URL must not hold a user name or password")
	}
	if u.Hostname() == "" || u.Opaque != "" {
		return nil, core.Invalid("url", "the webhook URL has no host")
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// checkHeader refuses header names that are not tokens and values with
// control characters, naming the header but never its value.
func checkHeader(h map[string]string) error {
	for k, v := range h {
		if k == "" || strings.ContainsFunc(k, func(r rune) bool { return !isTokenChar(r) }) {
			return core.Invalid("header", "a webhook header name is not valid")
		}
		if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			return core.Invalid("header", "the webhook header %s has a value that is not valid", k)
		}
	}
	return nil
}

func isTokenChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// failure turns a failed exchange into the port's error. ctx is the
// request's context (with its timeout), budget the timeout to report.
func (s *Sender) failure(ctx context.Context, u *url.URL, budget time.Duration, err error) error {
	// Drop net/http's *url.Error: its text repeats the URL.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, ErrAddressRefused) {
		e := core.E(core.KindForbidden, fmt.Sprintf("%s is not a public address", u.Hostname())).WithCode(CodeAddressRefused)
		e.Err = ErrAddressRefused
		return e
	}
	unreachable := func(cause string) error {
		return &core.Error{Kind: core.KindUnavailable, Code: CodeUnreachable, Message: cause, Detail: "webhook", Err: err}
	}
	switch ctxErr := ctx.Err(); {
	case errors.Is(ctxErr, context.DeadlineExceeded):
		return unreachable("timed out after " + budget.Round(time.Millisecond).String())
	case ctxErr != nil:
		return unreachable("the request was cancelled")
	}
	return unreachable(cause(u, err))
}

// cause is a short description of a connection failure.
func cause(u *url.URL, err error) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "no such host " + u.Hostname()
		}
		return "could not resolve " + u.Hostname()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.Is(err, http.ErrSchemeMismatch):
		return "the receiver answered plain http to an https URL"
	case errors.As(err, &certErr):
		return "the receiver's TLS certificate is not valid"
	case errors.As(err, &recErr):
		return "TLS handshake failed (is the receiver serving https?)"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timed out"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection closed before a complete answer"
	}
	return "the request failed"
}
