package ports

import (
	"context"
	"time"

	"github.com/gellhub/gellhub/core"
)

// AccountStore persists profiles, their studio and drive, subscriptions and
// API keys. Multi-row changes are single calls so that the adapter owns the
// transaction and the rule stays in the core.
type AccountStore interface {
	// CreateAccount stores a whole account (profile, studio, drive,
	// subscriptions, keys) atomically. A profile whose EmailNormalized is
	// taken fails with KindConflict, code "email_taken"; a subscription to
	// an unknown plan fails with KindInvalid, detail "planId"; either way
	// nothing is written.
	CreateAccount(ctx context.Context, a core.Account) error

	// ProfileByID returns a profile; KindNotFound when there is none.
	ProfileByID(ctx context.Context, id string) (core.Profile, error)

	// ProfileByEmail looks a profile up by its normalized (lower-cased)
	// email; KindNotFound when there is none.
	ProfileByEmail(ctx context.Context, normalized string) (core.Profile, error)

	// StudioByProfile returns the profile's studio; KindNotFound when none.
	StudioByProfile(ctx context.Context, profileID string) (core.Studio, error)

	// DriveByProfile returns the profile's drive; KindNotFound when none.
	DriveByProfile(ctx context.Context, profileID string) (core.Drive, error)

	// Subscriptions lists the profile's subscriptions, at most one per line,
	// in no particular order. An unknown profile has none.
	Subscriptions(ctx context.Context, profileID string) ([]core.Subscription, error)

	// SetSubscription stores sub as the profile's subscription of sub.Line,
	// replacing the one it has (keeping its id): a profile has at most one
	// per line. KindNotFound when the profile does not exist; KindInvalid,
	// detail "planId", when the plan does not.
	SetSubscription(ctx context.Context, sub core.Subscription) error

	// APIKeyByDigest returns the active (unrevoked) key with this digest;
	// KindNotFound when it is unknown or revoked.
	APIKeyByDigest(ctx context.Context, digest string) (core.APIKey, error)

	// ActiveAPIKeys lists the profile's unrevoked keys, own and
	// link-minted.
	ActiveAPIKeys(ctx context.Context, profileID string) ([]core.APIKey, error)

	// RotateAPIKey atomically revokes (at revokedAt) every active own key
	// (LinkID "") of key.ProfileID and key.Line and stores key; keys minted
	// for connect links are left alone. Concurrent rotations of the
	// same profile and line leave exactly one active key. KindNotFound when
	// the profile does not exist.
	RotateAPIKey(ctx context.Context, key core.APIKey, revokedAt time.Time) error
}

// PlanStore persists the plan catalog.
type PlanStore interface {
	// SeedPlans inserts each plan whose id is not stored yet and leaves the
	// others untouched (an admin's edits and archives survive restarts).
	SeedPlans(ctx context.Context, plans []core.Plan) error

	// CreatePlan stores a new plan; KindConflict, code "plan_exists", when
	// the id is taken.
	CreatePlan(ctx context.Context, p core.Plan) error

	// PlanByID returns a plan, archived or not; KindNotFound when none.
	PlanByID(ctx context.Context, id string) (core.Plan, error)

	// ListPlans returns the plans f selects ordered by line (clientGallery,
	// drive, messaging), then SortOrder, then price, then id.
	ListPlans(ctx context.Context, f core.PlanFilter) ([]core.Plan, error)

	// UpdatePlan loads the plan, calls fn with it and whether any
	// subscription uses it, and stores what fn left in *p, all in one
	// transaction. An error from fn is returned as is and nothing changes.
	// KindNotFound when there is no such plan.
	UpdatePlan(ctx context.Context, id string, fn func(p *core.Plan, inUse bool) error) (core.Plan, error)

	// DeletePlan removes a plan that no subscription uses. KindConflict,
	// code "plan_in_use", when one does; KindNotFound when there is none.
	DeletePlan(ctx context.Context, id string) error
}

// SessionStore keeps browser sessions by token digest.
type SessionStore interface {
	// CreateSession stores s until s.ExpiresAt; CreatedAt is "now" (stores
	// without a clock derive their TTL from ExpiresAt − CreatedAt). A second
	// session with the same digest replaces the first.
	CreateSession(ctx context.Context, s core.Session) error

	// SessionByDigest returns the session if it exists and has not expired
	// at now; KindNotFound otherwise.
	SessionByDigest(ctx context.Context, digest string, now time.Time) (core.Session, error)

	// DeleteSession revokes a session. Deleting an unknown one is not an error.
	DeleteSession(ctx context.Context, digest string) error
}

// SessionPurger is the optional capability of a SessionStore that does not
// expire entries by itself (SQL stores): the worker calls it periodically.
type SessionPurger interface {
	// PurgeExpiredSessions deletes sessions expired at now and says how many.
	PurgeExpiredSessions(ctx context.Context, now time.Time) (int, error)
}
