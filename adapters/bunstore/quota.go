package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

var _ ports.QuotaStore = (*Store)(nil)

// usageRow is an owner's storage_usage row (migrations/*/0003_storage.sql).
// It is created by the owner's first Reserve.
type usageRow struct {
	bun.BaseModel `bun:"table:storage_usage"`

	OwnerID       string `bun:"owner_id,pk"`
	UsedBytes     int64  `bun:"used_bytes"`
	ReservedBytes int64  `bun:"reserved_bytes"`
}

// reservationRow is an upload_reservations row.
type reservationRow struct {
	bun.BaseModel `bun:"table:upload_reservations"`

	ID         string    `bun:"id,pk"`
	OwnerID    string    `bun:"owner_id"`
	StorageKey string    `bun:"storage_key"`
	Bytes      int64     `bun:"bytes"`
	CreatedAt  time.Time `bun:"created_at"`
	ExpiresAt  time.Time `bun:"expires_at"`
}

func newReservationRow(r core.Reservation) reservationRow {
	return reservationRow{
		ID:         r.ID,
		OwnerID:    r.OwnerID,
		StorageKey: r.StorageKey,
		Bytes:      r.Bytes,
		CreatedAt:  r.CreatedAt.UTC(),
		ExpiresAt:  r.ExpiresAt.UTC(),
	}
}

func (r reservationRow) core() core.Reservation {
	return core.Reservation{
		ID:         r.ID,
		OwnerID:    r.OwnerID,
		StorageKey: r.StorageKey,
		Bytes:      r.Bytes,
		CreatedAt:  r.CreatedAt.UTC(),
		ExpiresAt:  r.ExpiresAt.UTC(),
	}
}

// Reserve implements ports.QuotaStore in one transaction:
//
//  1. INSERT the owner's usage row ON CONFLICT (owner_id) DO NOTHING, so
//     there is a row to lock (concurrent first reservations of an owner
//     wait for the one that inserts it);
//  2. INSERT the reservation: a storage key or id already reserved is
//     core.KindConflict, code "reservation_exists";
//  3. UPDATE storage_usage SET reserved_bytes = reserved_bytes + bytes
//     WHERE owner_id = ? AND used_bytes + reserved_bytes + bytes <= limit.
//     On PostgreSQL the UPDATE locks the row, and a concurrent Reserve
//     waiting for that lock re-evaluates the WHERE clause on the committed
//     row (READ COMMITTED), so reservations never overshoot; SQLite's
//     IMMEDIATE transactions run one writer at a time. No row updated means
//     the limit would be exceeded: core.KindQuotaExceeded, and the
//     transaction is rolled back, reservation included.
//
// Negative bytes are core.KindInvalid (detail "bytes"), as in testkit.Store.
func (s *Store) Reserve(ctx context.Context, r core.Reservation, limit int64) error {
	if r.Bytes < 0 {
		return core.Invalid("bytes", "a reservation cannot hold negative bytes")
	}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		usage := usageRow{OwnerID: r.OwnerID}
		if _, err := tx.NewInsert().Model(&usage).On("CONFLICT (owner_id) DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("create usage: %w", err)
		}
		row := newReservationRow(r)
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			if isUnique(err) {
				return errReservationExists(fmt.Errorf("bunstore: reserve: %w", err))
			}
			return err
		}
		res, err := tx.NewUpdate().Model((*usageRow)(nil)).
			Set("reserved_bytes = reserved_bytes + ?", r.Bytes).
			Where("owner_id = ?", r.OwnerID).
			Where("used_bytes + reserved_bytes + ? <= ?", r.Bytes, limit).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("hold bytes: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("hold bytes: %w", err)
		}
		if n == 0 {
			return errQuotaExceeded()
		}
		return nil
	})
	return s.fail(ctx, "reserve", err)
}

func errReservationExists(cause error) *core.Error {
	return conflict("reservation_exists", "the storage key is already reserved", cause)
}

func errQuotaExceeded() *core.Error {
	return core.E(core.KindQuotaExceeded, "the upload would exceed the storage limit").WithDetail("storage")
}

// ReservationByKey implements ports.QuotaStore, scoped to the owner.
func (s *Store) ReservationByKey(ctx context.Context, ownerID, storageKey string) (core.Reservation, error) {
	var row reservationRow
	err := s.db.NewSelect().Model(&row).Where("storage_key = ?", storageKey).Where("owner_id = ?", ownerID).Scan(ctx)
	if err != nil {
		return core.Reservation{}, s.fail(ctx, "reservation by key", notFound(err, "reservation"))
	}
	return row.core(), nil
}

// Release implements ports.QuotaStore in one transaction: DELETE …
// RETURNING bytes, scoped to the owner, then reserved_bytes -= bytes. Of
// concurrent releases of one reservation only the one whose DELETE removes
// the row (on PostgreSQL the others wait for its lock, then find nothing)
// gives the bytes back. Another owner's reservation is left alone.
func (s *Store) Release(ctx context.Context, ownerID, reservationID string) error {
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		bytes, found, err := deleteReservation(ctx, tx, ownerID, reservationID)
		if err != nil || !found {
			return err
		}
		return moveBytes(ctx, tx, ownerID, -bytes, 0)
	})
	return s.fail(ctx, "release", err)
}

// deleteReservation deletes the owner's reservation and returns the bytes
// it held; found is false when there was none.
func deleteReservation(ctx context.Context, tx bun.Tx, ownerID, id string) (bytes int64, found bool, err error) {
	err = tx.QueryRowContext(ctx,
		"DELETE FROM upload_reservations WHERE id = ? AND owner_id = ? RETURNING bytes", id, ownerID).Scan(&bytes)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("delete reservation: %w", err)
	}
	return bytes, true, nil
}

// moveBytes adds reserved and used (either may be negative) to the owner's
// usage row, which must exist: a reservation was made through it. The
// CHECK constraints refuse a count that would go negative.
func moveBytes(ctx context.Context, tx bun.Tx, ownerID string, reserved, used int64) error {
	res, err := tx.NewUpdate().Model((*usageRow)(nil)).
		Set("reserved_bytes = reserved_bytes + ?", reserved).
		Set("used_bytes = used_bytes + ?", used).
		Where("owner_id = ?", ownerID).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("update usage: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update usage: %w", err)
	}
	if n != 1 {
		return fmt.Errorf("update usage: owner %s has no usage row", ownerID)
	}
	return nil
}

// ExpiredReservations implements ports.QuotaStore: reservations whose
// ExpiresAt is at or before now, of every owner, by ExpiresAt then id,
// through the expires_at index. A limit of zero or less lists none.
func (s *Store) ExpiredReservations(ctx context.Context, now time.Time, limit int) ([]core.Reservation, error) {
	if limit <= 0 {
		return nil, nil
	}
	var rows []reservationRow
	err := s.db.NewSelect().Model(&rows).
		Where("expires_at <= ?", now.UTC()).
		Order("expires_at", "id").
		Limit(int64(limit)).
		Scan(ctx)
	if err != nil {
		return nil, s.fail(ctx, "expired reservations", err)
	}
	out := make([]core.Reservation, len(rows))
	for i, r := range rows {
		out[i] = r.core()
	}
	return out, nil
}

// Usage implements ports.QuotaStore: zero for an owner without a usage row.
func (s *Store) Usage(ctx context.Context, ownerID string) (core.Usage, error) {
	var row usageRow
	err := s.db.NewSelect().Model(&row).Where("owner_id = ?", ownerID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return core.Usage{}, nil
	}
	if err != nil {
		return core.Usage{}, s.fail(ctx, "usage", err)
	}
	return core.Usage{UsedBytes: row.UsedBytes, ReservedBytes: row.ReservedBytes}, nil
}
