package testkit

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// grant adds amount credits to profileID under key.
func (f *msgFixture) grant(profileID string, amount int64, key string) bool {
	f.t.Helper()
	ok, err := f.m.GrantCredits(f.ctx, core.CreditEntry{
		ID: f.id("cred"), ProfileID: profileID, Amount: amount, Reason: core.CreditGrant, Key: key, CreatedAt: f.at(0),
	})
	storeWantNoErr(f.t, "GrantCredits", err)
	return ok
}

// charge returns a charge entry of amount credits.
func (f *msgFixture) charge(profileID string, amount int64) core.CreditEntry {
	return core.CreditEntry{ID: f.id("cred"), ProfileID: profileID, Amount: amount, Reason: core.CreditChatTurn, CreatedAt: f.at(time.Minute)}
}

// wantUsage checks the profile's balance and counters, and that the
// balance is the sum of the ledger.
func (f *msgFixture) wantUsage(profileID string, want core.MessagingUsage) {
	f.t.Helper()
	got, err := f.m.MessagingUsage(f.ctx, profileID)
	storeWantNoErr(f.t, "MessagingUsage", err)
	if got != want {
		f.t.Fatalf("MessagingUsage = %+v, want %+v", got, want)
	}
	entries, err := f.m.CreditEntries(f.ctx, profileID, 100000)
	storeWantNoErr(f.t, "CreditEntries", err)
	var sum int64
	for _, e := range entries {
		sum += e.Amount
	}
	if sum != got.Credits {
		f.t.Fatalf("the ledger sums to %d, the balance is %d", sum, got.Credits)
	}
}

var msgLedgerCases = []msgCase{
	{"Credits", "grants_and_charges_make_the_balance", testMsgCreditsBalance},
	{"Credits", "a_grant_key_is_granted_once", testMsgCreditsGrantKey},
	{"Credits", "a_short_balance_is_insufficient_credits_and_writes_nothing", testMsgCreditsShort},
	{"Credits", "amounts_must_be_positive_and_the_profile_known", testMsgCreditsInvalid},
	{"Credits", "100_parallel_charges_of_1_against_50_credits_exactly_50_succeed", testMsgCreditsRace},
	{"Credits", "20_parallel_grants_of_one_key_write_one", testMsgCreditsGrantRace},
}

func testMsgCreditsBalance(t *testing.T, f *msgFixture) {
	p, other := f.profile(), f.profile()
	f.wantUsage(p, core.MessagingUsage{})
	if !f.grant(p, 10, "") || !f.grant(p, 5, "") {
		t.Fatal("a grant without key was not written")
	}
	f.grant(other, 1000, "")
	c := f.charge(p, 3)
	bal, err := f.m.ChargeCredits(f.ctx, c)
	storeWantNoErr(t, "ChargeCredits", err)
	if bal != 12 {
		t.Fatalf("ChargeCredits left %d, want 12", bal)
	}
	f.wantUsage(p, core.MessagingUsage{Credits: 12})
	entries, err := f.m.CreditEntries(f.ctx, p, 10)
	storeWantNoErr(t, "CreditEntries", err)
	if len(entries) != 3 || entries[2].ID != c.ID || entries[2].Amount != -3 || entries[2].Reason != core.CreditChatTurn ||
		!entries[2].CreatedAt.Equal(c.CreatedAt) || entries[2].ProfileID != p {
		t.Fatalf("CreditEntries = %+v, want two grants then the charge of 3 stored as -3", entries)
	}
	if one, _ := f.m.CreditEntries(f.ctx, p, 1); len(one) != 1 || one[0].Amount != 10 {
		t.Fatalf("CreditEntries(limit 1) = %+v, want the first grant", one)
	}
}

func testMsgCreditsGrantKey(t *testing.T, f *msgFixture) {
	p, other := f.profile(), f.profile()
	if !f.grant(p, 100, "monthly:2026-08:plan_a") {
		t.Fatal("the first grant of a key was not written")
	}
	if f.grant(p, 100, "monthly:2026-08:plan_a") {
		t.Fatal("a second grant of one key was written")
	}
	if !f.grant(p, 100, "monthly:2026-09:plan_a") || !f.grant(other, 100, "monthly:2026-08:plan_a") {
		t.Fatal("another key, or another profile's key, was refused")
	}
	f.wantUsage(p, core.MessagingUsage{Credits: 200})
}

func testMsgCreditsShort(t *testing.T, f *msgFixture) {
	p := f.profile()
	_, err := f.m.ChargeCredits(f.ctx, f.charge(p, 1))
	storeWantKind(t, err, core.KindPaymentRequired, "insufficient_credits")
	f.grant(p, 2, "")
	_, err = f.m.ChargeCredits(f.ctx, f.charge(p, 3))
	storeWantKind(t, err, core.KindPaymentRequired, "insufficient_credits")
	f.wantUsage(p, core.MessagingUsage{Credits: 2})
	bal, err := f.m.ChargeCredits(f.ctx, f.charge(p, 2))
	storeWantNoErr(t, "ChargeCredits of the whole balance", err)
	if bal != 0 {
		t.Fatalf("balance %d, want 0", bal)
	}
}

func testMsgCreditsInvalid(t *testing.T, f *msgFixture) {
	p := f.profile()
	f.grant(p, 5, "")
	_, err := f.m.GrantCredits(f.ctx, core.CreditEntry{ID: f.id("cred"), ProfileID: p, Amount: 0, Reason: core.CreditGrant, CreatedAt: f.at(0)})
	storeWantKind(t, err, core.KindInvalid, "")
	_, err = f.m.ChargeCredits(f.ctx, f.charge(p, -1))
	storeWantKind(t, err, core.KindInvalid, "")
	_, err = f.m.ChargeCredits(f.ctx, f.charge(p, 0))
	storeWantKind(t, err, core.KindInvalid, "")
	_, err = f.m.GrantCredits(f.ctx, core.CreditEntry{ID: f.id("cred"), ProfileID: f.id("prf"), Amount: 1, Reason: core.CreditGrant, CreatedAt: f.at(0)})
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.m.ChargeCredits(f.ctx, f.charge(f.id("prf"), 1))
	storeWantKind(t, err, core.KindNotFound, "")
	f.wantUsage(p, core.MessagingUsage{Credits: 5})
}

func testMsgCreditsRace(t *testing.T, f *msgFixture) {
	const n, credits = 100, 50
	p := f.profile()
	f.grant(p, credits, "")
	charges := make([]core.CreditEntry, n)
	for i := range charges {
		charges[i] = f.charge(p, 1)
	}
	var ok, short atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			bal, err := f.m.ChargeCredits(f.ctx, charges[i])
			switch {
			case err == nil:
				if bal < 0 {
					t.Errorf("a charge left a negative balance %d", bal)
				}
				ok.Add(1)
			case core.IsKind(err, core.KindPaymentRequired):
				short.Add(1)
			default:
				t.Errorf("ChargeCredits: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != credits || short.Load() != n-credits {
		t.Fatalf("%d charges succeeded and %d were short, want %d and %d", ok.Load(), short.Load(), credits, n-credits)
	}
	f.wantUsage(p, core.MessagingUsage{})
}

func testMsgCreditsGrantRace(t *testing.T, f *msgFixture) {
	const n = 20
	p := f.profile()
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		e := core.CreditEntry{ID: f.id("cred"), ProfileID: p, Amount: 100, Reason: core.CreditMonthlyGrant, Key: "monthly:2026-08:plan_x", CreatedAt: f.at(0)}
		wg.Go(func() {
			<-start
			ok, err := f.m.GrantCredits(f.ctx, e)
			if err != nil {
				t.Errorf("GrantCredits: %v", err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d grants of one key were written, want 1", wins.Load())
	}
	f.wantUsage(p, core.MessagingUsage{Credits: 100})
}

// turn returns a turn of ref with a user message and a reply.
func (f *msgFixture) turn(profileID, ref string, charge int64) ports.ChatTurn {
	t := ports.ChatTurn{
		ProfileID: profileID, ConversationID: f.id("conv"), Ref: ref, Channel: "api", AgentID: f.id("agt"),
		Messages: []core.ConversationMessage{
			{ID: f.id("cmsg"), Role: core.RoleUser, Content: "Hello", CreatedAt: f.at(0)},
			{ID: f.id("cmsg"), Role: core.RoleAssistant, Content: "Hi!", CreatedAt: f.at(0)},
		},
		At: f.at(0),
	}
	if charge > 0 {
		c := f.charge(profileID, charge)
		t.Charge = &c
	}
	return t
}

var msgTurnCases = []msgCase{
	{"RecordTurn", "creates_the_conversation_then_appends_and_counts", testMsgTurnAppend},
	{"RecordTurn", "a_short_balance_stores_nothing", testMsgTurnShort},
	{"RecordTurn", "conversations_are_scoped_to_the_profile", testMsgTurnScoped},
	{"RecordTurn", "20_parallel_turns_of_a_new_ref_make_one_conversation", testMsgTurnRace},
}

func testMsgTurnAppend(t *testing.T, f *msgFixture) {
	p := f.profile()
	f.grant(p, 10, "")
	t1 := f.turn(p, "whatsapp:+1555:thread-1", 1)
	c1, err := f.m.RecordTurn(f.ctx, t1)
	storeWantNoErr(t, "RecordTurn", err)
	if c1.ID != t1.ConversationID || c1.Ref != t1.Ref || c1.ProfileID != p || c1.MessageCount != 2 || c1.AgentID != t1.AgentID {
		t.Fatalf("the new conversation is %+v", c1)
	}
	t2 := f.turn(p, t1.Ref, 0) // free turn
	t2.At, t2.Channel = f.at(time.Hour), "web"
	c2, err := f.m.RecordTurn(f.ctx, t2)
	storeWantNoErr(t, "RecordTurn", err)
	if c2.ID != c1.ID || c2.MessageCount != 4 || c2.AgentID != t2.AgentID || c2.Channel != "web" ||
		!c2.UpdatedAt.Equal(t2.At) || !c2.CreatedAt.Equal(t1.At) {
		t.Fatalf("the second turn's conversation is %+v", c2)
	}
	got, err := f.m.ConversationByRef(f.ctx, p, t1.Ref)
	storeWantNoErr(t, "ConversationByRef", err)
	if got.ID != c1.ID || got.MessageCount != 4 {
		t.Fatalf("ConversationByRef = %+v", got)
	}
	msgs, err := f.m.ConversationMessages(f.ctx, p, c1.ID, 3)
	storeWantNoErr(t, "ConversationMessages", err)
	want := append(t1.Messages[1:], t2.Messages...)
	if len(msgs) != 3 {
		t.Fatalf("ConversationMessages(limit 3) = %+v", msgs)
	}
	for i, m := range msgs {
		if m.ID != want[i].ID || m.Role != want[i].Role || m.Content != want[i].Content || m.ConversationID != c1.ID {
			t.Fatalf("message %d = %+v, want %+v in conversation %s", i, m, want[i], c1.ID)
		}
	}
	f.wantUsage(p, core.MessagingUsage{Credits: 9, InboundCount: 2, OutboundCount: 2})
}

func testMsgTurnShort(t *testing.T, f *msgFixture) {
	p := f.profile()
	tr := f.turn(p, "ref", 1)
	_, err := f.m.RecordTurn(f.ctx, tr)
	storeWantKind(t, err, core.KindPaymentRequired, "insufficient_credits")
	_, err = f.m.ConversationByRef(f.ctx, p, "ref")
	storeWantKind(t, err, core.KindNotFound, "")
	f.wantUsage(p, core.MessagingUsage{})
}

func testMsgTurnScoped(t *testing.T, f *msgFixture) {
	p, other := f.profile(), f.profile()
	c, err := f.m.RecordTurn(f.ctx, f.turn(p, "same-ref", 0))
	storeWantNoErr(t, "RecordTurn", err)
	_, err = f.m.ConversationByRef(f.ctx, other, "same-ref")
	storeWantKind(t, err, core.KindNotFound, "")
	_, err = f.m.ConversationMessages(f.ctx, other, c.ID, 10)
	storeWantKind(t, err, core.KindNotFound, "")
	c2, err := f.m.RecordTurn(f.ctx, f.turn(other, "same-ref", 0))
	storeWantNoErr(t, "RecordTurn", err)
	if c2.ID == c.ID {
		t.Fatal("two profiles share a conversation")
	}
	_, err = f.m.RecordTurn(f.ctx, f.turn(f.id("prf"), "x", 0))
	storeWantKind(t, err, core.KindNotFound, "")
}

func testMsgTurnRace(t *testing.T, f *msgFixture) {
	const n = 20
	p := f.profile()
	turns := make([]ports.ChatTurn, n)
	for i := range turns {
		turns[i] = f.turn(p, "shared", 0)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			if _, err := f.m.RecordTurn(f.ctx, turns[i]); err != nil {
				t.Errorf("RecordTurn: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	c, err := f.m.ConversationByRef(f.ctx, p, "shared")
	storeWantNoErr(t, "ConversationByRef", err)
	msgs, err := f.m.ConversationMessages(f.ctx, p, c.ID, 1000)
	storeWantNoErr(t, "ConversationMessages", err)
	if c.MessageCount != 2*n || len(msgs) != 2*n {
		t.Fatalf("one conversation holds %d (%d listed) messages, want %d", c.MessageCount, len(msgs), 2*n)
	}
	f.wantUsage(p, core.MessagingUsage{InboundCount: n, OutboundCount: n})
}

// embed returns enabled embed settings of profileID with a fresh id.
func (f *msgFixture) embed(profileID string) core.EmbedSettings {
	return core.EmbedSettings{
		ProfileID: profileID, PublicID: "emb_" + strings.TrimPrefix(f.id("e"), "e_"),
		Enabled: true, AllowedOrigins: []string{"shop.example.com", "xn--bcher-kva.example"},
		AccentColor: "#0d9488", LauncherIcon: "💬", Greeting: "Hi! How can we help?", ShowLauncher: true, UpdatedAt: f.at(0),
	}
}

func normEmbed(e core.EmbedSettings) core.EmbedSettings {
	e.UpdatedAt = storeNormTime(e.UpdatedAt)
	if len(e.AllowedOrigins) == 0 {
		e.AllowedOrigins = nil
	}
	return e
}

var msgEmbedCases = []msgCase{
	{"Embed", "save_then_read_by_profile_and_by_public_id", testMsgEmbedSave},
	{"Embed", "a_rotated_id_stops_resolving", testMsgEmbedRotate},
	{"Embed", "another_profiles_id_is_embed_id_taken", testMsgEmbedTaken},
	{"Embed", "two_profiles_saving_one_id_at_once_one_wins", testMsgEmbedRace},
}

func testMsgEmbedSave(t *testing.T, f *msgFixture) {
	p := f.profile()
	_, err := f.m.Embed(f.ctx, p)
	storeWantKind(t, err, core.KindNotFound, "")
	e := f.embed(p)
	f.update(p, func(tx ports.MessagingTx) error { return tx.SaveEmbed(f.ctx, e) })
	got, err := f.m.Embed(f.ctx, p)
	storeWantNoErr(t, "Embed", err)
	storeWantEqual(t, "Embed", got, e, normEmbed)
	got, err = f.m.EmbedByPublicID(f.ctx, e.PublicID)
	storeWantNoErr(t, "EmbedByPublicID", err)
	storeWantEqual(t, "EmbedByPublicID", got, e, normEmbed)
	e.Enabled, e.AllowedOrigins, e.Greeting = false, nil, ""
	f.update(p, func(tx ports.MessagingTx) error { return tx.SaveEmbed(f.ctx, e) })
	got, err = f.m.EmbedByPublicID(f.ctx, e.PublicID)
	storeWantNoErr(t, "EmbedByPublicID of a disabled embed", err)
	storeWantEqual(t, "EmbedByPublicID", got, e, normEmbed)
	_, err = f.m.EmbedByPublicID(f.ctx, "emb_unknown")
	storeWantKind(t, err, core.KindNotFound, "")
}

func testMsgEmbedRotate(t *testing.T, f *msgFixture) {
	p := f.profile()
	e := f.embed(p)
	f.update(p, func(tx ports.MessagingTx) error { return tx.SaveEmbed(f.ctx, e) })
	old := e.PublicID
	e.PublicID = f.embed(p).PublicID
	f.update(p, func(tx ports.MessagingTx) error { return tx.SaveEmbed(f.ctx, e) })
	_, err := f.m.EmbedByPublicID(f.ctx, old)
	storeWantKind(t, err, core.KindNotFound, "")
	got, err := f.m.EmbedByPublicID(f.ctx, e.PublicID)
	storeWantNoErr(t, "EmbedByPublicID", err)
	storeWantEqual(t, "EmbedByPublicID", got, e, normEmbed)
	// The old id is free again: another profile may take it.
	q := f.profile()
	e2 := f.embed(q)
	e2.PublicID = old
	f.update(q, func(tx ports.MessagingTx) error { return tx.SaveEmbed(f.ctx, e2) })
}

func testMsgEmbedTaken(t *testing.T, f *msgFixture) {
	p, q := f.profile(), f.profile()
	e := f.embed(p)
	f.update(p, func(tx ports.MessagingTx) error { return tx.SaveEmbed(f.ctx, e) })
	theirs := f.embed(q)
	theirs.PublicID = e.PublicID
	err := f.m.UpdateMessaging(f.ctx, q, func(tx ports.MessagingTx) error { return tx.SaveEmbed(f.ctx, theirs) })
	storeWantKind(t, err, core.KindConflict, "embed_id_taken")
	_, err = f.m.Embed(f.ctx, q)
	storeWantKind(t, err, core.KindNotFound, "")
	got, err := f.m.EmbedByPublicID(f.ctx, e.PublicID)
	storeWantNoErr(t, "EmbedByPublicID", err)
	if got.ProfileID != p {
		t.Fatalf("the embed id resolves to %s, want %s", got.ProfileID, p)
	}
}

func testMsgEmbedRace(t *testing.T, f *msgFixture) {
	const n = 10
	id := f.embed("").PublicID
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		p := f.profile()
		e := f.embed(p)
		e.PublicID = id
		wg.Go(func() {
			<-start
			err := f.m.UpdateMessaging(f.ctx, p, func(tx ports.MessagingTx) error { return tx.SaveEmbed(f.ctx, e) })
			switch {
			case err == nil:
				wins.Add(1)
			case !core.IsKind(err, core.KindConflict):
				t.Errorf("a losing SaveEmbed: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d profiles saved one embed id, want 1", wins.Load())
	}
}
