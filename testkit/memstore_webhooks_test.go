package testkit_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

var memWebhookTime = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)

func memID(t *testing.T, prefix string) string {
	t.Helper()
	id, err := core.NewID(prefix, memWebhookTime, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// memProfile creates a bare profile in s.
func memProfile(t *testing.T, s *testkit.Store) string {
	t.Helper()
	id := memID(t, "prf")
	err := s.CreateAccount(t.Context(), core.Account{Profile: core.Profile{ID: id, EmailNormalized: id + "@example.com"}})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return id
}

// memHandoffTurn is a handoff turn with one delivery.
func memHandoffTurn(t *testing.T, profileID string) ports.ChatTurn {
	return ports.ChatTurn{
		ProfileID: profileID, ConversationID: memID(t, "conv"), Ref: "ref", Channel: "web", AgentID: "agt_x",
		Messages: []core.ConversationMessage{{ID: memID(t, "cmsg"), Role: core.RoleUser, Content: "a person please", CreatedAt: memWebhookTime}},
		Handoff:  true,
		Deliveries: []core.WebhookDelivery{
			{ID: memID(t, "evt"), Event: core.EventHandoffRequested, Body: []byte(`{"type":"handoff.requested"}`)},
		},
		At: memWebhookTime,
	}
}

func TestStore_RecordTurn_deliveries_without_an_enqueuer_are_refused_and_write_nothing(t *testing.T) {
	t.Parallel()
	s := testkit.NewStore()
	p := memProfile(t, s)
	tr := memHandoffTurn(t, p)
	if _, err := s.RecordTurn(t.Context(), tr); err == nil {
		t.Fatal("RecordTurn with deliveries and no enqueuer succeeded")
	}
	if _, err := s.ConversationByRef(t.Context(), p, tr.Ref); !core.IsKind(err, core.KindNotFound) {
		t.Fatalf("ConversationByRef after the refused turn: %v", err)
	}
	if _, err := s.Delivery(t.Context(), tr.Deliveries[0].ID); !core.IsKind(err, core.KindNotFound) {
		t.Fatalf("Delivery after the refused turn: %v", err)
	}
}

// TestStore_RecordTurn_enqueues_after_the_turn_outside_the_lock: the
// enqueuer may read the store (it would deadlock under the lock) and finds
// the turn applied.
func TestStore_RecordTurn_enqueues_after_the_turn_outside_the_lock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := testkit.NewStore()
	p := memProfile(t, s)
	tr := memHandoffTurn(t, p)
	called := 0
	s.SetEnqueuer(func(ids []string) {
		called++
		d, err := s.Delivery(ctx, ids[0])
		if err != nil || d.State != core.DeliveryPending {
			t.Errorf("the enqueuer reads %+v, %v; want the pending delivery", d, err)
		}
		if c, err := s.Conversation(ctx, p, d.ConversationID); err != nil || c.HandedOffAt.IsZero() {
			t.Errorf("the enqueuer reads the conversation %+v, %v; want it handed off", c, err)
		}
	})
	if _, err := s.RecordTurn(ctx, tr); err != nil {
		t.Fatalf("RecordTurn: %v", err)
	}
	if called != 1 {
		t.Fatalf("the enqueuer was called %d times", called)
	}
}

// TestMemQueue_delivers_a_memstore_turns_delivery wires the two as an
// embedder would: the handler attempts the delivery and records it.
func TestMemQueue_delivers_a_memstore_turns_delivery(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := testkit.NewStore()
	done := make(chan string, 1)
	q := testkit.NewMemQueue(func(ctx context.Context, id string) (time.Duration, bool, error) {
		d, err := s.Delivery(ctx, id)
		if err != nil {
			return 0, false, err
		}
		at := time.Now()
		d.State, d.AttemptCount, d.NextAttemptAt, d.DeliveredAt, d.UpdatedAt = core.DeliveryDelivered, 1, time.Time{}, at, at
		err = s.RecordAttempt(ctx, d, core.WebhookAttempt{DeliveryID: id, N: 1, At: at, URL: "https://inbox.example", StatusCode: 204})
		if err != nil {
			return 0, false, err
		}
		done <- id
		return 0, true, nil
	})
	defer q.Close()
	s.SetEnqueuer(q.Enqueue)
	p := memProfile(t, s)
	tr := memHandoffTurn(t, p)
	if _, err := s.RecordTurn(ctx, tr); err != nil {
		t.Fatalf("RecordTurn: %v", err)
	}
	select {
	case id := <-done:
		if id != tr.Deliveries[0].ID {
			t.Fatalf("delivered %s, want %s", id, tr.Deliveries[0].ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery was not attempted")
	}
	ds, err := s.Deliveries(ctx, p, ports.DeliveryQuery{Limit: 10})
	if err != nil || len(ds) != 1 || ds[0].State != core.DeliveryDelivered || len(ds[0].Attempts) != 1 {
		t.Fatalf("Deliveries = %+v, %v", ds, err)
	}
}
