package core

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// crockford is Crockford's base32 alphabet in lower case: no i, l, o, u.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns an opaque, URL-safe, collision-resistant id: prefix, an
// underscore, then 26 characters encoding a 48-bit millisecond timestamp and
// 80 random bits (the ULID layout). Ids sort by creation time, which keeps
// B-tree inserts local and gives keyset pagination a natural order.
func NewID(prefix string, now time.Time, rnd io.Reader) (string, error) {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	if _, err := io.ReadFull(rnd, b[6:]); err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return prefix + "_" + encodeCrockford(b), nil
}

// encodeCrockford encodes 128 bits as 26 base32 characters.
func encodeCrockford(b [16]byte) string {
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	var out [26]byte
	// 26*5 = 130 bits: the first character carries the top 3 bits.
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// Digest returns the hex SHA-256 of a high-entropy secret (API key, session
// token, client secret). Such secrets are stored and looked up only by digest.
func Digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// RandomToken returns n random bytes from rnd encoded as URL-safe base62.
func RandomToken(rnd io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base62(b), nil
}
