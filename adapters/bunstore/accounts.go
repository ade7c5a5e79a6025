package bunstore

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/core"
)

// CreateAccount implements ports.AccountStore. The profile, studio, drive,
// subscriptions and keys are written in one transaction. The profile goes
// first with ON CONFLICT (email_normalized) DO NOTHING: when no row is
// written the email is taken (on PostgreSQL the insert waits for a
// concurrent registration of the same email to commit or roll back), and
// the transaction is abandoned before anything else is written.
func (s *Store) CreateAccount(ctx context.Context, a core.Account) error {
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		profile := newProfileRow(a.Profile)
		res, err := tx.NewInsert().Model(&profile).On("CONFLICT (email_normalized) DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return core.Conflict("email_taken", "an account with this email already exists")
		}
		if err := checkPlansExist(ctx, tx, a.Subscriptions); err != nil {
			return err
		}
		studio := studioRow{ID: a.Studio.ID, ProfileID: a.Studio.ProfileID, CreatedAt: a.Studio.CreatedAt.UTC()}
		if _, err := tx.NewInsert().Model(&studio).Exec(ctx); err != nil {
			return err
		}
		drive := driveRow{ID: a.Drive.ID, ProfileID: a.Drive.ProfileID, CreatedAt: a.Drive.CreatedAt.UTC()}
		if _, err := tx.NewInsert().Model(&drive).Exec(ctx); err != nil {
			return err
		}
		if len(a.Subscriptions) > 0 {
			subs := make([]subscriptionRow, len(a.Subscriptions))
			for i, sub := range a.Subscriptions {
				subs[i] = newSubscriptionRow(sub)
			}
			if _, err := tx.NewInsert().Model(&subs).Exec(ctx); err != nil {
				return err
			}
		}
		if len(a.Keys) > 0 {
			keys := make([]apiKeyRow, len(a.Keys))
			for i, k := range a.Keys {
				keys[i] = newAPIKeyRow(k)
			}
			if _, err := tx.NewInsert().Model(&keys).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	return s.fail(ctx, "create account", err)
}

// checkPlansExist refuses subscriptions to unknown plans as the in-memory
// store does (core.KindInvalid, field planId). The foreign key stays as a
// safety net against a plan deleted concurrently.
func checkPlansExist(ctx context.Context, tx bun.Tx, subs []core.Subscription) error {
	if len(subs) == 0 {
		return nil
	}
	want := make([]string, 0, len(subs))
	for _, sub := range subs {
		want = append(want, sub.PlanID)
	}
	var found []string
	err := tx.NewSelect().Model((*planRow)(nil)).Column("id").Where("id IN (?)", bun.List(want)).Scan(ctx, &found)
	if err != nil {
		return fmt.Errorf("check plans: %w", err)
	}
	known := make(map[string]bool, len(found))
	for _, id := range found {
		known[id] = true
	}
	for _, id := range want {
		if !known[id] {
			return core.Invalid("planId", "unknown plan %q", id)
		}
	}
	return nil
}

// ProfileByID implements ports.AccountStore.
func (s *Store) ProfileByID(ctx context.Context, id string) (core.Profile, error) {
	var row profileRow
	if err := s.db.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return core.Profile{}, s.fail(ctx, "profile by id", notFound(err, "profile"))
	}
	return row.core(), nil
}

// ProfileByEmail implements ports.AccountStore. normalized is compared
// exactly: the caller lower-cases it (core.NormalizeEmail).
func (s *Store) ProfileByEmail(ctx context.Context, normalized string) (core.Profile, error) {
	var row profileRow
	if err := s.db.NewSelect().Model(&row).Where("email_normalized = ?", normalized).Scan(ctx); err != nil {
		return core.Profile{}, s.fail(ctx, "profile by email", notFound(err, "profile"))
	}
	return row.core(), nil
}

// StudioByProfile implements ports.AccountStore.
func (s *Store) StudioByProfile(ctx context.Context, profileID string) (core.Studio, error) {
	var row studioRow
	if err := s.db.NewSelect().Model(&row).Where("profile_id = ?", profileID).Scan(ctx); err != nil {
		return core.Studio{}, s.fail(ctx, "studio by profile", notFound(err, "studio"))
	}
	return core.Studio{ID: row.ID, ProfileID: row.ProfileID, CreatedAt: row.CreatedAt.UTC()}, nil
}

// DriveByProfile implements ports.AccountStore.
func (s *Store) DriveByProfile(ctx context.Context, profileID string) (core.Drive, error) {
	var row driveRow
	if err := s.db.NewSelect().Model(&row).Where("profile_id = ?", profileID).Scan(ctx); err != nil {
		return core.Drive{}, s.fail(ctx, "drive by profile", notFound(err, "drive"))
	}
	return core.Drive{ID: row.ID, ProfileID: row.ProfileID, CreatedAt: row.CreatedAt.UTC()}, nil
}

// Subscriptions implements ports.AccountStore. They come ordered by line.
func (s *Store) Subscriptions(ctx context.Context, profileID string) ([]core.Subscription, error) {
	var rows []subscriptionRow
	if err := s.db.NewSelect().Model(&rows).Where("profile_id = ?", profileID).Order("line").Scan(ctx); err != nil {
		return nil, s.fail(ctx, "subscriptions", err)
	}
	out := make([]core.Subscription, len(rows))
	for i, r := range rows {
		out[i] = r.core()
	}
	return out, nil
}

// SetSubscription implements ports.AccountStore. In one transaction it
// checks the profile and the plan, then upserts with INSERT … ON CONFLICT
// (profile_id, line) DO UPDATE: a stored row keeps its id and takes every
// other field from sub, CreatedAt included (the port names only the id as
// kept). The upsert is atomic, so concurrent calls for one profile and line
// leave one row. A plan deleted between the check and the insert trips the
// foreign key and reads as the same KindInvalid.
func (s *Store) SetSubscription(ctx context.Context, sub core.Subscription) error {
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		found, err := tx.NewSelect().Model((*profileRow)(nil)).Where("id = ?", sub.ProfileID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check profile: %w", err)
		}
		if !found {
			return core.NotFound("profile")
		}
		if err := checkPlansExist(ctx, tx, []core.Subscription{sub}); err != nil {
			return err
		}
		row := newSubscriptionRow(sub)
		_, err = tx.NewInsert().Model(&row).
			On("CONFLICT (profile_id, line) DO UPDATE").
			Set("plan_id = EXCLUDED.plan_id").
			Set("status = EXCLUDED.status").
			Set("stripe_customer_id = EXCLUDED.stripe_customer_id").
			Set("stripe_subscription_id = EXCLUDED.stripe_subscription_id").
			Set("current_period_end = EXCLUDED.current_period_end").
			Set("created_at = EXCLUDED.created_at").
			Set("updated_at = EXCLUDED.updated_at").
			Exec(ctx)
		if isForeignKey(err) {
			e := core.Invalid("planId", "unknown plan %q", sub.PlanID)
			e.Err = fmt.Errorf("bunstore: set subscription: %w", err)
			return e
		}
		return err
	})
	return s.fail(ctx, "set subscription", err)
}

// APIKeyByDigest implements ports.AccountStore.
func (s *Store) APIKeyByDigest(ctx context.Context, digest string) (core.APIKey, error) {
	var row apiKeyRow
	err := s.db.NewSelect().Model(&row).Where("digest = ?", digest).Where("revoked_at IS NULL").Scan(ctx)
	if err != nil {
		return core.APIKey{}, s.fail(ctx, "api key by digest", notFound(err, "api key"))
	}
	return row.core(), nil
}

// ActiveAPIKeys implements ports.AccountStore: own and link keys, ordered
// by id.
func (s *Store) ActiveAPIKeys(ctx context.Context, profileID string) ([]core.APIKey, error) {
	var rows []apiKeyRow
	err := s.db.NewSelect().Model(&rows).
		Where("profile_id = ?", profileID).Where("revoked_at IS NULL").
		Order("id").Scan(ctx)
	if err != nil {
		return nil, s.fail(ctx, "active api keys", err)
	}
	out := make([]core.APIKey, len(rows))
	for i, r := range rows {
		out[i] = r.core()
	}
	return out, nil
}

// RotateAPIKey implements ports.AccountStore. The transaction first locks
// the profile row (SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE
// transactions already serialise writers), so concurrent rotations of one
// profile run one after the other and each revokes what the previous one
// stored. Only own keys (link_id IS NULL) are revoked; the partial unique
// index on active own keys backs this up.
func (s *Store) RotateAPIKey(ctx context.Context, key core.APIKey, revokedAt time.Time) error {
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var id string
		lock := tx.NewSelect().Model((*profileRow)(nil)).Column("id").Where("id = ?", key.ProfileID)
		if err := s.forUpdate(lock).Scan(ctx, &id); err != nil {
			return notFound(err, "profile")
		}
		_, err := tx.NewUpdate().Model((*apiKeyRow)(nil)).
			Set("revoked_at = ?", revokedAt.UTC()).
			Where("profile_id = ?", key.ProfileID).
			Where("line = ?", string(key.Line)).
			Where("link_id IS NULL").
			Where("revoked_at IS NULL").
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		row := newAPIKeyRow(key)
		_, err = tx.NewInsert().Model(&row).Exec(ctx)
		return err
	})
	return s.fail(ctx, "rotate api key", err)
}
