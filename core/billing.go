package core

import "time"

// The payment provider's webhook event types that billing sync applies.
// Every other type is acknowledged and ignored.
const (
	EventCheckoutCompleted    = "checkout.session.completed"
	EventSubscriptionCreated  = "customer.subscription.created"
	EventSubscriptionUpdated  = "customer.subscription.updated"
	EventSubscriptionDeleted  = "customer.subscription.deleted"
	EventInvoicePaid          = "invoice.paid"
	EventInvoicePaymentFailed = "invoice.payment_failed"
)

// PaymentEvent is a verified webhook event of the payment provider, reduced
// to the ids that billing sync needs: the state itself is always fetched
// again from the provider, so an event's own copy of it, possibly stale,
// is never trusted.
type PaymentEvent struct {
	ID                string // the provider's event id (evt_…): applied once
	Type              string
	Created           time.Time
	CheckoutSessionID string // checkout.session.completed
	SubscriptionID    string // the subscription the event is about, when known
	CustomerID        string
}

// Handled reports whether billing sync applies events of e's type.
func (e PaymentEvent) Handled() bool {
	switch e.Type {
	case EventCheckoutCompleted, EventSubscriptionCreated, EventSubscriptionUpdated,
		EventSubscriptionDeleted, EventInvoicePaid, EventInvoicePaymentFailed:
		return true
	}
	return false
}

// StoredEvent is a payment event in the durable inbox: recorded before the
// webhook is acknowledged, applied once, retried with backoff until then,
// or until it is given up as dead after too many failed attempts.
type StoredEvent struct {
	PaymentEvent
	ReceivedAt    time.Time
	AppliedAt     *time.Time // nil until applied
	Attempts      int        // failed attempts so far
	NextAttemptAt time.Time
	LastError     string     // the last failure, for operators; never shown to clients
	DeadAt        *time.Time // when it was given up; nil while it is retried
}

// ProviderSubscription is a subscription as the payment provider holds it
// now. Metadata written at checkout ties it to a profile, line and plan.
type ProviderSubscription struct {
	ID               string
	CustomerID       string
	Status           SubscriptionStatus
	CurrentPeriodEnd *time.Time
	PriceID          string // the price of its first item
	ProfileID        string // metadata; "" when the provider lost it
	Line             ProductLine
	PlanID           string
}

// BillingCustomer maps a profile's product line to its customer at the
// payment provider: one customer per profile and line.
type BillingCustomer struct {
	ProfileID  string
	Line       ProductLine
	CustomerID string
	CreatedAt  time.Time
}

// Invoice is one invoice of a customer, as the guide lists them.
type Invoice struct {
	ID               string
	Number           string
	Status           string // draft, open, paid, uncollectible, void
	AmountPaid       int64  // minor unit
	Currency         string
	Created          time.Time
	HostedInvoiceURL string
}

// Charge is one card charge of a customer.
type Charge struct {
	ID          string
	Status      string // succeeded, pending, failed
	Amount      int64  // minor unit
	Currency    string
	Paid        bool
	Refunded    bool
	Created     time.Time
	Description string
	ReceiptURL  string
	InvoiceID   string
}

// LiveStatus reports whether a paid subscription in status s is being paid
// for (the guide's rule: active, trialing or past_due).
func LiveStatus(s SubscriptionStatus) bool {
	switch s {
	case StatusActive, StatusTrialing, StatusPastDue:
		return true
	}
	return false
}

// ProviderBilled reports whether s is tied to a provider subscription
// that has not ended, which the provider may therefore still bill: active,
// trialing and past_due, but also incomplete, unpaid or paused, which can
// still be paid or resumed. Only the provider (its portal) ends it.
func (s Subscription) ProviderBilled() bool {
	return s.StripeSubscriptionID != "" && !EndedStatus(s.Status)
}

// EndedStatus reports whether a subscription in status s is over for good:
// the provider will never bill it again.
func EndedStatus(s SubscriptionStatus) bool {
	return s == StatusCanceled || s == StatusIncompleteExpired
}

// ParseSubscriptionStatus maps a provider's status string to a status;
// ok is false for one gellhub does not know.
func ParseSubscriptionStatus(s string) (SubscriptionStatus, bool) {
	switch st := SubscriptionStatus(s); st {
	case StatusActive, StatusTrialing, StatusPastDue, StatusIncomplete, StatusIncompleteExpired,
		StatusUnpaid, StatusCanceled, StatusPaused:
		return st, true
	}
	return "", false
}
