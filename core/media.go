package core

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// MediaClaims is what a media token grants: reading one stored object, as
// one owner's file, until Expires. Tokens are stateless (HMAC-signed), so
// any API instance with the same signing key serves them.
type MediaClaims struct {
	Key         string    `json:"k"`
	OwnerID     string    `json:"o"`
	Name        string    `json:"n"`
	ContentType string    `json:"t"`
	Expires     time.Time `json:"e"`
}

// MinSigningKeyLen is the shortest accepted HMAC key (256 bits).
const MinSigningKeyLen = 32

// errBadToken answers every forged, malformed or expired token alike.
var errBadToken = Forbidden("the media link is invalid or has expired")

// SignMediaToken returns a URL-safe token for c signed with key.
func SignMediaToken(key []byte, c MediaClaims) (string, error) {
	// No HTML escaping: it would spell each "&" of a name (twice: in the
	// key too) as \u0026, and a 255-byte name of them made the token
	// longer than VerifyMediaToken and the server's request line accept.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return "", Internal(err)
	}
	raw := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	payload := base64.RawURLEncoding.EncodeToString(raw)
	return payload + "." + base64.RawURLEncoding.EncodeToString(mediaMAC(key, payload)), nil
}

// VerifyMediaToken checks a token's signature (in constant time) and
// expiry at now; a bad or expired token is KindForbidden.
func VerifyMediaToken(key []byte, token string, now time.Time) (MediaClaims, error) {
	if len(token) > 4096 {
		return MediaClaims{}, errBadToken
	}
	payload, sig, ok := strings.Cut(token, ".")
	if !ok {
		return MediaClaims{}, errBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mediaMAC(key, payload)) {
		return MediaClaims{}, errBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return MediaClaims{}, errBadToken
	}
	var c MediaClaims
	if err := json.Unmarshal(raw, &c); err != nil || c.Key == "" {
		return MediaClaims{}, errBadToken
	}
	if !now.Before(c.Expires) {
		return MediaClaims{}, errBadToken
	}
	return c, nil
}

func mediaMAC(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("gellhub-media-v1."))
	m.Write([]byte(payload))
	return m.Sum(nil)
}
