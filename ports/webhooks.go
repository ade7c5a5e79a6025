package ports

import (
	"context"
	"time"
)

// WebhookSender POSTs outgoing webhooks (skill calls, handoff events) to
// the URLs merchants and partners configure. It follows no redirect (a 3xx
// is an answer like any other), uses no proxy from the environment, and
// refuses, when it dials, any address that is not public (loopback,
// private, link-local, CGNAT, cloud metadata, IPv4-mapped IPv6 and the
// other special ranges) unless it was built to allow them (development and
// tests).
type WebhookSender interface {
	// Send POSTs r.Body to r.URL with r.Header and returns the answer,
	// whatever its status. An error means no answer came: a refused
	// address (KindForbidden, code "webhook_address_refused"), a URL that
	// is not http(s) (KindInvalid), a timeout or a connection that failed
	// (KindUnavailable). Its message names the cause for the merchant and
	// never holds a header value.
	Send(ctx context.Context, r WebhookRequest) (WebhookResponse, error)
}

// WebhookRequest is one outgoing POST.
type WebhookRequest struct {
	URL    string
	Header map[string]string // Content-Type is set by the sender
	Body   []byte
	// Timeout bounds the whole exchange, the answer's body included.
	Timeout time.Duration
	// MaxResponseBytes caps the answer's body that is read; the rest is
	// dropped and Truncated set.
	MaxResponseBytes int64
}

// WebhookResponse is the receiver's answer.
type WebhookResponse struct {
	StatusCode  int
	ContentType string
	RetryAfter  string // the Retry-After header, as sent
	Body        []byte // at most MaxResponseBytes
	Truncated   bool   // the body was longer than MaxResponseBytes
	Duration    time.Duration
}
