package bunstore

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

var _ ports.PartnerAppStore = (*Store)(nil)

// CreateApp implements ports.PartnerAppStore. A taken id or client id is
// core.KindConflict, code "app_exists"; an owner that does not exist is
// core.KindNotFound, as in testkit.Store.
func (s *Store) CreateApp(ctx context.Context, a core.PartnerApp) error {
	row, err := newPartnerAppRow(a)
	if err != nil {
		return s.fail(ctx, "create app", err)
	}
	_, err = s.db.NewInsert().Model(&row).Exec(ctx)
	switch {
	case isUnique(err):
		return errAppExists(fmt.Errorf("bunstore: create app: %w", err))
	case isForeignKey(err):
		e := core.NotFound("profile")
		e.Err = fmt.Errorf("bunstore: create app: %w", err)
		return e
	}
	return s.fail(ctx, "create app", err)
}

func errAppExists(cause error) *core.Error {
	return conflict("app_exists", "an app with this id or client id already exists", cause)
}

// AppByID implements ports.PartnerAppStore.
func (s *Store) AppByID(ctx context.Context, id string) (core.PartnerApp, error) {
	return s.appWhere(ctx, "app by id", "id = ?", id)
}

// AppByClientID implements ports.PartnerAppStore.
func (s *Store) AppByClientID(ctx context.Context, clientID string) (core.PartnerApp, error) {
	return s.appWhere(ctx, "app by client id", "client_id = ?", clientID)
}

func (s *Store) appWhere(ctx context.Context, op, where string, arg string) (core.PartnerApp, error) {
	var row partnerAppRow
	if err := s.db.NewSelect().Model(&row).Where(where, arg).Scan(ctx); err != nil {
		return core.PartnerApp{}, s.fail(ctx, op, notFound(err, "app"))
	}
	a, err := row.core()
	if err != nil {
		return core.PartnerApp{}, s.fail(ctx, op, err)
	}
	return a, nil
}

// AppsByOwner implements ports.PartnerAppStore: oldest first, ties broken
// by id.
func (s *Store) AppsByOwner(ctx context.Context, profileID string) ([]core.PartnerApp, error) {
	var rows []partnerAppRow
	err := s.db.NewSelect().Model(&rows).Where("profile_id = ?", profileID).Order("created_at", "id").Scan(ctx)
	if err != nil {
		return nil, s.fail(ctx, "apps by owner", err)
	}
	apps, err := partnerApps(rows)
	if err != nil {
		return nil, s.fail(ctx, "apps by owner", err)
	}
	return apps, nil
}

// ListApps implements ports.PartnerAppStore with keyset paging: WHERE id >
// q.After ORDER BY id LIMIT q.Limit. A q.Limit of zero or less returns no
// apps ("at most q.Limit").
func (s *Store) ListApps(ctx context.Context, q core.AppQuery) ([]core.PartnerApp, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	var rows []partnerAppRow
	sel := s.db.NewSelect().Model(&rows)
	if q.Status != "" {
		sel = sel.Where("status = ?", string(q.Status))
	}
	if q.After != "" {
		sel = sel.Where("id > ?", q.After)
	}
	if err := sel.Order("id").Limit(int64(q.Limit)).Scan(ctx); err != nil {
		return nil, s.fail(ctx, "list apps", err)
	}
	apps, err := partnerApps(rows)
	if err != nil {
		return nil, s.fail(ctx, "list apps", err)
	}
	return apps, nil
}

// UpdateApp implements ports.PartnerAppStore. The app row is locked (FOR
// UPDATE on PostgreSQL) before fn sees it. fn cannot change the id; a
// client id changed to a taken one is core.KindConflict, code "app_exists".
func (s *Store) UpdateApp(ctx context.Context, id string, fn func(a *core.PartnerApp) error) (core.PartnerApp, error) {
	var (
		out   core.PartnerApp
		fnErr error
	)
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var row partnerAppRow
		if err := s.forUpdate(tx.NewSelect().Model(&row).Where("id = ?", id)).Scan(ctx); err != nil {
			return notFound(err, "app")
		}
		a, err := row.core()
		if err != nil {
			return err
		}
		if err := fn(&a); err != nil {
			fnErr = err
			return err
		}
		a.ID = id
		updated, err := newPartnerAppRow(a)
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(&updated).WherePK().Exec(ctx); err != nil {
			if isUnique(err) {
				return errAppExists(fmt.Errorf("bunstore: update app: %w", err))
			}
			return err
		}
		out = a
		return nil
	})
	if fnErr != nil {
		return core.PartnerApp{}, fnErr
	}
	if err != nil {
		return core.PartnerApp{}, s.fail(ctx, "update app", err)
	}
	return out, nil
}

// DeleteApp implements ports.PartnerAppStore in one transaction: lock the
// app row, revoke its active links, revoke every active key of its links,
// delete its analytics and the app. The links stay, revoked, and the
// delete detaches them (connect_links.app_id ON DELETE SET NULL), so they
// and their keys remain as the audit trail; LinkFor no longer finds them
// by the app.
//
// Links are revoked before keys: on PostgreSQL the link UPDATE waits for a
// ReplaceLinkKeys holding a link's lock, and the key UPDATE, a new
// statement, then sees the keys it committed. A ReplaceLinkKeys or
// EnsureLink that comes later waits for this transaction and finds the
// link revoked or the app gone.
func (s *Store) DeleteApp(ctx context.Context, id string, at time.Time) error {
	at = at.UTC()
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var found string
		lock := tx.NewSelect().Model((*partnerAppRow)(nil)).Column("id").Where("id = ?", id)
		if err := s.forUpdate(lock).Scan(ctx, &found); err != nil {
			return notFound(err, "app")
		}
		_, err := tx.NewUpdate().Model((*connectLinkRow)(nil)).
			Set("revoked_at = ?", at).Set("updated_at = ?", at).
			Where("app_id = ?", id).Where("revoked_at IS NULL").
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("revoke links: %w", err)
		}
		links := tx.NewSelect().Model((*connectLinkRow)(nil)).Column("id").Where("app_id = ?", id)
		_, err = tx.NewUpdate().Model((*apiKeyRow)(nil)).
			Set("revoked_at = ?", at).
			Where("link_id IN (?)", links).Where("revoked_at IS NULL").
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("revoke link keys: %w", err)
		}
		if _, err := tx.NewDelete().Model((*appDailyStatsRow)(nil)).Where("app_id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("delete stats: %w", err)
		}
		_, err = tx.NewDelete().Model((*partnerAppRow)(nil)).Where("id = ?", id).Exec(ctx)
		return err
	})
	return s.fail(ctx, "delete app", err)
}

// AddAppStat implements ports.PartnerAppStore with one atomic upsert,
// INSERT … ON CONFLICT (app_id, day) DO UPDATE SET col = col + EXCLUDED.col,
// so concurrent adds are never lost. An unknown stat is core.KindInvalid
// (detail "stat"); an unknown app is core.KindNotFound (the foreign key), as
// in testkit.Store.
func (s *Store) AddAppStat(ctx context.Context, appID string, day time.Time, stat core.AppStat, n int64) error {
	col, ok := statColumns[stat]
	if !ok {
		return core.Invalid("stat", "unknown app stat %q", stat)
	}
	c := bun.Ident(col)
	_, err := s.db.ExecContext(ctx,
		"INSERT INTO app_daily_stats (app_id, day, ?) VALUES (?, ?, ?) "+
			"ON CONFLICT (app_id, day) DO UPDATE SET ? = app_daily_stats.? + EXCLUDED.?",
		c, appID, newSQLDay(day), n, c, c, c)
	if isForeignKey(err) {
		e := core.NotFound("app")
		e.Err = fmt.Errorf("bunstore: add app stat: %w", err)
		return e
	}
	return s.fail(ctx, "add app stat", err)
}

// AppStats implements ports.PartnerAppStore. from and to are taken as the
// UTC days they fall on, both included.
func (s *Store) AppStats(ctx context.Context, appID string, from, to time.Time) ([]core.AppDayStats, error) {
	var rows []appDailyStatsRow
	err := s.db.NewSelect().Model(&rows).
		Where("app_id = ?", appID).
		Where("day >= ?", newSQLDay(from)).Where("day <= ?", newSQLDay(to)).
		Order("day").Scan(ctx)
	if err != nil {
		return nil, s.fail(ctx, "app stats", err)
	}
	out := make([]core.AppDayStats, len(rows))
	for i, r := range rows {
		out[i] = r.core()
	}
	return out, nil
}
