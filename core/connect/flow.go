package connect

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/developer"
)

// StartInput is GET /api/integrations/connect/start's query.
type StartInput struct {
	ClientID  string
	ReturnURL string
	State     string
	Plan      string
	Product   string
	Next      string
	ClientIP  string
}

// Started is a new flow: the id goes in a cookie, the browser goes to Next
// ("register" or "login").
type Started struct {
	FlowID string
	Next   string
}

// Start validates everything before anything is stored: the client (an
// unknown one is KindInvalid, detail client_id; a suspended one
// KindNotFound, as the contract says), the return URL
// (exactly a registered one, else KindInvalid: the caller must never
// redirect to it), the product and plan (of the app's line, else
// KindForbidden) and the state (required, capped). Then it stores the flow.
func (s *Service) Start(ctx context.Context, in StartInput) (Started, error) {
	if in.ClientID == "" {
		return Started{}, core.Invalid("client_id", "client_id is required")
	}
	if len(in.ClientID) > maxIDLen {
		return Started{}, core.Invalid("client_id", "client_id is not a known app")
	}
	app, err := s.cfg.Developer.ActiveApp(ctx, in.ClientID)
	if err != nil {
		if errors.Is(err, developer.ErrSuspendedClient) {
			return Started{}, err
		}
		if core.IsKind(err, core.KindNotFound) {
			return Started{}, core.Invalid("client_id", "client_id is not a known app")
		}
		return Started{}, err
	}
	if in.ReturnURL == "" {
		return Started{}, core.Invalid("return_url", "return_url is required")
	}
	if len(in.ReturnURL) > core.MaxURLLen || !app.AllowsRedirect(in.ReturnURL) {
		return Started{}, core.Invalid("return_url", "return_url must be exactly one of the app's registered redirect URIs")
	}
	line := app.Line
	if in.Product != "" {
		l, err := core.ParseProductLine("product", in.Product)
		if err != nil {
			return Started{}, err
		}
		if l != app.Line {
			return Started{}, core.Forbidden("this app does not offer " + string(l))
		}
	}
	if in.Plan != "" {
		p, err := s.cfg.Plans.PublicByID(ctx, in.Plan, "")
		if err != nil {
			if core.IsKind(err, core.KindNotFound) || core.IsKind(err, core.KindInvalid) {
				return Started{}, core.Invalid("plan", "plan names no available plan")
			}
			return Started{}, err
		}
		if p.Line != app.Line {
			return Started{}, core.Forbidden("plan is a " + string(p.Line) + " plan; this app offers " + string(app.Line))
		}
	}
	if in.State == "" {
		return Started{}, core.Invalid("state", "state is required: a random value your backend checks on return")
	}
	if len(in.State) > MaxStateLen {
		return Started{}, core.Invalid("state", "state must be at most 512 characters")
	}
	if !utf8.ValidString(in.State) || strings.ContainsFunc(in.State, unicode.IsControl) {
		return Started{}, core.Invalid("state", "state must be UTF-8 text without control characters, so that it comes back unchanged")
	}
	next := in.Next
	switch next {
	case "":
		next = "register"
	case "register", "login":
	default:
		return Started{}, core.Invalid("next", "next must be register or login")
	}

	if err := s.limit(ctx, "connect-start:ip:"+in.ClientIP, StartPerIP); err != nil {
		return Started{}, err
	}
	id, err := core.RandomToken(s.cfg.Random, 32)
	if err != nil {
		return Started{}, core.Internal(err)
	}
	token, err := core.RandomToken(s.cfg.Random, 16)
	if err != nil {
		return Started{}, core.Internal(err)
	}
	now := s.now()
	f := flow{
		AppID: app.ID, AppName: app.Name, ReturnURL: in.ReturnURL, State: in.State,
		Line: line, PlanID: in.Plan, Next: next, Token: token, CreatedAt: now, ExpiresAt: now.Add(FlowTTL),
	}
	if err := s.saveFlow(ctx, id, f); err != nil {
		return Started{}, err
	}
	s.record(ctx, app.ID, core.StatStarts)
	return Started{FlowID: id, Next: next}, nil
}

// View is what the sign-in pages may know of a flow, and the token they
// send back with login or register to continue it.
type View struct {
	Active  bool
	Product core.ProductLine
	AppName string
	PlanID  string
	Next    string
	Token   string
}

// Context describes the flow of flowID; an unknown or expired one is not
// active (not an error).
func (s *Service) Context(ctx context.Context, flowID string) (View, error) {
	f, err := s.loadFlow(ctx, flowID)
	if err == errNoFlow {
		return View{}, nil
	}
	if err != nil {
		return View{}, err
	}
	return View{Active: true, Product: f.Line, AppName: f.AppName, PlanID: f.PlanID, Next: f.Next, Token: f.Token}, nil
}

// CheckoutReference is what a checkout started in flowID carries back
// (ports.CheckoutParams.Reference).
func (s *Service) CheckoutReference(flowID string) string { return reference(flowID) }

// CheckoutReturn is where a paid plan's checkout sends the browser back to
// during a connect flow, with Stripe's placeholder for the session id.
func (s *Service) CheckoutReturn() string {
	return s.cfg.BaseURL + "/integrations/connect/stripe-return?session_id={CHECKOUT_SESSION_ID}"
}

// Outcome is what login or register answer in a connect flow: a redirect
// back to the partner, or a checkout to finish first, or why neither.
type Outcome struct {
	Redirect    string // connectRedirect
	CheckoutURL string
	Error       string
	unavailable bool // Error is a provider failure (retry), not a missing setup
}

func (o Outcome) err() error {
	if o.unavailable {
		return core.Unavailable("payments", nil)
	}
	return core.E(core.KindPaymentRequired, o.Error).WithCode("subscription_required")
}

// AfterSignIn continues flowID once profileID has signed in or registered.
// With a payment pending (a paid plan at registration) the flow waits for
// the checkout's return; otherwise it completes and the answer carries the
// partner's return URL with a fresh code.
//
// token must be the flow's (GET context hands it to the sign-in page): a
// sign-in that does not send it leaves the flow alone (ok false), so a flow
// planted by another site never completes behind the person's back.
func (s *Service) AfterSignIn(ctx context.Context, flowID, token, profileID string, paymentPending bool) (o Outcome, ok bool, err error) {
	f, err := s.loadFlow(ctx, flowID)
	if err != nil {
		return Outcome{}, false, err
	}
	if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(f.Token)) != 1 {
		return Outcome{}, false, nil
	}
	o, err = s.afterSignIn(ctx, flowID, f, profileID, paymentPending)
	return o, true, err
}

func (s *Service) afterSignIn(ctx context.Context, flowID string, f flow, profileID string, paymentPending bool) (Outcome, error) {
	if paymentPending {
		f.PaymentPending, f.ProfileID = true, profileID
		f.ExpiresAt = s.now().Add(PaymentTTL)
		return Outcome{}, s.saveFlow(ctx, flowID, f)
	}
	if f.PaymentPending {
		// Signed in again before the checkout returned: the partner gets
		// its code only once the payment is through.
		return Outcome{Error: "a payment is pending for this connection; finish the checkout to continue"}, nil
	}
	if f.Line == core.LineMessaging {
		o, done, err := s.ensureMessaging(ctx, flowID, &f, profileID)
		if err != nil || done {
			return o, err
		}
	}
	url, err := s.complete(ctx, flowID, f, profileID)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Redirect: url}, nil
}

// Finalized is where finalize sends the browser: back to the partner
// (Redirect, the flow is over) or to a checkout first (CheckoutURL, the flow
// waits for its return).
type Finalized struct {
	Redirect    string
	CheckoutURL string
}

// Finalize completes the flow for the signed-in caller (the browser's
// session) and returns the partner's return URL with code and state, or
// the checkout a paid messaging plan needs first.
func (s *Service) Finalize(ctx context.Context, who core.Principal, flowID string) (Finalized, error) {
	if err := who.RequireSession(); err != nil {
		return Finalized{}, err
	}
	f, err := s.loadFlow(ctx, flowID)
	if err != nil {
		return Finalized{}, err
	}
	if f.PaymentPending {
		return Finalized{}, core.Conflict("payment_pending", "finish the checkout first: the flow continues when the payment returns")
	}
	if f.Line == core.LineMessaging {
		o, done, err := s.ensureMessaging(ctx, flowID, &f, who.ProfileID)
		if err != nil {
			return Finalized{}, err
		}
		if done {
			if o.CheckoutURL != "" {
				// The browser pays first; the checkout returns through
				// stripe-return, which completes the flow.
				return Finalized{CheckoutURL: o.CheckoutURL}, nil
			}
			return Finalized{}, o.err()
		}
	}
	url, err := s.complete(ctx, flowID, f, who.ProfileID)
	return Finalized{Redirect: url}, err
}

// StripeReturn completes a flow whose payment was pending, once the
// checkout session is confirmed to belong to this flow and to be paid.
func (s *Service) StripeReturn(ctx context.Context, flowID, sessionID string) (string, error) {
	f, err := s.loadFlow(ctx, flowID)
	if err != nil {
		return "", err
	}
	if sessionID == "" || len(sessionID) > maxIDLen {
		return "", core.Invalid("session_id", "session_id is required")
	}
	if !f.PaymentPending || f.ProfileID == "" {
		return "", core.Invalid("session_id", "this connect flow has no payment to return from")
	}
	if s.cfg.Payments == nil {
		return "", core.Unavailable("payments", nil)
	}
	cs, err := s.cfg.Payments.CheckoutSession(ctx, sessionID)
	if core.IsKind(err, core.KindNotFound) {
		return "", core.Invalid("session_id", "unknown checkout session")
	}
	if err != nil {
		return "", core.Errorf("checkout session", err)
	}
	if cs.Reference != reference(flowID) || cs.ProfileID != f.ProfileID {
		return "", core.Invalid("session_id", "this checkout session belongs to another flow")
	}
	if cs.Status != core.CheckoutComplete || !cs.Paid {
		return "", core.Conflict("payment_pending", "the checkout is not paid yet")
	}
	if s.cfg.Settle != nil {
		// Best effort: the payment webhook applies it anyway.
		if err := s.cfg.Settle(ctx, sessionID); err != nil {
			s.cfg.Report(ctx, core.Errorf("settle checkout", err))
		}
	}
	return s.complete(ctx, flowID, f, f.ProfileID)
}

// complete links the profile to the app, issues a one-time code bound to
// the app, ends the flow and returns the partner's return URL.
func (s *Service) complete(ctx context.Context, flowID string, f flow, profileID string) (url string, err error) {
	app, err := s.cfg.Developer.ActiveAppByID(ctx, f.AppID)
	if err != nil {
		return "", err
	}
	if err := s.claimFlow(ctx, flowID); err != nil {
		return "", err
	}
	defer func() {
		if err != nil { // not completed: the flow may be tried again
			if serr := s.saveFlow(context.WithoutCancel(ctx), flowID, f); serr != nil && serr != errNoFlow {
				s.cfg.Report(ctx, core.Errorf("restore connect flow", serr))
			}
		}
	}()
	// The URI was registered at start; the developer may have removed it
	// since (a compromised callback, say): no code goes to it then.
	if !app.AllowsRedirect(f.ReturnURL) {
		return "", core.Invalid("return_url", "the partner app no longer accepts this return URL; start again from the partner app")
	}
	now := s.now()
	linkID, err := core.NewID("link", now, s.cfg.Random)
	if err != nil {
		return "", core.Internal(err)
	}
	link, err := s.cfg.Links.EnsureLink(ctx, core.ConnectLink{ID: linkID, ProfileID: profileID, AppID: app.ID, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return "", core.Errorf("link", err)
	}
	code, err := core.RandomToken(s.cfg.Random, 32)
	if err != nil {
		return "", core.Internal(err)
	}
	g := core.ConnectGrant{AppID: app.ID, ProfileID: profileID, LinkID: link.ID, State: f.State, Line: f.Line, PlanID: f.PlanID, IssuedAt: now}
	if err := s.cfg.Codes.PutCode(ctx, codeKey(app.ID, code), g, CodeTTL); err != nil {
		return "", core.Errorf("issue code", err)
	}
	s.record(ctx, app.ID, core.StatCompletions)
	return withCodeAndState(f.ReturnURL, code, f.State), nil
}

// codeKey binds a code to its app: redeeming it with another app's
// credentials finds nothing, and does not burn the code.
func codeKey(appID, code string) string { return appID + ":" + core.Digest(code) }

// ensureMessaging subscribes the profile to the flow's messaging plan (the
// free one when none was named) unless it already has an eligible
// messaging subscription. done reports that the flow cannot complete yet:
// a paid plan needs its checkout first (CheckoutURL), or cannot be paid
// here (Error).
func (s *Service) ensureMessaging(ctx context.Context, flowID string, f *flow, profileID string) (o Outcome, done bool, err error) {
	snap, ok, err := s.cfg.Accounts.Subscription(ctx, profileID, core.LineMessaging)
	if err != nil {
		return Outcome{}, false, err
	}
	if ok && snap.Eligible {
		// Already subscribed: a connect flow never changes a merchant's
		// plan (a partner naming the free plan must not downgrade a payer).
		return Outcome{}, false, nil
	}
	plan, err := s.cfg.Plans.Choose(ctx, core.LineMessaging, "plan", f.PlanID)
	if err != nil {
		return Outcome{}, false, err
	}
	now := s.now()
	subID, err := core.NewID("sub", now, s.cfg.Random)
	if err != nil {
		return Outcome{}, false, core.Internal(err)
	}
	sub := core.Subscription{ID: subID, ProfileID: profileID, Line: core.LineMessaging, PlanID: plan.ID, Status: core.StatusActive, CreatedAt: now, UpdatedAt: now}
	if plan.Free() {
		return Outcome{}, false, core.Errorf("subscribe to messaging", s.cfg.Store.SetSubscription(ctx, sub))
	}
	if s.cfg.Payments == nil {
		return Outcome{Error: "the messaging plan is paid and billing is not configured on this server"}, true, nil
	}
	p, err := s.cfg.Store.ProfileByID(ctx, profileID)
	if err != nil {
		return Outcome{}, false, core.Errorf("profile", err)
	}
	sub.Status = core.StatusIncomplete
	if err := s.cfg.Store.SetSubscription(ctx, sub); err != nil {
		return Outcome{}, false, core.Errorf("subscribe to messaging", err)
	}
	cs, err := s.cfg.Payments.CreateCheckoutSession(ctx, checkoutParams(p, plan, s.CheckoutReturn(), reference(flowID)))
	if err != nil {
		s.cfg.Report(ctx, core.Errorf("connect checkout", err))
		return Outcome{Error: "the payment page could not be opened; try again", unavailable: true}, true, nil
	}
	f.PaymentPending, f.ProfileID = true, profileID
	f.ExpiresAt = s.now().Add(PaymentTTL)
	if err := s.saveFlow(ctx, flowID, *f); err != nil {
		return Outcome{}, false, err
	}
	return Outcome{CheckoutURL: cs.URL}, true, nil
}
