package bunstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/bunstore"
	"github.com/gellhub/gellhub/adapters/bunstore/buntest"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

// fakeEnqueuer is the suite's bunstore.Enqueuer: before it reports to
// rec (which may refuse), it checks on the transaction it is given that
// the deliveries are there, so every turn of the suite proves that they
// are inserted and queued in one transaction.
type fakeEnqueuer struct {
	rec *testkit.EnqueueRecorder
}

func (e fakeEnqueuer) EnqueueDeliveriesTx(ctx context.Context, tx *sql.Tx, ids []string) error {
	if tx == nil {
		return errors.New("fake enqueuer: no transaction")
	}
	var n int
	q := "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending' AND id IN ('" + strings.Join(ids, "', '") + "')"
	if err := tx.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return fmt.Errorf("fake enqueuer: %w", err)
	}
	if n != len(ids) {
		return fmt.Errorf("fake enqueuer: the transaction holds %d of the %d deliveries", n, len(ids))
	}
	return e.rec.EnqueueTx(ids)
}

func TestWebhookStoreSuite(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			testkit.RunWebhookStoreSuite(t, func(t *testing.T, enq *testkit.EnqueueRecorder) testkit.WebhookSuiteStore {
				s := d.open(t)
				s.SetEnqueuer(fakeEnqueuer{enq})
				return testkit.WebhookSuiteStore{WebhookStoreUnderTest: s, Transactional: true}
			})
		})
	}
}

// webhookTestTurn is a turn of a new conversation with one delivery.
func webhookTestTurn(t *testing.T, profileID string) ports.ChatTurn {
	return ports.ChatTurn{
		ProfileID: profileID, ConversationID: msgID(t, "conv"), Ref: "ref", Channel: "web", AgentID: "agt_x",
		Messages: []core.ConversationMessage{{ID: msgID(t, "cmsg"), Role: core.RoleUser, Content: "a person please", CreatedAt: msgTestTime}},
		Handoff:  true,
		Deliveries: []core.WebhookDelivery{
			{ID: msgID(t, "evt"), Event: core.EventHandoffRequested, Body: []byte(`{"type":"handoff.requested"}`)},
		},
		At: msgTestTime,
	}
}

func TestRecordTurn_deliveries_without_an_enqueuer_are_refused_and_write_nothing(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		ctx := t.Context()
		p := createProfile(t, s).ID
		tr := webhookTestTurn(t, p)
		if _, err := s.RecordTurn(ctx, tr); err == nil {
			t.Fatal("RecordTurn with deliveries and no enqueuer succeeded")
		}
		if _, err := s.ConversationByRef(ctx, p, tr.Ref); !core.IsKind(err, core.KindNotFound) {
			t.Fatalf("ConversationByRef after the refused turn: %v, want KindNotFound", err)
		}
		if _, err := s.Delivery(ctx, tr.Deliveries[0].ID); !core.IsKind(err, core.KindNotFound) {
			t.Fatalf("Delivery after the refused turn: %v, want KindNotFound", err)
		}
		// A turn without deliveries needs none.
		tr.Deliveries = nil
		c, err := s.RecordTurn(ctx, tr)
		if err != nil || !c.HandedOffAt.Equal(msgTestTime) {
			t.Fatalf("RecordTurn without deliveries = %+v, %v", c, err)
		}
	})
}

// TestRecordTurn_a_failed_commit_queues_nothing makes the commit itself
// fail (a deferred constraint that the turn's delivery breaks, checked
// only at COMMIT) after the enqueuer ran: the turn is not stored, and the
// commit's error is returned, not swallowed. The enqueuer's jobs are in
// the same transaction, so they go with it.
func TestRecordTurn_a_failed_commit_queues_nothing(t *testing.T) {
	t.Parallel()
	s := openPostgresOnly(t)
	ctx := t.Context()
	p := createProfile(t, s).ID
	_, err := bunstore.RawDB(s).ExecContext(ctx, `ALTER TABLE webhook_deliveries
		ADD CONSTRAINT test_no_commit FOREIGN KEY (conversation_id) REFERENCES messaging_messages (id)
		DEFERRABLE INITIALLY DEFERRED`)
	if err != nil {
		t.Fatalf("add a deferred constraint: %v", err)
	}
	rec := &testkit.EnqueueRecorder{}
	s.SetEnqueuer(fakeEnqueuer{rec})
	tr := webhookTestTurn(t, p)
	_, err = s.RecordTurn(ctx, tr)
	if err == nil || !strings.Contains(err.Error(), "commit") {
		t.Fatalf("RecordTurn = %v, want the commit's error", err)
	}
	if len(rec.Batches()) != 1 {
		t.Fatalf("the enqueuer ran %d times before the commit, want 1", len(rec.Batches()))
	}
	if _, err := s.ConversationByRef(ctx, p, tr.Ref); !core.IsKind(err, core.KindNotFound) {
		t.Fatalf("ConversationByRef after the failed commit: %v, want KindNotFound", err)
	}
	if _, err := s.Delivery(ctx, tr.Deliveries[0].ID); !core.IsKind(err, core.KindNotFound) {
		t.Fatalf("Delivery after the failed commit: %v, want KindNotFound", err)
	}
}

// openPostgresOnly opens a PostgreSQL store: SQLite has no deferrable
// constraint that can be added to an existing table.
func openPostgresOnly(t *testing.T) *bunstore.Store {
	t.Helper()
	for _, d := range dialects {
		if d.name == "Postgres" {
			return d.open(t)
		}
	}
	t.Fatal("no PostgreSQL dialect")
	return nil
}

// TestWebhooks_schema_guards checks the constraints behind the store's
// rules: an attempt number is stored once, states are the three known,
// and a delivery's attempts go with it.
func TestWebhooks_schema_guards(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		ctx := t.Context()
		p := createProfile(t, s).ID
		s.SetEnqueuer(fakeEnqueuer{&testkit.EnqueueRecorder{}})
		tr := webhookTestTurn(t, p)
		if _, err := s.RecordTurn(ctx, tr); err != nil {
			t.Fatalf("RecordTurn: %v", err)
		}
		id := tr.Deliveries[0].ID
		db := bunstore.RawDB(s)
		insert := func(n int) error {
			_, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO webhook_attempts
				(delivery_id, n, at, url, status_code, duration_ms, error, response)
				VALUES ('%s', %d, CURRENT_TIMESTAMP, 'https://x.example', 200, 5, '', '')`, id, n))
			return err
		}
		if err := insert(1); err != nil {
			t.Fatalf("insert attempt 1: %v", err)
		}
		err := insert(1)
		if err == nil {
			t.Fatal("a second attempt 1 was stored")
		}
		wantKind(t, "a second attempt 1", bunstore.Translate(s, ctx, "test", err), core.KindConflict, "")
		if err := insert(0); err == nil {
			t.Fatal("an attempt 0 was stored")
		}
		if _, err := db.ExecContext(ctx, "UPDATE webhook_deliveries SET state = 'lost' WHERE id = '"+id+"'"); err == nil {
			t.Fatal("an unknown state was stored")
		}
		if _, err := db.ExecContext(ctx, "DELETE FROM webhook_deliveries WHERE id = '"+id+"'"); err != nil {
			t.Fatalf("delete the delivery: %v", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM webhook_attempts WHERE delivery_id = '"+id+"'").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d attempts outlived their delivery (%v)", n, err)
		}
	})
}

// TestRecordSkillCall_keeps_the_configuration checks that the status
// update writes the status columns only.
func TestRecordSkillCall_keeps_the_configuration(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		ctx := t.Context()
		p := createProfile(t, s).ID
		c := core.SkillsConfig{
			ProfileID: p, Enabled: true, WebhookURL: "https://hooks.example.com/", Secret: "s3cret",
			Skills: []core.Skill{{Key: "booking", Label: "Booking", Keywords: []string{"book"}}}, UpdatedAt: msgTestTime,
		}
		if err := s.UpdateMessaging(ctx, p, func(tx ports.MessagingTx) error { return tx.SaveSkillsConfig(ctx, c) }); err != nil {
			t.Fatalf("SaveSkillsConfig: %v", err)
		}
		failure := &core.SkillCallError{At: msgTestTime.Add(time.Minute), Skill: "booking", Error: "timeout"}
		if err := s.RecordSkillCall(ctx, p, failure.At, failure); err != nil {
			t.Fatalf("RecordSkillCall: %v", err)
		}
		got, st, err := s.SkillsConfig(ctx, p)
		if err != nil || got.Secret != c.Secret || !got.UpdatedAt.Equal(c.UpdatedAt) || len(got.Skills) != 1 ||
			len(st.RecentErrors) != 1 || !st.LastCallAt.Equal(failure.At) {
			t.Fatalf("SkillsConfig = %+v, %+v, %v", got, st, err)
		}
	})
}

// TestPurgeDeliveries_attempts_go_with_their_delivery counts the attempt
// rows: a purged delivery's go (ON DELETE CASCADE), a pending one's stay.
func TestPurgeDeliveries_attempts_go_with_their_delivery(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		ctx := t.Context()
		p := createProfile(t, s).ID
		s.SetEnqueuer(fakeEnqueuer{&testkit.EnqueueRecorder{}})
		tr := webhookTestTurn(t, p)
		tr.Deliveries = append(tr.Deliveries, core.WebhookDelivery{ID: msgID(t, "evt"), Event: core.EventHandoffMessage, Body: []byte(`{}`)})
		if _, err := s.RecordTurn(ctx, tr); err != nil {
			t.Fatalf("RecordTurn: %v", err)
		}
		done, pending := tr.Deliveries[0].ID, tr.Deliveries[1].ID
		attempt := func(id string, n int, state core.DeliveryState) {
			t.Helper()
			at := msgTestTime.Add(time.Duration(n) * time.Minute)
			d := core.WebhookDelivery{ID: id, State: state, AttemptCount: n, UpdatedAt: at}
			if state == core.DeliveryPending {
				d.NextAttemptAt = at.Add(time.Hour)
			} else {
				d.DeliveredAt = at
			}
			a := core.WebhookAttempt{N: n, At: at, URL: "https://hooks.example.com/", StatusCode: 500, Error: "status 500"}
			if err := s.RecordAttempt(ctx, d, a); err != nil {
				t.Fatalf("RecordAttempt(%s, %d): %v", id, n, err)
			}
		}
		attempt(done, 1, core.DeliveryPending)
		attempt(done, 2, core.DeliveryDelivered)
		attempt(pending, 1, core.DeliveryPending)
		n, err := s.PurgeDeliveries(ctx, msgTestTime.Add(24*time.Hour), 10)
		if err != nil || n != 1 {
			t.Fatalf("PurgeDeliveries = %d, %v; want 1", n, err)
		}
		if got := countRows(t, s, "webhook_attempts", "delivery_id = '"+done+"'"); got != 0 {
			t.Errorf("%d attempts outlived their purged delivery", got)
		}
		if got := countRows(t, s, "webhook_attempts", "delivery_id = '"+pending+"'"); got != 1 {
			t.Errorf("the pending delivery has %d attempts left, want 1", got)
		}
	})
}

// TestPurgeDeliveriesPlan checks on PostgreSQL, over 100,000 deliveries
// (mostly finished), that a batch of the purge reads its rows off the
// partial index of finished deliveries, without a sort or a scan of the
// table, and finds each row to delete by its key (a plain IN would hash
// the batch and scan the table here).
func TestPurgeDeliveriesPlan(t *testing.T) {
	t.Parallel()
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("SKIP the purge's plan: it seeds 100,000 deliveries, which -short leaves out (never skipped in CI)")
	}
	s := seedDeliveriesForPlans(t)
	for _, before := range []time.Time{msgTestTime.Add(30 * 24 * time.Hour), msgTestTime.Add(365 * 24 * time.Hour)} {
		q := bunstore.PurgeDeliveriesSQL(s, before, 1000)
		plan := explain(t, s, q)
		if !strings.Contains(plan, "webhook_deliveries_finished_idx") || !strings.Contains(plan, "webhook_deliveries_pkey") ||
			strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Sort") {
			t.Errorf("the purge does not walk the finished deliveries' index:\n%s\n%s", q, plan)
		}
	}
}

// seedDeliveriesForPlans opens a PostgreSQL store holding 100,000
// deliveries of one profile, a minute apart from msgTestTime: every 50th
// pending (due 5 minutes after it was made), every 7th of the others
// failed, the rest delivered; then ANALYZEs the table, so that EXPLAIN
// shows the plans a large table gets.
func seedDeliveriesForPlans(t *testing.T) *bunstore.Store {
	t.Helper()
	s := openPostgresOnly(t)
	ctx := t.Context()
	p := createProfile(t, s).ID
	db := bunstore.RawDB(s)
	_, err := db.ExecContext(ctx, `INSERT INTO webhook_deliveries
			(id, profile_id, event, conversation_id, body, state, attempt_count, next_attempt_at, created_at, updated_at, delivered_at)
		SELECT 'evt_' || lpad(i::text, 8, '0'), $1, 'handoff.message', 'conv_x', '\x7b7d'::bytea,
			CASE WHEN i % 50 = 0 THEN 'pending' WHEN i % 7 = 0 THEN 'failed' ELSE 'delivered' END,
			1, CASE WHEN i % 50 = 0 THEN ts + interval '5 minutes' END, ts, ts,
			CASE WHEN i % 50 <> 0 AND i % 7 <> 0 THEN ts END
		FROM generate_series(1, 100000) AS i,
			LATERAL (SELECT $2::timestamptz + i * interval '1 minute') AS t(ts)`, p, msgTestTime)
	if err != nil {
		t.Fatalf("seed deliveries: %v", err)
	}
	if _, err := db.ExecContext(ctx, "ANALYZE webhook_deliveries"); err != nil {
		t.Fatalf("ANALYZE: %v", err)
	}
	return s
}

// TestPurgeDeliveriesPlanSQLite checks that SQLite reads a batch off the
// partial index of finished deliveries too, without a sort.
func TestPurgeDeliveriesPlanSQLite(t *testing.T) {
	t.Parallel()
	s := buntest.OpenSQLite(t)
	q := bunstore.PurgeDeliveriesSQL(s, msgTestTime, 1000)
	p := explainSQLite(t, s, q)
	if !strings.Contains(p, "INDEX webhook_deliveries_finished_idx") || strings.Contains(p, "TEMP B-TREE") {
		t.Errorf("the purge does not walk the finished deliveries' index:\n%s\n%s", q, p)
	}
}

// TestStalledDeliveriesPlan checks on PostgreSQL, over 100,000
// deliveries (mostly finished), that a page of the sweep, the first one
// and one after a cursor, reads its rows off the partial index of pending
// deliveries, without a sort or a scan of the table.
func TestStalledDeliveriesPlan(t *testing.T) {
	t.Parallel()
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("SKIP the sweep's plan: it seeds 100,000 deliveries, which -short leaves out (never skipped in CI)")
	}
	s := seedDeliveriesForPlans(t)
	ctx := t.Context()
	for _, before := range []time.Time{msgTestTime.Add(30 * 24 * time.Hour), msgTestTime.Add(365 * 24 * time.Hour)} {
		for _, after := range []string{"", "evt_00001000"} {
			q := bunstore.StalledDeliveriesSQL(s, before, after, 500)
			plan := explain(t, s, q)
			if !strings.Contains(plan, "webhook_deliveries_pending_idx") || strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Sort") {
				t.Errorf("the sweep does not walk the pending deliveries' index:\n%s\n%s", q, plan)
			}
		}
	}
	// The seed is what the plan was read on: page 2 follows page 1.
	first, err := s.StalledDeliveries(ctx, msgTestTime.Add(365*24*time.Hour), "", 500)
	if err != nil || len(first) != 500 || first[0] != "evt_00000050" {
		t.Fatalf("StalledDeliveries = %d ids from %v, %v", len(first), first[:min(len(first), 1)], err)
	}
	next, err := s.StalledDeliveries(ctx, msgTestTime.Add(365*24*time.Hour), first[499], 500)
	if err != nil || len(next) != 500 || next[0] != fmt.Sprintf("evt_%08d", 501*50) {
		t.Fatalf("StalledDeliveries after %s = %d ids from %v, %v", first[499], len(next), next[:min(len(next), 1)], err)
	}
}

// TestStalledDeliveriesPlanSQLite checks that SQLite reads a page of the
// sweep off the partial index of pending deliveries too, without a sort,
// the first one and one after a cursor.
func TestStalledDeliveriesPlanSQLite(t *testing.T) {
	t.Parallel()
	s := buntest.OpenSQLite(t)
	for _, after := range []string{"", "evt_x"} {
		q := bunstore.StalledDeliveriesSQL(s, msgTestTime, after, 500)
		p := explainSQLite(t, s, q)
		if !strings.Contains(p, "INDEX webhook_deliveries_pending_idx") || strings.Contains(p, "TEMP B-TREE") || strings.Contains(p, "SCAN webhook_deliveries") {
			t.Errorf("the sweep does not walk the pending deliveries' index:\n%s\n%s", q, p)
		}
	}
}

// explainSQLite returns SQLite's query plan of query, one step a line.
func explainSQLite(t *testing.T, s *bunstore.Store, query string) string {
	t.Helper()
	rows, err := bunstore.RawDB(s).QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
