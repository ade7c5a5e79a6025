// Package localbilling is the embedded default's payment provider: a
// simulation of Stripe for development and demos, used when no
// STRIPE_SECRET_KEY is configured and refused in production.
//
// Payments implements ports.Payments and ports.PaymentSimulator. Its
// checkout URLs point to a page the API itself serves
// (GET /billing/local/checkout/{id}); "paying" there creates what Stripe
// would (a customer, an active subscription, a paid invoice and its charge)
// and returns the checkout.session.completed event, which billing applies
// through the same inbox and sync as a real webhook. Its portal
// (GET /billing/local/portal/{id}) lists the customer's subscriptions and
// invoices and cancels a subscription, which yields
// customer.subscription.deleted. No money moves and no card is asked for.
//
// The provider's objects live in the database (ports.SimulatedPaymentsStore)
// as this package's JSON, so the API and its workers share them and they
// survive restarts. Simulated subscriptions never renew or lapse by
// themselves: they stay active until canceled in the portal.
package localbilling

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Paths of the simulated pages, under the API's base URL; the id follows.
const (
	CheckoutPath = "/billing/local/checkout/"
	PortalPath   = "/billing/local/portal/"
)

// Lifetimes of the simulated sessions, as Stripe's defaults.
const (
	CheckoutLifetime = 24 * time.Hour
	PortalLifetime   = time.Hour
)

// maxListed caps what the portal page lists.
const maxListed = 100

// The kinds of stored objects.
const (
	kindCustomer     = "customer"
	kindCheckout     = "checkout"
	kindSubscription = "subscription"
	kindInvoice      = "invoice"
	kindCharge       = "charge"
	kindPortal       = "portal"
)

// Config configures Payments. Every field is required.
type Config struct {
	Store   ports.SimulatedPaymentsStore
	Clock   ports.Clock
	Random  io.Reader
	BaseURL string // the API's public URL, where the simulated pages live
}

// Payments implements ports.Payments and ports.PaymentSimulator without a
// provider. It is safe for concurrent use, across processes that share its
// store.
type Payments struct{ cfg Config }

var (
	_ ports.Payments         = (*Payments)(nil)
	_ ports.PaymentSimulator = (*Payments)(nil)
)

// New returns the simulated provider.
func New(cfg Config) (*Payments, error) {
	if cfg.Store == nil || cfg.Clock == nil || cfg.Random == nil {
		return nil, errors.New("localbilling: Store, Clock and Random are required")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("localbilling: the base URL must be an absolute http(s) URL, not %q", cfg.BaseURL)
	}
	return &Payments{cfg: cfg}, nil
}

func (p *Payments) now() time.Time { return p.cfg.Clock.Now().UTC().Truncate(time.Microsecond) }

func (p *Payments) newID(prefix string) (string, error) {
	id, err := core.NewID(prefix, p.now(), p.cfg.Random)
	if err != nil {
		return "", core.Internal(err)
	}
	return id, nil
}

type customerJSON struct {
	ProfileID string `json:"profileId"`
	Line      string `json:"line"`
	Email     string `json:"email"`
}

type checkoutJSON struct {
	Status     core.CheckoutStatus `json:"status"`
	Paid       bool                `json:"paid"`
	ProfileID  string              `json:"profileId"`
	Email      string              `json:"email"`
	Line       string              `json:"line"`
	PlanID     string              `json:"planId"`
	PriceID    string              `json:"priceId"`
	Amount     int64               `json:"amount"`
	Currency   string              `json:"currency"`
	Period     core.BillingPeriod  `json:"period"`
	SuccessURL string              `json:"successUrl"`
	CancelURL  string              `json:"cancelUrl"`
	Reference  string              `json:"reference"`
	Token      string              `json:"token"`
	ExpiresAt  time.Time           `json:"expiresAt"`
	// Set when paid: what the payment created (created again if missing
	// when the payment is retried) and the event it reported.
	CustomerID     string    `json:"customerId"`
	SubscriptionID string    `json:"subscriptionId"`
	InvoiceID      string    `json:"invoiceId"`
	ChargeID       string    `json:"chargeId"`
	EventID        string    `json:"eventId"`
	PaidAt         time.Time `json:"paidAt"`
}

type subscriptionJSON struct {
	Status        core.SubscriptionStatus `json:"status"`
	ProfileID     string                  `json:"profileId"`
	Line          string                  `json:"line"`
	PlanID        string                  `json:"planId"`
	PriceID       string                  `json:"priceId"`
	PeriodEnd     time.Time               `json:"periodEnd"`
	CanceledAt    *time.Time              `json:"canceledAt,omitempty"`
	CancelEventID string                  `json:"cancelEventId,omitempty"`
}

type invoiceJSON struct {
	Number     string    `json:"number"`
	Status     string    `json:"status"`
	AmountPaid int64     `json:"amountPaid"`
	Currency   string    `json:"currency"`
	Created    time.Time `json:"created"`
}

type chargeJSON struct {
	Amount      int64     `json:"amount"`
	Currency    string    `json:"currency"`
	Created     time.Time `json:"created"`
	Description string    `json:"description"`
	InvoiceID   string    `json:"invoiceId"`
}

type portalJSON struct {
	ReturnURL string    `json:"returnUrl"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, core.Internal(fmt.Errorf("localbilling: encode: %w", err))
	}
	return b, nil
}

func decode(r ports.SimulatedRecord, v any) error {
	if err := json.Unmarshal(r.Data, v); err != nil {
		return core.Internal(fmt.Errorf("localbilling: %s %s: %w", r.Kind, r.ID, err))
	}
	return nil
}

// load reads one object into v; KindNotFound (naming what) when unknown.
func (p *Payments) load(ctx context.Context, kind, id, what string, v any) (ports.SimulatedRecord, error) {
	r, err := p.cfg.Store.Simulated(ctx, kind, id)
	if core.IsKind(err, core.KindNotFound) {
		return r, core.NotFound(what)
	}
	if err != nil {
		return r, fmt.Errorf("localbilling: %s: %w", kind, err)
	}
	return r, decode(r, v)
}

// create stores a new object; created says whether it did (false: it
// existed already, which retries expect).
func (p *Payments) create(ctx context.Context, kind, id, customerID string, at time.Time, v any) (created bool, err error) {
	data, err := encode(v)
	if err != nil {
		return false, err
	}
	err = p.cfg.Store.CreateSimulated(ctx, ports.SimulatedRecord{Kind: kind, ID: id, CustomerID: customerID, Data: data, CreatedAt: at})
	if core.IsKind(err, core.KindConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("localbilling: create %s: %w", kind, err)
	}
	return true, nil
}

// CreateCheckoutSession implements ports.Payments: an open session whose
// URL is the simulated checkout page, for a day.
func (p *Payments) CreateCheckoutSession(ctx context.Context, cp ports.CheckoutParams) (core.CheckoutSession, error) {
	if cp.Plan.Free() {
		return core.CheckoutSession{}, core.Invalid("planId", "a free plan needs no checkout")
	}
	id, err := p.newID("cs_local")
	if err != nil {
		return core.CheckoutSession{}, err
	}
	token, err := core.RandomToken(p.cfg.Random, 24)
	if err != nil {
		return core.CheckoutSession{}, core.Internal(err)
	}
	now := p.now()
	co := checkoutJSON{
		Status: core.CheckoutOpen, ProfileID: cp.ProfileID, Email: cp.Email, Line: string(cp.Line), PlanID: cp.Plan.ID,
		PriceID: cp.Plan.StripePriceID, Amount: cp.Plan.PriceMinor, Currency: cp.Plan.Currency, Period: cp.Plan.BillingPeriod,
		SuccessURL: cp.SuccessURL, CancelURL: cp.CancelURL, Reference: cp.Reference, Token: token,
		ExpiresAt: now.Add(CheckoutLifetime), CustomerID: cp.CustomerID,
	}
	if _, err := p.create(ctx, kindCheckout, id, cp.CustomerID, now, co); err != nil {
		return core.CheckoutSession{}, err
	}
	return p.session(id, co), nil
}

// session maps a stored checkout; an open one past its expiry is expired.
func (p *Payments) session(id string, co checkoutJSON) core.CheckoutSession {
	status := co.Status
	if status == core.CheckoutOpen && !p.now().Before(co.ExpiresAt) {
		status = core.CheckoutExpired
	}
	cs := core.CheckoutSession{
		ID: id, URL: p.cfg.BaseURL + CheckoutPath + id, Status: status, Paid: co.Paid,
		ProfileID: co.ProfileID, PlanID: co.PlanID, Reference: co.Reference,
	}
	if co.Paid {
		cs.CustomerID, cs.SubscriptionID = co.CustomerID, co.SubscriptionID
	}
	return cs
}

// CheckoutSession implements ports.Payments.
func (p *Payments) CheckoutSession(ctx context.Context, id string) (core.CheckoutSession, error) {
	var co checkoutJSON
	if _, err := p.load(ctx, kindCheckout, id, "checkout session", &co); err != nil {
		return core.CheckoutSession{}, err
	}
	return p.session(id, co), nil
}

// EnsureCustomer implements ports.Payments: a new "cus_local_" customer.
func (p *Payments) EnsureCustomer(ctx context.Context, cp ports.CustomerParams) (string, error) {
	id, err := p.newID("cus_local")
	if err != nil {
		return "", err
	}
	c := customerJSON{ProfileID: cp.ProfileID, Line: string(cp.Line), Email: cp.Email}
	if _, err := p.create(ctx, kindCustomer, id, id, p.now(), c); err != nil {
		return "", err
	}
	return id, nil
}

// PortalSession implements ports.Payments: the simulated portal page, for
// an hour.
func (p *Payments) PortalSession(ctx context.Context, customerID, returnURL string) (string, error) {
	var c customerJSON
	if _, err := p.load(ctx, kindCustomer, customerID, "customer", &c); err != nil {
		return "", err
	}
	id, err := p.newID("bps_local")
	if err != nil {
		return "", err
	}
	token, err := core.RandomToken(p.cfg.Random, 24)
	if err != nil {
		return "", core.Internal(err)
	}
	now := p.now()
	if _, err := p.create(ctx, kindPortal, id, customerID, now, portalJSON{ReturnURL: returnURL, Token: token, ExpiresAt: now.Add(PortalLifetime)}); err != nil {
		return "", err
	}
	return p.cfg.BaseURL + PortalPath + id, nil
}

// Invoices implements ports.Payments.
func (p *Payments) Invoices(ctx context.Context, customerID string, limit int) ([]core.Invoice, error) {
	rs, err := p.cfg.Store.ListSimulated(ctx, kindInvoice, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("localbilling: invoices: %w", err)
	}
	out := make([]core.Invoice, 0, len(rs))
	for _, r := range rs {
		var in invoiceJSON
		if err := decode(r, &in); err != nil {
			return nil, err
		}
		out = append(out, core.Invoice{
			ID: r.ID, Number: in.Number, Status: in.Status, AmountPaid: in.AmountPaid, Currency: in.Currency,
			Created: in.Created, HostedInvoiceURL: "",
		})
	}
	return out, nil
}

// Charges implements ports.Payments.
func (p *Payments) Charges(ctx context.Context, customerID string, limit int) ([]core.Charge, error) {
	rs, err := p.cfg.Store.ListSimulated(ctx, kindCharge, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("localbilling: charges: %w", err)
	}
	out := make([]core.Charge, 0, len(rs))
	for _, r := range rs {
		var ch chargeJSON
		if err := decode(r, &ch); err != nil {
			return nil, err
		}
		out = append(out, core.Charge{
			ID: r.ID, Status: "succeeded", Amount: ch.Amount, Currency: ch.Currency, Paid: true,
			Created: ch.Created, Description: ch.Description, InvoiceID: ch.InvoiceID,
		})
	}
	return out, nil
}

// Subscription implements ports.Payments.
func (p *Payments) Subscription(ctx context.Context, id string) (core.ProviderSubscription, error) {
	var s subscriptionJSON
	r, err := p.load(ctx, kindSubscription, id, "subscription", &s)
	if err != nil {
		return core.ProviderSubscription{}, err
	}
	return providerSubscription(r, s), nil
}

func providerSubscription(r ports.SimulatedRecord, s subscriptionJSON) core.ProviderSubscription {
	end := s.PeriodEnd
	return core.ProviderSubscription{
		ID: r.ID, CustomerID: r.CustomerID, Status: s.Status, CurrentPeriodEnd: &end, PriceID: s.PriceID,
		ProfileID: s.ProfileID, Line: core.ProductLine(s.Line), PlanID: s.PlanID,
	}
}

// SyncPlanPrice implements ports.Payments: the simulated provider needs no
// catalog, so a plan's price id is derived from its amount, currency and
// period (the same answer every time).
func (p *Payments) SyncPlanPrice(_ context.Context, plan core.Plan) (string, error) {
	if plan.Free() {
		return "", core.Invalid("price", "a free plan has no price")
	}
	return fmt.Sprintf("price_local_%s_%d_%s_%s", plan.ID, plan.PriceMinor, plan.Currency, plan.BillingPeriod), nil
}

// checkToken compares a page's token in constant time.
func checkToken(want, got string) error {
	if got == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return core.Forbidden("this payment page has expired or was not opened here; open it again")
	}
	return nil
}
