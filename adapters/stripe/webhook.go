package stripe

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Tolerance is how old a webhook signature's timestamp may be.
const Tolerance = 300 * time.Second

// WebhookVerifier implements ports.WebhookVerifier with stripe-go's
// ConstructEvent: the Stripe-Signature header's t and v1 values, HMAC-SHA256
// over t + "." + payload, a timestamp at most Tolerance old. Several
// secrets may be configured while one is rolled; Stripe then sends one v1
// signature per secret, and any match is enough.
//
// Events of any API version are accepted: only ids are read from them, and
// billing fetches the objects again through the pinned client.
type WebhookVerifier struct {
	secrets []string
}

var _ ports.WebhookVerifier = (*WebhookVerifier)(nil)

// NewWebhookVerifier returns a verifier for the endpoint's signing secrets
// (whsec_…); empty entries are skipped.
func NewWebhookVerifier(secrets ...string) (*WebhookVerifier, error) {
	v := &WebhookVerifier{}
	for _, s := range secrets {
		if s = strings.TrimSpace(s); s != "" {
			v.secrets = append(v.secrets, s)
		}
	}
	if len(v.secrets) == 0 {
		return nil, errors.New("stripe: no webhook signing secret")
	}
	return v, nil
}

func badSignature(msg string) error { return core.Invalid("Stripe-Signature", "%s", msg) }

// VerifyWebhook implements ports.WebhookVerifier.
func (v *WebhookVerifier) VerifyWebhook(payload []byte, signature string) (core.PaymentEvent, error) {
	if signature == "" {
		return core.PaymentEvent{}, badSignature("the Stripe-Signature header is missing")
	}
	var ev stripego.Event
	var err error
	for _, secret := range v.secrets {
		ev, err = webhook.ConstructEventWithOptions(payload, signature, secret, webhook.ConstructEventOptions{
			Tolerance: Tolerance, IgnoreAPIVersionMismatch: true,
		})
		if !errors.Is(err, webhook.ErrNoValidSignature) {
			break // verified (or a malformed body), or a header no secret can fix
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, webhook.ErrTooOld):
		return core.PaymentEvent{}, badSignature("the signature's timestamp is too old")
	case errors.Is(err, webhook.ErrInvalidHeader), errors.Is(err, webhook.ErrNotSigned):
		return core.PaymentEvent{}, badSignature("the Stripe-Signature header is malformed")
	case errors.Is(err, webhook.ErrNoValidSignature):
		return core.PaymentEvent{}, badSignature("no signature matches the payload")
	default:
		return core.PaymentEvent{}, core.Invalid("body", "the payload is not a Stripe event")
	}
	return event(ev)
}

// event reduces a Stripe event to the ids billing sync needs.
func event(ev stripego.Event) (core.PaymentEvent, error) {
	if ev.ID == "" || ev.Type == "" {
		return core.PaymentEvent{}, core.Invalid("body", "the payload is not a Stripe event")
	}
	out := core.PaymentEvent{ID: ev.ID, Type: string(ev.Type), Created: time.Unix(ev.Created, 0).UTC()}
	if !out.Handled() || ev.Data == nil {
		return out, nil
	}
	var obj struct {
		ID           string          `json:"id"`
		Customer     json.RawMessage `json:"customer"`
		Subscription json.RawMessage `json:"subscription"`
	}
	if err := json.Unmarshal(ev.Data.Raw, &obj); err != nil {
		return core.PaymentEvent{}, core.Invalid("body", "the event's object is malformed")
	}
	out.CustomerID = refID(obj.Customer)
	switch {
	case strings.HasPrefix(out.Type, "customer.subscription."):
		out.SubscriptionID = obj.ID
	case out.Type == core.EventCheckoutCompleted:
		out.CheckoutSessionID, out.SubscriptionID = obj.ID, refID(obj.Subscription)
	default: // invoice.*
		out.SubscriptionID = refID(obj.Subscription)
	}
	return out, nil
}

// refID reads an expandable field: an id string, an object with an id, or
// null.
func refID(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	return ""
}
