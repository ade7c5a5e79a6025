package messaging

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Caps of a chat turn.
const (
	MaxChatMessages       = 50
	MaxChatMessageBytes   = 4000
	MaxConversationRefLen = 200
	MaxChannelLen         = 32
	DefaultChannel        = "api"
)

// ChatInput is one API chat turn. ModelSet and ProviderSet say the
// request carried a model or provider field: GellHub picks the engine, so
// either is refused.
type ChatInput struct {
	Channel         string // "" is "api"
	AgentID         string // "" is the default agent
	ConversationRef string // "" starts a conversation of its own
	Messages        []core.ChatMessage
	ModelSet        bool
	ProviderSet     bool
}

// ChatReply is the assistant's answer of one turn.
type ChatReply struct {
	Content        string
	CreditsCharged int64
	ConversationID string
	UI             []byte // a skill's validated ui object; nil otherwise
	// Handoff says a person has the conversation: the visitor asked for
	// one in this turn, or had asked before (Content is then "").
	Handoff bool
	// handoffURLs are the agent's handoff links, on a Handoff turn: the
	// widget shows them (EmbedReply).
	handoffURLs []core.HandoffLink
}

// Chat runs one turn for the caller (see the package doc for who
// answers): a handoff or skill turn is free, an engine turn costs
// CreditsPerTurn. The balance is checked before the engine runs (402
// insufficient_credits); the charge and the stored messages then commit
// in one atomic step, and a charge a concurrent turn made impossible is
// 402 too, the reply unsent. An engine failure is KindUnavailable and
// costs nothing.
func (s *Service) Chat(ctx context.Context, who core.Principal, in ChatInput) (ChatReply, error) {
	if err := checkLine(who); err != nil {
		return ChatReply{}, err
	}
	if in.ModelSet {
		return ChatReply{}, core.Invalid("model", "model is chosen by GellHub: do not send it")
	}
	if in.ProviderSet {
		return ChatReply{}, core.Invalid("provider", "provider is chosen by GellHub: do not send it")
	}
	channel, ref, err := checkTurnNames(in.Channel, in.ConversationRef)
	if err != nil {
		return ChatReply{}, err
	}
	if err := checkMessages(in.Messages); err != nil {
		return ChatReply{}, err
	}
	if in.AgentID != "" {
		if err := checkAgentID(in.AgentID); err != nil {
			return ChatReply{}, err
		}
	}
	if _, err := s.subscribed(ctx, who.ProfileID); err != nil {
		return ChatReply{}, err
	}
	return s.runTurn(ctx, turn{
		profileID: who.ProfileID, agentID: in.AgentID, channel: channel, ref: ref, messages: in.Messages,
	})
}

// checkTurnNames validates a turn's channel and conversationRef.
func checkTurnNames(channel, ref string) (string, string, error) {
	if channel == "" {
		channel = DefaultChannel
	}
	if len(channel) > MaxChannelLen || !core.ValidID(channel) {
		return "", "", core.Invalid("channel", "channel is 1 to %d letters, digits, '_' or '-'", MaxChannelLen)
	}
	if len(ref) > MaxConversationRefLen {
		return "", "", core.Invalid("conversationRef", "conversationRef must be at most %d bytes", MaxConversationRefLen)
	}
	ref, err := core.CleanText("conversationRef", ref, MaxConversationRefLen, false)
	if err != nil {
		return "", "", err
	}
	if strings.ContainsAny(ref, "\n\r\t") {
		return "", "", core.Invalid("conversationRef", "conversationRef must be one line")
	}
	return channel, ref, nil
}

// checkMessages applies the turn's caps: 1 to MaxChatMessages messages of
// role user or assistant, each 1 to MaxChatMessageBytes bytes of clean
// text (valid UTF-8, no control character but line breaks and tabs), the
// last one the user's.
func checkMessages(ms []core.ChatMessage) error {
	if len(ms) == 0 {
		return core.Invalid("messages", "messages must hold at least one message")
	}
	if len(ms) > MaxChatMessages {
		return core.Invalid("messages", "messages holds at most %d messages", MaxChatMessages)
	}
	for i, m := range ms {
		if m.Role != core.RoleUser && m.Role != core.RoleAssistant {
			return core.Invalid("messages", "messages[%d].role must be user or assistant", i)
		}
		if len(m.Content) > MaxChatMessageBytes {
			return core.Invalid("messages", "messages[%d].content must be at most %d bytes", i, MaxChatMessageBytes)
		}
		if strings.TrimSpace(m.Content) == "" {
			return core.Invalid("messages", "messages[%d].content is required", i)
		}
		if !utf8.ValidString(m.Content) {
			return core.Invalid("messages", "messages[%d].content must be valid UTF-8", i)
		}
		if strings.ContainsFunc(m.Content, controlChar) {
			return core.Invalid("messages", "messages[%d].content must not contain control characters other than line breaks and tabs", i)
		}
	}
	if ms[len(ms)-1].Role != core.RoleUser {
		return core.Invalid("messages", "the last message must be the user's")
	}
	return nil
}

// controlChar reports the control characters a message may not hold:
// all but line breaks and tabs (PostgreSQL's text refuses NUL, and the
// others have no place in a chat).
func controlChar(r rune) bool {
	return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
}

// turn is one validated turn of any channel.
type turn struct {
	profileID string
	agentID   string // "" for the default
	channel   string
	ref       string // "" for a conversation of its own
	visitorID string
	messages  []core.ChatMessage
}

// runTurn answers t and stores it (see Chat and the package doc). A turn
// with webhook events that lost the race to create its conversation runs
// once more, on the conversation the other turn created: nothing of it
// was stored or sent.
func (s *Service) runTurn(ctx context.Context, t turn) (ChatReply, error) {
	r, err := s.runTurnOnce(ctx, t)
	if e, ok := core.AsError(err); ok && e.Code == codeConversationChanged {
		return s.runTurnOnce(ctx, t)
	}
	return r, err
}

// codeConversationChanged is the store's refusal of events naming a
// conversation id a concurrent turn replaced (ports.ChatTurn.Deliveries).
const codeConversationChanged = "conversation_changed"

// runTurnOnce is one try of runTurn.
func (s *Service) runTurnOnce(ctx context.Context, t turn) (ChatReply, error) {
	// Every channel's message is stored, and may go to webhooks: the
	// widget's too (EmbedChat checks its own length and encoding only).
	if strings.ContainsFunc(t.messages[len(t.messages)-1].Content, controlChar) {
		return ChatReply{}, core.Invalid("messages", "the message must not contain control characters other than line breaks and tabs")
	}
	agent, err := s.turnAgent(ctx, t.profileID, t.agentID)
	if err != nil {
		return ChatReply{}, err
	}
	convID, err := s.newID("conv")
	if err != nil {
		return ChatReply{}, err
	}
	if t.ref == "" {
		t.ref = t.channel + ":" + convID
	}
	conv, err := s.cfg.Store.ConversationByRef(ctx, t.profileID, t.ref)
	switch {
	case core.IsKind(err, core.KindNotFound):
		// A new conversation: RecordTurn creates it with convID, the id
		// a handoff event's body names. When a concurrent first turn of
		// the same ref created it meanwhile, a turn with events is refused
		// (conversation_changed) and runTurn runs it again on that
		// conversation.
	case err != nil:
		return ChatReply{}, core.Errorf("conversation", err)
	default:
		convID = conv.ID
	}
	if !conv.HandedOffAt.IsZero() {
		hookURL, err := s.handoffURL(ctx, t.profileID)
		if err != nil {
			return ChatReply{}, err
		}
		if hookURL != "" {
			return s.personTurn(ctx, t, agent, convID)
		}
		// The partner removed its inbox: nobody can take the
		// conversation over any more, so the bot has it again.
		if _, err := s.cfg.Store.HandBack(ctx, t.profileID, convID, s.now()); err != nil {
			return ChatReply{}, core.Errorf("hand back", err)
		}
	}
	if agent.HumanHandoffEnabled {
		if lang, ok := detectHandoff(t.messages[len(t.messages)-1].Content); ok {
			return s.handoffTurn(ctx, t, agent, convID, lang)
		}
	}
	if content, ui, _, ok := s.skillTurn(ctx, t); ok {
		stored, err := s.record(ctx, t, agent, convID, recorded{reply: content})
		if err != nil {
			return ChatReply{}, err
		}
		return ChatReply{Content: content, ConversationID: stored.ID, UI: ui}, nil
	}
	return s.engineTurn(ctx, t, agent, convID)
}

// engineTurn answers t with the AI engine, for CreditsPerTurn.
func (s *Service) engineTurn(ctx context.Context, t turn, agent core.Agent, convID string) (ChatReply, error) {
	u, err := s.cfg.Store.MessagingUsage(ctx, t.profileID)
	if err != nil {
		return ChatReply{}, core.Errorf("credits", err)
	}
	if u.Credits < CreditsPerTurn {
		return ChatReply{}, errInsufficientCredits()
	}
	knowledge, err := s.cfg.Store.KnowledgeSources(ctx, t.profileID, agent.ID)
	if err != nil {
		return ChatReply{}, core.Errorf("knowledge", err)
	}
	reply, err := s.cfg.Engine.Reply(ctx, ports.EngineRequest{Agent: agent, Knowledge: knowledge, Messages: t.messages})
	if err == nil && strings.TrimSpace(reply.Content) == "" {
		err = core.E(core.KindInternal, "the engine answered nothing")
	}
	if err != nil {
		if e, ok := core.AsError(err); ok && e.Kind == core.KindUnavailable {
			return ChatReply{}, err
		}
		return ChatReply{}, core.Unavailable("ai engine", err)
	}
	chargeID, err := s.newID("cred")
	if err != nil {
		return ChatReply{}, err
	}
	charge := &core.CreditEntry{ID: chargeID, ProfileID: t.profileID, Amount: CreditsPerTurn, Reason: core.CreditChatTurn}
	conv, err := s.record(ctx, t, agent, convID, recorded{reply: reply.Content, charge: charge})
	if err != nil {
		return ChatReply{}, err
	}
	return ChatReply{Content: reply.Content, CreditsCharged: CreditsPerTurn, ConversationID: conv.ID}, nil
}

// turnAgent resolves the turn's agent: the one named, or the default.
func (s *Service) turnAgent(ctx context.Context, profileID, agentID string) (core.Agent, error) {
	if agentID != "" {
		a, err := s.cfg.Store.Agent(ctx, profileID, agentID)
		return a, core.Errorf("agent", err)
	}
	a, err := s.cfg.Store.DefaultAgent(ctx, profileID)
	if core.IsKind(err, core.KindNotFound) {
		return core.Agent{}, core.Conflict("no_agent", "create an agent first: POST /api/messaging/v1/agents")
	}
	return a, core.Errorf("default agent", err)
}

// recorded is what a turn stores besides the user's message.
type recorded struct {
	reply      string            // the assistant's answer; "" stores none
	charge     *core.CreditEntry // nil: a free turn
	handoff    bool              // hand the conversation off
	deliveries []core.WebhookDelivery
	at         time.Time // zero: now
}

// record stores the turn's user message and r in one atomic step.
func (s *Service) record(ctx context.Context, t turn, agent core.Agent, convID string, r recorded) (core.Conversation, error) {
	now := r.at
	if now.IsZero() {
		now = s.now()
	}
	inID, err := s.newID("cmsg")
	if err != nil {
		return core.Conversation{}, err
	}
	msgs := []core.ConversationMessage{{ID: inID, Role: core.RoleUser, Content: t.messages[len(t.messages)-1].Content, CreatedAt: now}}
	if r.reply != "" {
		outID, err := s.newID("cmsg")
		if err != nil {
			return core.Conversation{}, err
		}
		msgs = append(msgs, core.ConversationMessage{ID: outID, Role: core.RoleAssistant, Content: r.reply, CreatedAt: now})
	}
	if r.charge != nil {
		r.charge.CreatedAt = now
	}
	conv, err := s.cfg.Store.RecordTurn(ctx, ports.ChatTurn{
		ProfileID: t.profileID, ConversationID: convID, Ref: t.ref, Channel: t.channel, AgentID: agent.ID,
		Messages: msgs, Charge: r.charge, Handoff: r.handoff, Deliveries: r.deliveries, At: now,
	})
	if err != nil {
		return core.Conversation{}, core.Errorf("record turn", err)
	}
	return conv, nil
}
