package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
)

// The embedded default's simulated payment pages (adapters/localbilling):
// a checkout page that "pays" and a customer portal that cancels. They are
// plain HTML forms without script; each form carries its session's token
// and is also covered by crossOriginProtection. Without simulated payments
// every id is 404.

const pageStyle = `body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1f2933}
h1{font-size:1.4rem}.sim{background:#fef3c7;border:1px solid #f59e0b;padding:.6rem .8rem;border-radius:6px}
button{padding:.6rem 1rem;border:0;border-radius:6px;background:#0d9488;color:#fff;font:inherit;font-weight:600;cursor:pointer}
button.secondary{background:#e4e7eb;color:#1f2933}form{display:inline-block;margin:.5rem .5rem 0 0}
table{border-collapse:collapse;width:100%;margin-top:.5rem}td,th{text-align:left;padding:.3rem;border-bottom:1px solid #e4e7eb}a{color:#0f766e}`

var checkoutPage = template.Must(template.New("checkout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>gellhub: simulated checkout</title><style nonce="{{.Nonce}}">` + pageStyle + `</style></head>
<body>
<p class="sim"><strong>Simulated payment.</strong> This server has no payment provider configured: no card is asked for and no money moves.</p>
<h1>{{.Plan}}</h1>
<p>{{.Price}} per {{.Period}}, {{.Line}}.</p>
{{if .Open}}
<form method="post"><input type="hidden" name="token" value="{{.Token}}"><input type="hidden" name="action" value="pay"><button type="submit">Pay {{.Price}} (simulated)</button></form>
<form method="post"><input type="hidden" name="token" value="{{.Token}}"><input type="hidden" name="action" value="cancel"><button class="secondary" type="submit">Cancel</button></form>
<p><small>This page expires at {{.Expires}}.</small></p>
{{else if .Paid}}
<p>This checkout is paid.</p><form method="post"><input type="hidden" name="token" value="{{.Token}}"><input type="hidden" name="action" value="pay"><button type="submit">Continue</button></form>
{{else}}
<p>This checkout has expired or was cancelled. Start a new one.</p>
{{end}}
</body></html>`))

var portalPage = template.Must(template.New("portal").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>gellhub: simulated billing portal</title><style nonce="{{.Nonce}}">` + pageStyle + `</style></head>
<body>
<p class="sim"><strong>Simulated billing portal.</strong> This server has no payment provider configured: no money moves.</p>
<h1>Your subscriptions</h1>
{{if .Subs}}<table><tr><th>Plan</th><th>Status</th><th>Current period ends</th><th></th></tr>
{{range .Subs}}<tr><td>{{.Plan}}</td><td>{{.Status}}</td><td>{{.End}}</td><td>{{if .Cancelable}}<form method="post"><input type="hidden" name="token" value="{{$.Token}}"><input type="hidden" name="subscriptionId" value="{{.ID}}"><button class="secondary" type="submit">Cancel subscription</button></form>{{end}}</td></tr>
{{end}}</table>{{else}}<p>No subscriptions.</p>{{end}}
<h1>Invoices</h1>
{{if .Invoices}}<table><tr><th>Number</th><th>Date</th><th>Amount</th><th>Status</th></tr>
{{range .Invoices}}<tr><td>{{.Number}}</td><td>{{.Date}}</td><td>{{.Amount}}</td><td>{{.Status}}</td></tr>
{{end}}</table>{{else}}<p>No invoices.</p>{{end}}
<p><a href="{{.Return}}">Return</a></p>
</body></html>`))

// simulatedPageHeaders sets the pages' security headers; forms may post
// to the page itself and follow its redirect to targets.
func simulatedPageHeaders(c *fiber.Ctx, targets ...string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	nonce := base64.RawStdEncoding.EncodeToString(b[:])
	// Browsers apply form-action to the redirect that follows a form
	// submission: allow the origins the forms redirect to.
	actions := []string{"'self'"}
	for _, t := range targets {
		if u, err := url.Parse(t); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			if o := u.Scheme + "://" + u.Host; !slices.Contains(actions, o) {
				actions = append(actions, o)
			}
		}
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; form-action "+strings.Join(actions, " ")+"; frame-ancestors 'none'; base-uri 'none'")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("X-Content-Type-Options", "nosniff")
	return nonce, nil
}

func money(minor int64, currency string) string {
	return fmt.Sprintf("%d.%02d %s", minor/100, minor%100, strings.ToUpper(currency))
}

// pageID reads the :id of a simulated page; anything that cannot be an id
// is 404, like an unknown one.
func pageID(c *fiber.Ctx, what string) (string, error) {
	id := c.Params("id")
	if !core.ValidID(id) {
		return "", core.NotFound(what)
	}
	return id, nil
}

// formValues reads an urlencoded form body within the body limit.
func formValues(c *fiber.Ctx) (url.Values, error) {
	body, err := readBody(c)
	if err != nil {
		return nil, err
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, core.Invalid("body", "the form is malformed")
	}
	for k, vs := range v {
		if len(vs) > 1 {
			return nil, core.Invalid(k, "%s must be given at most once", k)
		}
	}
	return v, nil
}

func (s *Server) localCheckoutPage(c *fiber.Ctx) error {
	if s.Billing == nil {
		return s.pageError(c, core.NotFound("checkout session"))
	}
	id, err := pageID(c, "checkout session")
	if err != nil {
		return s.pageError(c, err)
	}
	p, err := s.Billing.SimulatedCheckout(c.UserContext(), id)
	if err != nil {
		return s.pageError(c, err)
	}
	co := p.Checkout
	nonce, err := simulatedPageHeaders(c, co.SuccessURL, co.CancelURL, s.BaseURL)
	if err != nil {
		return err
	}
	period := "month"
	if p.Plan.BillingPeriod == core.PeriodAnnual {
		period = "year"
	}
	return checkoutPage.Execute(c.Response().BodyWriter(), map[string]any{
		"Nonce": nonce, "Plan": p.Plan.Name, "Price": money(p.Plan.PriceMinor, p.Plan.Currency), "Period": period,
		"Line": p.Plan.Line.Scope(), "Token": co.Token, "Open": co.Session.Status == core.CheckoutOpen,
		"Paid": co.Session.Paid, "Expires": co.ExpiresAt.UTC().Format(time.RFC1123),
	})
}

// localCheckoutSubmit pays or abandons a simulated checkout, then sends
// the browser to the success or cancel URL, as Stripe Checkout does.
func (s *Server) localCheckoutSubmit(c *fiber.Ctx) error {
	if s.Billing == nil {
		return s.pageError(c, core.NotFound("checkout session"))
	}
	id, err := pageID(c, "checkout session")
	if err != nil {
		return s.pageError(c, err)
	}
	form, err := formValues(c)
	if err != nil {
		return s.pageError(c, err)
	}
	var next string
	switch form.Get("action") {
	case "pay":
		next, err = s.Billing.PaySimulated(c.UserContext(), id, form.Get("token"))
	case "cancel":
		next, err = s.Billing.CancelSimulated(c.UserContext(), id, form.Get("token"))
	default:
		err = core.Invalid("action", "action must be pay or cancel")
	}
	if err != nil {
		return s.pageError(c, err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (s *Server) localPortalPage(c *fiber.Ctx) error {
	if s.Billing == nil {
		return s.pageError(c, core.NotFound("portal session"))
	}
	id, err := pageID(c, "portal session")
	if err != nil {
		return s.pageError(c, err)
	}
	p, plans, err := s.Billing.SimulatedPortal(c.UserContext(), id)
	if err != nil {
		return s.pageError(c, err)
	}
	nonce, err := simulatedPageHeaders(c, s.BaseURL)
	if err != nil {
		return err
	}
	type subRow struct {
		ID, Plan, Status, End string
		Cancelable            bool
	}
	type invoiceRow struct{ Number, Date, Amount, Status string }
	var subs []subRow
	for _, sub := range p.Subscriptions {
		r := subRow{ID: sub.ID, Plan: sub.PlanID, Status: string(sub.Status), Cancelable: !core.EndedStatus(sub.Status)}
		if plan, ok := plans[sub.PlanID]; ok {
			r.Plan = plan.Name
		}
		if sub.CurrentPeriodEnd != nil {
			r.End = sub.CurrentPeriodEnd.UTC().Format("2006-01-02")
		}
		subs = append(subs, r)
	}
	var invoices []invoiceRow
	for _, in := range p.Invoices {
		invoices = append(invoices, invoiceRow{Number: in.Number, Date: in.Created.UTC().Format("2006-01-02"), Amount: money(in.AmountPaid, in.Currency), Status: in.Status})
	}
	ret := p.ReturnURL
	if ret == "" {
		ret = s.BaseURL + "/"
	}
	return portalPage.Execute(c.Response().BodyWriter(), map[string]any{
		"Nonce": nonce, "Token": p.Token, "Subs": subs, "Invoices": invoices, "Return": safeURL(ret),
	})
}

// safeURL returns u when it is an absolute http(s) URL, else "/": a link's
// target never runs script.
func safeURL(u string) string {
	if v, err := url.Parse(u); err == nil && (v.Scheme == "http" || v.Scheme == "https") && v.Host != "" {
		return u
	}
	return "/"
}

// localPortalSubmit cancels a subscription from the simulated portal and
// shows the portal again.
func (s *Server) localPortalSubmit(c *fiber.Ctx) error {
	if s.Billing == nil {
		return s.pageError(c, core.NotFound("portal session"))
	}
	id, err := pageID(c, "portal session")
	if err != nil {
		return s.pageError(c, err)
	}
	form, err := formValues(c)
	if err != nil {
		return s.pageError(c, err)
	}
	if err := s.Billing.CancelSimulatedSubscription(c.UserContext(), id, form.Get("token"), form.Get("subscriptionId")); err != nil {
		return s.pageError(c, err)
	}
	return c.Redirect("/billing/local/portal/"+id, fiber.StatusSeeOther)
}
