package bunstore_test

import (
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/bunstore"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

func TestMessagingStoreSuite(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			testkit.RunMessagingStoreSuite(t, func(t *testing.T) testkit.MessagingStoreUnderTest { return d.open(t) })
		})
	}
}

// msgID returns a fresh id with prefix.
func msgID(t *testing.T, prefix string) string {
	t.Helper()
	v, err := core.NewID(prefix, time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var msgTestTime = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)

func msgTestAgent(t *testing.T, profileID, name string) core.Agent {
	return core.Agent{
		ID: msgID(t, "agt"), ProfileID: profileID, Name: name, BotDisplayName: name,
		CreatedAt: msgTestTime, UpdatedAt: msgTestTime,
	}
}

func msgTestEmbed(t *testing.T, profileID string) core.EmbedSettings {
	return core.EmbedSettings{
		ProfileID: profileID, PublicID: msgID(t, "emb"), Enabled: true, AllowedOrigins: []string{"shop.example.com"},
		AccentColor: "#0d9488", LauncherIcon: "💬", ShowLauncher: true, UpdatedAt: msgTestTime,
	}
}

// TestMessagingUpdate_refused_writes_change_nothing_and_fn_goes_on checks
// that a MessagingTx write that is refused leaves the transaction usable
// (PostgreSQL aborts a transaction at its first failed statement) and
// writes nothing, so fn can go on and commit its other changes.
func TestMessagingUpdate_refused_writes_change_nothing_and_fn_goes_on(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		ctx := t.Context()
		p, other := createProfile(t, s).ID, createProfile(t, s).ID
		theirs := msgTestEmbed(t, other)
		theirAgent := msgTestAgent(t, other, "Theirs")
		err := s.UpdateMessaging(ctx, other, func(tx ports.MessagingTx) error {
			if err := tx.CreateAgent(ctx, theirAgent); err != nil {
				return err
			}
			return tx.SaveEmbed(ctx, theirs)
		})
		if err != nil {
			t.Fatalf("UpdateMessaging: %v", err)
		}
		a := msgTestAgent(t, p, "A")
		src := core.KnowledgeSource{ID: msgID(t, "src"), AgentID: a.ID, Kind: core.KnowledgeText, Content: "x", CreatedAt: msgTestTime}
		err = s.UpdateMessaging(ctx, p, func(tx ports.MessagingTx) error {
			if err := tx.CreateAgent(ctx, a); err != nil {
				return err
			}
			taken := a
			wantKind(t, "CreateAgent of a taken id", tx.CreateAgent(ctx, taken), core.KindConflict, "")
			wantKind(t, "CreateAgent of another profile's id", tx.CreateAgent(ctx, theirAgent), core.KindConflict, "")
			wantKind(t, "SetDefaultAgent of another profile's agent", tx.SetDefaultAgent(ctx, theirAgent.ID), core.KindNotFound, "")
			wantKind(t, "UpdateAgent of another profile's agent", tx.UpdateAgent(ctx, theirAgent), core.KindNotFound, "")
			wantKind(t, "DeleteAgent of another profile's agent", tx.DeleteAgent(ctx, theirAgent.ID), core.KindNotFound, "")
			wantKind(t, "CreateSource of another profile's agent", tx.CreateSource(ctx,
				core.KnowledgeSource{ID: msgID(t, "src"), AgentID: theirAgent.ID, Kind: core.KnowledgeText, CreatedAt: msgTestTime}),
				core.KindNotFound, "")
			if err := tx.CreateSource(ctx, src); err != nil {
				return err
			}
			wantKind(t, "CreateSource of a taken id", tx.CreateSource(ctx, src), core.KindConflict, "")
			wantKind(t, "DeleteSource of an unknown source", tx.DeleteSource(ctx, a.ID, msgID(t, "src")), core.KindNotFound, "")
			mine := msgTestEmbed(t, p)
			mine.PublicID = theirs.PublicID
			wantKind(t, "SaveEmbed of a taken id", tx.SaveEmbed(ctx, mine), core.KindConflict, "embed_id_taken")
			if _, err := tx.Embed(ctx); !core.IsKind(err, core.KindNotFound) {
				t.Errorf("tx.Embed after a refused save: %v, want KindNotFound", err)
			}
			// The transaction goes on.
			if err := tx.SetDefaultAgent(ctx, a.ID); err != nil {
				return err
			}
			return tx.SaveEmbed(ctx, msgTestEmbed(t, p))
		})
		if err != nil {
			t.Fatalf("UpdateMessaging after refused writes: %v", err)
		}
		got, err := s.DefaultAgent(ctx, p)
		if err != nil || got.ID != a.ID || got.SourcesCount != 1 {
			t.Fatalf("DefaultAgent = %+v, %v; want %s with one source", got, err, a.ID)
		}
		if e, err := s.EmbedByPublicID(ctx, theirs.PublicID); err != nil || e.ProfileID != other {
			t.Fatalf("EmbedByPublicID(theirs) = %+v, %v", e, err)
		}
		if as, err := s.Agents(ctx, other); err != nil || len(as) != 1 || as[0].Name != "Theirs" {
			t.Fatalf("the other profile's agents = %+v, %v", as, err)
		}
	})
}

// TestMessagingRecordTurn_100_parallel_paid_turns_against_50_credits checks the
// issue's race at the store: exactly 50 turns are recorded and charged,
// the others write nothing, and the balance is the ledger's sum.
func TestMessagingRecordTurn_100_parallel_paid_turns_against_50_credits(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		const n, credits = 100, 50
		ctx := t.Context()
		p := createProfile(t, s).ID
		if ok, err := s.GrantCredits(ctx, core.CreditEntry{
			ID: msgID(t, "cred"), ProfileID: p, Amount: credits, Reason: core.CreditMonthlyGrant, Key: "monthly:2026-08", CreatedAt: msgTestTime,
		}); err != nil || !ok {
			t.Fatalf("GrantCredits = %v, %v", ok, err)
		}
		turns := make([]ports.ChatTurn, n)
		for i := range turns {
			turns[i] = ports.ChatTurn{
				ProfileID: p, ConversationID: msgID(t, "conv"), Ref: "shared", Channel: "api", AgentID: "agt_x",
				Messages: []core.ConversationMessage{
					{ID: msgID(t, "cmsg"), Role: core.RoleUser, Content: "Hello", CreatedAt: msgTestTime},
					{ID: msgID(t, "cmsg"), Role: core.RoleAssistant, Content: "Hi", CreatedAt: msgTestTime},
				},
				Charge: &core.CreditEntry{ID: msgID(t, "cred"), Amount: 1, Reason: core.CreditChatTurn, CreatedAt: msgTestTime},
				At:     msgTestTime,
			}
		}
		var ok, short atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, err := s.RecordTurn(ctx, turns[i])
				switch {
				case err == nil:
					ok.Add(1)
				case core.IsKind(err, core.KindPaymentRequired):
					short.Add(1)
				default:
					t.Errorf("RecordTurn: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if ok.Load() != credits || short.Load() != n-credits {
			t.Fatalf("%d turns recorded, %d short; want %d and %d", ok.Load(), short.Load(), credits, n-credits)
		}
		u, err := s.MessagingUsage(ctx, p)
		if err != nil || u != (core.MessagingUsage{InboundCount: credits, OutboundCount: credits}) {
			t.Fatalf("MessagingUsage = %+v, %v", u, err)
		}
		c, err := s.ConversationByRef(ctx, p, "shared")
		if err != nil || c.MessageCount != 2*credits {
			t.Fatalf("ConversationByRef = %+v, %v; want %d messages", c, err, 2*credits)
		}
		var sum, entries int64
		err = bunstore.RawDB(s).QueryRowContext(ctx,
			"SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM messaging_credit_entries WHERE profile_id = '"+p+"'").Scan(&sum, &entries)
		if err != nil || sum != 0 || entries != 1+credits {
			t.Fatalf("the ledger sums to %d over %d entries (%v); want 0 over %d", sum, entries, err, 1+credits)
		}
	})
}

// TestMessaging_default_agent_index_refuses_a_second_default checks the
// guard behind the core's rule: the database itself refuses two defaults.
func TestMessaging_default_agent_index_refuses_a_second_default(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		ctx := t.Context()
		p := createProfile(t, s).ID
		a, b := msgTestAgent(t, p, "A"), msgTestAgent(t, p, "B")
		err := s.UpdateMessaging(ctx, p, func(tx ports.MessagingTx) error {
			for _, x := range []core.Agent{a, b} {
				if err := tx.CreateAgent(ctx, x); err != nil {
					return err
				}
			}
			return tx.SetDefaultAgent(ctx, a.ID)
		})
		if err != nil {
			t.Fatalf("UpdateMessaging: %v", err)
		}
		_, err = bunstore.RawDB(s).ExecContext(ctx, "UPDATE messaging_agents SET is_default = TRUE WHERE id = '"+b.ID+"'")
		if err == nil {
			t.Fatal("a second default agent was stored")
		}
		wantKind(t, "a second default", bunstore.Translate(s, ctx, "test", err), core.KindConflict, "")
	})
}
