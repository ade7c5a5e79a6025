package bunstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/core"
)

// SeedPlans implements ports.PlanStore with one INSERT … ON CONFLICT (id)
// DO NOTHING: stored plans, edited or archived, are left untouched.
func (s *Store) SeedPlans(ctx context.Context, plans []core.Plan) error {
	if len(plans) == 0 {
		return nil
	}
	rows := make([]planRow, len(plans))
	for i, p := range plans {
		r, err := newPlanRow(p)
		if err != nil {
			return s.fail(ctx, "seed plans", err)
		}
		rows[i] = r
	}
	_, err := s.db.NewInsert().Model(&rows).On("CONFLICT (id) DO NOTHING").Exec(ctx)
	return s.fail(ctx, "seed plans", err)
}

// CreatePlan implements ports.PlanStore. A taken id is core.KindConflict
// with code "plan_exists".
func (s *Store) CreatePlan(ctx context.Context, p core.Plan) error {
	row, err := newPlanRow(p)
	if err != nil {
		return s.fail(ctx, "create plan", err)
	}
	if _, err := s.db.NewInsert().Model(&row).Exec(ctx); err != nil {
		if isUnique(err) {
			return conflict("plan_exists", "a plan with this id already exists", fmt.Errorf("bunstore: create plan: %w", err))
		}
		return s.fail(ctx, "create plan", err)
	}
	return nil
}

// PlanByID implements ports.PlanStore.
func (s *Store) PlanByID(ctx context.Context, id string) (core.Plan, error) {
	var row planRow
	if err := s.db.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return core.Plan{}, s.fail(ctx, "plan by id", notFound(err, "plan"))
	}
	p, err := row.core()
	if err != nil {
		return core.Plan{}, s.fail(ctx, "plan by id", err)
	}
	return p, nil
}

// lineRank is the ORDER BY expression ranking product lines in
// core.ProductLines order; an unknown line sorts first, as in
// testkit.SortPlans.
var lineRank, lineRankArgs = func() (string, []any) {
	var b strings.Builder
	args := make([]any, 0, len(core.ProductLines))
	b.WriteString("CASE line")
	for i, l := range core.ProductLines {
		b.WriteString(" WHEN ? THEN ")
		b.WriteString(strconv.Itoa(i))
		args = append(args, string(l))
	}
	b.WriteString(" ELSE -1 END")
	return b.String(), args
}()

// ListPlans implements ports.PlanStore.
func (s *Store) ListPlans(ctx context.Context, f core.PlanFilter) ([]core.Plan, error) {
	var rows []planRow
	q := s.db.NewSelect().Model(&rows)
	if !f.IncludeArchived {
		q = q.Where("status = ?", string(core.PlanActive))
	}
	if len(f.Lines) > 0 {
		lines := make([]string, len(f.Lines))
		for i, l := range f.Lines {
			lines[i] = string(l)
		}
		q = q.Where("line IN (?)", bun.List(lines))
	}
	q = q.OrderExpr(lineRank, lineRankArgs...).Order("sort_order", "price_minor", "id")
	if err := q.Scan(ctx); err != nil {
		return nil, s.fail(ctx, "list plans", err)
	}
	out := make([]core.Plan, len(rows))
	for i, r := range rows {
		p, err := r.core()
		if err != nil {
			return nil, s.fail(ctx, "list plans", err)
		}
		out[i] = p
	}
	return out, nil
}

// UpdatePlan implements ports.PlanStore. The plan row is locked (FOR UPDATE
// on PostgreSQL) before fn sees it, which also holds back subscriptions
// being created on it, so inUse stays true to the end of the transaction.
// fn cannot change the id.
func (s *Store) UpdatePlan(ctx context.Context, id string, fn func(p *core.Plan, inUse bool) error) (core.Plan, error) {
	var (
		out   core.Plan
		fnErr error
	)
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var row planRow
		if err := s.forUpdate(tx.NewSelect().Model(&row).Where("id = ?", id)).Scan(ctx); err != nil {
			return notFound(err, "plan")
		}
		p, err := row.core()
		if err != nil {
			return err
		}
		inUse, err := planInUse(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := fn(&p, inUse); err != nil {
			fnErr = err
			return err
		}
		p.ID = id
		updated, err := newPlanRow(p)
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(&updated).WherePK().Exec(ctx); err != nil {
			return err
		}
		out = p
		return nil
	})
	if fnErr != nil {
		return core.Plan{}, fnErr
	}
	if err != nil {
		return core.Plan{}, s.fail(ctx, "update plan", err)
	}
	return out, nil
}

// DeletePlan implements ports.PlanStore. The check for subscriptions runs
// in the transaction with the plan row locked; the foreign key (ON DELETE
// RESTRICT) is the safety net and reads as the same conflict.
func (s *Store) DeletePlan(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var found string
		lock := tx.NewSelect().Model((*planRow)(nil)).Column("id").Where("id = ?", id)
		if err := s.forUpdate(lock).Scan(ctx, &found); err != nil {
			return notFound(err, "plan")
		}
		inUse, err := planInUse(ctx, tx, id)
		if err != nil {
			return err
		}
		if inUse {
			return errPlanInUse(nil)
		}
		_, err = tx.NewDelete().Model((*planRow)(nil)).Where("id = ?", id).Exec(ctx)
		if isForeignKey(err) {
			return errPlanInUse(fmt.Errorf("bunstore: delete plan: %w", err))
		}
		return err
	})
	return s.fail(ctx, "delete plan", err)
}

func errPlanInUse(cause error) *core.Error {
	return conflict("plan_in_use", "the plan has subscriptions; archive it instead", cause)
}

// planInUse reports whether a subscription refers to the plan.
func planInUse(ctx context.Context, tx bun.Tx, id string) (bool, error) {
	return tx.NewSelect().Model((*subscriptionRow)(nil)).Where("plan_id = ?", id).Exists(ctx)
}
