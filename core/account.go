package core

import "time"

// Profile is a person's gellhub account.
type Profile struct {
	ID              string
	Email           string // as typed at registration
	EmailNormalized string // lower-cased; unique
	PasswordHash    string // argon2id/bcrypt encoded hash, never shown
	DisplayName     string
	AccountKind     AccountKind
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Studio is a profile's Client Gallery workspace.
type Studio struct {
	ID        string
	ProfileID string
	CreatedAt time.Time
}

// Drive is a profile's file storage workspace.
type Drive struct {
	ID        string
	ProfileID string
	CreatedAt time.Time
}

// SubscriptionStatus mirrors Stripe's subscription statuses; free plans are
// "active" without ever touching Stripe.
type SubscriptionStatus string

// The subscription statuses.
const (
	StatusActive            SubscriptionStatus = "active"
	StatusTrialing          SubscriptionStatus = "trialing"
	StatusPastDue           SubscriptionStatus = "past_due"
	StatusIncomplete        SubscriptionStatus = "incomplete" // paid plan chosen, payment pending
	StatusIncompleteExpired SubscriptionStatus = "incomplete_expired"
	StatusUnpaid            SubscriptionStatus = "unpaid"
	StatusCanceled          SubscriptionStatus = "canceled"
	StatusPaused            SubscriptionStatus = "paused"
)

// Subscription binds a profile to a plan of one product line. A profile has
// at most one subscription per line.
type Subscription struct {
	ID                   string
	ProfileID            string
	Line                 ProductLine
	PlanID               string
	Status               SubscriptionStatus
	StripeCustomerID     string
	StripeSubscriptionID string
	CurrentPeriodEnd     *time.Time
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// Eligible applies the guide's rule: a price-0 plan is always eligible; a
// paid plan needs status active, trialing or past_due.
func Eligible(plan Plan, status SubscriptionStatus) bool {
	if plan.PriceMinor <= 0 {
		return true
	}
	switch status {
	case StatusActive, StatusTrialing, StatusPastDue:
		return true
	}
	return false
}

// Account is the aggregate created at registration: a profile, its studio,
// its drive, their subscriptions and the first API key of each line.
type Account struct {
	Profile       Profile
	Studio        Studio
	Drive         Drive
	Subscriptions []Subscription
	Keys          []APIKey
}

// Session is a browser session. Only the digest of its token is stored.
type Session struct {
	TokenDigest string
	ProfileID   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// CheckoutStatus is a hosted checkout's state, as Stripe names it.
type CheckoutStatus string

// The checkout statuses.
const (
	CheckoutOpen     CheckoutStatus = "open"
	CheckoutComplete CheckoutStatus = "complete"
	CheckoutExpired  CheckoutStatus = "expired"
)

// CheckoutSession is a payment page opened for one plan.
type CheckoutSession struct {
	ID             string
	URL            string
	Status         CheckoutStatus
	Paid           bool
	ProfileID      string
	PlanID         string
	Reference      string // echoed from CheckoutParams.Reference
	CustomerID     string
	SubscriptionID string
}
