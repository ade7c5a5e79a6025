// Package webhooksig signs and verifies gellhub's outgoing webhooks: the
// skill calls and the handoff events. Partners import it to check that a
// request came from gellhub; gellhub signs with it.
//
// Each signed request carries two signatures of the same body, made with
// the secret configured for the webhook:
//
//   - gellhub's own: X-GellHub-Signature is the hex HMAC-SHA256 of
//     timestamp + "." + body, keyed with the secret's bytes, where
//     timestamp is X-GellHub-Timestamp (Unix seconds).
//   - Standard Webhooks (https://www.standardwebhooks.com), on handoff
//     events: webhook-signature is "v1," + the base64 HMAC-SHA256 of
//     id + "." + timestamp + "." + body, with id and timestamp from
//     webhook-id and webhook-timestamp. A secret of the form "whsec_<base64>"
//     is keyed with the decoded bytes, as those libraries do; any other
//     secret with its own bytes, so an off-the-shelf verifier takes
//     "whsec_" + base64(secret).
//
// Verify both the signature and the timestamp's age (Verify does), and
// drop duplicates by X-GellHub-Event-Id: a retried event keeps its id.
//
// The package depends on the standard library only; Header is satisfied
// by net/http's http.Header.
package webhooksig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The headers of gellhub's webhooks.
const (
	HeaderTimestamp = "X-GellHub-Timestamp" // Unix seconds of the attempt
	HeaderSignature = "X-GellHub-Signature" // hex HMAC-SHA256, when a secret is set
	HeaderSkill     = "X-GellHub-Skill"     // skill calls: the skill's key
	HeaderEvent     = "X-GellHub-Event"     // events: "handoff.requested", …
	HeaderEventID   = "X-GellHub-Event-Id"  // events: stable across retries

	// Standard Webhooks headers, on events.
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// DefaultTolerance is how old (or how far ahead) a timestamp may be.
const DefaultTolerance = 5 * time.Minute

// The verification errors.
var (
	ErrMissing   = errors.New("webhooksig: the timestamp or signature header is missing")
	ErrTimestamp = errors.New("webhooksig: the timestamp is malformed or outside the tolerance")
	ErrSignature = errors.New("webhooksig: no signature matches")
)

// Header reads a request header; http.Header satisfies it.
type Header interface {
	Get(key string) string
}

// Sign returns gellhub's signature of body sent at timestamp (Unix seconds,
// in decimal): the hex HMAC-SHA256 of timestamp + "." + body keyed with
// secret.
func Sign(secret, timestamp string, body []byte) string {
	return hex.EncodeToString(mac([]byte(secret), timestamp, "", body))
}

// Verify checks gellhub's signature: signature (X-GellHub-Signature) must
// be Sign(secret, timestamp, body), and timestamp within tolerance of now
// (0 is DefaultTolerance).
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	if timestamp == "" || signature == "" {
		return ErrMissing
	}
	if err := checkTimestamp(timestamp, now, tolerance); err != nil {
		return err
	}
	got, err := hex.DecodeString(strings.TrimSpace(signature))
	if err != nil || !hmac.Equal(got, mac([]byte(secret), timestamp, "", body)) {
		return ErrSignature
	}
	return nil
}

// VerifyHeaders is Verify with the timestamp and signature read from h.
func VerifyHeaders(secret string, h Header, body []byte, now time.Time) error {
	return Verify(secret, h.Get(HeaderTimestamp), h.Get(HeaderSignature), body, now, DefaultTolerance)
}

// StandardKey returns the HMAC key Standard Webhooks signatures use for
// secret: the decoded bytes of a "whsec_<base64>" secret, else the
// secret's own bytes.
func StandardKey(secret string) []byte {
	if b64, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if k, err := base64.StdEncoding.DecodeString(b64); err == nil && len(k) > 0 {
			return k
		}
	}
	return []byte(secret)
}

// SignStandard returns the Standard Webhooks signature of body for the
// message id sent at timestamp: "v1," + base64(HMAC-SHA256(StandardKey(secret),
// id + "." + timestamp + "." + body)).
func SignStandard(secret, id, timestamp string, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(StandardKey(secret), id, timestamp, body))
}

// VerifyStandard checks a Standard Webhooks signature header (one or more
// space-separated "v1,<base64>" signatures, any of which may match) and
// the timestamp's age.
func VerifyStandard(secret, id, timestamp, signatures string, body []byte, now time.Time, tolerance time.Duration) error {
	if id == "" || timestamp == "" || signatures == "" {
		return ErrMissing
	}
	if err := checkTimestamp(timestamp, now, tolerance); err != nil {
		return err
	}
	want := mac(StandardKey(secret), id, timestamp, body)
	for _, s := range strings.Fields(signatures) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}

// VerifyStandardHeaders is VerifyStandard with its values read from h.
func VerifyStandardHeaders(secret string, h Header, body []byte, now time.Time) error {
	return VerifyStandard(secret, h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp),
		h.Get(HeaderWebhookSignature), body, now, DefaultTolerance)
}

// mac is HMAC-SHA256 of the non-empty parts joined by "." and then body.
func mac(key []byte, a, b string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(a))
	m.Write([]byte("."))
	if b != "" {
		m.Write([]byte(b))
		m.Write([]byte("."))
	}
	m.Write(body)
	return m.Sum(nil)
}

func checkTimestamp(ts string, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	d := now.Sub(time.Unix(sec, 0))
	if d > tolerance || d < -tolerance {
		return ErrTimestamp
	}
	return nil
}
