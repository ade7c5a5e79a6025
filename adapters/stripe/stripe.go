// Package stripe is the payment provider adapter on Stripe, through
// stripe/stripe-go/v76 at the API version that library pins (2023-10-16).
//
// Payments implements ports.Payments: subscription-mode Checkout Sessions
// for a plan's price, one customer per profile and product line, the
// Customer Portal, invoices and charges, subscriptions, and the sync of the
// plan catalog to products and prices. WebhookVerifier implements
// ports.WebhookVerifier with the library's ConstructEvent.
//
// Stripe errors are translated by type and status, never by message: an
// unknown object is core.KindNotFound, a rate limit, a Stripe outage or a
// network failure core.KindUnavailable. The secret key never appears in an
// error or a log: the library's own logger is silenced.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Metadata keys gellhub writes on Stripe objects.
const (
	MetaProfileID = "gellhub_profile_id"
	MetaLine      = "gellhub_line"
	MetaPlanID    = "gellhub_plan_id"
)

// APIVersion is the Stripe API version of every request (stripe-go's).
const APIVersion = stripego.APIVersion

// Config configures Payments.
type Config struct {
	SecretKey string // sk_live_… or sk_test_…
	// APIBase replaces https://api.stripe.com (stripe-mock in tests).
	APIBase string
	// HTTPClient makes the requests; nil: one with a 30 s timeout.
	HTTPClient *http.Client
	// MaxNetworkRetries is how often the library retries a failed request
	// (with idempotency keys); 0 means its default of 2, a negative value
	// none.
	MaxNetworkRetries int
}

// Payments implements ports.Payments on Stripe. It is safe for concurrent
// use.
type Payments struct {
	api *client.API
}

var _ ports.Payments = (*Payments)(nil)

// New returns a Stripe payment provider.
func New(cfg Config) (*Payments, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("stripe: no secret key")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	retries := int64(2)
	switch {
	case cfg.MaxNetworkRetries > 0:
		retries = int64(cfg.MaxNetworkRetries)
	case cfg.MaxNetworkRetries < 0:
		retries = 0
	}
	backend := func(kind stripego.SupportedBackend) stripego.Backend {
		bc := &stripego.BackendConfig{
			HTTPClient:        hc,
			LeveledLogger:     &stripego.LeveledLogger{Level: stripego.LevelNull},
			MaxNetworkRetries: stripego.Int64(retries),
		}
		if cfg.APIBase != "" {
			bc.URL = stripego.String(cfg.APIBase)
		}
		return stripego.GetBackendWithConfig(kind, bc)
	}
	backends := &stripego.Backends{
		API:     backend(stripego.APIBackend),
		Connect: backend(stripego.ConnectBackend),
		Uploads: backend(stripego.UploadsBackend),
	}
	return &Payments{api: client.New(cfg.SecretKey, backends)}, nil
}

// CreateCheckoutSession implements ports.Payments: a subscription-mode
// session for the plan's price, for p.CustomerID (or the email, for a
// customer Checkout creates), with the profile, line and plan as metadata
// on the session and on the subscription it creates. The success URL keeps
// Stripe's {CHECKOUT_SESSION_ID} placeholder.
func (s *Payments) CreateCheckoutSession(ctx context.Context, p ports.CheckoutParams) (core.CheckoutSession, error) {
	if p.Plan.StripePriceID == "" {
		return core.CheckoutSession{}, core.Conflict("plan_not_synced", "this plan has no Stripe price yet: an admin must sync the catalog (POST /api/admin/plans/sync-stripe)")
	}
	meta := map[string]string{MetaProfileID: p.ProfileID, MetaLine: string(p.Line), MetaPlanID: p.Plan.ID}
	params := &stripego.CheckoutSessionParams{
		Mode:       stripego.String(string(stripego.CheckoutSessionModeSubscription)),
		LineItems:  []*stripego.CheckoutSessionLineItemParams{{Price: stripego.String(p.Plan.StripePriceID), Quantity: stripego.Int64(1)}},
		SuccessURL: stripego.String(p.SuccessURL),
		SubscriptionData: &stripego.CheckoutSessionSubscriptionDataParams{
			Metadata: meta,
		},
	}
	if p.CancelURL != "" {
		params.CancelURL = stripego.String(p.CancelURL)
	}
	if p.Reference != "" {
		params.ClientReferenceID = stripego.String(p.Reference)
	}
	if p.CustomerID != "" {
		params.Customer = stripego.String(p.CustomerID)
	} else if p.Email != "" {
		params.CustomerEmail = stripego.String(p.Email)
	}
	for k, v := range meta {
		params.AddMetadata(k, v)
	}
	params.Context = ctx
	cs, err := s.api.CheckoutSessions.New(params)
	if err != nil {
		return core.CheckoutSession{}, fail(ctx, "create checkout session", err)
	}
	return checkoutSession(cs), nil
}

// CheckoutSession implements ports.Payments.
func (s *Payments) CheckoutSession(ctx context.Context, id string) (core.CheckoutSession, error) {
	params := &stripego.CheckoutSessionParams{}
	params.Context = ctx
	cs, err := s.api.CheckoutSessions.Get(id, params)
	if err != nil {
		return core.CheckoutSession{}, fail(ctx, "checkout session", err)
	}
	return checkoutSession(cs), nil
}

func checkoutSession(cs *stripego.CheckoutSession) core.CheckoutSession {
	out := core.CheckoutSession{
		ID:        cs.ID,
		URL:       cs.URL,
		Status:    core.CheckoutStatus(cs.Status),
		Paid:      cs.PaymentStatus == stripego.CheckoutSessionPaymentStatusPaid || cs.PaymentStatus == stripego.CheckoutSessionPaymentStatusNoPaymentRequired,
		ProfileID: cs.Metadata[MetaProfileID],
		PlanID:    cs.Metadata[MetaPlanID],
		Reference: cs.ClientReferenceID,
	}
	if cs.Customer != nil {
		out.CustomerID = cs.Customer.ID
	}
	if cs.Subscription != nil {
		out.SubscriptionID = cs.Subscription.ID
	}
	return out
}

// EnsureCustomer implements ports.Payments. The request's idempotency key
// names the profile and line, so retries and concurrent first checkouts
// within Stripe's idempotency window get one customer.
func (s *Payments) EnsureCustomer(ctx context.Context, p ports.CustomerParams) (string, error) {
	params := &stripego.CustomerParams{}
	if p.Email != "" {
		params.Email = stripego.String(p.Email)
	}
	params.AddMetadata(MetaProfileID, p.ProfileID)
	params.AddMetadata(MetaLine, string(p.Line))
	params.SetIdempotencyKey("gellhub-customer-" + p.ProfileID + "-" + string(p.Line))
	params.Context = ctx
	c, err := s.api.Customers.New(params)
	if err != nil {
		return "", fail(ctx, "create customer", err)
	}
	return c.ID, nil
}

// PortalSession implements ports.Payments.
func (s *Payments) PortalSession(ctx context.Context, customerID, returnURL string) (string, error) {
	params := &stripego.BillingPortalSessionParams{Customer: stripego.String(customerID), ReturnURL: stripego.String(returnURL)}
	params.Context = ctx
	ps, err := s.api.BillingPortalSessions.New(params)
	if err != nil {
		return "", fail(ctx, "portal session", err)
	}
	return ps.URL, nil
}

// Invoices implements ports.Payments (one page of Stripe's list, newest
// first).
func (s *Payments) Invoices(ctx context.Context, customerID string, limit int) ([]core.Invoice, error) {
	params := &stripego.InvoiceListParams{Customer: stripego.String(customerID)}
	params.Limit = stripego.Int64(int64(min(max(limit, 1), 100)))
	params.Single = true
	params.Context = ctx
	it := s.api.Invoices.List(params)
	out := []core.Invoice{}
	for it.Next() && len(out) < limit {
		in := it.Invoice()
		out = append(out, core.Invoice{
			ID: in.ID, Number: in.Number, Status: string(in.Status), AmountPaid: in.AmountPaid,
			Currency: string(in.Currency), Created: time.Unix(in.Created, 0).UTC(), HostedInvoiceURL: in.HostedInvoiceURL,
		})
	}
	if err := it.Err(); err != nil {
		return nil, fail(ctx, "list invoices", err)
	}
	return out, nil
}

// Charges implements ports.Payments (one page of Stripe's list, newest
// first).
func (s *Payments) Charges(ctx context.Context, customerID string, limit int) ([]core.Charge, error) {
	params := &stripego.ChargeListParams{Customer: stripego.String(customerID)}
	params.Limit = stripego.Int64(int64(min(max(limit, 1), 100)))
	params.Single = true
	params.Context = ctx
	it := s.api.Charges.List(params)
	out := []core.Charge{}
	for it.Next() && len(out) < limit {
		ch := it.Charge()
		c := core.Charge{
			ID: ch.ID, Status: string(ch.Status), Amount: ch.Amount, Currency: string(ch.Currency), Paid: ch.Paid,
			Refunded: ch.Refunded, Created: time.Unix(ch.Created, 0).UTC(), Description: ch.Description, ReceiptURL: ch.ReceiptURL,
		}
		if ch.Invoice != nil {
			c.InvoiceID = ch.Invoice.ID
		}
		out = append(out, c)
	}
	if err := it.Err(); err != nil {
		return nil, fail(ctx, "list charges", err)
	}
	return out, nil
}

// Subscription implements ports.Payments.
func (s *Payments) Subscription(ctx context.Context, id string) (core.ProviderSubscription, error) {
	params := &stripego.SubscriptionParams{}
	params.Context = ctx
	sub, err := s.api.Subscriptions.Get(id, params)
	if err != nil {
		return core.ProviderSubscription{}, fail(ctx, "subscription", err)
	}
	return providerSubscription(sub)
}

func providerSubscription(sub *stripego.Subscription) (core.ProviderSubscription, error) {
	status, ok := core.ParseSubscriptionStatus(string(sub.Status))
	if !ok {
		return core.ProviderSubscription{}, core.Internal(fmt.Errorf("stripe: subscription %s has an unknown status %q", sub.ID, sub.Status))
	}
	out := core.ProviderSubscription{
		ID: sub.ID, Status: status,
		ProfileID: sub.Metadata[MetaProfileID], Line: core.ProductLine(sub.Metadata[MetaLine]), PlanID: sub.Metadata[MetaPlanID],
	}
	if out.Line != "" {
		if _, err := core.ParseProductLine("line", string(out.Line)); err != nil {
			out.Line = ""
		}
	}
	if sub.Customer != nil {
		out.CustomerID = sub.Customer.ID
	}
	if sub.CurrentPeriodEnd > 0 {
		t := time.Unix(sub.CurrentPeriodEnd, 0).UTC()
		out.CurrentPeriodEnd = &t
	}
	if sub.Items != nil && len(sub.Items.Data) > 0 && sub.Items.Data[0].Price != nil {
		out.PriceID = sub.Items.Data[0].Price.ID
	}
	return out, nil
}
