package httpapi

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
)

// Human handoff: the partner's webhook (GET/PUT /api/messaging/v1/handoff,
// its secret write-only), the log of its deliveries
// (GET /api/messaging/v1/handoff/deliveries), and the conversations a
// person may have (GET /api/messaging/v1/conversations/{id} and its
// handback).

// handoffJSON is a profile's handoff webhook, without its secret.
type handoffJSON struct {
	HandoffWebhookURL       string     `json:"handoffWebhookUrl"` // "": none
	HandoffWebhookSecretSet bool       `json:"handoffWebhookSecretSet"`
	UpdatedAt               *time.Time `json:"updatedAt"` // null: never configured
}

// handoffRequest replaces the webhook: handoffWebhookUrl is required (""
// sends nothing); handoffWebhookSecret absent (or null) keeps the secret,
// "" removes it.
type handoffRequest struct {
	HandoffWebhookURL    *string `json:"handoffWebhookUrl"`
	HandoffWebhookSecret *string `json:"handoffWebhookSecret"`
}

// deliveryJSON is one outgoing webhook event with its attempts.
type deliveryJSON struct {
	EventID        string          `json:"eventId"`
	Event          string          `json:"event"`
	ConversationID string          `json:"conversationId"`
	State          string          `json:"state"`
	AttemptCount   int             `json:"attemptCount"`
	NextAttemptAt  *time.Time      `json:"nextAttemptAt"` // null unless pending
	CreatedAt      time.Time       `json:"createdAt"`
	DeliveredAt    *time.Time      `json:"deliveredAt"` // null unless delivered
	Payload        json.RawMessage `json:"payload"`     // the body sent, as an object
	Attempts       []attemptJSON   `json:"attempts"`    // oldest first
}

// attemptJSON is one try at delivering an event.
type attemptJSON struct {
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	URL        string    `json:"url"`
	StatusCode int       `json:"statusCode"` // 0: no answer came
	DurationMs int64     `json:"durationMs"`
	Error      string    `json:"error"`    // "" on success
	Response   string    `json:"response"` // the start of the answer
}

// deliveriesJSON is a page of deliveries; nextCursor is null on the last
// page.
type deliveriesJSON struct {
	Deliveries []deliveryJSON `json:"deliveries"`
	NextCursor *string        `json:"nextCursor"`
}

// conversationJSON is a conversation and whether a person has it.
type conversationJSON struct {
	ConversationID  string     `json:"conversationId"`
	ConversationRef string     `json:"conversationRef"`
	Channel         string     `json:"channel"`
	AgentID         string     `json:"agentId"`
	MessageCount    int        `json:"messageCount"`
	HandedOff       bool       `json:"handedOff"`
	HandedOffAt     *time.Time `json:"handedOffAt"` // null: the bot has it
	CreatedAt       time.Time  `json:"createdAt"`
	UpdatedAt       time.Time  `json:"updatedAt"`
}

func handoffView(v messaging.HandoffView) handoffJSON {
	return handoffJSON{HandoffWebhookURL: v.WebhookURL, HandoffWebhookSecretSet: v.SecretSet, UpdatedAt: timeOrNil(v.UpdatedAt)}
}

func deliveryView(d core.WebhookDelivery) deliveryJSON {
	payload := json.RawMessage("null")
	if json.Valid(d.Body) {
		payload = json.RawMessage(d.Body)
	}
	out := deliveryJSON{
		EventID: d.ID, Event: d.Event, ConversationID: d.ConversationID, State: string(d.State),
		AttemptCount: d.AttemptCount, NextAttemptAt: timeOrNil(d.NextAttemptAt), CreatedAt: d.CreatedAt,
		DeliveredAt: timeOrNil(d.DeliveredAt), Payload: payload, Attempts: make([]attemptJSON, len(d.Attempts)),
	}
	for i, a := range d.Attempts {
		out.Attempts[i] = attemptJSON{
			Attempt: a.N, At: a.At, URL: a.URL, StatusCode: a.StatusCode, DurationMs: a.Duration.Milliseconds(),
			Error: a.Error, Response: a.Response,
		}
	}
	return out
}

func conversationView(c core.Conversation) conversationJSON {
	return conversationJSON{
		ConversationID: c.ID, ConversationRef: c.Ref, Channel: c.Channel, AgentID: c.AgentID,
		MessageCount: c.MessageCount, HandedOff: !c.HandedOffAt.IsZero(), HandedOffAt: timeOrNil(c.HandedOffAt),
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func (s *Server) messagingHandoff(c *fiber.Ctx) error {
	v, err := s.Messaging.Handoff(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(handoffView(v))
}

func (s *Server) messagingPutHandoff(c *fiber.Ctx) error {
	var req handoffRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.HandoffWebhookURL == nil {
		return core.Invalid("handoffWebhookUrl", `handoffWebhookUrl is required ("" sends nothing)`)
	}
	v, err := s.Messaging.PutHandoff(c.UserContext(), principal(c), messaging.HandoffInput{
		WebhookURL: *req.HandoffWebhookURL, Secret: req.HandoffWebhookSecret,
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(handoffView(v))
}

// deliveriesQuery reads ?limit= (1 to messaging.MaxDeliveriesPage),
// ?cursor= (the previous page's nextCursor) and ?event=.
func deliveriesQuery(c *fiber.Ctx) (messaging.DeliveriesQuery, error) {
	var q messaging.DeliveriesQuery
	v, err := query(c, "limit", 8)
	if err != nil {
		return q, err
	}
	if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > messaging.MaxDeliveriesPage {
			return q, core.Invalid("limit", "limit must be a whole number between 1 and %d", messaging.MaxDeliveriesPage)
		}
		q.Limit = n
	}
	if q.After, err = query(c, "cursor", core.MaxIDLen); err != nil {
		return q, err
	}
	if q.After != "" && !core.ValidID(q.After) {
		return q, core.Invalid("cursor", "cursor must be the nextCursor of the previous page")
	}
	if q.Event, err = query(c, "event", 64); err != nil {
		return q, err
	}
	return q, nil
}

func (s *Server) messagingDeliveries(c *fiber.Ctx) error {
	q, err := deliveriesQuery(c)
	if err != nil {
		return err
	}
	p, err := s.Messaging.Deliveries(c.UserContext(), principal(c), q)
	if err != nil {
		return err
	}
	out := deliveriesJSON{Deliveries: make([]deliveryJSON, len(p.Deliveries))}
	if p.Next != "" {
		out.NextCursor = &p.Next
	}
	for i, d := range p.Deliveries {
		out.Deliveries[i] = deliveryView(d)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

func (s *Server) messagingConversation(c *fiber.Ctx) error {
	conv, err := s.Messaging.Conversation(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(conversationView(conv))
}

func (s *Server) messagingHandBack(c *fiber.Ctx) error {
	conv, err := s.Messaging.HandBack(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(conversationView(conv))
}
