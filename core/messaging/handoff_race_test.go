package messaging_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

// lateConversationStore plays a concurrent first turn: the first time the
// core looks the conversation of ref up, another turn creates it right
// after the lookup answered that there is none.
type lateConversationStore struct {
	*racingBase
	once sync.Once
	ref  string
	turn ports.ChatTurn // the concurrent turn
}

type racingBase = testkit.Store

func (s *lateConversationStore) ConversationByRef(ctx context.Context, profileID, ref string) (core.Conversation, error) {
	c, err := s.racingBase.ConversationByRef(ctx, profileID, ref)
	if ref == s.ref && core.IsKind(err, core.KindNotFound) {
		s.once.Do(func() { _, err2 := s.racingBase.RecordTurn(ctx, s.turn); must(err2) })
	}
	return c, err
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// TestHandoffRacingFirstTurn: a handoff turn that loses the race to create
// its conversation runs again on the conversation the other turn created,
// so that its event names the conversation that exists.
func TestHandoffRacingFirstTurn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u, _ := f.handoffMerchant(t, 5)
	const ref = "whatsapp:+15550001111:race"
	st := &lateConversationStore{racingBase: f.store, ref: ref, turn: ports.ChatTurn{
		ProfileID: u.profileID, ConversationID: "conv_concurrent0001", Ref: ref, Channel: "api", AgentID: "agt_other",
		Messages: []core.ConversationMessage{{ID: "cmsg_concurrent0001", Role: core.RoleUser, Content: "hello", CreatedAt: start}},
		At:       start,
	}}
	f.cfg.Store = st
	f.rebuild()

	r, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: ref, Messages: userMsg("I want to talk to a human")})
	require.NoError(t, err)
	require.True(t, r.Handoff)
	require.Equal(t, "conv_concurrent0001", r.ConversationID)
	ids := f.queuedIDs()
	require.Len(t, ids, 1, "one event: the refused try queued nothing")
	d := f.delivery(t, ids[0])
	require.Equal(t, "conv_concurrent0001", d.ConversationID)
	var body struct {
		ConversationID string `json:"conversationId"`
	}
	require.NoError(t, json.Unmarshal(d.Body, &body))
	require.Equal(t, "conv_concurrent0001", body.ConversationID, "the event names the conversation that exists")
	require.False(t, f.conversation(t, u, "conv_concurrent0001").HandedOffAt.IsZero())
	require.Len(t, f.messages(t, u, "conv_concurrent0001"), 3, "the other turn's message, then this turn's two")
}
