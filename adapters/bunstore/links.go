package bunstore

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

var _ ports.LinkStore = (*Store)(nil)

// EnsureLink implements ports.LinkStore in one transaction:
//
//  1. lock the app row (FOR KEY SHARE on PostgreSQL): a concurrent
//     DeleteApp has either removed the app (core.KindNotFound, "app") or
//     waits for this link and then revokes it;
//  2. check the profile (core.KindNotFound, "profile");
//  3. INSERT … ON CONFLICT (profile_id, app_id) DO NOTHING: of concurrent
//     callers one inserts, the others wait for it on the unique index and
//     insert nothing;
//  4. SELECT the pair's row FOR UPDATE and, when it is revoked, re-activate
//     it (revoked_at cleared, updated_at from l).
//
// Every caller gets the one row's id. Unknown apps and profiles are
// refused as in testkit.Store (the port leaves them unsaid).
func (s *Store) EnsureLink(ctx context.Context, l core.ConnectLink) (core.ConnectLink, error) {
	var out core.ConnectLink
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var found string
		app := tx.NewSelect().Model((*partnerAppRow)(nil)).Column("id").Where("id = ?", l.AppID)
		if err := s.forKeyShare(app).Scan(ctx, &found); err != nil {
			return notFound(err, "app")
		}
		ok, err := tx.NewSelect().Model((*profileRow)(nil)).Where("id = ?", l.ProfileID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check profile: %w", err)
		}
		if !ok {
			return core.NotFound("profile")
		}
		row := newConnectLinkRow(l)
		row.RevokedAt = nil
		if _, err := tx.NewInsert().Model(&row).On("CONFLICT (profile_id, app_id) DO NOTHING").Exec(ctx); err != nil {
			return err
		}
		var cur connectLinkRow
		sel := tx.NewSelect().Model(&cur).Where("profile_id = ?", l.ProfileID).Where("app_id = ?", l.AppID)
		if err := s.forUpdate(sel).Scan(ctx); err != nil {
			return fmt.Errorf("read link: %w", err)
		}
		if cur.RevokedAt != nil {
			cur.RevokedAt, cur.UpdatedAt = nil, l.UpdatedAt.UTC()
			_, err := tx.NewUpdate().Model((*connectLinkRow)(nil)).
				Set("revoked_at = NULL").Set("updated_at = ?", cur.UpdatedAt).
				Where("id = ?", cur.ID).
				Exec(ctx)
			if err != nil {
				return fmt.Errorf("re-activate link: %w", err)
			}
		}
		out = cur.core()
		return nil
	})
	if err != nil {
		return core.ConnectLink{}, s.fail(ctx, "ensure link", err)
	}
	return out, nil
}

// LinkFor implements ports.LinkStore.
func (s *Store) LinkFor(ctx context.Context, profileID, appID string) (core.ConnectLink, error) {
	var row connectLinkRow
	err := s.db.NewSelect().Model(&row).Where("profile_id = ?", profileID).Where("app_id = ?", appID).Scan(ctx)
	if err != nil {
		return core.ConnectLink{}, s.fail(ctx, "link for", notFound(err, "link"))
	}
	return row.core(), nil
}

// LinksByProfile implements ports.LinkStore: oldest first, ties broken by
// id. Links of deleted apps are listed too, revoked, with an empty AppID.
func (s *Store) LinksByProfile(ctx context.Context, profileID string) ([]core.ConnectLink, error) {
	var rows []connectLinkRow
	err := s.db.NewSelect().Model(&rows).Where("profile_id = ?", profileID).Order("created_at", "id").Scan(ctx)
	if err != nil {
		return nil, s.fail(ctx, "links by profile", err)
	}
	out := make([]core.ConnectLink, len(rows))
	for i, r := range rows {
		out[i] = r.core()
	}
	return out, nil
}

// ReplaceLinkKeys implements ports.LinkStore. The link row is locked (FOR
// UPDATE on PostgreSQL) and must be active; its active keys are revoked and
// keys stored with LinkID set to linkID, whatever they carried.
func (s *Store) ReplaceLinkKeys(ctx context.Context, linkID string, keys []core.APIKey, at time.Time) error {
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		link, err := s.lockLink(ctx, tx, linkID)
		if err != nil {
			return err
		}
		if link.RevokedAt != nil {
			return core.NotFound("link")
		}
		if err := revokeLinkKeys(ctx, tx, linkID, at); err != nil {
			return err
		}
		if len(keys) == 0 {
			return nil
		}
		rows := make([]apiKeyRow, len(keys))
		for i, k := range keys {
			k.LinkID = linkID
			rows[i] = newAPIKeyRow(k)
		}
		_, err = tx.NewInsert().Model(&rows).Exec(ctx)
		return err
	})
	return s.fail(ctx, "replace link keys", err)
}

// RevokeLink implements ports.LinkStore. The link row is locked (FOR UPDATE
// on PostgreSQL) and scoped to the profile; an already revoked link keeps
// its first RevokedAt.
func (s *Store) RevokeLink(ctx context.Context, profileID, linkID string, at time.Time) error {
	at = at.UTC()
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var link connectLinkRow
		sel := tx.NewSelect().Model(&link).Where("id = ?", linkID).Where("profile_id = ?", profileID)
		if err := s.forUpdate(sel).Scan(ctx); err != nil {
			return notFound(err, "link") // another profile's link looks missing
		}
		if link.RevokedAt == nil {
			_, err := tx.NewUpdate().Model((*connectLinkRow)(nil)).
				Set("revoked_at = ?", at).Set("updated_at = ?", at).
				Where("id = ?", linkID).
				Exec(ctx)
			if err != nil {
				return fmt.Errorf("revoke link: %w", err)
			}
		}
		return revokeLinkKeys(ctx, tx, linkID, at)
	})
	return s.fail(ctx, "revoke link", err)
}

// lockLink reads and locks a link; core.KindNotFound when there is none.
func (s *Store) lockLink(ctx context.Context, tx bun.Tx, linkID string) (connectLinkRow, error) {
	var row connectLinkRow
	if err := s.forUpdate(tx.NewSelect().Model(&row).Where("id = ?", linkID)).Scan(ctx); err != nil {
		return connectLinkRow{}, notFound(err, "link")
	}
	return row, nil
}

// revokeLinkKeys revokes, at at, the link's active keys.
func revokeLinkKeys(ctx context.Context, tx bun.Tx, linkID string, at time.Time) error {
	_, err := tx.NewUpdate().Model((*apiKeyRow)(nil)).
		Set("revoked_at = ?", at.UTC()).
		Where("link_id = ?", linkID).Where("revoked_at IS NULL").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke link keys: %w", err)
	}
	return nil
}

// forKeyShare locks the selected rows against deletion and key changes
// until the transaction ends (PostgreSQL; SQLite serialises writers).
func (s *Store) forKeyShare(q *bun.SelectQuery) *bun.SelectQuery {
	if s.dialect == DialectPostgres {
		return q.For("KEY SHARE")
	}
	return q
}
