package bunstore

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

var _ ports.BillingStore = (*Store)(nil)

type billingCustomerRow struct {
	bun.BaseModel `bun:"table:billing_customers"`

	ProfileID  string    `bun:"profile_id,pk"`
	Line       string    `bun:"line,pk"`
	CustomerID string    `bun:"customer_id"`
	CreatedAt  time.Time `bun:"created_at"`
}

func (r billingCustomerRow) core() core.BillingCustomer {
	return core.BillingCustomer{ProfileID: r.ProfileID, Line: core.ProductLine(r.Line), CustomerID: r.CustomerID, CreatedAt: r.CreatedAt.UTC()}
}

type paymentEventRow struct {
	bun.BaseModel `bun:"table:payment_events"`

	ID                string     `bun:"id,pk"`
	Type              string     `bun:"type"`
	Created           time.Time  `bun:"created"`
	CheckoutSessionID string     `bun:"checkout_session_id"`
	SubscriptionID    string     `bun:"subscription_id"`
	CustomerID        string     `bun:"customer_id"`
	ReceivedAt        time.Time  `bun:"received_at"`
	AppliedAt         *time.Time `bun:"applied_at"`
	Attempts          int        `bun:"attempts"`
	NextAttemptAt     time.Time  `bun:"next_attempt_at"`
	LastError         string     `bun:"last_error"`
	DeadAt            *time.Time `bun:"dead_at"`
}

func (r paymentEventRow) core() core.StoredEvent {
	return core.StoredEvent{
		PaymentEvent: core.PaymentEvent{
			ID: r.ID, Type: r.Type, Created: r.Created.UTC(), CheckoutSessionID: r.CheckoutSessionID,
			SubscriptionID: r.SubscriptionID, CustomerID: r.CustomerID,
		},
		ReceivedAt: r.ReceivedAt.UTC(), AppliedAt: utcPtr(r.AppliedAt), Attempts: r.Attempts,
		NextAttemptAt: r.NextAttemptAt.UTC(), LastError: r.LastError, DeadAt: utcPtr(r.DeadAt),
	}
}

// subscriptionSyncRow reads a subscription's provider fetch time.
type subscriptionSyncRow struct {
	bun.BaseModel `bun:"table:subscriptions"`

	ID               string     `bun:"id,pk"`
	ProviderSyncedAt *time.Time `bun:"provider_synced_at"`
}

// BillingCustomer implements ports.BillingStore.
func (s *Store) BillingCustomer(ctx context.Context, profileID string, line core.ProductLine) (core.BillingCustomer, error) {
	var row billingCustomerRow
	err := s.db.NewSelect().Model(&row).Where("profile_id = ?", profileID).Where("line = ?", string(line)).Scan(ctx)
	if err != nil {
		return core.BillingCustomer{}, s.fail(ctx, "billing customer", notFound(err, "billing customer"))
	}
	return row.core(), nil
}

// BillingCustomerByID implements ports.BillingStore.
func (s *Store) BillingCustomerByID(ctx context.Context, customerID string) (core.BillingCustomer, error) {
	var row billingCustomerRow
	if err := s.db.NewSelect().Model(&row).Where("customer_id = ?", customerID).Scan(ctx); err != nil {
		return core.BillingCustomer{}, s.fail(ctx, "billing customer by id", notFound(err, "billing customer"))
	}
	return row.core(), nil
}

// SaveBillingCustomer implements ports.BillingStore: INSERT … ON CONFLICT
// (profile_id, line) DO NOTHING, then the stored row, in one transaction,
// so of concurrent saves the first wins. A customer id stored for another
// profile or line trips its unique key: KindConflict "customer_taken".
func (s *Store) SaveBillingCustomer(ctx context.Context, c core.BillingCustomer) (core.BillingCustomer, error) {
	var out core.BillingCustomer
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		found, err := tx.NewSelect().Model((*profileRow)(nil)).Where("id = ?", c.ProfileID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check profile: %w", err)
		}
		if !found {
			return core.NotFound("profile")
		}
		row := billingCustomerRow{ProfileID: c.ProfileID, Line: string(c.Line), CustomerID: c.CustomerID, CreatedAt: c.CreatedAt.UTC()}
		if _, err := tx.NewInsert().Model(&row).On("CONFLICT (profile_id, line) DO NOTHING").Exec(ctx); err != nil {
			if isUnique(err) {
				return conflict("customer_taken", "this customer belongs to another profile or line", err)
			}
			return err
		}
		var stored billingCustomerRow
		if err := tx.NewSelect().Model(&stored).Where("profile_id = ?", c.ProfileID).Where("line = ?", string(c.Line)).Scan(ctx); err != nil {
			return err
		}
		out = stored.core()
		return nil
	})
	return out, s.fail(ctx, "save billing customer", err)
}

// RecordPaymentEvent implements ports.BillingStore with INSERT … ON
// CONFLICT (id) DO NOTHING: a resent event inserts nothing.
func (s *Store) RecordPaymentEvent(ctx context.Context, ev core.PaymentEvent, receivedAt time.Time) (bool, error) {
	at := receivedAt.UTC()
	row := paymentEventRow{
		ID: ev.ID, Type: ev.Type, Created: ev.Created.UTC(), CheckoutSessionID: ev.CheckoutSessionID,
		SubscriptionID: ev.SubscriptionID, CustomerID: ev.CustomerID, ReceivedAt: at, NextAttemptAt: at,
	}
	res, err := s.db.NewInsert().Model(&row).On("CONFLICT (id) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, s.fail(ctx, "record payment event", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail(ctx, "record payment event", err)
	}
	return n == 1, nil
}

// PaymentEventByID implements ports.BillingStore.
func (s *Store) PaymentEventByID(ctx context.Context, id string) (core.StoredEvent, error) {
	var row paymentEventRow
	if err := s.db.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return core.StoredEvent{}, s.fail(ctx, "payment event", notFound(err, "payment event"))
	}
	return row.core(), nil
}

// DuePaymentEvents implements ports.BillingStore (index
// payment_events_due_idx).
func (s *Store) DuePaymentEvents(ctx context.Context, now time.Time, limit int) ([]core.StoredEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	var rows []paymentEventRow
	err := s.db.NewSelect().Model(&rows).
		Where("applied_at IS NULL").Where("dead_at IS NULL").Where("next_attempt_at <= ?", now.UTC()).
		Order("next_attempt_at", "id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, s.fail(ctx, "due payment events", err)
	}
	out := make([]core.StoredEvent, len(rows))
	for i, r := range rows {
		out[i] = r.core()
	}
	return out, nil
}

// ApplyPaymentEvent implements ports.BillingStore. In one transaction it
// locks the event row (SELECT … FOR UPDATE on PostgreSQL; SQLite's
// IMMEDIATE transactions serialise writers), returns when it is applied,
// locks the profile's subscription of the line, lets e.Decide choose,
// upserts its answer with the fetch time, and marks the event applied: the
// mark and the change commit together or not at all.
func (s *Store) ApplyPaymentEvent(ctx context.Context, e ports.EventEffect) (bool, error) {
	applied := false
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var ev paymentEventRow
		if err := s.forUpdate(tx.NewSelect().Model(&ev).Where("id = ?", e.EventID)).Scan(ctx); err != nil {
			return notFound(err, "payment event")
		}
		if ev.AppliedAt != nil {
			return nil
		}
		if e.ProfileID != "" {
			fetchedAt := e.FetchedAt
			if err := s.updateSubscriptionTx(ctx, tx, e.ProfileID, e.Line, e.Decide, &fetchedAt); err != nil {
				return err
			}
		}
		_, err := tx.NewUpdate().Model((*paymentEventRow)(nil)).
			Set("applied_at = ?", e.AppliedAt.UTC()).Set("dead_at = NULL").Where("id = ?", e.EventID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("mark applied: %w", err)
		}
		applied = true
		return nil
	})
	return applied, s.fail(ctx, "apply payment event", err)
}

// UpdateSubscription implements ports.BillingStore: one transaction that
// locks the profile and its subscription of the line as ApplyPaymentEvent
// does, so the two never interleave.
func (s *Store) UpdateSubscription(ctx context.Context, profileID string, line core.ProductLine,
	fn func(cur *core.Subscription, syncedAt *time.Time) (*core.Subscription, error)) error {
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.updateSubscriptionTx(ctx, tx, profileID, line, fn, nil)
	})
	return s.fail(ctx, "update subscription", err)
}

// updateSubscriptionTx locks the profile (SELECT … FOR UPDATE on
// PostgreSQL; SQLite's IMMEDIATE transactions serialise writers) and its
// subscription of line, runs fn on them and upserts its answer, with
// fetchedAt as the provider read time when not nil.
func (s *Store) updateSubscriptionTx(ctx context.Context, tx bun.Tx, profileID string, line core.ProductLine,
	fn func(*core.Subscription, *time.Time) (*core.Subscription, error), fetchedAt *time.Time) error {
	var id string
	lock := tx.NewSelect().Model((*profileRow)(nil)).Column("id").Where("id = ?", profileID)
	if err := s.forUpdate(lock).Scan(ctx, &id); err != nil {
		return notFound(err, "profile")
	}
	var rows []subscriptionRow
	q := tx.NewSelect().Model(&rows).Where("profile_id = ?", profileID).Where("line = ?", string(line))
	if err := s.forUpdate(q).Scan(ctx); err != nil {
		return fmt.Errorf("load subscription: %w", err)
	}
	var cur *core.Subscription
	var synced *time.Time
	if len(rows) == 1 {
		c := rows[0].core()
		cur = &c
		var sync subscriptionSyncRow
		if err := tx.NewSelect().Model(&sync).Where("id = ?", c.ID).Scan(ctx); err != nil {
			return fmt.Errorf("load fetch time: %w", err)
		}
		synced = utcPtr(sync.ProviderSyncedAt)
	}
	next, err := fn(cur, synced)
	if err != nil || next == nil {
		return err
	}
	sub := *next
	sub.ProfileID, sub.Line = profileID, line
	if cur != nil {
		sub.ID = cur.ID
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
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store subscription: %w", err)
	}
	if fetchedAt == nil {
		return nil
	}
	_, err = tx.NewUpdate().Model((*subscriptionSyncRow)(nil)).
		Set("provider_synced_at = ?", fetchedAt.UTC()).
		Where("profile_id = ?", profileID).Where("line = ?", string(line)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store fetch time: %w", err)
	}
	return nil
}

// SyncClock implements ports.BillingStore: PostgreSQL's clock_timestamp(),
// the database server's clock, which every instance shares. SQLite is a
// file on one host, whose processes share that host's clock.
func (s *Store) SyncClock(ctx context.Context) (time.Time, error) {
	if s.dialect != DialectPostgres {
		return time.Now().UTC().Truncate(time.Microsecond), nil
	}
	var t time.Time
	if err := s.db.QueryRowContext(ctx, "SELECT clock_timestamp()").Scan(&t); err != nil {
		return time.Time{}, s.fail(ctx, "sync clock", err)
	}
	return t.UTC(), nil
}

// FailPaymentEvent implements ports.BillingStore: the event row is locked
// (as ApplyPaymentEvent locks it), so concurrent failures count one by
// one and only one of them marks the event dead.
func (s *Store) FailPaymentEvent(ctx context.Context, f ports.EventFailure) (bool, error) {
	dead := false
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var ev paymentEventRow
		if err := s.forUpdate(tx.NewSelect().Model(&ev).Where("id = ?", f.EventID)).Scan(ctx); err != nil {
			return notFound(err, "payment event")
		}
		if ev.AppliedAt != nil || ev.DeadAt != nil {
			return nil
		}
		q := tx.NewUpdate().Model((*paymentEventRow)(nil)).
			Set("attempts = ?", ev.Attempts+1).Set("next_attempt_at = ?", f.Next.UTC()).Set("last_error = ?", f.Reason)
		if f.MaxAttempts > 0 && ev.Attempts+1 >= f.MaxAttempts {
			q, dead = q.Set("dead_at = ?", f.At.UTC()), true
		}
		_, err := q.Where("id = ?", f.EventID).Exec(ctx)
		return err
	})
	if err != nil {
		return false, s.fail(ctx, "fail payment event", err)
	}
	return dead, nil
}

// CountDeadPaymentEvents implements ports.BillingStore.
func (s *Store) CountDeadPaymentEvents(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().Model((*paymentEventRow)(nil)).Where("dead_at IS NOT NULL").Count(ctx)
	if err != nil {
		return 0, s.fail(ctx, "count dead payment events", err)
	}
	return int(n), nil
}
