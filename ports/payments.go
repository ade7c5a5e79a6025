package ports

import (
	"context"
	"time"

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
	// CustomerID is the profile's customer for Line (EnsureCustomer);
	// empty lets the provider create one at checkout.
	CustomerID string
}

// CustomerParams asks for the customer of one profile's product line.
type CustomerParams struct {
	ProfileID string
	Email     string
	Line      core.ProductLine
}

// Payments is the payment provider (Stripe in production, a built-in
// simulation on the embedded default, memory in tests). Every method is
// KindUnavailable when the provider cannot be reached; nothing it returns
// carries the provider's credentials.
type Payments interface {
	// CreateCheckoutSession opens a subscription checkout for p.Plan (its
	// provider price) and returns it with its URL. The session and the
	// subscription it creates carry p.ProfileID, p.Line and p.Plan.ID as
	// metadata, and p.Reference as the client reference. KindConflict,
	// code "plan_not_synced", when a paid plan has no provider price.
	CreateCheckoutSession(ctx context.Context, p CheckoutParams) (core.CheckoutSession, error)

	// CheckoutSession returns a session by id; KindNotFound when unknown.
	CheckoutSession(ctx context.Context, id string) (core.CheckoutSession, error)

	// EnsureCustomer creates the customer of p.ProfileID's p.Line and
	// returns its id. Providers that support it make the call idempotent
	// per profile and line; callers keep the id (BillingStore) and call
	// this only when they have none.
	EnsureCustomer(ctx context.Context, p CustomerParams) (string, error)

	// PortalSession opens the customer portal (payment methods, plan
	// changes, cancellation, invoices) and returns its URL. KindNotFound
	// when the customer is unknown.
	PortalSession(ctx context.Context, customerID, returnURL string) (string, error)

	// Invoices lists the customer's most recent invoices, newest first, at
	// most limit.
	Invoices(ctx context.Context, customerID string, limit int) ([]core.Invoice, error)

	// Charges lists the customer's most recent card charges, newest first,
	// at most limit.
	Charges(ctx context.Context, customerID string, limit int) ([]core.Charge, error)

	// Subscription returns a subscription's current state; KindNotFound
	// when unknown.
	Subscription(ctx context.Context, id string) (core.ProviderSubscription, error)

	// SyncPlanPrice makes sure the provider has a product for the plan and
	// an active recurring price of the plan's amount, currency and period,
	// and returns that price's id. It is idempotent: a second call finds
	// what the first created.
	SyncPlanPrice(ctx context.Context, plan core.Plan) (string, error)
}

// WebhookVerifier checks the signature of the payment provider's webhook
// deliveries.
type WebhookVerifier interface {
	// VerifyWebhook checks signature (Stripe's Stripe-Signature header)
	// over payload and returns the event. A missing, malformed, wrong or
	// too old signature is KindInvalid (detail "Stripe-Signature"), as is
	// a payload that is not an event.
	VerifyWebhook(payload []byte, signature string) (core.PaymentEvent, error)
}

// SimulatedCheckout is a checkout of the embedded default's simulated
// provider (localbilling) as its payment page shows it.
type SimulatedCheckout struct {
	Session    core.CheckoutSession
	Token      string // the page's form token: a payment must send it back
	SuccessURL string // as opened, {CHECKOUT_SESSION_ID} not filled in
	CancelURL  string
	ExpiresAt  time.Time
}

// SimulatedPortal is a customer portal session of the simulated provider:
// the customer's subscriptions (newest first) and invoices.
type SimulatedPortal struct {
	ID            string
	CustomerID    string
	ReturnURL     string
	Token         string // the page's form token
	Subscriptions []core.ProviderSubscription
	Invoices      []core.Invoice
	ExpiresAt     time.Time
}

// PaymentSimulator is the embedded default's payment pages (localbilling):
// it "pays" or abandons a checkout, or cancels a subscription in its
// portal, without a provider, and returns the event a provider's webhook
// would deliver, which billing then applies through the same inbox.
type PaymentSimulator interface {
	// SimulatedCheckout returns a checkout with its page token;
	// KindNotFound when unknown.
	SimulatedCheckout(ctx context.Context, id string) (SimulatedCheckout, error)

	// PaySimulated completes an open checkout as a successful payment
	// would (a customer, an active subscription, a paid invoice and its
	// charge) and returns the checkout.session.completed event. A checkout
	// paid already returns the same event again, so a caller that failed
	// to record it can retry. token must be the page's (KindForbidden
	// otherwise); an expired or abandoned checkout is KindConflict, code
	// "checkout_not_open". KindNotFound when unknown.
	PaySimulated(ctx context.Context, id, token string) (core.PaymentEvent, error)

	// CancelSimulated expires an open checkout, as a buyer walking away
	// would; an expired one changes nothing. Same errors as PaySimulated;
	// a paid checkout is "checkout_not_open".
	CancelSimulated(ctx context.Context, id, token string) error

	// SimulatedPortal returns a portal session with its page token;
	// KindNotFound when unknown or expired.
	SimulatedPortal(ctx context.Context, id string) (SimulatedPortal, error)

	// CancelSimulatedSubscription cancels one of the portal's customer's
	// subscriptions at once and returns the
	// customer.subscription.deleted event. token must be the portal
	// page's (KindForbidden otherwise); a subscription of another
	// customer is KindNotFound; one canceled already returns its event
	// again.
	CancelSimulatedSubscription(ctx context.Context, portalID, token, subscriptionID string) (core.PaymentEvent, error)
}
