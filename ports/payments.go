package ports

import (
	"context"

	"github.com/gellhub/gellhub/core"
)

// CheckoutParams asks for a hosted payment page for one plan.
type CheckoutParams struct {
	ProfileID  string
	Email      string
	Line       core.ProductLine
	Plan       core.Plan
	SuccessURL string // may contain {CHECKOUT_SESSION_ID}
	CancelURL  string
	// Reference is echoed back on the session (Stripe's
	// client_reference_id): the connect flow puts a digest of its flow id
	// here (never the id itself).
	Reference string
}

// Payments is the payment provider (Stripe in production, a built-in
// simulation on the embedded default, memory in tests).
type Payments interface {
	// CreateCheckoutSession opens a subscription checkout and returns it
	// with its URL. KindUnavailable when the provider cannot be reached.
	CreateCheckoutSession(ctx context.Context, p CheckoutParams) (core.CheckoutSession, error)

	// CheckoutSession returns a session by id; KindNotFound when unknown.
	CheckoutSession(ctx context.Context, id string) (core.CheckoutSession, error)
}
