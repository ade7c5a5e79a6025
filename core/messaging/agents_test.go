package messaging_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
)

func TestAgentAccess(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.register(t)
	in := messaging.AgentInput{Name: "Bot"}

	_, err := f.svc.CreateAgent(f.ctx, u.key, in)
	wantKind(t, err, core.KindPaymentRequired, "subscription_required")
	_, err = f.svc.Agents(f.ctx, u.key)
	wantKind(t, err, core.KindPaymentRequired, "subscription_required")

	f.subscribe(t, u, "plan_messaging_free", core.StatusActive)
	_, err = f.svc.CreateAgent(f.ctx, u.drive, in)
	wantKind(t, err, core.KindForbidden, "")
	_, err = f.svc.CreateAgent(f.ctx, u.session, in)
	require.NoError(t, err, "the dashboard's session may manage agents")

	other, theirs := f.merchant(t, 0)
	_, err = f.svc.Agent(f.ctx, u.key, theirs.ID)
	wantKind(t, err, core.KindNotFound, "")
	_, err = f.svc.UpdateAgent(f.ctx, u.key, theirs.ID, messaging.AgentPatch{Name: ptr("Mine")})
	wantKind(t, err, core.KindNotFound, "")
	wantKind(t, f.svc.DeleteAgent(f.ctx, u.key, theirs.ID), core.KindNotFound, "")
	_, err = f.svc.Agent(f.ctx, u.key, "bad id\x00")
	wantKind(t, err, core.KindNotFound, "")
	got, err := f.svc.Agent(f.ctx, other.key, theirs.ID)
	require.NoError(t, err)
	require.Equal(t, "Sales bot", got.Name)
}

func TestCreateAgent(t *testing.T) {
	t.Parallel()

	t.Run("the_first_is_default_and_fields_are_kept", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		f.subscribe(t, u, "plan_messaging_free", core.StatusActive)
		a, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{
			Name: "  Sales bot ", BotDisplayName: "Store assistant", BotRoleSummary: "Help with products and prices",
			SystemInstructions: "Be friendly and concise.", HumanHandoffEnabled: true,
		})
		require.NoError(t, err)
		require.True(t, a.IsDefault)
		require.Equal(t, "Sales bot", a.Name)
		require.True(t, strings.HasPrefix(a.ID, "agt_"))
		b, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "Support"})
		require.NoError(t, err)
		require.False(t, b.IsDefault)
		got, err := f.svc.Agent(f.ctx, u.key, a.ID)
		require.NoError(t, err)
		require.Equal(t, a, got)
	})

	t.Run("is_default_moves_the_default", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, first := f.merchant(t, 0)
		f.clock.Advance(time.Second)
		b, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "New default", IsDefault: true})
		require.NoError(t, err)
		require.True(t, b.IsDefault)
		all, err := f.svc.Agents(f.ctx, u.key)
		require.NoError(t, err)
		require.Equal(t, 1, defaults(all))
		require.Equal(t, first.ID, all[0].ID)
		require.False(t, all[0].IsDefault)
	})

	t.Run("the_26th_is_409", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		for i := 2; i <= core.MaxAgents; i++ {
			_, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "Bot " + strconv.Itoa(i)})
			require.NoError(t, err)
		}
		_, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "One too many"})
		wantKind(t, err, core.KindConflict, "agent_limit")
	})

	t.Run("40_concurrent_creates_stop_at_25_with_one_default", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		f.subscribe(t, u, "plan_messaging_free", core.StatusActive)
		errs := parallel(40, func(i int) error {
			_, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "Bot " + strconv.Itoa(i), IsDefault: i%3 == 0})
			return err
		})
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				wantKind(t, err, core.KindConflict, "agent_limit")
			}
		}
		all, err := f.svc.Agents(f.ctx, u.key)
		require.NoError(t, err)
		require.Equal(t, core.MaxAgents, ok)
		require.Len(t, all, core.MaxAgents)
		require.Equal(t, 1, defaults(all))
	})

	t.Run("validation", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		for _, c := range []struct {
			name  string
			in    messaging.AgentInput
			field string
		}{
			{"name_required", messaging.AgentInput{Name: "  "}, "name"},
			{"name_too_long", messaging.AgentInput{Name: strings.Repeat("n", 121)}, "name"},
			{"name_control_chars", messaging.AgentInput{Name: "a\x00b"}, "name"},
			{"display_name_too_long", messaging.AgentInput{Name: "ok", BotDisplayName: strings.Repeat("n", 121)}, "botDisplayName"},
			{"role_summary_too_long", messaging.AgentInput{Name: "ok", BotRoleSummary: strings.Repeat("r", 501)}, "botRoleSummary"},
			{"instructions_too_long", messaging.AgentInput{Name: "ok", SystemInstructions: strings.Repeat("é", core.MaxInstructionsBytes/2+1)}, "systemInstructions"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.CreateAgent(f.ctx, u.key, c.in)
				wantKind(t, err, core.KindInvalid, "")
				e, _ := core.AsError(err)
				require.Equal(t, c.field, e.Detail)
			})
		}
		_, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{
			Name: strings.Repeat("n", 120), BotRoleSummary: strings.Repeat("r", 500), SystemInstructions: strings.Repeat("i", core.MaxInstructionsBytes),
		})
		require.NoError(t, err, "values at the caps are fine")
	})
}

func TestUpdateAgent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u, a := f.merchant(t, 0)
	f.clock.Advance(time.Second)
	b, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "B", SystemInstructions: "old"})
	require.NoError(t, err)

	f.clock.Advance(time.Minute)
	got, err := f.svc.UpdateAgent(f.ctx, u.key, b.ID, messaging.AgentPatch{
		BotDisplayName: ptr("Updated name"), SystemInstructions: ptr("New instructions…"), IsDefault: ptr(true),
	})
	require.NoError(t, err)
	require.Equal(t, "B", got.Name, "absent fields are kept")
	require.Equal(t, "Updated name", got.BotDisplayName)
	require.Equal(t, "New instructions…", got.SystemInstructions)
	require.True(t, got.IsDefault)
	require.True(t, got.UpdatedAt.After(got.CreatedAt))
	all, err := f.svc.Agents(f.ctx, u.key)
	require.NoError(t, err)
	require.Equal(t, 1, defaults(all))
	require.Equal(t, a.ID, all[0].ID)
	require.False(t, all[0].IsDefault)

	_, err = f.svc.UpdateAgent(f.ctx, u.key, b.ID, messaging.AgentPatch{IsDefault: ptr(false)})
	wantKind(t, err, core.KindConflict, "default_agent_required")
	_, err = f.svc.UpdateAgent(f.ctx, u.key, a.ID, messaging.AgentPatch{IsDefault: ptr(false)})
	require.NoError(t, err, "false on an agent that is not the default changes nothing")
	_, err = f.svc.UpdateAgent(f.ctx, u.key, a.ID, messaging.AgentPatch{Name: ptr("")})
	wantKind(t, err, core.KindInvalid, "")
	all, err = f.svc.Agents(f.ctx, u.key)
	require.NoError(t, err)
	require.Equal(t, 1, defaults(all))
	require.True(t, all[1].IsDefault)
}

func TestDeleteAgent(t *testing.T) {
	t.Parallel()

	t.Run("the_last_agent_is_409", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.merchant(t, 0)
		wantKind(t, f.svc.DeleteAgent(f.ctx, u.key, a.ID), core.KindConflict, "last_agent")
		_, err := f.svc.Agent(f.ctx, u.key, a.ID)
		require.NoError(t, err)
	})

	t.Run("deleting_the_default_promotes_the_oldest_remaining", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.merchant(t, 0)
		var ids []string
		for i := range 3 {
			f.clock.Advance(time.Second)
			b, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "B" + strconv.Itoa(i)})
			require.NoError(t, err)
			ids = append(ids, b.ID)
		}
		_, err := f.svc.AddSource(f.ctx, u.key, a.ID, messaging.SourceInput{Kind: "text", Content: "hours"})
		require.NoError(t, err)
		require.NoError(t, f.svc.DeleteAgent(f.ctx, u.key, a.ID))
		all, err := f.svc.Agents(f.ctx, u.key)
		require.NoError(t, err)
		require.Len(t, all, 3)
		require.Equal(t, ids[0], all[0].ID)
		require.True(t, all[0].IsDefault)
		require.Equal(t, 1, defaults(all))
		_, err = f.svc.Sources(f.ctx, u.key, a.ID)
		wantKind(t, err, core.KindNotFound, "")

		require.NoError(t, f.svc.DeleteAgent(f.ctx, u.key, ids[2]), "deleting another keeps the default")
		all, err = f.svc.Agents(f.ctx, u.key)
		require.NoError(t, err)
		require.Equal(t, 1, defaults(all))
		require.True(t, all[0].IsDefault)
	})

	t.Run("concurrent_deletes_leave_one_agent_and_one_default", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.merchant(t, 0)
		ids := []string{a.ID}
		for i := range 9 {
			b, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "B" + strconv.Itoa(i)})
			require.NoError(t, err)
			ids = append(ids, b.ID)
		}
		errs := parallel(len(ids), func(i int) error { return f.svc.DeleteAgent(f.ctx, u.key, ids[i]) })
		failed := 0
		for _, err := range errs {
			if err != nil {
				wantKind(t, err, core.KindConflict, "last_agent")
				failed++
			}
		}
		require.Equal(t, 1, failed)
		all, err := f.svc.Agents(f.ctx, u.key)
		require.NoError(t, err)
		require.Len(t, all, 1)
		require.True(t, all[0].IsDefault)
	})
}

func TestSources(t *testing.T) {
	t.Parallel()

	t.Run("add_list_delete_and_sources_count", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.merchant(t, 0)
		txt, err := f.svc.AddSource(f.ctx, u.key, a.ID, messaging.SourceInput{Kind: "text", Title: "Shipping", Content: "We ship worldwide in 3 days."})
		require.NoError(t, err)
		require.Equal(t, core.KnowledgeText, txt.Kind)
		f.clock.Advance(time.Second)
		qa, err := f.svc.AddSource(f.ctx, u.key, a.ID, messaging.SourceInput{Kind: "qa", Question: "When are you open?", Answer: "9 to 5, Monday to Friday."})
		require.NoError(t, err)
		require.Equal(t, "When are you open?", qa.Question)
		require.Equal(t, "9 to 5, Monday to Friday.", qa.Content)

		list, err := f.svc.Sources(f.ctx, u.key, a.ID)
		require.NoError(t, err)
		require.Equal(t, []core.KnowledgeSource{txt, qa}, list)
		got, err := f.svc.Agent(f.ctx, u.key, a.ID)
		require.NoError(t, err)
		require.Equal(t, 2, got.SourcesCount)

		require.NoError(t, f.svc.DeleteSource(f.ctx, u.key, a.ID, txt.ID))
		wantKind(t, f.svc.DeleteSource(f.ctx, u.key, a.ID, txt.ID), core.KindNotFound, "")
		got, err = f.svc.Agent(f.ctx, u.key, a.ID)
		require.NoError(t, err)
		require.Equal(t, 1, got.SourcesCount)
	})

	t.Run("validation_and_size", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.merchant(t, 0)
		big := strings.Repeat("x", core.MaxSourceBytes+1)
		for _, c := range []struct {
			name string
			in   messaging.SourceInput
			kind core.Kind
		}{
			{"unknown_type", messaging.SourceInput{Kind: "pdf", Content: "x"}, core.KindInvalid},
			{"text_without_content", messaging.SourceInput{Kind: "text", Title: "T"}, core.KindInvalid},
			{"qa_without_question", messaging.SourceInput{Kind: "qa", Answer: "A"}, core.KindInvalid},
			{"qa_without_answer", messaging.SourceInput{Kind: "qa", Question: "Q"}, core.KindInvalid},
			{"content_too_large", messaging.SourceInput{Kind: "text", Content: big}, core.KindTooLarge},
			{"qa_together_too_large", messaging.SourceInput{Kind: "qa", Question: big[:core.MaxSourceBytes/2+1], Answer: big[:core.MaxSourceBytes/2]}, core.KindTooLarge},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.AddSource(f.ctx, u.key, a.ID, c.in)
				wantKind(t, err, c.kind, "")
			})
		}
		_, err := f.svc.AddSource(f.ctx, u.key, "agt_unknown", messaging.SourceInput{Kind: "text", Content: "x"})
		wantKind(t, err, core.KindNotFound, "")
		_, err = f.svc.AddSource(f.ctx, u.key, a.ID, messaging.SourceInput{Kind: "text", Content: big[:core.MaxSourceBytes]})
		require.NoError(t, err, "a source at the cap is fine")
	})

	t.Run("an_agent_holds_at_most_200", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.merchant(t, 0)
		for i := range core.MaxSourcesPerAgent {
			_, err := f.svc.AddSource(f.ctx, u.key, a.ID, messaging.SourceInput{Kind: "text", Content: "fact " + strconv.Itoa(i)})
			require.NoError(t, err)
		}
		_, err := f.svc.AddSource(f.ctx, u.key, a.ID, messaging.SourceInput{Kind: "text", Content: "one too many"})
		wantKind(t, err, core.KindQuotaExceeded, "source_limit")
	})
}
