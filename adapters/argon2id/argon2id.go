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
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/gellhub/gellhub/core"
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

// DefaultParams are OWASP's recommended argon2id configuration (19 MiB,
// 2 passes, 1 lane): about the cost of RFC 9106's 64 MiB option in time,
// with a third of its memory per login, so a server streaming large uploads
// keeps a small footprint while logins run.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// TestParams are cheap parameters for tests only: never in production.
var TestParams = Params{Memory: 256, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Defaults of New for the waiting line in front of the hashes.
const (
	// DefaultMaxWaiting is how many callers may wait for a free slot.
	DefaultMaxWaiting = 64
	// DefaultMaxWait is how long a caller waits for a free slot.
	DefaultMaxWait = 10 * time.Second
)

// ErrBusy is the cause of the error Hash and Verify return when they give
// up waiting for a free slot: the waiting line is full, or the wait lasted
// too long. It comes wrapped in core.Unavailable("password hashing", …), so
// errors.Is(err, ErrBusy) holds and core.ErrorKind(err) is
// core.KindUnavailable.
var ErrBusy = errors.New("argon2id: too many password hashes in progress")

// Hasher implements ports.PasswordHasher with argon2id.
//
// A fixed number of hashes run at once (GOMAXPROCS for New). Each holds
// Params.Memory for its duration, so without the bound a burst of logins
// would allocate burst × 64 MiB and thrash the collector: the cap keeps
// memory flat and throughput at what the cores can give. Callers beyond it
// wait for a turn in a line of bounded length: a caller who finds the line
// full fails at once, and one who waits longer than the limit gives up,
// both with ErrBusy (as core.KindUnavailable), so a flood of logins gets
// quick refusals instead of an ever longer line.
type Hasher struct {
	p       Params
	sem     chan struct{} // one token per running hash
	queue   chan struct{} // one token per caller waiting for sem
	maxWait time.Duration

	// Test hooks, nil in production: inSlot runs while a caller holds a
	// slot, before it hashes; queued runs once a caller has its place in
	// the line, before it waits.
	inSlot, queued func()
}

var _ ports.PasswordHasher = (*Hasher)(nil)

// New returns a hasher that hashes new passwords with p, runs GOMAXPROCS
// hashes at once and lets DefaultMaxWaiting callers wait up to
// DefaultMaxWait for a turn. Verify accepts hashes made with any
// parameters, so raising p later needs no migration.
func New(p Params) *Hasher {
	return NewWithLimits(p, runtime.GOMAXPROCS(0), DefaultMaxWaiting, DefaultMaxWait)
}

// NewWithLimits is New with explicit limits: at most concurrent hashes run
// at once, at most waiting callers wait for a turn (0: none may wait), and
// none waits longer than maxWait. It panics if concurrent or maxWait is not
// positive or waiting is negative: those are wiring mistakes.
func NewWithLimits(p Params, concurrent, waiting int, maxWait time.Duration) *Hasher {
	if concurrent < 1 || waiting < 0 || maxWait <= 0 {
		panic(fmt.Sprintf("argon2id: invalid limits: %d concurrent, %d waiting, %s max wait", concurrent, waiting, maxWait))
	}
	return &Hasher{
		p:       p,
		sem:     make(chan struct{}, concurrent),
		queue:   make(chan struct{}, waiting),
		maxWait: maxWait,
	}
}

// key derives an argon2id key in a free slot. When none is free it waits in
// line, if there is room, for up to h.maxWait; otherwise it returns ErrBusy
// as core.KindUnavailable.
func (h *Hasher) key(password, salt []byte, passes, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
	if err := h.acquire(); err != nil {
		return nil, err
	}
	defer func() { <-h.sem }()
	if h.inSlot != nil {
		h.inSlot()
	}
	return argon2.IDKey(password, salt, passes, memory, threads, keyLen), nil
}

// acquire takes a slot in sem, or fails with ErrBusy.
func (h *Hasher) acquire() error {
	select {
	case h.sem <- struct{}{}:
		return nil
	default:
	}
	select {
	case h.queue <- struct{}{}:
	default:
		return core.Unavailable("password hashing", ErrBusy)
	}
	defer func() { <-h.queue }()
	if h.queued != nil {
		h.queued()
	}
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-timer.C:
		return core.Unavailable("password hashing", fmt.Errorf("%w: no free slot within %s", ErrBusy, h.maxWait))
	}
}

// Hash implements ports.PasswordHasher. When too many hashes are in
// progress it fails with ErrBusy as core.KindUnavailable.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("argon2id salt: %w", err)
	}
	key, err := h.key([]byte(password), salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.p.Memory, h.p.Time, h.p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// errMalformed is returned for hashes that are not argon2id PHC strings.
var errMalformed = errors.New("argon2id: malformed hash")

// Verify implements ports.PasswordHasher. When too many hashes are in
// progress it fails with ErrBusy as core.KindUnavailable.
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
	got, err := h.key([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
