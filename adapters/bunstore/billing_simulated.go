package bunstore

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/ports"
)

var _ ports.SimulatedPaymentsStore = (*Store)(nil)

type simulatedRow struct {
	bun.BaseModel `bun:"table:simulated_payments"`

	Kind       string    `bun:"kind,pk"`
	ID         string    `bun:"id,pk"`
	CustomerID string    `bun:"customer_id"`
	Data       string    `bun:"data"`
	CreatedAt  time.Time `bun:"created_at"`
}

func (r simulatedRow) port() ports.SimulatedRecord {
	return ports.SimulatedRecord{Kind: r.Kind, ID: r.ID, CustomerID: r.CustomerID, Data: []byte(r.Data), CreatedAt: r.CreatedAt.UTC()}
}

// CreateSimulated implements ports.SimulatedPaymentsStore.
func (s *Store) CreateSimulated(ctx context.Context, r ports.SimulatedRecord) error {
	row := simulatedRow{Kind: r.Kind, ID: r.ID, CustomerID: r.CustomerID, Data: string(r.Data), CreatedAt: r.CreatedAt.UTC()}
	_, err := s.db.NewInsert().Model(&row).Exec(ctx)
	return s.fail(ctx, "create simulated "+r.Kind, err)
}

// Simulated implements ports.SimulatedPaymentsStore.
func (s *Store) Simulated(ctx context.Context, kind, id string) (ports.SimulatedRecord, error) {
	var row simulatedRow
	if err := s.db.NewSelect().Model(&row).Where("kind = ?", kind).Where("id = ?", id).Scan(ctx); err != nil {
		return ports.SimulatedRecord{}, s.fail(ctx, "simulated "+kind, notFound(err, kind))
	}
	return row.port(), nil
}

// UpdateSimulated implements ports.SimulatedPaymentsStore: the row is
// locked (SELECT … FOR UPDATE; SQLite's IMMEDIATE transactions) while fn
// runs.
func (s *Store) UpdateSimulated(ctx context.Context, kind, id string, fn func([]byte) ([]byte, error)) (ports.SimulatedRecord, error) {
	var out ports.SimulatedRecord
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var row simulatedRow
		if err := s.forUpdate(tx.NewSelect().Model(&row).Where("kind = ?", kind).Where("id = ?", id)).Scan(ctx); err != nil {
			return notFound(err, kind)
		}
		data, err := fn([]byte(row.Data))
		if err != nil {
			return err
		}
		row.Data = string(data)
		if _, err := tx.NewUpdate().Model(&row).Column("data").WherePK().Exec(ctx); err != nil {
			return err
		}
		out = row.port()
		return nil
	})
	return out, s.fail(ctx, "update simulated "+kind, err)
}

// ListSimulated implements ports.SimulatedPaymentsStore (index
// simulated_payments_customer_idx).
func (s *Store) ListSimulated(ctx context.Context, kind, customerID string, limit int) ([]ports.SimulatedRecord, error) {
	if limit <= 0 {
		return nil, nil
	}
	var rows []simulatedRow
	err := s.db.NewSelect().Model(&rows).Where("kind = ?", kind).Where("customer_id = ?", customerID).
		OrderExpr("created_at DESC, id DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, s.fail(ctx, "list simulated "+kind, err)
	}
	out := make([]ports.SimulatedRecord, len(rows))
	for i, r := range rows {
		out[i] = r.port()
	}
	return out, nil
}
