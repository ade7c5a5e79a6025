package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// msgTx implements ports.MessagingTx on the transaction of one
// Store.UpdateMessaging.
//
// As driveTx, a write that is refused changes nothing and leaves the
// transaction usable: PostgreSQL aborts a transaction at its first failed
// statement, so the writes that can be refused are conditional statements
// (… WHERE the agent is the profile's, ON CONFLICT DO NOTHING) and, when
// no row is written, probes tell why. Under the profile's lock nothing
// else changes the profile's agents, sources or embed meanwhile; the
// unique indexes and foreign keys stay as the guard behind.
type msgTx struct {
	s  *Store
	tx bun.Tx
	r  msgReader
}

var _ ports.MessagingTx = (*msgTx)(nil)

// Agents implements ports.MessagingTx.
func (t *msgTx) Agents(ctx context.Context) ([]core.Agent, error) {
	as, err := t.r.agents(ctx)
	if err != nil {
		return nil, t.s.fail(ctx, "messaging tx: agents", err)
	}
	return as, nil
}

// Agent implements ports.MessagingTx.
func (t *msgTx) Agent(ctx context.Context, id string) (core.Agent, error) {
	a, err := t.r.agent(ctx, id)
	return a, t.s.fail(ctx, "messaging tx: agent", err)
}

// Embed implements ports.MessagingTx.
func (t *msgTx) Embed(ctx context.Context) (core.EmbedSettings, error) {
	e, err := t.r.embed(ctx)
	return e, t.s.fail(ctx, "messaging tx: embed", err)
}

// written checks that a conditional write changed a row. When it did not,
// why says why (a *core.Error); a failed statement is translated by the
// store's rules.
func (t *msgTx) written(ctx context.Context, op string, res sql.Result, err error, why func(ctx context.Context) error) error {
	op = "messaging tx: " + op
	if err != nil {
		return t.s.fail(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.s.fail(ctx, op, err)
	}
	if n > 0 {
		return nil
	}
	if err := why(ctx); err != nil {
		return t.s.fail(ctx, op, err)
	}
	return t.s.fail(ctx, op, errors.New("no row written, and no reason found"))
}

// agentNotFound is why a write scoped to agentID wrote nothing when the
// agent is not the profile's: core.KindNotFound "agent". It returns nil
// when the agent is the profile's.
func (t *msgTx) agentNotFound(ctx context.Context, agentID string) error {
	ok, err := t.r.agentExists(ctx, agentID)
	if err != nil {
		return fmt.Errorf("check agent: %w", err)
	}
	if !ok {
		return core.NotFound("agent")
	}
	return nil
}

// CreateAgent implements ports.MessagingTx with INSERT … ON CONFLICT (id)
// DO NOTHING: a taken id is core.KindConflict. The agent is never the
// default (SetDefaultAgent makes it one).
func (t *msgTx) CreateAgent(ctx context.Context, a core.Agent) error {
	urls, err := handoffURLsJSON(a.HandoffURLs)
	if err != nil {
		return t.s.fail(ctx, "messaging tx: create agent", err)
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO messaging_agents
			(id, profile_id, name, bot_display_name, bot_role_summary, system_instructions,
			 human_handoff_enabled, handoff_urls, is_default, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		a.ID, t.r.profileID, a.Name, a.BotDisplayName, a.BotRoleSummary, a.SystemInstructions,
		a.HumanHandoffEnabled, urls, false, a.CreatedAt.UTC(), a.UpdatedAt.UTC())
	return t.written(ctx, "create agent", res, err, func(context.Context) error {
		return core.Conflict("conflict", "agent id already exists")
	})
}

// UpdateAgent implements ports.MessagingTx.
func (t *msgTx) UpdateAgent(ctx context.Context, a core.Agent) error {
	urls, err := handoffURLsJSON(a.HandoffURLs)
	if err != nil {
		return t.s.fail(ctx, "messaging tx: update agent", err)
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE messaging_agents
		SET name = ?, bot_display_name = ?, bot_role_summary = ?, system_instructions = ?,
			human_handoff_enabled = ?, handoff_urls = ?, updated_at = ?
		WHERE profile_id = ? AND id = ?`,
		a.Name, a.BotDisplayName, a.BotRoleSummary, a.SystemInstructions,
		a.HumanHandoffEnabled, urls, a.UpdatedAt.UTC(), t.r.profileID, a.ID)
	return t.written(ctx, "update agent", res, err, func(context.Context) error { return core.NotFound("agent") })
}

// SetDefaultAgent implements ports.MessagingTx with two conditional
// UPDATEs: the current default, if another agent, stops being one only
// when id is the profile's agent; then id becomes the default. Two
// statements, because the partial unique index on the default is checked
// row by row (an index cannot be deferred), so one UPDATE that sets one
// row and clears another could trip it in the wrong order.
func (t *msgTx) SetDefaultAgent(ctx context.Context, id string) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE messaging_agents SET is_default = ?
		WHERE profile_id = ? AND is_default = ? AND id <> ?
		AND EXISTS (SELECT 1 FROM messaging_agents AS n WHERE n.profile_id = ? AND n.id = ?)`,
		false, t.r.profileID, true, id, t.r.profileID, id)
	if err != nil {
		return t.s.fail(ctx, "messaging tx: clear default agent", err)
	}
	res, err := t.tx.ExecContext(ctx, "UPDATE messaging_agents SET is_default = ? WHERE profile_id = ? AND id = ?",
		true, t.r.profileID, id)
	return t.written(ctx, "set default agent", res, err, func(context.Context) error { return core.NotFound("agent") })
}

// DeleteAgent implements ports.MessagingTx: its sources go with it (ON
// DELETE CASCADE).
func (t *msgTx) DeleteAgent(ctx context.Context, id string) error {
	res, err := t.tx.ExecContext(ctx, "DELETE FROM messaging_agents WHERE profile_id = ? AND id = ?", t.r.profileID, id)
	return t.written(ctx, "delete agent", res, err, func(context.Context) error { return core.NotFound("agent") })
}

// agentIsOurs is the condition that an agent is the profile's. Its
// arguments are profileID, agentID.
const agentIsOurs = "EXISTS (SELECT 1 FROM messaging_agents AS a WHERE a.profile_id = ? AND a.id = ?)"

// CreateSource implements ports.MessagingTx with INSERT … SELECT … WHERE
// the agent is the profile's ON CONFLICT DO NOTHING. The agent's
// SourcesCount is counted when read, so it is one more from here on.
func (t *msgTx) CreateSource(ctx context.Context, src core.KnowledgeSource) error {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO messaging_sources (id, agent_id, kind, title, question, content, created_at)
		SELECT ?, ?, ?, ?, ?, ?, ?
		WHERE `+agentIsOurs+`
		ON CONFLICT DO NOTHING`,
		src.ID, src.AgentID, string(src.Kind), src.Title, src.Question, src.Content, src.CreatedAt.UTC(),
		t.r.profileID, src.AgentID)
	return t.written(ctx, "create source", res, err, func(ctx context.Context) error {
		if err := t.agentNotFound(ctx, src.AgentID); err != nil {
			return err
		}
		return core.Conflict("conflict", "source id already exists")
	})
}

// DeleteSource implements ports.MessagingTx.
func (t *msgTx) DeleteSource(ctx context.Context, agentID, id string) error {
	res, err := t.tx.ExecContext(ctx, "DELETE FROM messaging_sources WHERE id = ? AND agent_id = ? AND "+agentIsOurs,
		id, agentID, t.r.profileID, agentID)
	return t.written(ctx, "delete source", res, err, func(ctx context.Context) error {
		if err := t.agentNotFound(ctx, agentID); err != nil {
			return err
		}
		return core.NotFound("source")
	})
}

// SaveEmbed implements ports.MessagingTx: an UPDATE of the profile's row,
// or when it has none an INSERT … ON CONFLICT DO NOTHING, each only when
// no other profile's row holds e.PublicID. Of profiles saving one new id
// at once, the INSERTs after the first wait for it and insert nothing on
// PostgreSQL; a probe then finds the id taken: core.KindConflict
// "embed_id_taken", and the transaction stays usable. An UPDATE that
// rotates to an id another profile is inserting at that very moment trips
// the unique key instead (same error; the transaction is then aborted on
// PostgreSQL). A replaced public id is gone from its row, so it stops
// resolving.
func (t *msgTx) SaveEmbed(ctx context.Context, e core.EmbedSettings) error {
	e.ProfileID = t.r.profileID
	row, err := newEmbedRow(e)
	if err != nil {
		return err
	}
	const free = "NOT EXISTS (SELECT 1 FROM messaging_embeds AS o WHERE o.public_id = ? AND o.profile_id <> ?)"
	res, err := t.tx.ExecContext(ctx, `UPDATE messaging_embeds
		SET public_id = ?, enabled = ?, allowed_origins = ?, accent_color = ?, launcher_icon = ?,
			greeting = ?, show_launcher = ?, updated_at = ?
		WHERE profile_id = ? AND `+free,
		row.PublicID, row.Enabled, row.AllowedOrigins, row.AccentColor, row.LauncherIcon,
		row.Greeting, row.ShowLauncher, row.UpdatedAt, row.ProfileID, row.PublicID, row.ProfileID)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n > 0 {
			return nil
		}
	}
	if err == nil {
		res, err = t.tx.ExecContext(ctx, `INSERT INTO messaging_embeds
				(profile_id, public_id, enabled, allowed_origins, accent_color, launcher_icon, greeting, show_launcher, updated_at)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
			WHERE `+free+`
			ON CONFLICT DO NOTHING`,
			row.ProfileID, row.PublicID, row.Enabled, row.AllowedOrigins, row.AccentColor, row.LauncherIcon,
			row.Greeting, row.ShowLauncher, row.UpdatedAt, row.PublicID, row.ProfileID)
	}
	if err != nil && isUnique(err) {
		return errEmbedIDTaken(fmt.Errorf("bunstore: messaging tx: save embed: %w", err))
	}
	return t.written(ctx, "save embed", res, err, func(ctx context.Context) error {
		taken, err := t.tx.NewSelect().Model((*embedRow)(nil)).
			Where("public_id = ?", row.PublicID).Where("profile_id <> ?", row.ProfileID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check embed id: %w", err)
		}
		if taken {
			return errEmbedIDTaken(nil)
		}
		return nil
	})
}

func errEmbedIDTaken(cause error) *core.Error {
	return conflict("embed_id_taken", "this embed id belongs to another profile", cause)
}

// SkillsConfig implements ports.MessagingTx.
func (t *msgTx) SkillsConfig(ctx context.Context) (core.SkillsConfig, core.SkillsStatus, error) {
	c, st, err := t.r.skillsConfig(ctx)
	return c, st, t.s.fail(ctx, "messaging tx: skills config", err)
}

// HandoffConfig implements ports.MessagingTx.
func (t *msgTx) HandoffConfig(ctx context.Context) (core.HandoffConfig, error) {
	c, err := t.r.handoffConfig(ctx)
	return c, t.s.fail(ctx, "messaging tx: handoff config", err)
}

// SaveSkillsConfig implements ports.MessagingTx with INSERT … ON CONFLICT
// (profile_id) DO UPDATE of the configuration columns only: the status
// columns keep what RecordSkillCall wrote (a new row starts with none).
func (t *msgTx) SaveSkillsConfig(ctx context.Context, c core.SkillsConfig) error {
	skills, err := skillsJSON(c.Skills)
	if err != nil {
		return t.s.fail(ctx, "messaging tx: save skills config", err)
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO messaging_skills_configs
			(profile_id, enabled, webhook_url, secret, skills, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (profile_id) DO UPDATE SET
			enabled = excluded.enabled, webhook_url = excluded.webhook_url, secret = excluded.secret,
			skills = excluded.skills, updated_at = excluded.updated_at`,
		t.r.profileID, c.Enabled, c.WebhookURL, c.Secret, skills, c.UpdatedAt.UTC())
	return t.s.fail(ctx, "messaging tx: save skills config", err)
}

// SaveHandoffConfig implements ports.MessagingTx with INSERT … ON CONFLICT
// (profile_id) DO UPDATE.
func (t *msgTx) SaveHandoffConfig(ctx context.Context, c core.HandoffConfig) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO messaging_handoff_configs (profile_id, webhook_url, secret, updated_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (profile_id) DO UPDATE SET
			webhook_url = excluded.webhook_url, secret = excluded.secret, updated_at = excluded.updated_at`,
		t.r.profileID, c.WebhookURL, c.Secret, c.UpdatedAt.UTC())
	return t.s.fail(ctx, "messaging tx: save handoff config", err)
}
