package testkit

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// MessagingStoreUnderTest is what RunMessagingStoreSuite exercises: the
// messaging store, with the account and plan stores its fixtures need
// (messaging data belongs to a profile). testkit.Store and the SQL stores
// implement it.
type MessagingStoreUnderTest interface {
	ports.AccountStore
	ports.PlanStore
	ports.MessagingStore
}

// RunMessagingStoreSuite is the contract of ports.MessagingStore: every
// adapter of that port must pass it. open is called once per sub-test and
// must return an empty store, independent of every other one it returns,
// released in t.Cleanup. Sub-tests run in parallel.
//
// The suite follows the port's doc comments, with races: 100 parallel
// charges of 1 against 50 credits (exactly 50 succeed), 20 parallel grants
// of one key (one writes), 40 parallel check-then-create agent Updates
// (never more than core.MaxAgents, always exactly one default), 20
// parallel RecordTurns of one new conversation (one conversation, every
// message), two profiles saving one embed id at once (one wins), and
// concurrent RecordSkillCalls (none lost). Beyond the port it checks that
// time fields round-trip to the microsecond (the suite passes UTC times
// truncated to the microsecond, as the core does).
func RunMessagingStoreSuite(t *testing.T, open func(t *testing.T) MessagingStoreUnderTest) {
	t.Helper()
	cases := slices.Concat(msgUpdateCases, msgAgentCases, msgLedgerCases, msgTurnCases, msgEmbedCases, msgSkillsHandoffCases)
	runSuite(t, cases, func(t *testing.T) *msgFixture {
		s := open(t)
		return &msgFixture{storeFixture: newStoreFixture(t, s), m: s}
	})
}

// msgCase is one sub-test of RunMessagingStoreSuite: method/name.
type msgCase = suiteCase[*msgFixture]

// msgSuiteTime is when the suite's messaging data happens.
var msgSuiteTime = storeSuiteTime.UTC().Truncate(time.Microsecond)

// msgFixture builds agents, sources and ledger entries on top of
// storeFixture's accounts.
type msgFixture struct {
	*storeFixture
	m MessagingStoreUnderTest
}

func (f *msgFixture) at(d time.Duration) time.Time { return msgSuiteTime.Add(d) }

// profile creates an account and returns its profile id.
func (f *msgFixture) profile() string {
	f.t.Helper()
	return f.createAccount().Profile.ID
}

// agent returns an agent created d after the suite's time; not stored.
func (f *msgFixture) agent(profileID, name string, d time.Duration) core.Agent {
	return core.Agent{
		ID: f.id("agt"), ProfileID: profileID, Name: name, BotDisplayName: name + " bot",
		BotRoleSummary: "Answers questions", SystemInstructions: "Be kind.\nBe brief.",
		HumanHandoffEnabled: true, CreatedAt: f.at(d), UpdatedAt: f.at(d + time.Second),
		HandoffURLs: []core.HandoffLink{
			{Label: "WhatsApp", URL: "https://wa.me/15551234567?text=Hi%20" + name},
			{Label: "Email us ✉", URL: "mailto:help@example.com"},
		},
	}
}

// addAgent stores a new agent, the default when def.
func (f *msgFixture) addAgent(profileID, name string, d time.Duration, def bool) core.Agent {
	f.t.Helper()
	a := f.agent(profileID, name, d)
	err := f.m.UpdateMessaging(f.ctx, profileID, func(tx ports.MessagingTx) error {
		if err := tx.CreateAgent(f.ctx, a); err != nil {
			return err
		}
		if def {
			return tx.SetDefaultAgent(f.ctx, a.ID)
		}
		return nil
	})
	storeWantNoErr(f.t, "create agent", err)
	a.IsDefault = def
	return a
}

// source returns a text source of agentID; not stored.
func (f *msgFixture) source(agentID, content string, d time.Duration) core.KnowledgeSource {
	return core.KnowledgeSource{ID: f.id("src"), AgentID: agentID, Kind: core.KnowledgeText, Title: "T", Content: content, CreatedAt: f.at(d)}
}

// update runs fn in profileID's transaction and fails the test on error.
func (f *msgFixture) update(profileID string, fn func(tx ports.MessagingTx) error) {
	f.t.Helper()
	storeWantNoErr(f.t, "UpdateMessaging", f.m.UpdateMessaging(f.ctx, profileID, fn))
}

// wantAgents checks the profile's agents, in order.
func (f *msgFixture) wantAgents(profileID string, want ...core.Agent) {
	f.t.Helper()
	got, err := f.m.Agents(f.ctx, profileID)
	storeWantNoErr(f.t, "Agents", err)
	storeWantEqual(f.t, "Agents", got, want, normAgents)
}

func normAgents(as []core.Agent) []core.Agent {
	if len(as) == 0 {
		return nil
	}
	out := make([]core.Agent, len(as))
	for i, a := range as {
		out[i] = normAgent(a)
	}
	return out
}

func normAgent(a core.Agent) core.Agent {
	a.CreatedAt, a.UpdatedAt = storeNormTime(a.CreatedAt), storeNormTime(a.UpdatedAt)
	return a
}

func normSources(ss []core.KnowledgeSource) []core.KnowledgeSource {
	if len(ss) == 0 {
		return nil
	}
	out := slices.Clone(ss)
	for i := range out {
		out[i].CreatedAt = storeNormTime(out[i].CreatedAt)
	}
	return out
}

var msgUpdateCases = []msgCase{
	{"UpdateMessaging", "unknown_profile_is_not_found_and_fn_does_not_run", testMsgUpdateUnknown},
	{"UpdateMessaging", "fns_error_rolls_back_every_change", testMsgUpdateRollback},
	{"UpdateMessaging", "reads_inside_see_the_transactions_writes", testMsgUpdateReadsOwnWrites},
	{"UpdateMessaging", "40_concurrent_check_then_create_agents_stop_at_the_cap_with_one_default", testMsgUpdateAgentRace},
}

func testMsgUpdateUnknown(t *testing.T, f *msgFixture) {
	ran := false
	err := f.m.UpdateMessaging(f.ctx, f.id("prf"), func(ports.MessagingTx) error { ran = true; return nil })
	storeWantKind(t, err, core.KindNotFound, "")
	if ran {
		t.Fatal("fn ran for an unknown profile")
	}
}

func testMsgUpdateRollback(t *testing.T, f *msgFixture) {
	p := f.profile()
	kept := f.addAgent(p, "Kept", 0, true)
	a := f.agent(p, "Gone", time.Minute)
	boom := core.Conflict("boom", "injected")
	err := f.m.UpdateMessaging(f.ctx, p, func(tx ports.MessagingTx) error {
		storeWantNoErr(t, "CreateAgent", tx.CreateAgent(f.ctx, a))
		storeWantNoErr(t, "SetDefaultAgent", tx.SetDefaultAgent(f.ctx, a.ID))
		storeWantNoErr(t, "CreateSource", tx.CreateSource(f.ctx, f.source(kept.ID, "x", 0)))
		storeWantNoErr(t, "SaveEmbed", tx.SaveEmbed(f.ctx, f.embed(p)))
		return boom
	})
	if !errors.Is(err, boom) {
		storeWantKind(t, err, core.KindConflict, "boom")
	}
	f.wantAgents(p, kept)
	_, err = f.m.Embed(f.ctx, p)
	storeWantKind(t, err, core.KindNotFound, "")
	srcs, err := f.m.KnowledgeSources(f.ctx, p, kept.ID)
	storeWantNoErr(t, "KnowledgeSources", err)
	if len(srcs) != 0 {
		t.Fatalf("a rolled back source is stored: %+v", srcs)
	}
}

func testMsgUpdateReadsOwnWrites(t *testing.T, f *msgFixture) {
	p := f.profile()
	a := f.agent(p, "New", 0)
	e := f.embed(p)
	f.update(p, func(tx ports.MessagingTx) error {
		storeWantNoErr(t, "CreateAgent", tx.CreateAgent(f.ctx, a))
		storeWantNoErr(t, "SetDefaultAgent", tx.SetDefaultAgent(f.ctx, a.ID))
		got, err := tx.Agent(f.ctx, a.ID)
		storeWantNoErr(t, "tx.Agent", err)
		want := a
		want.IsDefault = true
		storeWantEqual(t, "tx.Agent", got, want, normAgent)
		all, err := tx.Agents(f.ctx)
		storeWantNoErr(t, "tx.Agents", err)
		storeWantEqual(t, "tx.Agents", all, []core.Agent{want}, normAgents)
		storeWantNoErr(t, "SaveEmbed", tx.SaveEmbed(f.ctx, e))
		ge, err := tx.Embed(f.ctx)
		storeWantNoErr(t, "tx.Embed", err)
		storeWantEqual(t, "tx.Embed", ge, e, normEmbed)
		return nil
	})
}

func testMsgUpdateAgentRace(t *testing.T, f *msgFixture) {
	const n = 40
	p := f.profile()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		a := f.agent(p, "Agent", time.Duration(i)*time.Millisecond)
		wg.Go(func() {
			<-start
			errs <- f.m.UpdateMessaging(f.ctx, p, func(tx ports.MessagingTx) error {
				all, err := tx.Agents(f.ctx)
				if err != nil {
					return err
				}
				if len(all) >= core.MaxAgents {
					return core.Conflict("agent_limit", "full")
				}
				if err := tx.CreateAgent(f.ctx, a); err != nil {
					return err
				}
				if len(all) == 0 {
					return tx.SetDefaultAgent(f.ctx, a.ID)
				}
				return nil
			})
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !core.IsKind(err, core.KindConflict):
			t.Errorf("a losing Update: %v", err)
		}
	}
	all, err := f.m.Agents(f.ctx, p)
	storeWantNoErr(t, "Agents", err)
	defaults := 0
	for _, a := range all {
		if a.IsDefault {
			defaults++
		}
	}
	if ok != core.MaxAgents || len(all) != core.MaxAgents || defaults != 1 {
		t.Fatalf("%d creates won, %d agents stored with %d defaults; want %d, %d and 1", ok, len(all), defaults, core.MaxAgents, core.MaxAgents)
	}
}

var msgAgentCases = []msgCase{
	{"Agents", "list_oldest_first_scoped_to_the_profile", testMsgAgentsList},
	{"Agents", "create_ignores_is_default_and_sources_count", testMsgAgentsCreateNotDefault},
	{"Agents", "set_default_leaves_exactly_one", testMsgAgentsSetDefault},
	{"Agents", "update_writes_its_fields_only", testMsgAgentsUpdate},
	{"Agents", "handoff_urls_round_trip_in_order_and_are_copies", testMsgAgentsHandoffURLs},
	{"Agents", "delete_takes_the_sources_and_leaves_no_default", testMsgAgentsDelete},
	{"Agents", "unknown_or_another_profiles_agent_is_not_found", testMsgAgentsNotFound},
	{"KnowledgeSources", "create_list_delete_and_sources_count", testMsgSources},
	{"KnowledgeSources", "unknown_agent_or_source_is_not_found", testMsgSourcesNotFound},
}

func testMsgAgentsList(t *testing.T, f *msgFixture) {
	p, other := f.profile(), f.profile()
	second := f.addAgent(p, "Second", time.Hour, false)
	first := f.addAgent(p, "First", 0, true)
	f.addAgent(other, "Other", 0, true)
	f.wantAgents(p, first, second)
	got, err := f.m.DefaultAgent(f.ctx, p)
	storeWantNoErr(t, "DefaultAgent", err)
	storeWantEqual(t, "DefaultAgent", got, first, normAgent)
	_, err = f.m.DefaultAgent(f.ctx, f.profile())
	storeWantKind(t, err, core.KindNotFound, "")
	f.wantAgents(f.profile())
}

func testMsgAgentsCreateNotDefault(t *testing.T, f *msgFixture) {
	p := f.profile()
	a := f.agent(p, "A", 0)
	a.IsDefault, a.SourcesCount = true, 7
	f.update(p, func(tx ports.MessagingTx) error { return tx.CreateAgent(f.ctx, a) })
	a.IsDefault, a.SourcesCount = false, 0
	f.wantAgents(p, a)
	err := f.m.UpdateMessaging(f.ctx, p, func(tx ports.MessagingTx) error { return tx.CreateAgent(f.ctx, a) })
	storeWantKind(t, err, core.KindConflict, "")
}

func testMsgAgentsSetDefault(t *testing.T, f *msgFixture) {
	p := f.profile()
	a := f.addAgent(p, "A", 0, true)
	b := f.addAgent(p, "B", time.Minute, false)
	f.update(p, func(tx ports.MessagingTx) error { return tx.SetDefaultAgent(f.ctx, b.ID) })
	a.IsDefault, b.IsDefault = false, true
	f.wantAgents(p, a, b)
	err := f.m.UpdateMessaging(f.ctx, p, func(tx ports.MessagingTx) error { return tx.SetDefaultAgent(f.ctx, f.id("agt")) })
	storeWantKind(t, err, core.KindNotFound, "")
	f.wantAgents(p, a, b)
}

func testMsgAgentsUpdate(t *testing.T, f *msgFixture) {
	p := f.profile()
	a := f.addAgent(p, "A", 0, true)
	f.update(p, func(tx ports.MessagingTx) error { return tx.CreateSource(f.ctx, f.source(a.ID, "x", 0)) })
	ch := a
	ch.Name, ch.BotDisplayName, ch.BotRoleSummary, ch.SystemInstructions = "A2", "Bot 2", "Role 2", "Instr 2"
	ch.HumanHandoffEnabled, ch.UpdatedAt = false, f.at(time.Hour)
	ch.HandoffURLs = []core.HandoffLink{{Label: "Call", URL: "tel:+15551234567"}}
	ch.IsDefault, ch.SourcesCount, ch.CreatedAt = false, 99, f.at(-time.Hour) // not written
	f.update(p, func(tx ports.MessagingTx) error { return tx.UpdateAgent(f.ctx, ch) })
	want := ch
	want.IsDefault, want.SourcesCount, want.CreatedAt = true, 1, a.CreatedAt
	got, err := f.m.Agent(f.ctx, p, a.ID)
	storeWantNoErr(t, "Agent", err)
	storeWantEqual(t, "Agent", got, want, normAgent)
	err = f.m.UpdateMessaging(f.ctx, p, func(tx ports.MessagingTx) error { return tx.UpdateAgent(f.ctx, f.agent(p, "X", 0)) })
	storeWantKind(t, err, core.KindNotFound, "")
}

func testMsgAgentsHandoffURLs(t *testing.T, f *msgFixture) {
	p := f.profile()
	a := f.agent(p, "A", 0)
	a.HandoffURLs = nil
	f.update(p, func(tx ports.MessagingTx) error { return tx.CreateAgent(f.ctx, a) })
	f.wantAgents(p, a) // none reads back as nil
	links := []core.HandoffLink{
		{Label: "1", URL: "https://a.example/1"}, {Label: "2", URL: "mailto:b@example.com"},
		{Label: "3", URL: "tel:+1"}, {Label: "4", URL: "https://d.example/\"quoted\"?x=<y>&z"},
		{Label: "5 ünïcode", URL: "https://e.example/5"},
	}
	a.HandoffURLs = slices.Clone(links)
	f.update(p, func(tx ports.MessagingTx) error { return tx.UpdateAgent(f.ctx, a) })
	a.HandoffURLs[0].Label = "changed after the write" // the store keeps its own copy
	a.HandoffURLs = links
	got, err := f.m.Agent(f.ctx, p, a.ID)
	storeWantNoErr(t, "Agent", err)
	storeWantEqual(t, "Agent", got, a, normAgent)
	got.HandoffURLs[1].URL = "changed after the read" // and hands out copies
	f.wantAgents(p, a)
	a.HandoffURLs = []core.HandoffLink{}
	f.update(p, func(tx ports.MessagingTx) error { return tx.UpdateAgent(f.ctx, a) })
	a.HandoffURLs = nil
	f.wantAgents(p, a)
}

func testMsgAgentsDelete(t *testing.T, f *msgFixture) {
	p := f.profile()
	a := f.addAgent(p, "A", 0, true)
	b := f.addAgent(p, "B", time.Minute, false)
	f.update(p, func(tx ports.MessagingTx) error { return tx.CreateSource(f.ctx, f.source(a.ID, "x", 0)) })
	f.update(p, func(tx ports.MessagingTx) error { return tx.DeleteAgent(f.ctx, a.ID) })
	f.wantAgents(p, b)
	_, err := f.m.KnowledgeSources(f.ctx, p, a.ID)
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.m.DefaultAgent(f.ctx, p)
	storeWantKind(t, err, core.KindNotFound, "")
	err = f.m.UpdateMessaging(f.ctx, p, func(tx ports.MessagingTx) error { return tx.DeleteAgent(f.ctx, a.ID) })
	storeWantKind(t, err, core.KindNotFound, "")
}

func testMsgAgentsNotFound(t *testing.T, f *msgFixture) {
	p, other := f.profile(), f.profile()
	a := f.addAgent(other, "Theirs", 0, true)
	_, err := f.m.Agent(f.ctx, p, a.ID)
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.m.Agent(f.ctx, p, f.id("agt"))
	storeWantKind(t, err, core.KindNotFound, "")
	for name, fn := range map[string]func(tx ports.MessagingTx) error{
		"Agent":           func(tx ports.MessagingTx) error { _, err := tx.Agent(f.ctx, a.ID); return err },
		"UpdateAgent":     func(tx ports.MessagingTx) error { return tx.UpdateAgent(f.ctx, a) },
		"SetDefaultAgent": func(tx ports.MessagingTx) error { return tx.SetDefaultAgent(f.ctx, a.ID) },
		"DeleteAgent":     func(tx ports.MessagingTx) error { return tx.DeleteAgent(f.ctx, a.ID) },
		"CreateSource":    func(tx ports.MessagingTx) error { return tx.CreateSource(f.ctx, f.source(a.ID, "x", 0)) },
	} {
		if err := f.m.UpdateMessaging(f.ctx, p, fn); !core.IsKind(err, core.KindNotFound) {
			t.Errorf("%s of another profile's agent: %v, want KindNotFound", name, err)
		}
	}
	f.wantAgents(other, a)
}

func testMsgSources(t *testing.T, f *msgFixture) {
	p := f.profile()
	a := f.addAgent(p, "A", 0, true)
	s2 := f.source(a.ID, "second", time.Minute)
	s1 := core.KnowledgeSource{ID: f.id("src"), AgentID: a.ID, Kind: core.KnowledgeQA, Question: "Open?", Content: "9 to 5", CreatedAt: f.at(0)}
	f.update(p, func(tx ports.MessagingTx) error {
		storeWantNoErr(t, "CreateSource", tx.CreateSource(f.ctx, s2))
		got, err := tx.Agent(f.ctx, a.ID)
		storeWantNoErr(t, "tx.Agent", err)
		if got.SourcesCount != 1 {
			t.Fatalf("inside the transaction SourcesCount = %d, want 1", got.SourcesCount)
		}
		return tx.CreateSource(f.ctx, s1)
	})
	got, err := f.m.KnowledgeSources(f.ctx, p, a.ID)
	storeWantNoErr(t, "KnowledgeSources", err)
	storeWantEqual(t, "KnowledgeSources", got, []core.KnowledgeSource{s1, s2}, normSources)
	ag, err := f.m.Agent(f.ctx, p, a.ID)
	storeWantNoErr(t, "Agent", err)
	if ag.SourcesCount != 2 {
		t.Fatalf("SourcesCount = %d, want 2", ag.SourcesCount)
	}
	f.update(p, func(tx ports.MessagingTx) error { return tx.DeleteSource(f.ctx, a.ID, s1.ID) })
	got, err = f.m.KnowledgeSources(f.ctx, p, a.ID)
	storeWantNoErr(t, "KnowledgeSources", err)
	storeWantEqual(t, "KnowledgeSources after delete", got, []core.KnowledgeSource{s2}, normSources)
	all, err := f.m.Agents(f.ctx, p)
	storeWantNoErr(t, "Agents", err)
	if all[0].SourcesCount != 1 {
		t.Fatalf("Agents' SourcesCount = %d, want 1", all[0].SourcesCount)
	}
}

func testMsgSourcesNotFound(t *testing.T, f *msgFixture) {
	p := f.profile()
	a := f.addAgent(p, "A", 0, true)
	b := f.addAgent(p, "B", 0, false)
	s := f.source(a.ID, "x", 0)
	f.update(p, func(tx ports.MessagingTx) error { return tx.CreateSource(f.ctx, s) })
	for _, fn := range []func(tx ports.MessagingTx) error{
		func(tx ports.MessagingTx) error { return tx.DeleteSource(f.ctx, b.ID, s.ID) },
		func(tx ports.MessagingTx) error { return tx.DeleteSource(f.ctx, a.ID, f.id("src")) },
		func(tx ports.MessagingTx) error { return tx.DeleteSource(f.ctx, f.id("agt"), s.ID) },
		func(tx ports.MessagingTx) error { return tx.CreateSource(f.ctx, f.source(f.id("agt"), "x", 0)) },
	} {
		storeWantKind(t, f.m.UpdateMessaging(f.ctx, p, fn), core.KindNotFound, "")
	}
	_, err := f.m.KnowledgeSources(f.ctx, f.profile(), a.ID)
	storeWantKind(t, err, core.KindNotFound, "")
}
