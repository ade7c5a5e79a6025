// Package argon2id hashes human passwords with argon2id (RFC 9106), encoded
// in the PHC string format that libsodium and the reference implementation
// use: $argon2id$v=19$m=65536,t=1,p=2$<salt>$<hash>.
package argon2id

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/gellhub/gellhub/ports"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen int
	KeyLen  uint32
}

// DefaultParams follow RFC 9106's second recommended option scaled to a
// small server: 64 MiB, 1 pass, 2 lanes (about 40–60 ms on one core).
var DefaultParams = Params{Memory: 64 * 1024, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}

// TestParams are cheap parameters for tests only: never in production.
var TestParams = Params{Memory: 256, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Hasher implements ports.PasswordHasher with argon2id.
//
// At most GOMAXPROCS hashes run at once; the others wait their turn. Each
// hash holds Params.Memory for its duration, so without the bound a burst
// of logins would allocate burst × 64 MiB and thrash the collector: the cap
// keeps memory flat and throughput at what the cores can give.
type Hasher struct {
	p   Params
	sem chan struct{}
}

var _ ports.PasswordHasher = (*Hasher)(nil)

// New returns a hasher that hashes new passwords with p. Verify accepts
// hashes made with any parameters, so raising p later needs no migration.
func New(p Params) *Hasher {
	return &Hasher{p: p, sem: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// key derives an argon2id key, waiting for a free slot.
func (h *Hasher) key(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	h.sem <- struct{}{}
	defer func() { <-h.sem }()
	return argon2.IDKey(password, salt, time, memory, threads, keyLen)
}

// Hash implements ports.PasswordHasher.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("argon2id salt: %w", err)
	}
	key := h.key([]byte(password), salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.p.Memory, h.p.Time, h.p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// errMalformed is returned for hashes that are not argon2id PHC strings.
var errMalformed = errors.New("argon2id: malformed hash")

// Verify implements ports.PasswordHasher.
func (h *Hasher) Verify(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errMalformed
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, errMalformed
	}
	if p.Memory == 0 || p.Memory > 1<<22 || p.Time == 0 || p.Time > 16 || p.Threads == 0 {
		return false, errMalformed
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errMalformed
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false, errMalformed
	}
	got := h.key([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
