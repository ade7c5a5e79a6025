package core

import (
	"hash/crc32"
	"io"
	"math/big"
	"strings"
	"time"
)

// API key format. A key is the line's prefix, 32 base62 characters of
// randomness (about 190 bits) and a 6-character base62 CRC-32 of those 32
// characters, as GitHub's token format does: a typo or a truncated copy is
// rejected without touching the database, and secret scanners can recognise
// the keys. Keys are stored only as SHA-256 digests plus a display prefix.
const (
	keyBodyLen     = 32
	keyChecksumLen = 6
	keyDisplayLen  = 8 // characters of the body kept for display
)

const base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// KeyPrefix returns the key prefix of a product line: sk_ (Client Gallery),
// drv_ (Drive), msg_ (Messaging).
func KeyPrefix(line ProductLine) string {
	switch line {
	case LineClientGallery:
		return "sk_"
	case LineDrive:
		return "drv_"
	case LineMessaging:
		return "msg_"
	}
	return ""
}

// NewAPIKeySecret returns a fresh raw key for line. The raw key is shown to
// its owner once and never stored.
func NewAPIKeySecret(line ProductLine, rnd io.Reader) (string, error) {
	b := make([]byte, 24) // 192 bits, more than enough for 32 base62 chars
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", Errorf("new api key", err)
	}
	body := base62(b)
	for len(body) < keyBodyLen {
		body = "0" + body
	}
	body = body[:keyBodyLen]
	return KeyPrefix(line) + body + keyChecksum(body), nil
}

// ParseAPIKey checks a raw key's shape and checksum and returns its line. It
// never touches storage: a malformed key is refused before any lookup.
func ParseAPIKey(raw string) (ProductLine, bool) {
	for _, line := range []ProductLine{LineClientGallery, LineDrive, LineMessaging} {
		p := KeyPrefix(line)
		if !strings.HasPrefix(raw, p) {
			continue
		}
		rest := raw[len(p):]
		if len(rest) != keyBodyLen+keyChecksumLen || !isBase62(rest) {
			return "", false
		}
		if keyChecksum(rest[:keyBodyLen]) != rest[keyBodyLen:] {
			return "", false
		}
		return line, true
	}
	return "", false
}

// KeyDisplayPrefix is the part of a raw key that may be shown again later
// (for example "sk_4fZq9TbW"): enough to recognise a key, useless to use it.
func KeyDisplayPrefix(raw string) string {
	line, ok := ParseAPIKey(raw)
	if !ok {
		return ""
	}
	return raw[:len(KeyPrefix(line))+keyDisplayLen]
}

// MaskKey renders a display prefix as a masked key, "sk_4fZq9TbW…".
func MaskKey(displayPrefix string) string {
	if displayPrefix == "" {
		return ""
	}
	return displayPrefix + "…"
}

func keyChecksum(body string) string {
	s := base62(big.NewInt(int64(crc32.ChecksumIEEE([]byte(body)))).Bytes())
	for len(s) < keyChecksumLen {
		s = "0" + s
	}
	return s
}

func base62(b []byte) string {
	n := new(big.Int).SetBytes(b)
	if n.Sign() == 0 {
		return "0"
	}
	base := big.NewInt(62)
	mod := new(big.Int)
	var out []byte
	for n.Sign() > 0 {
		n.DivMod(n, base, mod)
		out = append(out, base62Alphabet[mod.Int64()])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// APIKey is a stored API key: never the raw key, only its digest.
type APIKey struct {
	ID            string
	ProfileID     string
	Line          ProductLine
	Digest        string // hex SHA-256 of the raw key
	DisplayPrefix string
	LinkID        string // "" for the profile's own key; else the connect link it was minted for
	CreatedAt     time.Time
	RevokedAt     *time.Time
}

// Active reports whether the key may still be used.
func (k APIKey) Active() bool { return k.RevokedAt == nil }
