package ports

import (
	"context"
	"time"

	"github.com/gellhub/gellhub/core"
)

// EventEffect is what applying one payment event does, in one transaction:
// Decide sees the profile's subscription of Line (nil when it has none)
// and the time its provider state was last read, and returns the
// subscription to store (nil: leave it), and the event is marked applied.
type EventEffect struct {
	EventID   string
	AppliedAt time.Time
	// ProfileID and Line name the subscription the event changes; empty,
	// the event is only marked applied.
	ProfileID string
	Line      core.ProductLine
	// FetchedAt is when the provider state that Decide writes was read;
	// it is stored with the subscription.
	FetchedAt time.Time
	Decide    func(current *core.Subscription, fetchedAt *time.Time) (*core.Subscription, error)
}

// BillingStore persists what billing sync needs beyond the subscriptions of
// AccountStore: the provider customer of each profile and line, and the
// durable inbox of payment events.
type BillingStore interface {
	// BillingCustomer returns the customer of a profile's line;
	// KindNotFound when there is none.
	BillingCustomer(ctx context.Context, profileID string, line core.ProductLine) (core.BillingCustomer, error)

	// BillingCustomerByID finds a customer by its provider id;
	// KindNotFound when unknown.
	BillingCustomerByID(ctx context.Context, customerID string) (core.BillingCustomer, error)

	// SaveBillingCustomer stores c unless the profile's line already has a
	// customer, and returns the stored one: of concurrent saves the first
	// wins and every caller gets it. KindNotFound when the profile does not
	// exist; KindConflict when c.CustomerID belongs to another profile or
	// line.
	SaveBillingCustomer(ctx context.Context, c core.BillingCustomer) (core.BillingCustomer, error)

	// RecordPaymentEvent durably stores ev, unapplied and due at
	// receivedAt, unless an event with its id is stored already; inserted
	// says which. Once it returns nil the event is never lost.
	RecordPaymentEvent(ctx context.Context, ev core.PaymentEvent, receivedAt time.Time) (inserted bool, err error)

	// PaymentEventByID returns a stored event; KindNotFound when unknown.
	PaymentEventByID(ctx context.Context, id string) (core.StoredEvent, error)

	// DuePaymentEvents lists unapplied, live (not dead) events whose
	// NextAttemptAt is at or before now, by NextAttemptAt then id, at most
	// limit.
	DuePaymentEvents(ctx context.Context, now time.Time, limit int) ([]core.StoredEvent, error)

	// ApplyPaymentEvent applies e in one transaction: it locks the event
	// and the subscription of (e.ProfileID, e.Line), calls e.Decide when
	// ProfileID is set, stores the subscription Decide returns (keeping
	// the stored id, if any, and e.FetchedAt as its fetch time), and marks
	// the event applied at e.AppliedAt (and no longer dead, if it was: a
	// dead event may still be applied, say when the provider resends it
	// after its cause was fixed). applied is false, and nothing
	// changes, when the event was applied already. An error from Decide is
	// returned as is and nothing changes. KindNotFound when the event is
	// not recorded or the profile does not exist; KindInvalid, detail
	// "planId", when the plan does not.
	ApplyPaymentEvent(ctx context.Context, e EventEffect) (applied bool, err error)

	// FailPaymentEvent records a failed attempt of an unapplied, live
	// event: one more attempt, the next one due at f.Next, and why (kept
	// short). The attempt that reaches f.MaxAttempts (when above 0) marks
	// the event dead at f.At instead: never due again, kept for operators.
	// dead reports whether this call marked it so, which happens once per
	// event. An applied or dead event is left alone. KindNotFound when
	// unknown.
	FailPaymentEvent(ctx context.Context, f EventFailure) (dead bool, err error)

	// CountDeadPaymentEvents counts the dead events (FailPaymentEvent).
	CountDeadPaymentEvents(ctx context.Context) (int, error)

	// UpdateSubscription changes the profile's subscription of line in one
	// transaction that takes the locks ApplyPaymentEvent takes (the
	// profile, then its subscription of the line), so it never interleaves
	// with an event's application: fn sees the subscription as stored (nil
	// when there is none) and when its provider state was last read (nil
	// when never), and returns the subscription to store (nil: leave it).
	// The stored id, if any, is kept, and so is the provider read time. An
	// error from fn is returned as is and changes nothing. KindNotFound
	// when the profile does not exist; KindInvalid, detail "planId", when
	// the plan does not.
	UpdateSubscription(ctx context.Context, profileID string, line core.ProductLine,
		fn func(cur *core.Subscription, syncedAt *time.Time) (*core.Subscription, error)) error

	// SyncClock returns the current time by the one clock that every
	// process sharing the store reads (the database server's on
	// PostgreSQL; the host's on SQLite, whose processes share a host).
	// Billing stamps each read of provider state with it (EventEffect's
	// FetchedAt), so which read is newer never depends on how well the
	// processes' own clocks agree.
	SyncClock(ctx context.Context) (time.Time, error)
}

// EventFailure is one failed attempt at applying a payment event.
type EventFailure struct {
	EventID string
	At      time.Time // when the attempt failed
	Next    time.Time // when the next attempt is due
	Reason  string    // why, for operators; kept short
	// MaxAttempts caps the attempts: the failure that brings them to
	// MaxAttempts marks the event dead. 0: no cap.
	MaxAttempts int
}

// SimulatedRecord is one object of the embedded default's simulated payment
// provider (a customer, checkout, subscription, invoice…), stored as the
// adapter's own JSON: the store keeps it without reading it.
type SimulatedRecord struct {
	Kind       string // "customer", "checkout", "subscription"…
	ID         string
	CustomerID string // "" when the object belongs to no customer
	Data       []byte // the adapter's JSON
	CreatedAt  time.Time
}

// SimulatedPaymentsStore keeps the simulated provider's objects in the
// database, so that every process (the API and its workers) and every
// restart sees the same provider.
type SimulatedPaymentsStore interface {
	// CreateSimulated stores r; KindConflict when (r.Kind, r.ID) exists.
	CreateSimulated(ctx context.Context, r SimulatedRecord) error

	// Simulated returns one object; KindNotFound when unknown.
	Simulated(ctx context.Context, kind, id string) (SimulatedRecord, error)

	// UpdateSimulated replaces an object's Data with what fn returns, in
	// one transaction that locks the object, so concurrent updates apply
	// one after the other. An error from fn is returned as is and changes
	// nothing. KindNotFound when unknown.
	UpdateSimulated(ctx context.Context, kind, id string, fn func(data []byte) ([]byte, error)) (SimulatedRecord, error)

	// ListSimulated returns the customer's objects of kind, newest first
	// (CreatedAt, then ID, descending), at most limit.
	ListSimulated(ctx context.Context, kind, customerID string, limit int) ([]SimulatedRecord, error)
}
