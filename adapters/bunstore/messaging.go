package bunstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

var _ ports.MessagingStore = (*Store)(nil)

// agentRow is a messaging_agents row (migrations/*/0006_messaging.sql)
// with its sources_count, which is counted when read (agentColumns).
type agentRow struct {
	bun.BaseModel `bun:"table:messaging_agents"`

	ID                  string    `bun:"id,pk"`
	ProfileID           string    `bun:"profile_id"`
	Name                string    `bun:"name"`
	BotDisplayName      string    `bun:"bot_display_name"`
	BotRoleSummary      string    `bun:"bot_role_summary"`
	SystemInstructions  string    `bun:"system_instructions"`
	HumanHandoffEnabled bool      `bun:"human_handoff_enabled"`
	HandoffURLs         string    `bun:"handoff_urls"` // JSON (0007_agent_handoff_urls.sql)
	IsDefault           bool      `bun:"is_default"`
	SourcesCount        int       `bun:"sources_count,scanonly"`
	CreatedAt           time.Time `bun:"created_at"`
	UpdatedAt           time.Time `bun:"updated_at"`
}

// agentColumns are agentRow's columns, for raw queries on messaging_agents
// AS a: sources_count is counted through the messaging_sources_agent_idx
// index (at most core.MaxSourcesPerAgent rows), so it cannot drift.
const agentColumns = "a.id, a.profile_id, a.name, a.bot_display_name, a.bot_role_summary, a.system_instructions, " +
	"a.human_handoff_enabled, a.handoff_urls, a.is_default, a.created_at, a.updated_at, " +
	"(SELECT COUNT(*) FROM messaging_sources AS s WHERE s.agent_id = a.id) AS sources_count"

// handoffLinkJSON is one stored handoff link.
type handoffLinkJSON struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// handoffURLsJSON encodes an agent's handoff links ("[]" for none).
func handoffURLsJSON(ls []core.HandoffLink) (string, error) {
	out := make([]handoffLinkJSON, len(ls))
	for i, l := range ls {
		out[i] = handoffLinkJSON(l)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode handoff urls: %w", err)
	}
	return string(b), nil
}

// handoffURLs decodes a stored handoff_urls (nil for none).
func (r agentRow) handoffURLs() ([]core.HandoffLink, error) {
	var ls []handoffLinkJSON
	if err := json.Unmarshal([]byte(r.HandoffURLs), &ls); err != nil {
		return nil, fmt.Errorf("agent %s: decode handoff urls: %w", r.ID, err)
	}
	if len(ls) == 0 {
		return nil, nil
	}
	out := make([]core.HandoffLink, len(ls))
	for i, l := range ls {
		out[i] = core.HandoffLink(l)
	}
	return out, nil
}

func (r agentRow) core() (core.Agent, error) {
	urls, err := r.handoffURLs()
	if err != nil {
		return core.Agent{}, err
	}
	return core.Agent{
		ID:                  r.ID,
		ProfileID:           r.ProfileID,
		Name:                r.Name,
		BotDisplayName:      r.BotDisplayName,
		BotRoleSummary:      r.BotRoleSummary,
		SystemInstructions:  r.SystemInstructions,
		HumanHandoffEnabled: r.HumanHandoffEnabled,
		HandoffURLs:         urls,
		IsDefault:           r.IsDefault,
		SourcesCount:        r.SourcesCount,
		CreatedAt:           r.CreatedAt.UTC(),
		UpdatedAt:           r.UpdatedAt.UTC(),
	}, nil
}

// sourceRow is a messaging_sources row.
type sourceRow struct {
	bun.BaseModel `bun:"table:messaging_sources"`

	ID        string    `bun:"id,pk"`
	AgentID   string    `bun:"agent_id"`
	Kind      string    `bun:"kind"`
	Title     string    `bun:"title"`
	Question  string    `bun:"question"`
	Content   string    `bun:"content"`
	CreatedAt time.Time `bun:"created_at"`
}

func (r sourceRow) core() core.KnowledgeSource {
	return core.KnowledgeSource{
		ID: r.ID, AgentID: r.AgentID, Kind: core.KnowledgeKind(r.Kind), Title: r.Title,
		Question: r.Question, Content: r.Content, CreatedAt: r.CreatedAt.UTC(),
	}
}

// embedRow is a messaging_embeds row; AllowedOrigins is a JSON array.
type embedRow struct {
	bun.BaseModel `bun:"table:messaging_embeds"`

	ProfileID      string    `bun:"profile_id,pk"`
	PublicID       string    `bun:"public_id"`
	Enabled        bool      `bun:"enabled"`
	AllowedOrigins string    `bun:"allowed_origins"`
	AccentColor    string    `bun:"accent_color"`
	LauncherIcon   string    `bun:"launcher_icon"`
	Greeting       string    `bun:"greeting"`
	ShowLauncher   bool      `bun:"show_launcher"`
	UpdatedAt      time.Time `bun:"updated_at"`
}

func newEmbedRow(e core.EmbedSettings) (embedRow, error) {
	origins := e.AllowedOrigins
	if origins == nil {
		origins = []string{}
	}
	b, err := json.Marshal(origins)
	if err != nil {
		return embedRow{}, fmt.Errorf("encode allowed origins: %w", err)
	}
	return embedRow{
		ProfileID: e.ProfileID, PublicID: e.PublicID, Enabled: e.Enabled, AllowedOrigins: string(b),
		AccentColor: e.AccentColor, LauncherIcon: e.LauncherIcon, Greeting: e.Greeting,
		ShowLauncher: e.ShowLauncher, UpdatedAt: e.UpdatedAt.UTC(),
	}, nil
}

func (r embedRow) core() (core.EmbedSettings, error) {
	var origins []string
	if err := json.Unmarshal([]byte(r.AllowedOrigins), &origins); err != nil {
		return core.EmbedSettings{}, fmt.Errorf("decode allowed origins of profile %s: %w", r.ProfileID, err)
	}
	if len(origins) == 0 {
		origins = nil
	}
	return core.EmbedSettings{
		ProfileID: r.ProfileID, PublicID: r.PublicID, Enabled: r.Enabled, AllowedOrigins: origins,
		AccentColor: r.AccentColor, LauncherIcon: r.LauncherIcon, Greeting: r.Greeting,
		ShowLauncher: r.ShowLauncher, UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

// creditEntryRow is a messaging_credit_entries row; the database numbers it
// (seq), and a NULL grant_key reads as "".
type creditEntryRow struct {
	bun.BaseModel `bun:"table:messaging_credit_entries"`

	ID        string    `bun:"id"`
	ProfileID string    `bun:"profile_id"`
	Amount    int64     `bun:"amount"`
	Reason    string    `bun:"reason"`
	GrantKey  string    `bun:"grant_key,nullzero"`
	CreatedAt time.Time `bun:"created_at"`
}

func (r creditEntryRow) core() core.CreditEntry {
	return core.CreditEntry{
		ID: r.ID, ProfileID: r.ProfileID, Amount: r.Amount, Reason: r.Reason, Key: r.GrantKey, CreatedAt: r.CreatedAt.UTC(),
	}
}

// messagingAccountRow is a messaging_accounts row: the balance (the sum of
// the profile's ledger) and the message counts. A profile has one once it
// was granted credits or recorded a turn.
type messagingAccountRow struct {
	bun.BaseModel `bun:"table:messaging_accounts"`

	ProfileID     string `bun:"profile_id,pk"`
	Balance       int64  `bun:"balance"`
	InboundCount  int64  `bun:"inbound_count"`
	OutboundCount int64  `bun:"outbound_count"`
}

// conversationRow is a messaging_conversations row.
type conversationRow struct {
	bun.BaseModel `bun:"table:messaging_conversations"`

	ID           string     `bun:"id,pk"`
	ProfileID    string     `bun:"profile_id"`
	Ref          string     `bun:"ref"`
	Channel      string     `bun:"channel"`
	AgentID      string     `bun:"agent_id"`
	MessageCount int        `bun:"message_count"`
	HandedOffAt  *time.Time `bun:"handed_off_at"` // NULL while the bot has it (0008_webhooks.sql)
	CreatedAt    time.Time  `bun:"created_at"`
	UpdatedAt    time.Time  `bun:"updated_at"`
}

// conversationColumns are conversationRow's columns, for RETURNING.
const conversationColumns = "id, profile_id, ref, channel, agent_id, message_count, handed_off_at, created_at, updated_at"

func (r conversationRow) core() core.Conversation {
	c := core.Conversation{
		ID: r.ID, ProfileID: r.ProfileID, Ref: r.Ref, Channel: r.Channel, AgentID: r.AgentID,
		MessageCount: r.MessageCount, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.HandedOffAt != nil {
		c.HandedOffAt = r.HandedOffAt.UTC()
	}
	return c
}

// messageRow is a messaging_messages row; position numbers the messages of
// a conversation from 0.
type messageRow struct {
	bun.BaseModel `bun:"table:messaging_messages"`

	ConversationID string    `bun:"conversation_id,pk"`
	Position       int       `bun:"position,pk"`
	ID             string    `bun:"id"`
	Role           string    `bun:"role"`
	Content        string    `bun:"content"`
	CreatedAt      time.Time `bun:"created_at"`
}

func (r messageRow) core() core.ConversationMessage {
	return core.ConversationMessage{
		ID: r.ID, ConversationID: r.ConversationID, Role: core.ChatRole(r.Role), Content: r.Content, CreatedAt: r.CreatedAt.UTC(),
	}
}

// msgReader runs the reads that MessagingStore and MessagingTx share,
// scoped to one profile, on the store's pool or a transaction. Its errors
// are untranslated (sql.ErrNoRows already made core.KindNotFound): callers
// pass them through Store.fail.
type msgReader struct {
	db        bun.IDB
	profileID string
}

func (r msgReader) agents(ctx context.Context) ([]core.Agent, error) {
	var rows []agentRow
	err := r.db.NewRaw("SELECT "+agentColumns+" FROM messaging_agents AS a WHERE a.profile_id = ? ORDER BY a.created_at, a.id",
		r.profileID).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	out := make([]core.Agent, len(rows))
	for i, row := range rows {
		if out[i], err = row.core(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// agentWhere reads the profile's agent that cond (on messaging_agents AS
// a, with args) selects.
func (r msgReader) agentWhere(ctx context.Context, cond string, args ...any) (core.Agent, error) {
	var rows []agentRow
	err := r.db.NewRaw("SELECT "+agentColumns+" FROM messaging_agents AS a WHERE a.profile_id = ? AND "+cond,
		append([]any{r.profileID}, args...)...).Scan(ctx, &rows)
	if err != nil {
		return core.Agent{}, err
	}
	if len(rows) == 0 {
		return core.Agent{}, core.NotFound("agent")
	}
	return rows[0].core()
}

func (r msgReader) agent(ctx context.Context, id string) (core.Agent, error) {
	return r.agentWhere(ctx, "a.id = ?", id)
}

// agentExists reports whether id is one of the profile's agents.
func (r msgReader) agentExists(ctx context.Context, id string) (bool, error) {
	return r.db.NewSelect().Model((*agentRow)(nil)).Where("profile_id = ?", r.profileID).Where("id = ?", id).Exists(ctx)
}

func (r msgReader) embed(ctx context.Context) (core.EmbedSettings, error) {
	var row embedRow
	if err := r.db.NewSelect().Model(&row).Where("profile_id = ?", r.profileID).Scan(ctx); err != nil {
		return core.EmbedSettings{}, notFound(err, "embed settings")
	}
	return row.core()
}

// Agent implements ports.MessagingStore.
func (s *Store) Agent(ctx context.Context, profileID, id string) (core.Agent, error) {
	a, err := msgReader{s.db, profileID}.agent(ctx, id)
	return a, s.fail(ctx, "agent", err)
}

// Agents implements ports.MessagingStore, through messaging_agents_profile_idx.
func (s *Store) Agents(ctx context.Context, profileID string) ([]core.Agent, error) {
	as, err := msgReader{s.db, profileID}.agents(ctx)
	if err != nil {
		return nil, s.fail(ctx, "agents", err)
	}
	return as, nil
}

// DefaultAgent implements ports.MessagingStore, through the partial unique
// index messaging_agents_default_key.
func (s *Store) DefaultAgent(ctx context.Context, profileID string) (core.Agent, error) {
	a, err := msgReader{s.db, profileID}.agentWhere(ctx, "a.is_default = ?", true)
	return a, s.fail(ctx, "default agent", err)
}

// KnowledgeSources implements ports.MessagingStore.
func (s *Store) KnowledgeSources(ctx context.Context, profileID, agentID string) ([]core.KnowledgeSource, error) {
	ok, err := msgReader{s.db, profileID}.agentExists(ctx, agentID)
	if err != nil {
		return nil, s.fail(ctx, "knowledge sources", err)
	}
	if !ok {
		return nil, core.NotFound("agent")
	}
	var rows []sourceRow
	if err := s.db.NewSelect().Model(&rows).Where("agent_id = ?", agentID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, s.fail(ctx, "knowledge sources", err)
	}
	out := make([]core.KnowledgeSource, len(rows))
	for i, row := range rows {
		out[i] = row.core()
	}
	return out, nil
}

// Embed implements ports.MessagingStore.
func (s *Store) Embed(ctx context.Context, profileID string) (core.EmbedSettings, error) {
	e, err := msgReader{s.db, profileID}.embed(ctx)
	return e, s.fail(ctx, "embed", err)
}

// EmbedByPublicID implements ports.MessagingStore, through the unique key
// on public_id. A rotated id was replaced in its row: it matches nothing.
func (s *Store) EmbedByPublicID(ctx context.Context, publicID string) (core.EmbedSettings, error) {
	var row embedRow
	if err := s.db.NewSelect().Model(&row).Where("public_id = ?", publicID).Scan(ctx); err != nil {
		return core.EmbedSettings{}, s.fail(ctx, "embed by public id", notFound(err, "embed"))
	}
	e, err := row.core()
	return e, s.fail(ctx, "embed by public id", err)
}

// UpdateMessaging implements ports.MessagingStore. It runs fn in one
// transaction that first takes the profile's messaging lock: on PostgreSQL
// the profiles row's SELECT … FOR NO KEY UPDATE, which serialises the
// Updates of one profile (and only of that profile) without blocking the
// KEY SHARE locks that foreign-key checks take on the row; on SQLite the
// IMMEDIATE transaction itself. An unknown profile is core.KindNotFound,
// and fn does not run.
//
// fn's error rolls the transaction back and is returned untouched. A
// MessagingTx write that is refused (an unknown id, a taken one) writes
// nothing and leaves the transaction usable (see msgTx).
func (s *Store) UpdateMessaging(ctx context.Context, profileID string, fn func(tx ports.MessagingTx) error) error {
	var fnErr error
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		sel := tx.NewSelect().Model((*profileRow)(nil)).Column("id").Where("id = ?", profileID)
		if s.dialect == DialectPostgres {
			sel = sel.For("NO KEY UPDATE")
		}
		var id string
		if err := sel.Scan(ctx, &id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return core.NotFound("profile")
			}
			return fmt.Errorf("lock profile: %w", err)
		}
		fnErr = fn(&msgTx{s: s, tx: tx, r: msgReader{tx, profileID}})
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	return s.fail(ctx, "update messaging", err)
}

// profileExists reports whether the profile exists.
func profileExists(ctx context.Context, db bun.IDB, profileID string) (bool, error) {
	ok, err := db.NewSelect().Model((*profileRow)(nil)).Where("id = ?", profileID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("check profile: %w", err)
	}
	return ok, nil
}

// ensureAccount creates the profile's messaging_accounts row when the
// profile exists and has none (INSERT … SELECT … ON CONFLICT DO NOTHING:
// concurrent first writers wait for the one that inserts it). It writes
// nothing for an unknown profile: the caller's UPDATE of the row then
// finds none.
func ensureAccount(ctx context.Context, tx bun.Tx, profileID string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO messaging_accounts (profile_id)
		SELECT id FROM profiles WHERE id = ?
		ON CONFLICT (profile_id) DO NOTHING`, profileID)
	if err != nil {
		return fmt.Errorf("create messaging account: %w", err)
	}
	return nil
}

// GrantCredits implements ports.MessagingStore in one transaction: the
// account row is created when missing, the entry is inserted with ON
// CONFLICT (profile_id, grant_key) WHERE grant_key IS NOT NULL DO NOTHING
// (of concurrent grants of one key, the others wait for the first and then
// insert nothing), and only an inserted entry raises the balance.
func (s *Store) GrantCredits(ctx context.Context, e core.CreditEntry) (bool, error) {
	if e.Amount <= 0 {
		return false, core.Invalid("amount", "a grant must be positive")
	}
	granted := false
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := ensureAccount(ctx, tx, e.ProfileID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO messaging_credit_entries (id, profile_id, amount, reason, grant_key, created_at)
			SELECT ?, ?, ?, ?, ?, ?
			WHERE EXISTS (SELECT 1 FROM messaging_accounts WHERE profile_id = ?)
			ON CONFLICT (profile_id, grant_key) WHERE grant_key IS NOT NULL DO NOTHING`,
			e.ID, e.ProfileID, e.Amount, e.Reason, nullString(e.Key), e.CreatedAt.UTC(), e.ProfileID)
		if err != nil {
			return fmt.Errorf("insert grant: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert grant: %w", err)
		}
		if n == 0 {
			ok, err := profileExists(ctx, tx, e.ProfileID)
			if err != nil {
				return err
			}
			if !ok {
				return core.NotFound("profile")
			}
			return nil // the key was granted already
		}
		if _, err := tx.ExecContext(ctx, "UPDATE messaging_accounts SET balance = balance + ? WHERE profile_id = ?",
			e.Amount, e.ProfileID); err != nil {
			return fmt.Errorf("raise balance: %w", err)
		}
		granted = true
		return nil
	})
	if err != nil {
		return false, s.fail(ctx, "grant credits", err)
	}
	return granted, nil
}

// ChargeCredits implements ports.MessagingStore in one transaction whose
// first statement is the atomic conditional step (see charge).
func (s *Store) ChargeCredits(ctx context.Context, e core.CreditEntry) (int64, error) {
	if e.Amount <= 0 {
		return 0, core.Invalid("amount", "a charge must be positive")
	}
	var balance int64
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		balance, err = charge(ctx, tx, e, 0, 0)
		return err
	})
	if err != nil {
		return 0, s.fail(ctx, "charge credits", err)
	}
	return balance, nil
}

func errInsufficientCredits() *core.Error {
	return core.E(core.KindPaymentRequired, "not enough AI credits for this turn").WithCode("insufficient_credits")
}

// charge takes e.Amount (>= 0; 0 takes nothing) credits from e.ProfileID
// and adds inbound and outbound to its counts with one conditional UPDATE
// … SET balance = balance - n WHERE profile_id = ? AND balance >= n
// RETURNING balance. On PostgreSQL the UPDATE locks the account row, and a
// concurrent charge waiting for that lock re-evaluates the WHERE clause on
// the committed row (READ COMMITTED), so the balance never drops below
// zero (CHECK balance >= 0 is the guard behind); SQLite's IMMEDIATE
// transactions run one writer at a time. The lock is held until the
// transaction ends, so the turns and charges of one profile run one at a
// time. A charge writes its ledger entry (Amount -e.Amount) in the same
// transaction. No row updated: core.KindNotFound for an unknown profile,
// else "insufficient_credits" (a profile without an account row has no
// credits).
func charge(ctx context.Context, tx bun.Tx, e core.CreditEntry, inbound, outbound int64) (int64, error) {
	var balance int64
	err := tx.QueryRowContext(ctx, `UPDATE messaging_accounts
		SET balance = balance - ?, inbound_count = inbound_count + ?, outbound_count = outbound_count + ?
		WHERE profile_id = ? AND balance >= ?
		RETURNING balance`,
		e.Amount, inbound, outbound, e.ProfileID, e.Amount).Scan(&balance)
	if errors.Is(err, sql.ErrNoRows) {
		ok, err := profileExists(ctx, tx, e.ProfileID)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, core.NotFound("profile")
		}
		return 0, errInsufficientCredits()
	}
	if err != nil {
		return 0, fmt.Errorf("take credits: %w", err)
	}
	if e.Amount == 0 {
		return balance, nil
	}
	row := creditEntryRow{ID: e.ID, ProfileID: e.ProfileID, Amount: -e.Amount, Reason: e.Reason, CreatedAt: e.CreatedAt.UTC()}
	if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
		return 0, fmt.Errorf("insert charge: %w", err)
	}
	return balance, nil
}

// CreditEntries implements ports.MessagingStore: in the order they were
// written (seq), through messaging_credit_entries_profile_idx. A limit of
// zero or less lists nothing.
func (s *Store) CreditEntries(ctx context.Context, profileID string, limit int) ([]core.CreditEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	var rows []creditEntryRow
	err := s.db.NewSelect().Model(&rows).Where("profile_id = ?", profileID).OrderExpr("seq").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, s.fail(ctx, "credit entries", err)
	}
	out := make([]core.CreditEntry, len(rows))
	for i, row := range rows {
		out[i] = row.core()
	}
	return out, nil
}

// MessagingUsage implements ports.MessagingStore from the profile's
// messaging_accounts row: zeros when it has none.
func (s *Store) MessagingUsage(ctx context.Context, profileID string) (core.MessagingUsage, error) {
	var row messagingAccountRow
	err := s.db.NewSelect().Model(&row).Where("profile_id = ?", profileID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return core.MessagingUsage{}, nil
	}
	if err != nil {
		return core.MessagingUsage{}, s.fail(ctx, "messaging usage", err)
	}
	return core.MessagingUsage{Credits: row.Balance, InboundCount: row.InboundCount, OutboundCount: row.OutboundCount}, nil
}

// RecordTurn implements ports.MessagingStore in one transaction:
//
//  1. the account row is created when missing, then charge takes the
//     turn's credits (none for a free turn) and counts its messages in one
//     conditional UPDATE, which also locks the row: the turns of one
//     profile run one at a time from there on;
//  2. INSERT the conversation ON CONFLICT (profile_id, ref) DO NOTHING,
//     then UPDATE it (agent, channel, updated_at, message_count + n, and
//     for a handoff handed_off_at = COALESCE(handed_off_at, At), which
//     keeps the first handoff's time) RETURNING the stored row;
//  3. INSERT the messages at the positions message_count - n … count - 1;
//  4. INSERT the turn's webhook deliveries (pending, next attempt At) and
//     hand their ids to the store's Enqueuer with the transaction, so they
//     are queued exactly when the turn commits.
//
// Any failure, the Enqueuer's included, rolls all of it back. A turn with
// deliveries and no Enqueuer set (SetEnqueuer) is refused before anything
// is written.
func (s *Store) RecordTurn(ctx context.Context, t ports.ChatTurn) (core.Conversation, error) {
	c := core.CreditEntry{ProfileID: t.ProfileID, Reason: core.CreditChatTurn, CreatedAt: t.At}
	if t.Charge != nil {
		if t.Charge.Amount <= 0 {
			return core.Conversation{}, core.Invalid("amount", "a charge must be positive")
		}
		c = *t.Charge
		c.ProfileID = t.ProfileID
	}
	enqueuer := s.enqueuer
	if len(t.Deliveries) > 0 && enqueuer == nil {
		return core.Conversation{}, errors.New("bunstore: record turn: the turn has webhook deliveries and the store has no enqueuer (SetEnqueuer)")
	}
	var inbound, outbound int64
	for _, m := range t.Messages {
		switch m.Role {
		case core.RoleUser:
			inbound++
		case core.RoleAssistant:
			outbound++
		}
	}
	at := t.At.UTC()
	handoff := ""
	args := []any{t.Channel, t.AgentID, at, len(t.Messages)}
	if t.Handoff {
		handoff = ", handed_off_at = COALESCE(handed_off_at, ?)"
		args = append(args, at)
	}
	args = append(args, t.ProfileID, t.Ref)
	var conv conversationRow
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := ensureAccount(ctx, tx, t.ProfileID); err != nil {
			return err
		}
		if _, err := charge(ctx, tx, c, inbound, outbound); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO messaging_conversations
				(id, profile_id, ref, channel, agent_id, message_count, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 0, ?, ?)
			ON CONFLICT (profile_id, ref) DO NOTHING`,
			t.ConversationID, t.ProfileID, t.Ref, t.Channel, t.AgentID, at, at)
		if err != nil {
			return fmt.Errorf("create conversation: %w", err)
		}
		err = tx.NewRaw(`UPDATE messaging_conversations
			SET channel = ?, agent_id = ?, updated_at = ?, message_count = message_count + ?`+handoff+`
			WHERE profile_id = ? AND ref = ?
			RETURNING `+conversationColumns, args...).Scan(ctx, &conv)
		if err != nil {
			return fmt.Errorf("update conversation: %w", err)
		}
		if len(t.Deliveries) > 0 && conv.ID != t.ConversationID {
			return errConversationChanged()
		}
		if len(t.Messages) > 0 {
			base := conv.MessageCount - len(t.Messages)
			rows := make([]messageRow, len(t.Messages))
			for i, m := range t.Messages {
				rows[i] = messageRow{
					ConversationID: conv.ID, Position: base + i, ID: m.ID, Role: string(m.Role),
					Content: m.Content, CreatedAt: m.CreatedAt.UTC(),
				}
			}
			if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return fmt.Errorf("insert messages: %w", err)
			}
		}
		if len(t.Deliveries) == 0 {
			return nil
		}
		return insertDeliveries(ctx, tx, enqueuer, t, conv.ID)
	})
	if err != nil {
		return core.Conversation{}, s.fail(ctx, "record turn", err)
	}
	return conv.core(), nil
}

// errConversationChanged refuses a turn whose webhook events name a
// conversation id that is not the stored one (ports.ChatTurn.Deliveries).
func errConversationChanged() error {
	return core.Conflict("conversation_changed", "the conversation was created by a concurrent turn: run the turn again")
}

// ConversationByRef implements ports.MessagingStore, through the unique
// key (profile_id, ref).
func (s *Store) ConversationByRef(ctx context.Context, profileID, ref string) (core.Conversation, error) {
	var row conversationRow
	err := s.db.NewSelect().Model(&row).Where("profile_id = ?", profileID).Where("ref = ?", ref).Scan(ctx)
	if err != nil {
		return core.Conversation{}, s.fail(ctx, "conversation by ref", notFound(err, "conversation"))
	}
	return row.core(), nil
}

// ConversationMessages implements ports.MessagingStore: the conversation
// is checked to be the profile's, then its last limit messages are read
// backwards along the primary key (conversation_id, position).
func (s *Store) ConversationMessages(ctx context.Context, profileID, conversationID string, limit int) ([]core.ConversationMessage, error) {
	ok, err := s.db.NewSelect().Model((*conversationRow)(nil)).
		Where("id = ?", conversationID).Where("profile_id = ?", profileID).Exists(ctx)
	if err != nil {
		return nil, s.fail(ctx, "conversation messages", err)
	}
	if !ok {
		return nil, core.NotFound("conversation")
	}
	if limit <= 0 {
		return nil, nil
	}
	var rows []messageRow
	err = s.db.NewSelect().Model(&rows).Where("conversation_id = ?", conversationID).
		OrderExpr("position DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, s.fail(ctx, "conversation messages", err)
	}
	slices.Reverse(rows)
	out := make([]core.ConversationMessage, len(rows))
	for i, row := range rows {
		out[i] = row.core()
	}
	return out, nil
}

// Conversation implements ports.MessagingStore, through the primary key,
// scoped to the profile.
func (s *Store) Conversation(ctx context.Context, profileID, id string) (core.Conversation, error) {
	var row conversationRow
	err := s.db.NewSelect().Model(&row).Where("id = ?", id).Where("profile_id = ?", profileID).Scan(ctx)
	if err != nil {
		return core.Conversation{}, s.fail(ctx, "conversation", notFound(err, "conversation"))
	}
	return row.core(), nil
}

// HandBack implements ports.MessagingStore with one conditional UPDATE …
// SET handed_off_at = NULL, updated_at = at WHERE the conversation is the
// profile's and handed off, RETURNING the row. When it updates nothing,
// the conversation is read as it is (the bot has it already), or is
// core.KindNotFound.
func (s *Store) HandBack(ctx context.Context, profileID, conversationID string, at time.Time) (core.Conversation, error) {
	var rows []conversationRow
	err := s.db.NewRaw(`UPDATE messaging_conversations SET handed_off_at = NULL, updated_at = ?
		WHERE id = ? AND profile_id = ? AND handed_off_at IS NOT NULL
		RETURNING `+conversationColumns, at.UTC(), conversationID, profileID).Scan(ctx, &rows)
	if err != nil {
		return core.Conversation{}, s.fail(ctx, "hand back", err)
	}
	if len(rows) == 0 {
		return s.Conversation(ctx, profileID, conversationID)
	}
	return rows[0].core(), nil
}
