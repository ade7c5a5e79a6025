package ports

import (
	"context"
	"time"
)

// Clock tells the time. The core never calls time.Now itself, so expiry and
// retries are testable with a fake clock.
type Clock interface {
	Now() time.Time
}

// PasswordHasher hashes human passwords with a slow, salted function
// (argon2id in production). High-entropy secrets such as API keys are not
// passwords: they are stored as plain SHA-256 digests (core.Digest).
type PasswordHasher interface {
	// Hash returns an encoded hash that carries its own parameters and salt.
	// KindUnavailable when the hasher is saturated (retry later).
	Hash(password string) (string, error)
	// Verify reports whether password matches encoded. A malformed encoded
	// hash is an error, a mismatch is (false, nil); KindUnavailable when the
	// hasher is saturated.
	Verify(encoded, password string) (bool, error)
}

// Pinger is implemented by adapters whose backend can be probed; /readyz
// asks each one.
type Pinger interface {
	// Ping returns nil when the backend answers.
	Ping(ctx context.Context) error
}
