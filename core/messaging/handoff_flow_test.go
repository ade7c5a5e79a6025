package messaging_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
	"github.com/gellhub/gellhub/ports"
)

const (
	inboxURL    = "https://inbox.example.com/gellhub/handoff"
	inboxSecret = "inbox-secret-0123456789"
	skillsURL   = "https://shop.example.com/gellhub/skills"

	enAck = "I've asked a member of the team to join this conversation. They will get back to you."
	esAck = "He pedido a un miembro del equipo que se una a esta conversación. Se pondrá en contacto contigo."
)

var inboxLinks = []core.HandoffLink{{Label: "WhatsApp", URL: "https://wa.me/15551234567"}, {Label: "Call", URL: "tel:+15551234567"}}

// handoffAgent turns human handoff on for the agent, with inboxLinks.
func (f *fixture) handoffAgent(t *testing.T, u user, a core.Agent) core.Agent {
	t.Helper()
	a, err := f.svc.UpdateAgent(f.ctx, u.key, a.ID, messaging.AgentPatch{HumanHandoffEnabled: ptr(true), HandoffURLs: &inboxLinks})
	require.NoError(t, err)
	return a
}

// handoffMerchant is a merchant with credits whose default agent hands
// off, and whose handoff webhook is inboxURL signed with inboxSecret.
func (f *fixture) handoffMerchant(t *testing.T, credits int64) (user, core.Agent) {
	t.Helper()
	u, a := f.merchant(t, credits)
	a = f.handoffAgent(t, u, a)
	_, err := f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{WebhookURL: inboxURL, Secret: ptr(inboxSecret)})
	require.NoError(t, err)
	return u, a
}

func (f *fixture) delivery(t *testing.T, id string) core.WebhookDelivery {
	t.Helper()
	d, err := f.store.Delivery(f.ctx, id)
	require.NoError(t, err)
	return d
}

func (f *fixture) conversation(t *testing.T, u user, id string) core.Conversation {
	t.Helper()
	c, err := f.store.Conversation(f.ctx, u.profileID, id)
	require.NoError(t, err)
	return c
}

func (f *fixture) messages(t *testing.T, u user, convID string) []core.ConversationMessage {
	t.Helper()
	ms, err := f.store.ConversationMessages(f.ctx, u.profileID, convID, 100)
	require.NoError(t, err)
	return ms
}

// wantBody is a handoff event's body exactly as the guide writes it;
// stamp is requestedAt for handoff.requested, sentAt for handoff.message.
func wantBody(event, profileID, ref, convID, visitorID, agentID, channel, message, stamp string) string {
	field := "requestedAt"
	if event == core.EventHandoffMessage {
		field = "sentAt"
	}
	enc := func(s string) string {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		_ = e.Encode(s)
		return strings.TrimSuffix(b.String(), "\n")
	}
	return fmt.Sprintf(`{"version":1,"event":%s,"profileId":%s,"conversationRef":%s,"conversationId":%s,`+
		`"visitorId":%s,"agentId":%s,"channel":%s,"message":%s,%q:%s}`,
		enc(event), enc(profileID), enc(ref), enc(convID), enc(visitorID), enc(agentID), enc(channel), enc(message),
		field, enc(stamp))
}

func TestHandoffFlow(t *testing.T) {
	t.Parallel()

	t.Run("api_chat_hands_off_then_the_partner_hands_back", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.handoffMerchant(t, 5)
		in := messaging.ChatInput{ConversationRef: "whatsapp:+15551234567:thread-1", Messages: userMsg("What are your opening hours?")}
		first, err := f.svc.Chat(f.ctx, u.key, in)
		require.NoError(t, err)
		require.EqualValues(t, 1, first.CreditsCharged)
		conv := first.ConversationID

		f.clock.Advance(1234 * time.Millisecond)
		asked := start.Add(1234 * time.Millisecond)
		in.Messages = append(in.Messages, core.ChatMessage{Role: core.RoleAssistant, Content: first.Content},
			core.ChatMessage{Role: core.RoleUser, Content: "I need to speak with someone on your team"})
		r, err := f.svc.Chat(f.ctx, u.key, in)
		require.NoError(t, err)
		require.Equal(t, enAck, r.Content)
		require.True(t, r.Handoff)
		require.Zero(t, r.CreditsCharged)
		require.Nil(t, r.UI)
		require.Equal(t, conv, r.ConversationID)
		require.EqualValues(t, 4, f.credits(t, u), "the handoff turn is free")
		require.EqualValues(t, 1, f.engine.calls.Load())
		require.Equal(t, asked, f.conversation(t, u, conv).HandedOffAt)

		ids := f.queuedIDs()
		require.Len(t, ids, 1)
		d := f.delivery(t, ids[0])
		require.True(t, strings.HasPrefix(d.ID, "evt_"), d.ID)
		require.Equal(t, core.EventHandoffRequested, d.Event)
		require.Equal(t, conv, d.ConversationID)
		require.Equal(t, u.profileID, d.ProfileID)
		require.Equal(t, core.DeliveryPending, d.State)
		require.Equal(t, wantBody(core.EventHandoffRequested, u.profileID, in.ConversationRef, conv, "", a.ID, "api",
			"I need to speak with someone on your team", "2026-08-03T09:30:01.234Z"), string(d.Body))
		ms := f.messages(t, u, conv)
		require.Len(t, ms, 4)
		require.Equal(t, core.RoleAssistant, ms[3].Role)
		require.Equal(t, enAck, ms[3].Content)

		// A person has the conversation: the bot stays silent.
		f.clock.Advance(time.Minute)
		in.Messages = append(in.Messages, core.ChatMessage{Role: core.RoleAssistant, Content: r.Content},
			core.ChatMessage{Role: core.RoleUser, Content: "Hello? Is anyone there?"})
		r, err = f.svc.Chat(f.ctx, u.key, in)
		require.NoError(t, err)
		require.Empty(t, r.Content)
		require.True(t, r.Handoff)
		require.Zero(t, r.CreditsCharged)
		require.Equal(t, conv, r.ConversationID)
		require.EqualValues(t, 1, f.engine.calls.Load(), "the engine is not asked")
		require.EqualValues(t, 4, f.credits(t, u))
		ms = f.messages(t, u, conv)
		require.Len(t, ms, 5, "only the visitor's message is stored")
		require.Equal(t, core.RoleUser, ms[4].Role)
		require.Equal(t, "Hello? Is anyone there?", ms[4].Content)
		require.Equal(t, asked, f.conversation(t, u, conv).HandedOffAt, "the handoff time stays")
		ids = f.queuedIDs()
		require.Len(t, ids, 2)
		m := f.delivery(t, ids[1])
		require.Equal(t, core.EventHandoffMessage, m.Event)
		require.Equal(t, wantBody(core.EventHandoffMessage, u.profileID, in.ConversationRef, conv, "", a.ID, "api",
			"Hello? Is anyone there?", "2026-08-03T09:31:01.234Z"), string(m.Body))

		// Even a request for a person only reaches the person.
		_, err = f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: in.ConversationRef, Messages: userMsg("talk to a human")})
		require.NoError(t, err)
		require.Equal(t, core.EventHandoffMessage, f.delivery(t, f.queuedIDs()[2]).Event)

		got, err := f.svc.Conversation(f.ctx, u.key, conv)
		require.NoError(t, err)
		require.Equal(t, asked, got.HandedOffAt)
		back, err := f.svc.HandBack(f.ctx, u.key, conv)
		require.NoError(t, err)
		require.True(t, back.HandedOffAt.IsZero())
		again, err := f.svc.HandBack(f.ctx, u.key, conv)
		require.NoError(t, err, "handing back twice is fine")
		require.True(t, again.HandedOffAt.IsZero())

		r, err = f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: in.ConversationRef, Messages: userMsg("What are your opening hours?")})
		require.NoError(t, err)
		require.False(t, r.Handoff)
		require.EqualValues(t, 1, r.CreditsCharged)
		require.Equal(t, "Store assistant: sorry, I don't know that yet.", r.Content)
		require.EqualValues(t, 2, f.engine.calls.Load())
		require.Len(t, f.queuedIDs(), 3)

		// The visitor may ask again.
		r, err = f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: in.ConversationRef, Messages: userMsg("real person please")})
		require.NoError(t, err)
		require.True(t, r.Handoff)
		require.Len(t, f.queuedIDs(), 4)
		require.Equal(t, core.EventHandoffRequested, f.delivery(t, f.queuedIDs()[3]).Event)
	})

	t.Run("removing_the_handoff_webhook_gives_handed_off_conversations_back_to_the_bot", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.handoffMerchant(t, 5)
		in := messaging.ChatInput{ConversationRef: "whatsapp:+15557654321", Messages: userMsg("I want to talk to a human")}
		r, err := f.svc.Chat(f.ctx, u.key, in)
		require.NoError(t, err)
		require.True(t, r.Handoff)
		conv := r.ConversationID
		require.False(t, f.conversation(t, u, conv).HandedOffAt.IsZero())
		_, err = f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{WebhookURL: ""})
		require.NoError(t, err)

		f.clock.Advance(time.Minute)
		r, err = f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: in.ConversationRef, Messages: userMsg("What are your opening hours?")})
		require.NoError(t, err)
		require.False(t, r.Handoff, "no inbox takes the conversation over any more: the bot answers")
		require.EqualValues(t, 1, r.CreditsCharged)
		require.NotEmpty(t, r.Content)
		require.EqualValues(t, 1, f.engine.calls.Load())
		require.True(t, f.conversation(t, u, conv).HandedOffAt.IsZero(), "the conversation is handed back")
		require.Len(t, f.queuedIDs(), 1, "nothing more is queued")
	})

	t.Run("a_new_conversation_s_event_carries_its_stored_id", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.handoffMerchant(t, 0)
		for _, ref := range []string{"", "thread-new"} {
			r, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Channel: "whatsapp", ConversationRef: ref, Messages: userMsg("Can I talk to a real person?")})
			require.NoError(t, err)
			require.True(t, r.Handoff)
			ids := f.queuedIDs()
			d := f.delivery(t, ids[len(ids)-1])
			conv := f.conversation(t, u, r.ConversationID)
			require.Equal(t, r.ConversationID, d.ConversationID)
			require.Equal(t, wantBody(core.EventHandoffRequested, u.profileID, conv.Ref, conv.ID, "", a.ID, "whatsapp",
				"Can I talk to a real person?", "2026-08-03T09:30:00.000Z"), string(d.Body))
			if ref == "" {
				require.Equal(t, "whatsapp:"+conv.ID, conv.Ref)
			}
			require.False(t, conv.HandedOffAt.IsZero())
		}
	})

	t.Run("embed_chat", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.handoffMerchant(t, 0) // no credits: handoff turns are free
		embedID := f.enable(t, u, "shop.example.com").Settings.PublicID
		in := messaging.EmbedChatInput{EmbedID: embedID, OriginHost: "shop.example.com", VisitorID: "visitor-uuid", Message: "Quiero hablar con una persona"}
		r, err := f.svc.EmbedChat(f.ctx, in)
		require.NoError(t, err)
		require.Equal(t, messaging.EmbedReply{Content: esAck, Handoff: true, HandoffURLs: inboxLinks}, r)
		ref := "web:" + embedID + ":visitor-uuid"
		conv, err := f.store.ConversationByRef(f.ctx, u.profileID, ref)
		require.NoError(t, err)
		require.False(t, conv.HandedOffAt.IsZero())
		ids := f.queuedIDs()
		require.Len(t, ids, 1)
		require.Equal(t, wantBody(core.EventHandoffRequested, u.profileID, ref, conv.ID, "visitor-uuid", a.ID, "web",
			"Quiero hablar con una persona", "2026-08-03T09:30:00.000Z"), string(f.delivery(t, ids[0]).Body))

		in.Message = "¿Hola? <b>&</b>"
		r, err = f.svc.EmbedChat(f.ctx, in)
		require.NoError(t, err)
		require.Equal(t, messaging.EmbedReply{Handoff: true, HandoffURLs: inboxLinks}, r)
		ids = f.queuedIDs()
		require.Len(t, ids, 2)
		require.Equal(t, wantBody(core.EventHandoffMessage, u.profileID, ref, conv.ID, "visitor-uuid", a.ID, "web",
			"¿Hola? <b>&</b>", "2026-08-03T09:30:00.000Z"), string(f.delivery(t, ids[1]).Body), "no HTML escaping")
		require.Zero(t, f.engine.calls.Load())
		require.Zero(t, f.credits(t, u))
		require.Len(t, f.messages(t, u, conv.ID), 3)

		_, err = f.svc.HandBack(f.ctx, u.key, conv.ID)
		require.NoError(t, err)
		in.Message = "thanks"
		_, err = f.svc.EmbedChat(f.ctx, in)
		wantKind(t, err, core.KindPaymentRequired, "insufficient_credits")
		f.grant(t, u, 1)
		r, err = f.svc.EmbedChat(f.ctx, in)
		require.NoError(t, err)
		require.Equal(t, messaging.EmbedReply{Content: "Store assistant: sorry, I don't know that yet."}, r)
	})

	t.Run("handoff_disabled_on_the_agent_is_an_ai_turn", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.handoffMerchant(t, 5)
		_, err := f.svc.UpdateAgent(f.ctx, u.key, a.ID, messaging.AgentPatch{HumanHandoffEnabled: ptr(false)})
		require.NoError(t, err)
		r, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: "c", Messages: userMsg("talk to a human")})
		require.NoError(t, err)
		require.False(t, r.Handoff)
		require.EqualValues(t, 1, r.CreditsCharged)
		require.EqualValues(t, 1, f.engine.calls.Load())
		require.Empty(t, f.queuedIDs())
		require.True(t, f.conversation(t, u, r.ConversationID).HandedOffAt.IsZero())
	})

	t.Run("the_named_agent_decides", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 5) // the default agent does not hand off
		_, err := f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{WebhookURL: inboxURL})
		require.NoError(t, err)
		b, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "Support", HumanHandoffEnabled: true})
		require.NoError(t, err)
		r, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{AgentID: b.ID, Messages: userMsg("Puis-je parler à un conseiller ?")})
		require.NoError(t, err)
		require.True(t, r.Handoff)
		require.True(t, strings.HasPrefix(r.Content, "J'ai demandé à un membre de l'équipe"), r.Content)
		r, err = f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Messages: userMsg("Puis-je parler à un conseiller ?")})
		require.NoError(t, err)
		require.False(t, r.Handoff)
	})

	t.Run("without_a_webhook_url_the_reply_is_the_same_and_nothing_is_queued", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.merchant(t, 5)
		f.handoffAgent(t, u, a)
		in := messaging.ChatInput{ConversationRef: "c", Messages: userMsg("Ich möchte mit einem Menschen sprechen")}
		r, err := f.svc.Chat(f.ctx, u.key, in)
		require.NoError(t, err)
		require.True(t, r.Handoff)
		require.Equal(t, "Ich habe das Team gebeten, dieses Gespräch zu übernehmen. Jemand meldet sich bei Ihnen.", r.Content)
		require.Zero(t, r.CreditsCharged)
		require.EqualValues(t, 5, f.credits(t, u))
		require.Empty(t, f.queuedIDs())
		require.True(t, f.conversation(t, u, r.ConversationID).HandedOffAt.IsZero(), "nobody could take it")
		require.Len(t, f.messages(t, u, r.ConversationID), 2)

		in.Messages = userMsg("What are your opening hours?")
		r, err = f.svc.Chat(f.ctx, u.key, in)
		require.NoError(t, err)
		require.False(t, r.Handoff)
		require.EqualValues(t, 1, r.CreditsCharged, "the bot still has the conversation")
	})

	t.Run("handoff_beats_skills", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.handoffMerchant(t, 0)
		f.skills(t, u)
		r, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Messages: userMsg("Can I talk to someone on your team about a booking?")})
		require.NoError(t, err)
		require.True(t, r.Handoff)
		require.Equal(t, enAck, r.Content)
		require.Nil(t, r.UI)
		require.Empty(t, f.sender.requests(skillsURL), "the skill is not called")
	})

	t.Run("a_handed_off_conversation_calls_no_skill", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.handoffMerchant(t, 0)
		f.skills(t, u)
		in := messaging.ChatInput{ConversationRef: "c", Messages: userMsg("live agent")}
		_, err := f.svc.Chat(f.ctx, u.key, in)
		require.NoError(t, err)
		in.Messages = userMsg("I want to book a table")
		r, err := f.svc.Chat(f.ctx, u.key, in)
		require.NoError(t, err)
		require.Empty(t, r.Content)
		require.True(t, r.Handoff)
		require.Empty(t, f.sender.requests(skillsURL))
	})
}

// skills configures booking skills on skillsURL, which the fake sender
// answers with a slot list.
func (f *fixture) skills(t *testing.T, u user) {
	t.Helper()
	_, err := f.svc.PutSkills(f.ctx, u.key, messaging.SkillsInput{
		Enabled: true, WebhookURL: skillsURL,
		Skills: []core.Skill{{Key: "booking", Label: "Booking", Keywords: []string{"book", "booking", "appointment"}}},
	})
	require.NoError(t, err)
	f.sender.otherwise = func(r ports.WebhookRequest) webhookAnswer {
		if r.URL == skillsURL {
			return webhookAnswer{status: 200, body: `{"version":1,"message":"Available times tomorrow:","ui":{"type":"slot_list","items":[{"id":"10:00","title":"10:00","subtitle":"30 min"}]}}`}
		}
		return webhookAnswer{status: 200, body: `{"ok":true}`}
	}
}

func TestChatSkills(t *testing.T) {
	t.Parallel()
	const ui = `{"type":"slot_list","items":[{"id":"10:00","title":"10:00","subtitle":"30 min"}]}`

	t.Run("a_skill_answers_for_0_credits", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		f.skills(t, u)
		r, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: "c1", Messages: userMsg("I want to book a table")})
		require.NoError(t, err)
		require.Equal(t, "Available times tomorrow:", r.Content)
		require.Zero(t, r.CreditsCharged)
		require.False(t, r.Handoff)
		require.JSONEq(t, ui, string(r.UI))
		require.Zero(t, f.engine.calls.Load())
		ms := f.messages(t, u, r.ConversationID)
		require.Len(t, ms, 2)
		require.Equal(t, "Available times tomorrow:", ms[1].Content)
		reqs := f.sender.requests(skillsURL)
		require.Len(t, reqs, 1)
		require.Equal(t, "booking", reqs[0].Header["X-GellHub-Skill"])

		embedID := f.enable(t, u, "shop.example.com").Settings.PublicID
		er, err := f.svc.EmbedChat(f.ctx, messaging.EmbedChatInput{EmbedID: embedID, OriginHost: "shop.example.com", VisitorID: "v1", Message: "Any appointment tomorrow?"})
		require.NoError(t, err)
		require.Equal(t, "Available times tomorrow:", er.Content)
		require.JSONEq(t, ui, string(er.UI))
		require.False(t, er.Handoff)
		require.Zero(t, f.credits(t, u))
	})

	t.Run("a_failing_skill_falls_back_to_the_charged_ai_turn", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		f.skills(t, u)
		f.sender.answer(webhookAnswer{status: 500, body: "oops"})
		_, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Messages: userMsg("I want to book a table")})
		wantKind(t, err, core.KindPaymentRequired, "insufficient_credits")

		f.grant(t, u, 3)
		f.sender.answer(webhookAnswer{err: core.Unavailable("webhook", fmt.Errorf("connection refused"))})
		r, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Messages: userMsg("I want to book a table")})
		require.NoError(t, err)
		require.Equal(t, "Store assistant: sorry, I don't know that yet.", r.Content)
		require.EqualValues(t, 1, r.CreditsCharged)
		require.Nil(t, r.UI)
		require.EqualValues(t, 2, f.credits(t, u))
		require.EqualValues(t, 1, f.engine.calls.Load())
		require.Len(t, f.sender.requests(skillsURL), 2)
	})

	t.Run("no_keyword_is_an_ai_turn", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 1)
		f.skills(t, u)
		r, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Messages: userMsg("Do you ship abroad?")})
		require.NoError(t, err)
		require.EqualValues(t, 1, r.CreditsCharged)
		require.Empty(t, f.sender.requests(""))
	})
}

func TestHandoffConfig(t *testing.T) {
	t.Parallel()

	t.Run("defaults_save_keep_and_remove", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		v, err := f.svc.Handoff(f.ctx, u.key)
		require.NoError(t, err)
		require.Equal(t, messaging.HandoffView{}, v)

		f.clock.Advance(time.Hour)
		v, err = f.svc.PutHandoff(f.ctx, u.session, messaging.HandoffInput{WebhookURL: "  " + inboxURL + " ", Secret: ptr(inboxSecret)})
		require.NoError(t, err)
		want := messaging.HandoffView{WebhookURL: inboxURL, SecretSet: true, UpdatedAt: start.Add(time.Hour)}
		require.Equal(t, want, v)
		got, err := f.svc.Handoff(f.ctx, u.key)
		require.NoError(t, err)
		require.Equal(t, want, got)
		stored, err := f.store.HandoffConfig(f.ctx, u.profileID)
		require.NoError(t, err)
		require.Equal(t, inboxSecret, stored.Secret)

		v, err = f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{WebhookURL: "https://other.example.com/hook"})
		require.NoError(t, err)
		require.True(t, v.SecretSet, "a nil secret keeps the stored one")
		stored, _ = f.store.HandoffConfig(f.ctx, u.profileID)
		require.Equal(t, inboxSecret, stored.Secret)

		v, err = f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{WebhookURL: "https://other.example.com/hook", Secret: ptr("")})
		require.NoError(t, err)
		require.False(t, v.SecretSet, "an empty secret removes it")

		v, err = f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{})
		require.NoError(t, err)
		require.Empty(t, v.WebhookURL, "an empty URL disables the webhook")
	})

	t.Run("refused_fields_change_nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.handoffMerchant(t, 0)
		for _, c := range []struct {
			name, field string
			in          messaging.HandoffInput
		}{
			{"http_url", "handoffWebhookUrl", messaging.HandoffInput{WebhookURL: "http://inbox.example.com/hook"}},
			{"loopback", "handoffWebhookUrl", messaging.HandoffInput{WebhookURL: "https://127.0.0.1/hook"}},
			{"private", "handoffWebhookUrl", messaging.HandoffInput{WebhookURL: "https://10.0.0.1/hook"}},
			{"metadata", "handoffWebhookUrl", messaging.HandoffInput{WebhookURL: "https://169.254.169.254/latest"}},
			{"localhost", "handoffWebhookUrl", messaging.HandoffInput{WebhookURL: "https://localhost/hook"}},
			{"not_a_url", "handoffWebhookUrl", messaging.HandoffInput{WebhookURL: "inbox.example.com"}},
			{"ftp", "handoffWebhookUrl", messaging.HandoffInput{WebhookURL: "ftp://inbox.example.com/"}},
			{"userinfo", "handoffWebhookUrl", messaging.HandoffInput{WebhookURL: "https://a:b@inbox.example.com/"}},
			{"space", "handoffWebhookUrl", messaging.HandoffInput{WebhookURL: "https://inbox.example.com/a b"}},
			{"too_long", "handoffWebhookUrl", messaging.HandoffInput{WebhookURL: "https://inbox.example.com/" + strings.Repeat("a", core.MaxURLLen)}},
			{"secret_short", "handoffWebhookSecret", messaging.HandoffInput{WebhookURL: inboxURL, Secret: ptr(strings.Repeat("s", 15))}},
			{"secret_long", "handoffWebhookSecret", messaging.HandoffInput{WebhookURL: inboxURL, Secret: ptr(strings.Repeat("s", 257))}},
			{"secret_space", "handoffWebhookSecret", messaging.HandoffInput{WebhookURL: inboxURL, Secret: ptr("secret with spaces in it")}},
			{"secret_non_ascii", "handoffWebhookSecret", messaging.HandoffInput{WebhookURL: inboxURL, Secret: ptr("sécret-sécret-sécret")}},
			{"secret_control", "handoffWebhookSecret", messaging.HandoffInput{WebhookURL: inboxURL, Secret: ptr("secret\x01secret-secret")}},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.PutHandoff(f.ctx, u.key, c.in)
				wantKind(t, err, core.KindInvalid, "")
				e, _ := core.AsError(err)
				require.Equal(t, c.field, e.Detail)
				if c.in.Secret != nil {
					require.NotContains(t, err.Error(), *c.in.Secret, "the error never repeats the secret")
				}
				stored, err := f.store.HandoffConfig(f.ctx, u.profileID)
				require.NoError(t, err)
				require.Equal(t, inboxURL, stored.WebhookURL)
				require.Equal(t, inboxSecret, stored.Secret)
			})
		}
		for _, secret := range []string{strings.Repeat("s", 16), strings.Repeat("~", 256)} {
			_, err := f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{WebhookURL: inboxURL, Secret: &secret})
			require.NoError(t, err, "16 and 256 bytes are fine")
		}
	})

	t.Run("private_targets_when_allowed", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.cfg.AllowPrivateWebhooks = true
		f.rebuild()
		u, _ := f.merchant(t, 0)
		v, err := f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{WebhookURL: "http://127.0.0.1:8080/handoff"})
		require.NoError(t, err)
		require.Equal(t, "http://127.0.0.1:8080/handoff", v.WebhookURL)
	})

	t.Run("callers", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		_, err := f.svc.Handoff(f.ctx, u.drive)
		wantKind(t, err, core.KindForbidden, "")
		_, err = f.svc.PutHandoff(f.ctx, u.drive, messaging.HandoffInput{WebhookURL: inboxURL})
		wantKind(t, err, core.KindForbidden, "")
		f.subscribe(t, u, "plan_messaging_growth_monthly", core.StatusCanceled)
		_, err = f.svc.Handoff(f.ctx, u.key)
		wantKind(t, err, core.KindPaymentRequired, "subscription_required")
		_, err = f.svc.PutHandoff(f.ctx, u.key, messaging.HandoffInput{WebhookURL: inboxURL})
		wantKind(t, err, core.KindPaymentRequired, "subscription_required")
	})
}

func TestConversationAndHandBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u, _ := f.handoffMerchant(t, 0)
	r, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: "c", Messages: userMsg("talk to a human")})
	require.NoError(t, err)
	other, _ := f.handoffMerchant(t, 0)

	for _, id := range []string{"", "conv 1", "conv/../x", strings.Repeat("a", core.MaxIDLen+1), "a\x00b"} {
		_, err := f.svc.Conversation(f.ctx, u.key, id)
		wantKind(t, err, core.KindInvalid, "")
		_, err = f.svc.HandBack(f.ctx, u.key, id)
		wantKind(t, err, core.KindInvalid, "")
	}
	_, err = f.svc.Conversation(f.ctx, u.key, "conv_unknown")
	wantKind(t, err, core.KindNotFound, "")
	_, err = f.svc.HandBack(f.ctx, u.key, "conv_unknown")
	wantKind(t, err, core.KindNotFound, "")
	_, err = f.svc.Conversation(f.ctx, other.key, r.ConversationID)
	wantKind(t, err, core.KindNotFound, "")
	_, err = f.svc.HandBack(f.ctx, other.key, r.ConversationID)
	wantKind(t, err, core.KindNotFound, "")
	require.False(t, f.conversation(t, u, r.ConversationID).HandedOffAt.IsZero(), "another profile cannot hand it back")
	_, err = f.svc.HandBack(f.ctx, u.drive, r.ConversationID)
	wantKind(t, err, core.KindForbidden, "")

	c, err := f.svc.Conversation(f.ctx, u.session, r.ConversationID)
	require.NoError(t, err)
	require.Equal(t, "c", c.Ref)
	require.Equal(t, start, c.HandedOffAt)
	f.clock.Advance(time.Hour)
	c, err = f.svc.HandBack(f.ctx, u.key, r.ConversationID)
	require.NoError(t, err)
	require.True(t, c.HandedOffAt.IsZero())
	require.Equal(t, start.Add(time.Hour), c.UpdatedAt)
}
