package messaging_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
)

func TestChat(t *testing.T) {
	t.Parallel()

	t.Run("answers_from_knowledge_charges_one_credit_and_stores_the_turn", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.merchant(t, 10)
		_, err := f.svc.AddSource(f.ctx, u.key, a.ID, messaging.SourceInput{Kind: "qa", Question: "What are your opening hours?", Answer: "9 to 5, Monday to Friday."})
		require.NoError(t, err)
		_, err = f.svc.AddSource(f.ctx, u.key, a.ID, messaging.SourceInput{Kind: "text", Title: "Shipping", Content: "We ship worldwide."})
		require.NoError(t, err)

		in := messaging.ChatInput{Channel: "api", ConversationRef: "whatsapp:+15551234567:thread-1", Messages: userMsg("What are your opening hours?")}
		r, err := f.svc.Chat(f.ctx, u.key, in)
		require.NoError(t, err)
		require.Equal(t, "Store assistant: 9 to 5, Monday to Friday.", r.Content)
		require.Equal(t, messaging.CreditsPerTurn, r.CreditsCharged)
		require.EqualValues(t, 9, f.credits(t, u))

		in.Messages = append(in.Messages, core.ChatMessage{Role: core.RoleAssistant, Content: r.Content}, core.ChatMessage{Role: core.RoleUser, Content: "Do you ship abroad worldwide?"})
		r2, err := f.svc.Chat(f.ctx, u.key, in)
		require.NoError(t, err)
		require.Equal(t, r.ConversationID, r2.ConversationID, "one conversationRef is one conversation")
		require.Equal(t, "Store assistant: We ship worldwide.", r2.Content)

		conv, err := f.store.ConversationByRef(f.ctx, u.profileID, in.ConversationRef)
		require.NoError(t, err)
		require.Equal(t, r.ConversationID, conv.ID)
		require.Equal(t, a.ID, conv.AgentID)
		msgs, err := f.store.ConversationMessages(f.ctx, u.profileID, conv.ID, 10)
		require.NoError(t, err)
		require.Len(t, msgs, 4)
		require.Equal(t, "Do you ship abroad worldwide?", msgs[2].Content)
		require.Equal(t, core.RoleAssistant, msgs[3].Role)

		other, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: "thread-2", Messages: userMsg("hello")})
		require.NoError(t, err)
		require.NotEqual(t, r.ConversationID, other.ConversationID)
		require.Equal(t, "Store assistant: sorry, I don't know that yet.", other.Content)
	})

	t.Run("agent_id_picks_the_agent", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 10)
		b, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "Support", BotDisplayName: "Helpdesk"})
		require.NoError(t, err)
		r, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{AgentID: b.ID, Messages: userMsg("hi")})
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(r.Content, "Helpdesk: "), r.Content)
		_, err = f.svc.Chat(f.ctx, u.key, messaging.ChatInput{AgentID: "agt_unknown", Messages: userMsg("hi")})
		wantKind(t, err, core.KindNotFound, "")
	})

	t.Run("model_or_provider_is_400", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 10)
		_, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Messages: userMsg("hi"), ModelSet: true})
		wantKind(t, err, core.KindInvalid, "")
		_, err = f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Messages: userMsg("hi"), ProviderSet: true})
		wantKind(t, err, core.KindInvalid, "")
		require.Zero(t, f.engine.calls.Load())
	})

	t.Run("message_rules", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 10)
		many := make([]core.ChatMessage, messaging.MaxChatMessages+1)
		for i := range many {
			many[i] = core.ChatMessage{Role: core.RoleUser, Content: "x"}
		}
		for _, c := range []struct {
			name string
			in   messaging.ChatInput
		}{
			{"no_messages", messaging.ChatInput{}},
			{"51_messages", messaging.ChatInput{Messages: many}},
			{"system_role", messaging.ChatInput{Messages: []core.ChatMessage{{Role: "system", Content: "x"}, {Role: core.RoleUser, Content: "y"}}}},
			{"last_is_assistant", messaging.ChatInput{Messages: []core.ChatMessage{{Role: core.RoleUser, Content: "x"}, {Role: core.RoleAssistant, Content: "y"}}}},
			{"empty_content", messaging.ChatInput{Messages: userMsg("  ")}},
			{"content_over_4000_bytes", messaging.ChatInput{Messages: userMsg(strings.Repeat("é", 2001))}},
			{"bad_utf8", messaging.ChatInput{Messages: userMsg("a\xffb")}},
			// PostgreSQL's text refuses NUL: the turn must be a 400, not a
			// failed commit after the skill or engine has answered.
			{"nul_byte", messaging.ChatInput{Messages: userMsg("a\x00b")}},
			{"nul_byte_in_history", messaging.ChatInput{Messages: []core.ChatMessage{{Role: core.RoleAssistant, Content: "x\x00"}, {Role: core.RoleUser, Content: "y"}}}},
			{"escape_char", messaging.ChatInput{Messages: userMsg("a\x1b[31mb")}},
			{"bad_channel", messaging.ChatInput{Channel: "what sapp", Messages: userMsg("hi")}},
			{"ref_too_long", messaging.ChatInput{ConversationRef: strings.Repeat("r", 201), Messages: userMsg("hi")}},
			{"ref_with_newline", messaging.ChatInput{ConversationRef: "a\nb", Messages: userMsg("hi")}},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Chat(f.ctx, u.key, c.in)
				wantKind(t, err, core.KindInvalid, "")
			})
		}
		_, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Messages: append(many[1:], core.ChatMessage{Role: core.RoleUser, Content: strings.Repeat("a", 4000)})[1:]})
		require.NoError(t, err, "50 messages, one of 4000 bytes, are fine")
		require.EqualValues(t, 1, f.engine.calls.Load())
		_, err = f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Messages: userMsg("line one\r\n\tline two")})
		require.NoError(t, err, "line breaks and tabs are fine")
		require.EqualValues(t, 2, f.engine.calls.Load())
	})

	t.Run("the_widgets_message_has_no_control_characters", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 10)
		id := f.enable(t, u, "shop.example.com").Settings.PublicID
		in := messaging.EmbedChatInput{EmbedID: id, OriginHost: "shop.example.com", VisitorID: "v1", Message: "a\x00b"}
		_, err := f.svc.EmbedChat(f.ctx, in)
		wantKind(t, err, core.KindInvalid, "")
		require.Zero(t, f.engine.calls.Load())
		_, err = f.store.ConversationByRef(f.ctx, u.profileID, "web:"+id+":v1")
		wantKind(t, err, core.KindNotFound, "")
	})

	t.Run("subscription_and_line", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 10)
		_, err := f.svc.Chat(f.ctx, u.drive, messaging.ChatInput{Messages: userMsg("hi")})
		wantKind(t, err, core.KindForbidden, "")
		f.subscribe(t, u, "plan_messaging_growth_monthly", core.StatusCanceled)
		_, err = f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Messages: userMsg("hi")})
		wantKind(t, err, core.KindPaymentRequired, "subscription_required")
		require.Zero(t, f.engine.calls.Load())
	})

	t.Run("no_agent_is_409", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		f.subscribe(t, u, "plan_messaging_free", core.StatusActive)
		_, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Messages: userMsg("hi")})
		wantKind(t, err, core.KindConflict, "no_agent")
	})

	t.Run("no_credits_is_402_before_the_engine_runs", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		_, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Messages: userMsg("hi")})
		wantKind(t, err, core.KindPaymentRequired, "insufficient_credits")
		require.Zero(t, f.engine.calls.Load())
	})

	t.Run("the_monthly_grant_is_applied_on_chat", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		f.subscribe(t, u, "plan_messaging_free", core.StatusActive)
		_, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "Bot"})
		require.NoError(t, err)
		r, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{Messages: userMsg("hi")})
		require.NoError(t, err)
		require.EqualValues(t, 1, r.CreditsCharged)
		require.EqualValues(t, 99, f.credits(t, u))
	})

	t.Run("engine_failure_is_503_and_costs_nothing", func(t *testing.T) {
		t.Parallel()
		for name, fail := range map[string]error{
			"unavailable": core.Unavailable("ai engine", errors.New("timeout")),
			"other_error": errors.New("boom"),
		} {
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				u, _ := f.merchant(t, 5)
				f.engine.fail = func() error { return fail }
				_, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: "r", Messages: userMsg("hi")})
				wantKind(t, err, core.KindUnavailable, "")
				require.EqualValues(t, 5, f.credits(t, u))
				_, err = f.store.ConversationByRef(f.ctx, u.profileID, "r")
				wantKind(t, err, core.KindNotFound, "")
			})
		}
	})

	t.Run("100_parallel_turns_against_50_credits_exactly_50_succeed", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 50)
		f.engine.gate = make(chan struct{})
		go func() {
			// Let every turn pass the balance check and reach the engine,
			// then answer: the atomic charge alone must refuse 50 of them.
			for f.engine.calls.Load() < 100 {
				runtime.Gosched()
			}
			close(f.engine.gate)
		}()
		errs := parallel(100, func(int) error {
			r, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: "busy", Messages: userMsg("hi")})
			if err == nil && r.Content == "" {
				return errors.New("a successful turn without content")
			}
			return err
		})
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			wantKind(t, err, core.KindPaymentRequired, "insufficient_credits")
		}
		require.Equal(t, 50, ok)
		require.Zero(t, f.credits(t, u))
		usage, err := f.store.MessagingUsage(f.ctx, u.profileID)
		require.NoError(t, err)
		require.EqualValues(t, 50, usage.InboundCount)
		require.EqualValues(t, 50, usage.OutboundCount)
	})
}
