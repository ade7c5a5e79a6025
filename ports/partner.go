package ports

import (
	"context"
	"time"

	"github.com/gellhub/gellhub/core"
)

// PartnerAppStore persists Developer Console apps and their daily analytics.
type PartnerAppStore interface {
	// CreateApp stores a new app. KindConflict, code "app_exists", when its
	// id or client id is taken.
	CreateApp(ctx context.Context, a core.PartnerApp) error

	// AppByID returns an app; KindNotFound when none.
	AppByID(ctx context.Context, id string) (core.PartnerApp, error)

	// AppByClientID returns the app with this client id, whatever its
	// status; KindNotFound when none.
	AppByClientID(ctx context.Context, clientID string) (core.PartnerApp, error)

	// AppsByOwner lists a profile's apps, oldest first.
	AppsByOwner(ctx context.Context, profileID string) ([]core.PartnerApp, error)

	// ListApps pages through every app ordered by id (q.Limit of them at
	// most, after q.After, of q.Status when set).
	ListApps(ctx context.Context, q core.AppQuery) ([]core.PartnerApp, error)

	// UpdateApp loads an app, calls fn and stores what fn left, in one
	// transaction; fn's error is returned as is and nothing changes.
	// KindNotFound when none.
	UpdateApp(ctx context.Context, id string, fn func(a *core.PartnerApp) error) (core.PartnerApp, error)

	// DeleteApp removes an app and its analytics, and revokes (at) its
	// connect links and every key minted for them, atomically. KindNotFound
	// when none.
	DeleteApp(ctx context.Context, id string, at time.Time) error

	// AddAppStat adds n to one counter of an app's day (day is truncated to
	// midnight UTC), creating the day's row when needed; concurrent adds
	// are never lost.
	AddAppStat(ctx context.Context, appID string, day time.Time, stat core.AppStat, n int64) error

	// AppStats returns the days in [from, to] (midnight UTC, inclusive)
	// that have a row, oldest first.
	AppStats(ctx context.Context, appID string, from, to time.Time) ([]core.AppDayStats, error)
}

// LinkStore persists connect links (profile ↔ partner app) and the keys
// minted for them.
type LinkStore interface {
	// EnsureLink returns the active link of (l.ProfileID, l.AppID),
	// creating it from l, or re-activating a revoked one (RevokedAt cleared,
	// UpdatedAt set from l). Exactly one link exists per pair, also under
	// concurrency.
	EnsureLink(ctx context.Context, l core.ConnectLink) (core.ConnectLink, error)

	// LinkFor returns the link of a profile and an app, active or revoked;
	// KindNotFound when the pair was never linked.
	LinkFor(ctx context.Context, profileID, appID string) (core.ConnectLink, error)

	// LinksByProfile lists a profile's links, active and revoked, oldest
	// first.
	LinksByProfile(ctx context.Context, profileID string) ([]core.ConnectLink, error)

	// ReplaceLinkKeys revokes (at) the link's active keys and stores keys
	// (each with LinkID = linkID), atomically. KindNotFound when the link
	// does not exist or is revoked.
	ReplaceLinkKeys(ctx context.Context, linkID string, keys []core.APIKey, at time.Time) error

	// RevokeLink revokes (at) a profile's link and every key minted for it,
	// atomically. KindNotFound when the link is not the profile's.
	// Revoking a revoked link is not an error.
	RevokeLink(ctx context.Context, profileID, linkID string, at time.Time) error
}

// CodeCache keeps one-time connect codes until they are redeemed or expire.
// Keys are opaque (the core passes a digest bound to the app, never the
// code itself).
type CodeCache interface {
	// PutCode stores g under key for ttl (> 0).
	PutCode(ctx context.Context, key string, g core.ConnectGrant, ttl time.Duration) error

	// RedeemCode returns the grant and deletes it in one atomic step: of
	// any number of concurrent redemptions of one key exactly one succeeds;
	// the others, and any redemption of an absent or expired key, get
	// KindNotFound.
	RedeemCode(ctx context.Context, key string) (core.ConnectGrant, error)
}
