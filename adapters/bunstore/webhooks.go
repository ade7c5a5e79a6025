package bunstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// This file holds the merchants' and partners' webhooks: the skills and
// handoff configurations (migrations/*/0008_webhooks.sql), the skills
// status, and the outgoing deliveries with their attempts
// (ports.WebhookStore).

var _ ports.WebhookStore = (*Store)(nil)

// Enqueuer queues background jobs inside the transaction of the change
// that causes them (River's transactional insert, adapters/riverjobs): a
// job exists exactly when the change committed.
type Enqueuer interface {
	// EnqueueDeliveriesTx queues one delivery job per id on tx, which it
	// must use for every statement and must not commit or keep. Its error
	// rolls the change back.
	EnqueueDeliveriesTx(ctx context.Context, tx *sql.Tx, ids []string) error
}

// skillsConfigRow is a messaging_skills_configs row: the configuration,
// and the status columns that only RecordSkillCall writes.
type skillsConfigRow struct {
	bun.BaseModel `bun:"table:messaging_skills_configs"`

	ProfileID     string     `bun:"profile_id,pk"`
	Enabled       bool       `bun:"enabled"`
	WebhookURL    string     `bun:"webhook_url"`
	Secret        string     `bun:"secret"`
	Skills        string     `bun:"skills"` // JSON array of skillJSON
	UpdatedAt     time.Time  `bun:"updated_at"`
	LastCallAt    *time.Time `bun:"last_call_at"`
	LastSuccessAt *time.Time `bun:"last_success_at"`
	RecentErrors  string     `bun:"recent_errors"` // JSON array of skillErrorJSON, newest first
}

// skillJSON is one stored skill.
type skillJSON struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Keywords []string `json:"keywords"`
}

// skillErrorJSON is one stored failed skill call.
type skillErrorJSON struct {
	At    time.Time `json:"at"` // RFC 3339, UTC
	Skill string    `json:"skill"`
	Error string    `json:"error"`
}

// skillsJSON encodes skills ("[]" for none; a skill without keywords has
// "keywords": []).
func skillsJSON(skills []core.Skill) (string, error) {
	out := make([]skillJSON, len(skills))
	for i, sk := range skills {
		out[i] = skillJSON{Key: sk.Key, Label: sk.Label, Keywords: sk.Keywords}
		if out[i].Keywords == nil {
			out[i].Keywords = []string{}
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode skills: %w", err)
	}
	return string(b), nil
}

// skillErrorsJSON encodes a status's recent errors ("[]" for none).
func skillErrorsJSON(errs []core.SkillCallError) (string, error) {
	out := make([]skillErrorJSON, len(errs))
	for i, e := range errs {
		out[i] = skillErrorJSON{At: e.At.UTC(), Skill: e.Skill, Error: e.Error}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode skill errors: %w", err)
	}
	return string(b), nil
}

// config decodes the row's configuration; none of its lists is empty
// rather than nil.
func (r skillsConfigRow) config() (core.SkillsConfig, error) {
	var skills []skillJSON
	if err := json.Unmarshal([]byte(r.Skills), &skills); err != nil {
		return core.SkillsConfig{}, fmt.Errorf("decode skills of profile %s: %w", r.ProfileID, err)
	}
	c := core.SkillsConfig{
		ProfileID: r.ProfileID, Enabled: r.Enabled, WebhookURL: r.WebhookURL, Secret: r.Secret,
		UpdatedAt: r.UpdatedAt.UTC(),
	}
	if len(skills) > 0 {
		c.Skills = make([]core.Skill, len(skills))
		for i, sk := range skills {
			c.Skills[i] = core.Skill{Key: sk.Key, Label: sk.Label, Keywords: sk.Keywords}
			if len(sk.Keywords) == 0 {
				c.Skills[i].Keywords = nil
			}
		}
	}
	return c, nil
}

// status decodes the row's status.
func (r skillsConfigRow) status() (core.SkillsStatus, error) {
	var errs []skillErrorJSON
	if err := json.Unmarshal([]byte(r.RecentErrors), &errs); err != nil {
		return core.SkillsStatus{}, fmt.Errorf("decode skill errors of profile %s: %w", r.ProfileID, err)
	}
	var st core.SkillsStatus
	if r.LastCallAt != nil {
		st.LastCallAt = r.LastCallAt.UTC()
	}
	if r.LastSuccessAt != nil {
		st.LastSuccessAt = r.LastSuccessAt.UTC()
	}
	if len(errs) > 0 {
		st.RecentErrors = make([]core.SkillCallError, len(errs))
		for i, e := range errs {
			st.RecentErrors[i] = core.SkillCallError{At: e.At.UTC(), Skill: e.Skill, Error: e.Error}
		}
	}
	return st, nil
}

// handoffConfigRow is a messaging_handoff_configs row.
type handoffConfigRow struct {
	bun.BaseModel `bun:"table:messaging_handoff_configs"`

	ProfileID  string    `bun:"profile_id,pk"`
	WebhookURL string    `bun:"webhook_url"`
	Secret     string    `bun:"secret"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

func (r handoffConfigRow) core() core.HandoffConfig {
	return core.HandoffConfig{ProfileID: r.ProfileID, WebhookURL: r.WebhookURL, Secret: r.Secret, UpdatedAt: r.UpdatedAt.UTC()}
}

// noConfig is what a read of a configuration that the profile does not
// have answers: nil (the zero value) for a known profile, else
// core.KindNotFound.
func (r msgReader) noConfig(ctx context.Context) error {
	ok, err := profileExists(ctx, r.db, r.profileID)
	if err != nil {
		return err
	}
	if !ok {
		return core.NotFound("profile")
	}
	return nil
}

func (r msgReader) skillsConfig(ctx context.Context) (core.SkillsConfig, core.SkillsStatus, error) {
	var row skillsConfigRow
	err := r.db.NewSelect().Model(&row).Where("profile_id = ?", r.profileID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return core.SkillsConfig{}, core.SkillsStatus{}, r.noConfig(ctx)
	}
	if err != nil {
		return core.SkillsConfig{}, core.SkillsStatus{}, err
	}
	c, err := row.config()
	if err != nil {
		return core.SkillsConfig{}, core.SkillsStatus{}, err
	}
	st, err := row.status()
	if err != nil {
		return core.SkillsConfig{}, core.SkillsStatus{}, err
	}
	return c, st, nil
}

func (r msgReader) handoffConfig(ctx context.Context) (core.HandoffConfig, error) {
	var row handoffConfigRow
	err := r.db.NewSelect().Model(&row).Where("profile_id = ?", r.profileID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return core.HandoffConfig{}, r.noConfig(ctx)
	}
	if err != nil {
		return core.HandoffConfig{}, err
	}
	return row.core(), nil
}

// SkillsConfig implements ports.MessagingStore: the zero values for a
// profile without a configuration, core.KindNotFound for an unknown one.
func (s *Store) SkillsConfig(ctx context.Context, profileID string) (core.SkillsConfig, core.SkillsStatus, error) {
	c, st, err := msgReader{s.db, profileID}.skillsConfig(ctx)
	return c, st, s.fail(ctx, "skills config", err)
}

// HandoffConfig implements ports.MessagingStore: the zero value for a
// profile without a configuration, core.KindNotFound for an unknown one.
func (s *Store) HandoffConfig(ctx context.Context, profileID string) (core.HandoffConfig, error) {
	c, err := msgReader{s.db, profileID}.handoffConfig(ctx)
	return c, s.fail(ctx, "handoff config", err)
}

// RecordSkillCall implements ports.MessagingStore in one transaction that
// reads the status under the configuration row's lock (SELECT … FOR
// UPDATE on PostgreSQL; SQLite's IMMEDIATE transaction), updates it and
// writes it back: concurrent calls wait for each other and lose no update.
// A profile without a configuration records nothing; an unknown profile is
// core.KindNotFound.
func (s *Store) RecordSkillCall(ctx context.Context, profileID string, at time.Time, failure *core.SkillCallError) error {
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var row skillsConfigRow
		sel := tx.NewSelect().Model(&row).Column("profile_id", "last_call_at", "last_success_at", "recent_errors").
			Where("profile_id = ?", profileID)
		if err := s.forUpdate(sel).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return msgReader{tx, profileID}.noConfig(ctx)
			}
			return fmt.Errorf("lock skills status: %w", err)
		}
		st, err := row.status()
		if err != nil {
			return err
		}
		st.LastCallAt = at
		if failure == nil {
			st.LastSuccessAt = at
		} else {
			st.RecentErrors = append([]core.SkillCallError{*failure}, st.RecentErrors[:min(len(st.RecentErrors), core.MaxSkillErrors-1)]...)
		}
		recent, err := skillErrorsJSON(st.RecentErrors)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE messaging_skills_configs
			SET last_call_at = ?, last_success_at = ?, recent_errors = ?
			WHERE profile_id = ?`,
			timeOrNull(st.LastCallAt), timeOrNull(st.LastSuccessAt), recent, profileID)
		if err != nil {
			return fmt.Errorf("write skills status: %w", err)
		}
		return nil
	})
	return s.fail(ctx, "record skill call", err)
}

// timeOrNull is t in UTC, or nil (NULL) when t is zero.
func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// deliveryRow is a webhook_deliveries row.
type deliveryRow struct {
	bun.BaseModel `bun:"table:webhook_deliveries"`

	ID             string     `bun:"id,pk"`
	ProfileID      string     `bun:"profile_id"`
	Event          string     `bun:"event"`
	ConversationID string     `bun:"conversation_id"`
	Body           []byte     `bun:"body"`
	State          string     `bun:"state"`
	AttemptCount   int        `bun:"attempt_count"`
	NextAttemptAt  *time.Time `bun:"next_attempt_at"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
	DeliveredAt    *time.Time `bun:"delivered_at"`
}

// utcOrNil is t in UTC, or nil when t is zero.
func utcOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// zeroOrUTC is *t in UTC, or the zero time when t is nil.
func zeroOrUTC(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func newDeliveryRow(d core.WebhookDelivery) deliveryRow {
	body := d.Body
	if body == nil {
		body = []byte{}
	}
	return deliveryRow{
		ID: d.ID, ProfileID: d.ProfileID, Event: d.Event, ConversationID: d.ConversationID, Body: body,
		State: string(d.State), AttemptCount: d.AttemptCount, NextAttemptAt: utcOrNil(d.NextAttemptAt),
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), DeliveredAt: utcOrNil(d.DeliveredAt),
	}
}

func (r deliveryRow) core() core.WebhookDelivery {
	return core.WebhookDelivery{
		ID: r.ID, ProfileID: r.ProfileID, Event: r.Event, ConversationID: r.ConversationID, Body: r.Body,
		State: core.DeliveryState(r.State), AttemptCount: r.AttemptCount, NextAttemptAt: zeroOrUTC(r.NextAttemptAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), DeliveredAt: zeroOrUTC(r.DeliveredAt),
	}
}

// attemptRow is a webhook_attempts row; the duration is in milliseconds.
type attemptRow struct {
	bun.BaseModel `bun:"table:webhook_attempts"`

	DeliveryID string    `bun:"delivery_id,pk"`
	N          int       `bun:"n,pk"`
	At         time.Time `bun:"at"`
	URL        string    `bun:"url"`
	StatusCode int       `bun:"status_code"`
	DurationMS int64     `bun:"duration_ms"`
	Error      string    `bun:"error"`
	Response   string    `bun:"response"`
}

func (r attemptRow) core() core.WebhookAttempt {
	return core.WebhookAttempt{
		DeliveryID: r.DeliveryID, N: r.N, At: r.At.UTC(), URL: r.URL, StatusCode: r.StatusCode,
		Duration: time.Duration(r.DurationMS) * time.Millisecond, Error: r.Error, Response: r.Response,
	}
}

// insertDeliveries stores t's deliveries, pending, of conversation
// conversationID, and queues them with e on tx: RecordTurn's last step.
func insertDeliveries(ctx context.Context, tx bun.Tx, e Enqueuer, t ports.ChatTurn, conversationID string) error {
	rows := make([]deliveryRow, len(t.Deliveries))
	ids := make([]string, len(t.Deliveries))
	for i, d := range t.Deliveries {
		d.ProfileID, d.ConversationID, d.State = t.ProfileID, conversationID, core.DeliveryPending
		d.AttemptCount, d.NextAttemptAt, d.CreatedAt, d.UpdatedAt, d.DeliveredAt = 0, t.At, t.At, t.At, time.Time{}
		rows[i], ids[i] = newDeliveryRow(d), d.ID
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("insert webhook deliveries: %w", err)
	}
	if err := e.EnqueueDeliveriesTx(ctx, tx.Tx, ids); err != nil {
		return fmt.Errorf("enqueue webhook deliveries: %w", err)
	}
	return nil
}

// Delivery implements ports.WebhookStore.
func (s *Store) Delivery(ctx context.Context, id string) (core.WebhookDelivery, error) {
	var row deliveryRow
	if err := s.db.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return core.WebhookDelivery{}, s.fail(ctx, "delivery", notFound(err, "delivery"))
	}
	return row.core(), nil
}

// RecordAttempt implements ports.WebhookStore in one transaction: the
// UPDATE of the delivery comes first, so an unknown delivery is
// core.KindNotFound and the row's lock makes racing workers wait; then the
// attempt is inserted ON CONFLICT (delivery_id, n) DO NOTHING, and when an
// attempt of that number exists already the transaction is rolled back:
// core.KindConflict "attempt_recorded", nothing changed. The attempt
// belongs to d (a.DeliveryID is d.ID when empty; another id is
// core.KindInvalid).
func (s *Store) RecordAttempt(ctx context.Context, d core.WebhookDelivery, a core.WebhookAttempt) error {
	if a.DeliveryID == "" {
		a.DeliveryID = d.ID
	}
	if a.DeliveryID != d.ID {
		return core.Invalid("deliveryId", "the attempt is not the delivery's")
	}
	row := newDeliveryRow(d)
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries
			SET state = ?, attempt_count = ?, next_attempt_at = ?, delivered_at = ?, updated_at = ?
			WHERE id = ?`,
			row.State, row.AttemptCount, row.NextAttemptAt, row.DeliveredAt, row.UpdatedAt, row.ID)
		if err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("update delivery: %w", err)
		} else if n == 0 {
			return core.NotFound("delivery")
		}
		res, err = tx.ExecContext(ctx, `INSERT INTO webhook_attempts
				(delivery_id, n, at, url, status_code, duration_ms, error, response)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (delivery_id, n) DO NOTHING`,
			a.DeliveryID, a.N, a.At.UTC(), a.URL, a.StatusCode, a.Duration.Milliseconds(), a.Error, a.Response)
		if err != nil {
			return fmt.Errorf("insert attempt: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("insert attempt: %w", err)
		} else if n == 0 {
			return core.Conflict("attempt_recorded", "this attempt of the delivery is recorded already")
		}
		return nil
	})
	return s.fail(ctx, "record attempt", err)
}

// Deliveries implements ports.WebhookStore along
// webhook_deliveries_profile_idx: (created_at, id) below q.After's,
// newest first; then the page's attempts in one query, along the attempts'
// primary key. An After that is not one of the profile's deliveries is
// core.KindInvalid; a Limit of zero or less lists nothing.
func (s *Store) Deliveries(ctx context.Context, profileID string, q ports.DeliveryQuery) ([]core.WebhookDelivery, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	var rows []deliveryRow
	sel := s.db.NewSelect().Model(&rows).Where("profile_id = ?", profileID)
	if q.After != "" {
		var after deliveryRow
		err := s.db.NewSelect().Model(&after).Column("id", "created_at").
			Where("id = ?", q.After).Where("profile_id = ?", profileID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, core.Invalid("after", "not a delivery of this profile")
		}
		if err != nil {
			return nil, s.fail(ctx, "deliveries", err)
		}
		// Compared with the stored cursor row itself, so the times are
		// compared as stored.
		sel = sel.Where(`(created_at < (SELECT c.created_at FROM webhook_deliveries AS c WHERE c.id = ?)
			OR (created_at = (SELECT c.created_at FROM webhook_deliveries AS c WHERE c.id = ?) AND id < ?))`,
			after.ID, after.ID, after.ID)
	}
	if q.Event != "" {
		sel = sel.Where("event = ?", q.Event)
	}
	if err := sel.OrderExpr("created_at DESC, id DESC").Limit(int64(q.Limit)).Scan(ctx); err != nil {
		return nil, s.fail(ctx, "deliveries", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	out := make([]core.WebhookDelivery, len(rows))
	at := make(map[string]int, len(rows))
	ids := make([]string, len(rows))
	for i, row := range rows {
		out[i], at[row.ID], ids[i] = row.core(), i, row.ID
	}
	var attempts []attemptRow
	err := s.db.NewSelect().Model(&attempts).Where("delivery_id IN (?)", bun.In(ids)).OrderExpr("delivery_id, n").Scan(ctx)
	if err != nil {
		return nil, s.fail(ctx, "deliveries: attempts", err)
	}
	for _, a := range attempts {
		i := at[a.DeliveryID]
		out[i].Attempts = append(out[i].Attempts, a.core())
	}
	return out, nil
}

// purgeDeliveriesSQL is PurgeDeliveries' statement: it deletes the
// oldest finished deliveries updated before before, at most limit. The
// subquery walks webhook_deliveries_finished_idx
// (migrations/*/0009_webhook_purge.sql), whose predicate it repeats word
// for word, as SQLite uses a partial index only then. On PostgreSQL it
// locks its rows FOR UPDATE SKIP LOCKED, and its ids are one array
// (= ANY(ARRAY(…)), not IN): the rows are then found by their key
// whatever the table's size or statistics, where IN lets the planner
// hash the batch and scan the whole table.
func (s *Store) purgeDeliveriesSQL(before time.Time, limit int) string {
	const batch = `SELECT id FROM webhook_deliveries
		WHERE state <> 'pending' AND updated_at < ?
		ORDER BY updated_at, id
		LIMIT ?`
	q := `DELETE FROM webhook_deliveries WHERE id IN (` + batch + `)`
	if s.dialect == DialectPostgres {
		q = `DELETE FROM webhook_deliveries WHERE id = ANY(ARRAY(` + batch + ` FOR UPDATE SKIP LOCKED))`
	}
	return s.db.QueryGen().FormatQuery(q, before.UTC(), limit)
}

// PurgeDeliveries implements ports.WebhookStore in one statement (see
// purgeDeliveriesSQL); the attempts go with their delivery (ON DELETE
// CASCADE). On PostgreSQL concurrent purges take disjoint batches (SKIP
// LOCKED) rather than wait for, or deadlock with, each other, and a row
// changed since the statement began is checked again when it is locked;
// SQLite runs one writer at a time. A limit of zero or less deletes
// nothing.
func (s *Store) PurgeDeliveries(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	res, err := s.db.ExecContext(ctx, s.purgeDeliveriesSQL(before, limit))
	if err != nil {
		return 0, s.fail(ctx, "purge deliveries", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail(ctx, "purge deliveries", err)
	}
	return int(n), nil
}

// stalledDeliveriesSQL is StalledDeliveries' query: the ids of the
// pending deliveries due before before, in (next_attempt_at, id) order,
// after the pending delivery after when it is not "", at most limit. It
// walks webhook_deliveries_pending_idx
// (migrations/*/0010_webhook_stalled.sql), whose predicate it repeats word
// for word, as SQLite uses a partial index only then; the cursor is
// compared as a row value, which both databases read as a range of that
// index. The cursor's place is read from its stored row, so the times
// are compared as stored; a cursor that is not pending gives no row, and
// the comparison with it is NULL: nothing is listed.
func (s *Store) stalledDeliveriesSQL(before time.Time, after string, limit int) string {
	if after == "" {
		return s.db.QueryGen().FormatQuery(`SELECT id FROM webhook_deliveries
			WHERE state = 'pending' AND next_attempt_at < ?
			ORDER BY next_attempt_at, id
			LIMIT ?`, before.UTC(), limit)
	}
	return s.db.QueryGen().FormatQuery(`SELECT id FROM webhook_deliveries
		WHERE state = 'pending' AND next_attempt_at < ?
			AND (next_attempt_at, id) > (SELECT c.next_attempt_at, c.id FROM webhook_deliveries AS c
				WHERE c.id = ? AND c.state = 'pending')
		ORDER BY next_attempt_at, id
		LIMIT ?`, before.UTC(), after, limit)
}

// StalledDeliveries implements ports.WebhookStore in one query (see
// stalledDeliveriesSQL). A limit of zero or less lists nothing.
func (s *Store) StalledDeliveries(ctx context.Context, before time.Time, after string, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, s.stalledDeliveriesSQL(before, after, limit))
	if err != nil {
		return nil, s.fail(ctx, "stalled deliveries", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.fail(ctx, "stalled deliveries", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "stalled deliveries", err)
	}
	return ids, nil
}
