package messaging

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// HandoffProtocolVersion is the version of the handoff events' body.
const HandoffProtocolVersion = 1

// handoffTimeLayout is how handoff events write their time
// ("2026-05-25T12:00:00.000Z", always UTC).
const handoffTimeLayout = "2006-01-02T15:04:05.000Z"

// HandoffView is a profile's handoff webhook as the partner sees it: never
// the secret, only whether one is set.
type HandoffView struct {
	WebhookURL string // "": handoff events are not sent
	SecretSet  bool
	UpdatedAt  time.Time // zero: never configured
}

// HandoffInput replaces a profile's handoff webhook. WebhookURL ""
// disables the webhook; Secret nil keeps the stored secret, "" removes it.
type HandoffInput struct {
	WebhookURL string
	Secret     *string
}

// Handoff returns the caller's handoff webhook.
func (s *Service) Handoff(ctx context.Context, who core.Principal) (HandoffView, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return HandoffView{}, err
	}
	c, err := s.cfg.Store.HandoffConfig(ctx, pid)
	if err != nil {
		return HandoffView{}, core.Errorf("handoff config", err)
	}
	return handoffView(c), nil
}

// PutHandoff validates and saves the caller's handoff webhook: an https
// URL (the skills webhook's rules, field handoffWebhookUrl) or "" to send
// nothing, and a secret of 16 to 256 printable ASCII characters without
// spaces (field handoffWebhookSecret). Nothing is saved when a field is
// refused. Events already queued are sent to the URL and signed with the
// secret saved when they are attempted.
func (s *Service) PutHandoff(ctx context.Context, who core.Principal, in HandoffInput) (HandoffView, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return HandoffView{}, err
	}
	in.WebhookURL = strings.TrimSpace(in.WebhookURL)
	if in.WebhookURL != "" {
		if err := checkWebhookURL("handoffWebhookUrl", in.WebhookURL, s.cfg.AllowPrivateWebhooks); err != nil {
			return HandoffView{}, err
		}
	}
	if in.Secret != nil && *in.Secret != "" {
		if err := checkWebhookSecret("handoffWebhookSecret", *in.Secret); err != nil {
			return HandoffView{}, err
		}
	}
	var saved core.HandoffConfig
	err = s.cfg.Store.UpdateMessaging(ctx, pid, func(tx ports.MessagingTx) error {
		cur, err := tx.HandoffConfig(ctx)
		if err != nil {
			return core.Errorf("handoff config", err)
		}
		saved = core.HandoffConfig{ProfileID: pid, WebhookURL: in.WebhookURL, Secret: cur.Secret, UpdatedAt: s.now()}
		if in.Secret != nil {
			saved.Secret = *in.Secret
		}
		return core.Errorf("save handoff config", tx.SaveHandoffConfig(ctx, saved))
	})
	if err != nil {
		return HandoffView{}, err
	}
	return handoffView(saved), nil
}

func handoffView(c core.HandoffConfig) HandoffView {
	return HandoffView{WebhookURL: c.WebhookURL, SecretSet: c.Secret != "", UpdatedAt: c.UpdatedAt}
}

// checkConversationID refuses what cannot be an id (400, detail
// conversationId).
func checkConversationID(id string) error {
	if !core.ValidID(id) {
		return core.Invalid("conversationId", "conversationId is 1 to %d letters, digits, '_' or '-'", core.MaxIDLen)
	}
	return nil
}

// Conversation returns one of the caller's conversations (HandedOffAt
// says whether a person has it); KindNotFound for another profile's.
func (s *Service) Conversation(ctx context.Context, who core.Principal, id string) (core.Conversation, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return core.Conversation{}, err
	}
	if err := checkConversationID(id); err != nil {
		return core.Conversation{}, err
	}
	c, err := s.cfg.Store.Conversation(ctx, pid, id)
	return c, core.Errorf("conversation", err)
}

// HandBack gives a handed-off conversation back to the bot: its next
// turns are answered again (by skills or the AI engine), and the visitor
// may ask for a person again. A conversation the bot has already is
// returned as is. KindNotFound for another profile's.
func (s *Service) HandBack(ctx context.Context, who core.Principal, conversationID string) (core.Conversation, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return core.Conversation{}, err
	}
	if err := checkConversationID(conversationID); err != nil {
		return core.Conversation{}, err
	}
	c, err := s.cfg.Store.HandBack(ctx, pid, conversationID, s.now())
	return c, core.Errorf("hand back", err)
}

// handoffEvent is the body of a handoff webhook event (the guide's
// handoff.requested, in its order; handoff.message carries sentAt
// instead of requestedAt).
type handoffEvent struct {
	Version         int    `json:"version"`
	Event           string `json:"event"`
	ProfileID       string `json:"profileId"`
	ConversationRef string `json:"conversationRef"`
	ConversationID  string `json:"conversationId"`
	VisitorID       string `json:"visitorId"`
	AgentID         string `json:"agentId"`
	Channel         string `json:"channel"`
	Message         string `json:"message"`
	RequestedAt     string `json:"requestedAt,omitempty"`
	SentAt          string `json:"sentAt,omitempty"`
}

// handoffDelivery builds the event of t's last message for the
// conversation convID, at at.
func (s *Service) handoffDelivery(t turn, agent core.Agent, convID, event string, at time.Time) (core.WebhookDelivery, error) {
	id, err := s.newID("evt")
	if err != nil {
		return core.WebhookDelivery{}, err
	}
	body := handoffEvent{
		Version: HandoffProtocolVersion, Event: event, ProfileID: t.profileID, ConversationRef: t.ref,
		ConversationID: convID, VisitorID: t.visitorID, AgentID: agent.ID, Channel: t.channel,
		Message: t.messages[len(t.messages)-1].Content,
	}
	stamp := at.UTC().Format(handoffTimeLayout)
	if event == core.EventHandoffRequested {
		body.RequestedAt = stamp
	} else {
		body.SentAt = stamp
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return core.WebhookDelivery{}, core.Internal(err)
	}
	return core.WebhookDelivery{ID: id, Event: event, Body: bytes.TrimSuffix(b.Bytes(), []byte("\n"))}, nil
}

// handoffURL returns the profile's handoff webhook URL, "" for none.
func (s *Service) handoffURL(ctx context.Context, profileID string) (string, error) {
	c, err := s.cfg.Store.HandoffConfig(ctx, profileID)
	if err != nil {
		return "", core.Errorf("handoff config", err)
	}
	return c.WebhookURL, nil
}

// handoffTurn answers a visitor who asked for a person, in lang: for free,
// with an acknowledgement and the agent's handoff links. When the profile
// has a handoff webhook, the conversation is handed off and a
// handoff.requested event queued with the turn; without one nobody could
// take the conversation, so the bot keeps it and nothing is queued.
func (s *Service) handoffTurn(ctx context.Context, t turn, agent core.Agent, convID, lang string) (ChatReply, error) {
	hookURL, err := s.handoffURL(ctx, t.profileID)
	if err != nil {
		return ChatReply{}, err
	}
	r := recorded{reply: handoffAck(lang), at: s.now()}
	if hookURL != "" {
		d, err := s.handoffDelivery(t, agent, convID, core.EventHandoffRequested, r.at)
		if err != nil {
			return ChatReply{}, err
		}
		r.handoff, r.deliveries = true, []core.WebhookDelivery{d}
	}
	conv, err := s.record(ctx, t, agent, convID, r)
	if err != nil {
		return ChatReply{}, err
	}
	return ChatReply{Content: r.reply, ConversationID: conv.ID, Handoff: true, handoffURLs: agent.HandoffURLs}, nil
}

// personTurn stores a visitor's message in a conversation a person has:
// the bot says nothing, costs nothing, and the message goes to the
// profile's handoff webhook, which the caller checked is set, as
// handoff.message.
func (s *Service) personTurn(ctx context.Context, t turn, agent core.Agent, convID string) (ChatReply, error) {
	r := recorded{at: s.now()}
	d, err := s.handoffDelivery(t, agent, convID, core.EventHandoffMessage, r.at)
	if err != nil {
		return ChatReply{}, err
	}
	r.deliveries = []core.WebhookDelivery{d}
	conv, err := s.record(ctx, t, agent, convID, r)
	if err != nil {
		return ChatReply{}, err
	}
	return ChatReply{ConversationID: conv.ID, Handoff: true, handoffURLs: agent.HandoffURLs}, nil
}
