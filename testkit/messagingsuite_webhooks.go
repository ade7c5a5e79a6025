package testkit

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// The MessagingStore cases of dynamic skills and human handoff: the skills
// and handoff configurations, the skills status, and a conversation's
// handoff state. The deliveries are RunWebhookStoreSuite's
// (messagingsuite_deliveries.go).

// skillsConfig returns an enabled skills configuration of profileID; not
// stored.
func (f *msgFixture) skillsConfig(profileID string) core.SkillsConfig {
	return core.SkillsConfig{
		ProfileID: profileID, Enabled: true, WebhookURL: "https://hooks.example.com/skills?shop=1&x=\"y\"",
		Secret: "whsec_" + f.id("s"),
		Skills: []core.Skill{
			{Key: "booking", Label: "Booking", Keywords: []string{"book", "appointment", "réserver", "cita"}},
			{Key: "catalog", Label: "Catalog “new” ✨", Keywords: []string{"price list"}},
		},
		UpdatedAt: f.at(time.Minute),
	}
}

func normSkillsConfig(c core.SkillsConfig) core.SkillsConfig {
	c = c.Clone()
	c.UpdatedAt = storeNormTime(c.UpdatedAt)
	if len(c.Skills) == 0 {
		c.Skills = nil
	}
	for i := range c.Skills {
		if len(c.Skills[i].Keywords) == 0 {
			c.Skills[i].Keywords = nil
		}
	}
	return c
}

func normSkillsStatus(s core.SkillsStatus) core.SkillsStatus {
	s.LastCallAt, s.LastSuccessAt = storeNormTime(s.LastCallAt), storeNormTime(s.LastSuccessAt)
	s.RecentErrors = slices.Clone(s.RecentErrors)
	if len(s.RecentErrors) == 0 {
		s.RecentErrors = nil
	}
	for i := range s.RecentErrors {
		s.RecentErrors[i].At = storeNormTime(s.RecentErrors[i].At)
	}
	return s
}

func normHandoffConfig(c core.HandoffConfig) core.HandoffConfig {
	c.UpdatedAt = storeNormTime(c.UpdatedAt)
	return c
}

// saveSkills stores c as its profile's skills configuration.
func (f *msgFixture) saveSkills(c core.SkillsConfig) {
	f.t.Helper()
	f.update(c.ProfileID, func(tx ports.MessagingTx) error { return tx.SaveSkillsConfig(f.ctx, c) })
}

// wantSkills checks the profile's skills configuration and status.
func (f *msgFixture) wantSkills(profileID string, c core.SkillsConfig, st core.SkillsStatus) {
	f.t.Helper()
	gotC, gotS, err := f.m.SkillsConfig(f.ctx, profileID)
	storeWantNoErr(f.t, "SkillsConfig", err)
	storeWantEqual(f.t, "SkillsConfig", gotC, c, normSkillsConfig)
	storeWantEqual(f.t, "SkillsConfig's status", gotS, st, normSkillsStatus)
}

// recordSkillCall records one call at d after the suite's time, failed
// with failure when it is not "".
func (f *msgFixture) recordSkillCall(profileID string, d time.Duration, failure string) *core.SkillCallError {
	f.t.Helper()
	var e *core.SkillCallError
	if failure != "" {
		e = &core.SkillCallError{At: f.at(d), Skill: "booking", Error: failure}
	}
	storeWantNoErr(f.t, "RecordSkillCall", f.m.RecordSkillCall(f.ctx, profileID, f.at(d), e))
	return e
}

var msgSkillsHandoffCases = []msgCase{
	{"SkillsConfig", "zero_values_until_saved_and_unknown_profile_is_not_found", testMsgSkillsZero},
	{"SkillsConfig", "save_then_read_in_and_out_of_the_transaction_as_copies", testMsgSkillsRoundTrip},
	{"SkillsConfig", "a_rolled_back_save_writes_nothing", testMsgSkillsRollback},
	{"SkillsConfig", "save_replaces_the_configuration_and_not_the_status", testMsgSkillsSaveKeepsStatus},
	{"RecordSkillCall", "without_a_configuration_records_nothing", testMsgSkillCallUnconfigured},
	{"RecordSkillCall", "success_and_failure_set_the_times_and_errors", testMsgSkillCallSuccessFailure},
	{"RecordSkillCall", "recent_errors_are_newest_first_and_capped", testMsgSkillCallCap},
	{"RecordSkillCall", "concurrent_calls_lose_no_update", testMsgSkillCallRace},
	{"HandoffConfig", "zero_value_until_saved_then_round_trip_and_replace", testMsgHandoffConfig},
	{"Conversation", "by_id_scoped_to_the_profile", testMsgConversationByID},
	{"Conversation", "a_handoff_turn_sets_handed_off_at_once", testMsgConversationHandoff},
	{"Conversation", "a_new_conversation_can_start_handed_off", testMsgConversationHandoffNew},
	{"HandBack", "clears_handed_off_at_and_leaves_a_bot_conversation_as_is", testMsgHandBack},
	{"HandBack", "unknown_or_another_profiles_conversation_is_not_found", testMsgHandBackNotFound},
}

func testMsgSkillsZero(t *testing.T, f *msgFixture) {
	p := f.profile()
	f.wantSkills(p, core.SkillsConfig{}, core.SkillsStatus{})
	f.update(p, func(tx ports.MessagingTx) error {
		c, st, err := tx.SkillsConfig(f.ctx)
		storeWantNoErr(t, "tx.SkillsConfig", err)
		storeWantEqual(t, "tx.SkillsConfig", c, core.SkillsConfig{}, normSkillsConfig)
		storeWantEqual(t, "tx.SkillsConfig's status", st, core.SkillsStatus{}, normSkillsStatus)
		return nil
	})
	// Another profile's configuration is not this one's.
	f.saveSkills(f.skillsConfig(f.profile()))
	f.wantSkills(p, core.SkillsConfig{}, core.SkillsStatus{})
	unknown := f.id("prf")
	_, _, err := f.m.SkillsConfig(f.ctx, unknown)
	storeWantKind(t, err, core.KindNotFound, "")
	storeWantKind(t, f.m.RecordSkillCall(f.ctx, unknown, f.at(0), nil), core.KindNotFound, "")
}

func testMsgSkillsRoundTrip(t *testing.T, f *msgFixture) {
	p := f.profile()
	c := f.skillsConfig(p)
	in := c.Clone()
	in.ProfileID = f.id("prf") // the transaction's profile is written
	f.update(p, func(tx ports.MessagingTx) error {
		storeWantNoErr(t, "SaveSkillsConfig", tx.SaveSkillsConfig(f.ctx, in))
		got, st, err := tx.SkillsConfig(f.ctx)
		storeWantNoErr(t, "tx.SkillsConfig", err)
		storeWantEqual(t, "tx.SkillsConfig", got, c, normSkillsConfig)
		storeWantEqual(t, "tx.SkillsConfig's status", st, core.SkillsStatus{}, normSkillsStatus)
		return nil
	})
	in.Skills[0].Keywords[0], in.Skills[1].Label = "changed after the write", "changed" // the store keeps its own copy
	f.wantSkills(p, c, core.SkillsStatus{})
	got, _, err := f.m.SkillsConfig(f.ctx, p)
	storeWantNoErr(t, "SkillsConfig", err)
	got.Skills[0].Keywords[1] = "changed after the read" // and hands out copies
	f.wantSkills(p, c, core.SkillsStatus{})

	// Disabled, without skills, without a secret; a skill without keywords.
	c2 := core.SkillsConfig{ProfileID: p, WebhookURL: "https://other.example/", UpdatedAt: f.at(time.Hour)}
	f.saveSkills(c2)
	f.wantSkills(p, c2, core.SkillsStatus{})
	c2.Skills = []core.Skill{{Key: "k", Label: "L"}}
	f.saveSkills(c2)
	f.wantSkills(p, c2, core.SkillsStatus{})
}

func testMsgSkillsRollback(t *testing.T, f *msgFixture) {
	p := f.profile()
	c := f.skillsConfig(p)
	f.saveSkills(c)
	boom := core.Conflict("boom", "injected")
	err := f.m.UpdateMessaging(f.ctx, p, func(tx ports.MessagingTx) error {
		storeWantNoErr(t, "SaveSkillsConfig", tx.SaveSkillsConfig(f.ctx, core.SkillsConfig{UpdatedAt: f.at(time.Hour)}))
		storeWantNoErr(t, "SaveHandoffConfig", tx.SaveHandoffConfig(f.ctx, f.handoffConfig(p)))
		return boom
	})
	storeWantKind(t, err, core.KindConflict, "boom")
	f.wantSkills(p, c, core.SkillsStatus{})
	h, err := f.m.HandoffConfig(f.ctx, p)
	storeWantNoErr(t, "HandoffConfig", err)
	if h != (core.HandoffConfig{}) {
		t.Fatalf("a rolled back handoff configuration is stored: %+v", h)
	}
}

func testMsgSkillsSaveKeepsStatus(t *testing.T, f *msgFixture) {
	p := f.profile()
	f.saveSkills(f.skillsConfig(p))
	f.recordSkillCall(p, time.Minute, "")
	e := f.recordSkillCall(p, 2*time.Minute, "timeout after 5s")
	want := core.SkillsStatus{LastCallAt: f.at(2 * time.Minute), LastSuccessAt: f.at(time.Minute), RecentErrors: []core.SkillCallError{*e}}
	c := f.skillsConfig(p)
	c.Enabled, c.Skills, c.UpdatedAt = false, c.Skills[1:], f.at(time.Hour)
	f.saveSkills(c)
	f.wantSkills(p, c, want)
}

func testMsgSkillCallUnconfigured(t *testing.T, f *msgFixture) {
	p := f.profile()
	f.recordSkillCall(p, 0, "")
	f.recordSkillCall(p, time.Second, "refused")
	f.wantSkills(p, core.SkillsConfig{}, core.SkillsStatus{})
	// Configured afterwards: the status starts empty.
	c := f.skillsConfig(p)
	f.saveSkills(c)
	f.wantSkills(p, c, core.SkillsStatus{})
}

func testMsgSkillCallSuccessFailure(t *testing.T, f *msgFixture) {
	p := f.profile()
	c := f.skillsConfig(p)
	f.saveSkills(c)
	f.recordSkillCall(p, time.Minute, "")
	f.wantSkills(p, c, core.SkillsStatus{LastCallAt: f.at(time.Minute), LastSuccessAt: f.at(time.Minute)})
	e := f.recordSkillCall(p, 2*time.Minute, `the answer is not valid: "ui.type" must be one of slot_list, …`)
	want := core.SkillsStatus{LastCallAt: f.at(2 * time.Minute), LastSuccessAt: f.at(time.Minute), RecentErrors: []core.SkillCallError{*e}}
	f.wantSkills(p, c, want)
	f.update(p, func(tx ports.MessagingTx) error {
		_, st, err := tx.SkillsConfig(f.ctx)
		storeWantNoErr(t, "tx.SkillsConfig", err)
		storeWantEqual(t, "tx.SkillsConfig's status", st, want, normSkillsStatus)
		return nil
	})
	// A success keeps the errors.
	f.recordSkillCall(p, 3*time.Minute, "")
	want.LastCallAt, want.LastSuccessAt = f.at(3*time.Minute), f.at(3*time.Minute)
	f.wantSkills(p, c, want)
	// The status hands out copies.
	_, st, err := f.m.SkillsConfig(f.ctx, p)
	storeWantNoErr(t, "SkillsConfig", err)
	st.RecentErrors[0].Error = "changed after the read"
	f.wantSkills(p, c, want)
}

func testMsgSkillCallCap(t *testing.T, f *msgFixture) {
	p := f.profile()
	c := f.skillsConfig(p)
	f.saveSkills(c)
	const n = core.MaxSkillErrors + 3
	var errs []core.SkillCallError
	for i := range n {
		errs = append(errs, *f.recordSkillCall(p, time.Duration(i)*time.Second, fmt.Sprintf("error %d ünïcode", i)))
	}
	slices.Reverse(errs)
	f.wantSkills(p, c, core.SkillsStatus{LastCallAt: f.at((n - 1) * time.Second), RecentErrors: errs[:core.MaxSkillErrors]})
}

// testMsgSkillCallRace: a first round of fewer concurrent failures than
// the cap must keep every one of them; a second round of 20 must replace
// them all (each is newer). In both, the newest error is the last call.
func testMsgSkillCallRace(t *testing.T, f *msgFixture) {
	p := f.profile()
	f.saveSkills(f.skillsConfig(p))
	round := func(name string, n int, base time.Duration) map[string]bool {
		sent := map[string]bool{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			e := core.SkillCallError{At: f.at(base + time.Duration(i)*time.Millisecond), Skill: "booking", Error: fmt.Sprintf("%s %d", name, i)}
			sent[e.Error] = true
			wg.Go(func() {
				<-start
				if err := f.m.RecordSkillCall(f.ctx, p, e.At, &e); err != nil {
					t.Errorf("RecordSkillCall: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		return sent
	}
	check := func(name string, sent map[string]bool, want int) {
		t.Helper()
		_, st, err := f.m.SkillsConfig(f.ctx, p)
		storeWantNoErr(t, "SkillsConfig", err)
		seen := map[string]bool{}
		for _, e := range st.RecentErrors {
			if !sent[e.Error] || seen[e.Error] {
				t.Fatalf("%s: RecentErrors holds %q, not one of this round's or twice: %+v", name, e.Error, st.RecentErrors)
			}
			seen[e.Error] = true
		}
		if len(st.RecentErrors) != want {
			t.Fatalf("%s: RecentErrors holds %d errors, want %d: %+v", name, len(st.RecentErrors), want, st.RecentErrors)
		}
		if st.LastCallAt.IsZero() || !st.LastCallAt.Equal(st.RecentErrors[0].At) || !st.LastSuccessAt.IsZero() {
			t.Fatalf("%s: LastCallAt %v, LastSuccessAt %v; want the newest error's time %v and none",
				name, st.LastCallAt, st.LastSuccessAt, st.RecentErrors[0].At)
		}
	}
	first := round("first", core.MaxSkillErrors-1, 0)
	check("first round", first, core.MaxSkillErrors-1)
	second := round("second", 20, time.Minute)
	check("second round", second, core.MaxSkillErrors)
}

// handoffConfig returns a handoff configuration of profileID; not stored.
func (f *msgFixture) handoffConfig(profileID string) core.HandoffConfig {
	return core.HandoffConfig{
		ProfileID: profileID, WebhookURL: "https://inbox.example.com/gellhub?team=support",
		Secret: "whsec_" + f.id("h"), UpdatedAt: f.at(time.Minute),
	}
}

func testMsgHandoffConfig(t *testing.T, f *msgFixture) {
	p := f.profile()
	got, err := f.m.HandoffConfig(f.ctx, p)
	storeWantNoErr(t, "HandoffConfig", err)
	storeWantEqual(t, "HandoffConfig", got, core.HandoffConfig{}, normHandoffConfig)
	c := f.handoffConfig(p)
	in := c
	in.ProfileID = f.id("prf") // the transaction's profile is written
	f.update(p, func(tx ports.MessagingTx) error {
		storeWantNoErr(t, "SaveHandoffConfig", tx.SaveHandoffConfig(f.ctx, in))
		got, err := tx.HandoffConfig(f.ctx)
		storeWantNoErr(t, "tx.HandoffConfig", err)
		storeWantEqual(t, "tx.HandoffConfig", got, c, normHandoffConfig)
		return nil
	})
	got, err = f.m.HandoffConfig(f.ctx, p)
	storeWantNoErr(t, "HandoffConfig", err)
	storeWantEqual(t, "HandoffConfig", got, c, normHandoffConfig)
	// Replaced: no URL, no secret.
	c = core.HandoffConfig{ProfileID: p, UpdatedAt: f.at(time.Hour)}
	f.update(p, func(tx ports.MessagingTx) error { return tx.SaveHandoffConfig(f.ctx, c) })
	got, err = f.m.HandoffConfig(f.ctx, p)
	storeWantNoErr(t, "HandoffConfig", err)
	storeWantEqual(t, "HandoffConfig after a replace", got, c, normHandoffConfig)
	// Scoped to the profile.
	other := f.profile()
	got, err = f.m.HandoffConfig(f.ctx, other)
	storeWantNoErr(t, "HandoffConfig", err)
	storeWantEqual(t, "another profile's HandoffConfig", got, core.HandoffConfig{}, normHandoffConfig)
	_, err = f.m.HandoffConfig(f.ctx, f.id("prf"))
	storeWantKind(t, err, core.KindNotFound, "")
}

func normConversation(c core.Conversation) core.Conversation {
	c.HandedOffAt, c.CreatedAt, c.UpdatedAt = storeNormTime(c.HandedOffAt), storeNormTime(c.CreatedAt), storeNormTime(c.UpdatedAt)
	return c
}

// recordTurn records tr and returns the conversation.
func (f *msgFixture) recordTurn(tr ports.ChatTurn) core.Conversation {
	f.t.Helper()
	c, err := f.m.RecordTurn(f.ctx, tr)
	storeWantNoErr(f.t, "RecordTurn", err)
	return c
}

// wantConversation checks the conversation by id and by ref.
func (f *msgFixture) wantConversation(want core.Conversation) {
	f.t.Helper()
	got, err := f.m.Conversation(f.ctx, want.ProfileID, want.ID)
	storeWantNoErr(f.t, "Conversation", err)
	storeWantEqual(f.t, "Conversation", got, want, normConversation)
	got, err = f.m.ConversationByRef(f.ctx, want.ProfileID, want.Ref)
	storeWantNoErr(f.t, "ConversationByRef", err)
	storeWantEqual(f.t, "ConversationByRef", got, want, normConversation)
}

func testMsgConversationByID(t *testing.T, f *msgFixture) {
	p, other := f.profile(), f.profile()
	tr := f.turn(p, "web:visitor-1", 0)
	c := f.recordTurn(tr)
	want := core.Conversation{
		ID: tr.ConversationID, ProfileID: p, Ref: tr.Ref, Channel: tr.Channel, AgentID: tr.AgentID,
		MessageCount: 2, CreatedAt: tr.At, UpdatedAt: tr.At,
	}
	storeWantEqual(t, "RecordTurn's conversation", c, want, normConversation)
	f.wantConversation(want)
	_, err := f.m.Conversation(f.ctx, other, c.ID)
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.m.Conversation(f.ctx, p, f.id("conv"))
	storeWantKind(t, err, core.KindNotFound, "")
}

func testMsgConversationHandoff(t *testing.T, f *msgFixture) {
	p := f.profile()
	first := f.turn(p, "ref", 0)
	c := f.recordTurn(first)
	want := core.Conversation{
		ID: first.ConversationID, ProfileID: p, Ref: "ref", Channel: first.Channel, AgentID: first.AgentID,
		MessageCount: 2, CreatedAt: first.At, UpdatedAt: first.At,
	}
	storeWantEqual(t, "a turn without handoff", c, want, normConversation)
	tr := f.turn(p, "ref", 0)
	tr.Handoff, tr.At = true, f.at(time.Minute)
	c = f.recordTurn(tr)
	want.HandedOffAt, want.UpdatedAt, want.AgentID, want.MessageCount = tr.At, tr.At, tr.AgentID, 4
	storeWantEqual(t, "the handoff turn's conversation", c, want, normConversation)
	f.wantConversation(want)

	// A second handoff and a turn without one keep the first time.
	tr = f.turn(p, "ref", 0)
	tr.Handoff, tr.At = true, f.at(time.Hour)
	c = f.recordTurn(tr)
	want.UpdatedAt, want.AgentID, want.MessageCount = tr.At, tr.AgentID, 6
	storeWantEqual(t, "the second handoff turn's conversation", c, want, normConversation)
	tr = f.turn(p, "ref", 0)
	tr.At = f.at(2 * time.Hour)
	c = f.recordTurn(tr)
	want.UpdatedAt, want.AgentID, want.MessageCount = tr.At, tr.AgentID, 8
	storeWantEqual(t, "a later turn's conversation", c, want, normConversation)
	f.wantConversation(want)
}

func testMsgConversationHandoffNew(t *testing.T, f *msgFixture) {
	p := f.profile()
	f.grant(p, 3, "")
	tr := f.turn(p, "new", 1)
	tr.Handoff = true
	c := f.recordTurn(tr)
	if !c.HandedOffAt.Equal(tr.At) || c.ID != tr.ConversationID {
		t.Fatalf("the new conversation is %+v, want handed off at %v", c, tr.At)
	}
	// A refused handoff turn hands nothing off.
	other := f.profile()
	tr = f.turn(other, "refused", 1)
	tr.Handoff = true
	_, err := f.m.RecordTurn(f.ctx, tr)
	storeWantKind(t, err, core.KindPaymentRequired, "insufficient_credits")
	_, err = f.m.ConversationByRef(f.ctx, other, "refused")
	storeWantKind(t, err, core.KindNotFound, "")
}

func testMsgHandBack(t *testing.T, f *msgFixture) {
	p := f.profile()
	tr := f.turn(p, "ref", 0)
	tr.Handoff = true
	c := f.recordTurn(tr)
	got, err := f.m.HandBack(f.ctx, p, c.ID, f.at(time.Hour))
	storeWantNoErr(t, "HandBack", err)
	want := c
	want.HandedOffAt, want.UpdatedAt = time.Time{}, f.at(time.Hour)
	storeWantEqual(t, "HandBack", got, want, normConversation)
	f.wantConversation(want)
	// Once more: the bot has it already, nothing changes.
	got, err = f.m.HandBack(f.ctx, p, c.ID, f.at(2*time.Hour))
	storeWantNoErr(t, "HandBack of a bot conversation", err)
	storeWantEqual(t, "HandBack of a bot conversation", got, want, normConversation)
	f.wantConversation(want)
	// Handed off again later: the new time.
	tr = f.turn(p, "ref", 0)
	tr.Handoff, tr.At = true, f.at(3*time.Hour)
	c = f.recordTurn(tr)
	if !c.HandedOffAt.Equal(tr.At) {
		t.Fatalf("handed off again at %v, want %v", c.HandedOffAt, tr.At)
	}
}

func testMsgHandBackNotFound(t *testing.T, f *msgFixture) {
	p, other := f.profile(), f.profile()
	tr := f.turn(other, "theirs", 0)
	tr.Handoff = true
	c := f.recordTurn(tr)
	_, err := f.m.HandBack(f.ctx, p, c.ID, f.at(time.Hour))
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.m.HandBack(f.ctx, p, f.id("conv"), f.at(time.Hour))
	storeWantKind(t, err, core.KindNotFound, "")
	f.wantConversation(c) // still handed off
}
