package httpapi

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/billing"
)

// errNoBilling answers the billing routes of a server wired without
// billing (some tests; never the programs).
var errNoBilling = core.Unavailable("billing", nil)

// maxSignatureLen bounds the Stripe-Signature header (a timestamp and a few
// 64-character signatures).
const maxSignatureLen = 4096

type checkoutRequest struct {
	PlanID     string `json:"planId"`
	SuccessURL string `json:"successUrl"`
	CancelURL  string `json:"cancelUrl"`
}

type checkoutResponse struct {
	URL       string `json:"url"`
	Activated bool   `json:"activated,omitempty"`
}

func (s *Server) billingCheckout(c *fiber.Ctx) error {
	if s.Billing == nil {
		return errNoBilling
	}
	var req checkoutRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := s.Billing.Checkout(c.UserContext(), principal(c), billing.CheckoutInput{
		PlanID: req.PlanID, SuccessURL: req.SuccessURL, CancelURL: req.CancelURL,
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(checkoutResponse{URL: r.URL, Activated: r.Activated})
}

type portalRequest struct {
	ReturnURL string `json:"returnUrl"`
	// Product picks the line for a browser session (clientGallery, drive
	// or messaging); a key's line is the key's.
	Product string `json:"product"`
}

func (s *Server) billingPortal(c *fiber.Ctx) error {
	if s.Billing == nil {
		return errNoBilling
	}
	var req portalRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	url, err := s.Billing.Portal(c.UserContext(), principal(c), billing.PortalInput{ReturnURL: req.ReturnURL, Product: req.Product})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"url": url})
}

type invoiceJSON struct {
	ID               string    `json:"id"`
	Number           *string   `json:"number"`
	Status           string    `json:"status"`
	AmountPaid       int64     `json:"amountPaid"`
	Currency         string    `json:"currency"`
	Created          time.Time `json:"created"`
	HostedInvoiceURL *string   `json:"hostedInvoiceUrl"`
}

type chargeJSON struct {
	ID          string    `json:"id"`
	Status      string    `json:"status"`
	Amount      int64     `json:"amount"`
	Currency    string    `json:"currency"`
	Paid        bool      `json:"paid"`
	Refunded    bool      `json:"refunded"`
	Created     time.Time `json:"created"`
	Description *string   `json:"description"`
	ReceiptURL  *string   `json:"receiptUrl"`
	InvoiceID   *string   `json:"invoiceId"`
}

type invoicesResponse struct {
	Invoices []invoiceJSON `json:"invoices"`
	Charges  []chargeJSON  `json:"charges"`
}

// orNull maps "" to JSON null.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) billingInvoices(c *fiber.Ctx) error {
	if s.Billing == nil {
		return errNoBilling
	}
	product, err := query(c, "product", 32)
	if err != nil {
		return err
	}
	st, err := s.Billing.Invoices(c.UserContext(), principal(c), product)
	if err != nil {
		return err
	}
	out := invoicesResponse{Invoices: make([]invoiceJSON, 0, len(st.Invoices)), Charges: make([]chargeJSON, 0, len(st.Charges))}
	for _, in := range st.Invoices {
		out.Invoices = append(out.Invoices, invoiceJSON{
			ID: in.ID, Number: orNull(in.Number), Status: in.Status, AmountPaid: in.AmountPaid, Currency: in.Currency,
			Created: in.Created, HostedInvoiceURL: orNull(in.HostedInvoiceURL),
		})
	}
	for _, ch := range st.Charges {
		out.Charges = append(out.Charges, chargeJSON{
			ID: ch.ID, Status: ch.Status, Amount: ch.Amount, Currency: ch.Currency, Paid: ch.Paid, Refunded: ch.Refunded,
			Created: ch.Created, Description: orNull(ch.Description), ReceiptURL: orNull(ch.ReceiptURL), InvoiceID: orNull(ch.InvoiceID),
		})
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

// stripeWebhook receives Stripe's webhook deliveries. The raw body is
// verified against Stripe-Signature before anything is read from it; a
// verified event is recorded durably before the 200, so Stripe's retries
// are what a failure to record relies on. The 200 does not wait for the
// event's application, which calls Stripe's API: billing applies it in
// the background right after (and its retry job, if that fails). The
// body is never logged.
func (s *Server) stripeWebhook(c *fiber.Ctx) error {
	if s.Billing == nil {
		return errNoBilling
	}
	sig := c.Get("Stripe-Signature")
	if len(sig) > maxSignatureLen {
		return core.Invalid("Stripe-Signature", "the Stripe-Signature header is malformed")
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if err := s.Billing.ReceiveWebhook(c.UserContext(), body, sig); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"received": true})
}

type syncedPlanJSON struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	StripePriceID string `json:"stripePriceId"`
	Changed       bool   `json:"changed"`
}

func (s *Server) adminSyncPlans(c *fiber.Ctx) error {
	if s.Billing == nil {
		return errNoBilling
	}
	synced, err := s.Billing.SyncCatalog(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	out := make([]syncedPlanJSON, 0, len(synced))
	for _, p := range synced {
		out = append(out, syncedPlanJSON{ID: p.Plan.ID, Name: p.Plan.Name, StripePriceID: p.Plan.StripePriceID, Changed: p.Changed})
	}
	return c.JSON(fiber.Map{"plans": out})
}
