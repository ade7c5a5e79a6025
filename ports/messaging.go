package ports

import (
	"context"
	"time"

	"github.com/gellhub/gellhub/core"
)

// MessagingStore persists Messaging: agents and their knowledge, the
// widget's embed settings, the credit ledger, conversations and the
// inbound/outbound counters of each profile.
//
// Agent, knowledge and embed changes run inside UpdateMessaging, which
// serialises one profile's changes, so that the rules the core checks on
// what it reads there (at most core.MaxAgents agents, exactly one
// default, the last agent stays, the source caps) still hold when the
// change commits. Credits move only through single atomic calls
// (GrantCredits, ChargeCredits, RecordTurn), so that the balance never
// drops below zero, also under concurrency. Reads are scoped to a
// profile: another profile's id is KindNotFound.
//
// Every method of an unknown profile is KindNotFound (reads of lists
// answer empty instead).
type MessagingStore interface {
	// UpdateMessaging runs fn in one transaction holding the profile's
	// messaging lock: the changes of one profile run one at a time, those
	// of different profiles in parallel. fn's error rolls everything back
	// and is returned as is; a failed commit is returned wrapped
	// (KindUnavailable when the database is down). KindNotFound, and fn
	// does not run, when the profile does not exist. fn must not keep tx.
	UpdateMessaging(ctx context.Context, profileID string, fn func(tx MessagingTx) error) error

	// Agent returns one of the profile's agents with its SourcesCount;
	// KindNotFound.
	Agent(ctx context.Context, profileID, id string) (core.Agent, error)

	// Agents lists the profile's agents by CreatedAt then ID (oldest
	// first), with their SourcesCount.
	Agents(ctx context.Context, profileID string) ([]core.Agent, error)

	// DefaultAgent returns the profile's default agent; KindNotFound when
	// the profile has no agent.
	DefaultAgent(ctx context.Context, profileID string) (core.Agent, error)

	// KnowledgeSources lists an agent's sources by CreatedAt then ID;
	// KindNotFound when the agent is not the profile's.
	KnowledgeSources(ctx context.Context, profileID, agentID string) ([]core.KnowledgeSource, error)

	// Embed returns the profile's embed settings; KindNotFound when it has
	// none yet.
	Embed(ctx context.Context, profileID string) (core.EmbedSettings, error)

	// EmbedByPublicID returns the settings whose current PublicID is id,
	// whatever their Enabled; KindNotFound for an unknown or rotated id.
	EmbedByPublicID(ctx context.Context, publicID string) (core.EmbedSettings, error)

	// GrantCredits adds e (e.Amount > 0) to e.ProfileID's ledger. A grant
	// whose non-empty e.Key the profile already has writes nothing and
	// answers false: a key is granted once, also under concurrency.
	// KindInvalid when e.Amount <= 0.
	GrantCredits(ctx context.Context, e core.CreditEntry) (granted bool, err error)

	// ChargeCredits takes e.Amount (> 0) credits from e.ProfileID in one
	// atomic conditional step: the entry is stored with Amount -e.Amount
	// only when the balance covers it, and the balance left is returned.
	// KindPaymentRequired, code "insufficient_credits", when the balance is
	// short, and nothing is written; KindInvalid when e.Amount <= 0.
	ChargeCredits(ctx context.Context, e core.CreditEntry) (balance int64, err error)

	// CreditEntries lists up to limit of the profile's ledger entries,
	// oldest first.
	CreditEntries(ctx context.Context, profileID string, limit int) ([]core.CreditEntry, error)

	// MessagingUsage returns the profile's balance (the sum of its ledger)
	// and its inbound and outbound counts; zeros for a profile without
	// messaging activity.
	MessagingUsage(ctx context.Context, profileID string) (core.MessagingUsage, error)

	// RecordTurn stores one chat turn atomically: it charges t.Charge (when
	// set) as ChargeCredits does, finds the conversation of (t.ProfileID,
	// t.Ref) or creates it with id t.ConversationID, appends t.Messages
	// (their ConversationID is set by the store), counts each user message
	// as inbound and each assistant message as outbound, and sets the
	// conversation's AgentID, Channel and UpdatedAt to the turn's. Either
	// all of it happens or nothing: KindPaymentRequired
	// "insufficient_credits" leaves everything as it was. Returns the
	// conversation as stored.
	RecordTurn(ctx context.Context, t ChatTurn) (core.Conversation, error)

	// ConversationByRef returns the profile's conversation with ref;
	// KindNotFound.
	ConversationByRef(ctx context.Context, profileID, ref string) (core.Conversation, error)

	// ConversationMessages returns the last limit messages of one of the
	// profile's conversations, oldest first; KindNotFound when the
	// conversation is not the profile's.
	ConversationMessages(ctx context.Context, profileID, conversationID string, limit int) ([]core.ConversationMessage, error)

	// Conversation returns one of the profile's conversations by id;
	// KindNotFound.
	Conversation(ctx context.Context, profileID, id string) (core.Conversation, error)

	// HandBack clears the conversation's HandedOffAt (the bot answers its
	// turns again), sets its UpdatedAt to at and returns it as stored; a
	// conversation the bot has already is returned as is. KindNotFound.
	HandBack(ctx context.Context, profileID, conversationID string, at time.Time) (core.Conversation, error)

	// SkillsConfig returns the profile's skills configuration and status;
	// the zero values (ProfileID empty, Enabled false, no skills) when it
	// has none yet. KindNotFound for an unknown profile, as for
	// HandoffConfig and RecordSkillCall.
	SkillsConfig(ctx context.Context, profileID string) (core.SkillsConfig, core.SkillsStatus, error)

	// RecordSkillCall updates the profile's SkillsStatus with one call made
	// at at: LastCallAt, and LastSuccessAt when failure is nil, else
	// failure goes first in RecentErrors, which keeps the
	// core.MaxSkillErrors newest. Concurrent calls lose none of their
	// updates. A profile without a skills configuration records nothing.
	RecordSkillCall(ctx context.Context, profileID string, at time.Time, failure *core.SkillCallError) error

	// HandoffConfig returns the profile's handoff webhook; the zero value
	// (no URL) when it has none.
	HandoffConfig(ctx context.Context, profileID string) (core.HandoffConfig, error)
}

// WebhookStore keeps outgoing webhook events (core.WebhookDelivery) and
// their attempts. Events are created with the change that causes them
// (ChatTurn.Deliveries) and queued, in the same transaction, for the
// delivery worker, which calls back with each delivery's id.
type WebhookStore interface {
	// Delivery returns one delivery, without its attempts; KindNotFound.
	Delivery(ctx context.Context, id string) (core.WebhookDelivery, error)

	// RecordAttempt stores a (a.DeliveryID's attempt a.N) and sets the
	// delivery's State, AttemptCount, NextAttemptAt, DeliveredAt and
	// UpdatedAt to d's, in one step. An attempt number stored already is
	// KindConflict and changes nothing (two workers raced on one
	// delivery). KindNotFound for an unknown delivery. An empty
	// a.DeliveryID is d.ID; another id is KindInvalid.
	RecordAttempt(ctx context.Context, d core.WebhookDelivery, a core.WebhookAttempt) error

	// Deliveries lists up to q.Limit of the profile's deliveries, newest
	// first (CreatedAt then ID descending), starting after q.After (an id
	// of the previous page; "" from the newest), each with its Attempts.
	// An After that is not one of the profile's deliveries is KindInvalid;
	// a Limit of 0 or less lists nothing.
	Deliveries(ctx context.Context, profileID string, q DeliveryQuery) ([]core.WebhookDelivery, error)

	// PurgeDeliveries deletes up to limit deliveries that are no longer
	// pending (delivered or failed) and whose UpdatedAt is before before,
	// oldest first (UpdatedAt then ID), each with its attempts, and
	// returns how many it deleted. Pending deliveries are never deleted,
	// whatever their age. It is not scoped to a profile: it is the
	// retention purge of every profile's deliveries. Concurrent purges
	// delete each delivery once; a limit of 0 or less deletes nothing.
	PurgeDeliveries(ctx context.Context, before time.Time, limit int) (int, error)

	// StalledDeliveries lists the ids of up to limit pending deliveries
	// whose NextAttemptAt is before before, oldest NextAttemptAt first
	// (then by ID), starting after the delivery after (the last id of the
	// previous page; "" from the oldest): the ones whose queued job may
	// have been lost, to queue again. A delivery listed stays pending and
	// due until it is attempted, so a caller that reads more than one page
	// must page with after. The listing resumes from after's place as
	// stored now: an after that is no longer pending (finished or purged
	// since) lists nothing. It is not scoped to a profile. A limit of 0 or
	// less lists nothing.
	StalledDeliveries(ctx context.Context, before time.Time, after string, limit int) ([]string, error)
}

// DeliveryQuery pages WebhookStore.Deliveries.
type DeliveryQuery struct {
	Limit int
	After string // the last id of the previous page
	Event string // "" for every event
}

// ChatTurn is one turn for MessagingStore.RecordTurn.
type ChatTurn struct {
	ProfileID      string
	ConversationID string // used when the conversation is new
	Ref            string
	Channel        string
	AgentID        string
	Messages       []core.ConversationMessage // in order; ids set by the caller
	// Charge is the turn's cost (Amount > 0 credits to take, Reason
	// and ID set); nil for a free turn.
	Charge *core.CreditEntry
	// Handoff marks the conversation as handed off (HandedOffAt = At)
	// when the bot has it; a conversation already handed off keeps its
	// HandedOffAt.
	Handoff bool
	// Deliveries are outgoing webhook events of the turn (ID, Event,
	// Body set; ProfileID, ConversationID, State pending, NextAttemptAt,
	// CreatedAt and UpdatedAt are set by the store to the turn's). They
	// are stored and queued for delivery in the turn's transaction: they
	// exist, and will be delivered, exactly when the turn committed.
	// Their bodies name ConversationID: when the conversation of Ref has
	// another id (a concurrent first turn created it), a turn with
	// Deliveries is KindConflict, code "conversation_changed", and writes
	// nothing.
	Deliveries []core.WebhookDelivery
	At         time.Time
}

// MessagingTx is one profile's transaction inside
// MessagingStore.UpdateMessaging. Its reads see its own writes. Every
// method is scoped to the transaction's profile: ids of other profiles
// are KindNotFound.
type MessagingTx interface {
	// Agents, Agent and Embed read as MessagingStore's do.
	Agents(ctx context.Context) ([]core.Agent, error)
	Agent(ctx context.Context, id string) (core.Agent, error)
	Embed(ctx context.Context) (core.EmbedSettings, error)

	// CreateAgent stores a new agent that is not the default (a.IsDefault
	// and a.SourcesCount are ignored): SetDefaultAgent makes it one.
	// KindConflict when the id is taken.
	CreateAgent(ctx context.Context, a core.Agent) error

	// UpdateAgent writes an agent's Name, BotDisplayName, BotRoleSummary,
	// SystemInstructions, HumanHandoffEnabled, HandoffURLs (an empty list
	// reads back as nil) and UpdatedAt (not IsDefault,
	// SourcesCount or CreatedAt). KindNotFound.
	UpdateAgent(ctx context.Context, a core.Agent) error

	// SetDefaultAgent makes the agent the profile's only default, in one
	// step. KindNotFound.
	SetDefaultAgent(ctx context.Context, id string) error

	// DeleteAgent deletes an agent and its knowledge sources. KindNotFound.
	// It does not choose a new default: the caller does, in the same
	// transaction.
	DeleteAgent(ctx context.Context, id string) error

	// CreateSource stores a knowledge source of src.AgentID and adds one
	// to the agent's SourcesCount. KindNotFound when the agent is not the
	// profile's.
	CreateSource(ctx context.Context, src core.KnowledgeSource) error

	// DeleteSource deletes one of an agent's sources and takes one from
	// its SourcesCount. KindNotFound when either is unknown.
	DeleteSource(ctx context.Context, agentID, id string) error

	// SaveEmbed stores the profile's embed settings, replacing the ones it
	// has (e.ProfileID is the transaction's). KindConflict, code
	// "embed_id_taken", when another profile's settings (current PublicID)
	// hold e.PublicID. A replaced PublicID stops resolving.
	SaveEmbed(ctx context.Context, e core.EmbedSettings) error

	// SkillsConfig and HandoffConfig read as MessagingStore's do.
	SkillsConfig(ctx context.Context) (core.SkillsConfig, core.SkillsStatus, error)
	HandoffConfig(ctx context.Context) (core.HandoffConfig, error)

	// SaveSkillsConfig replaces the profile's skills configuration (not
	// its status; c.ProfileID is the transaction's).
	SaveSkillsConfig(ctx context.Context, c core.SkillsConfig) error

	// SaveHandoffConfig replaces the profile's handoff webhook
	// (c.ProfileID is the transaction's).
	SaveHandoffConfig(ctx context.Context, c core.HandoffConfig) error
}
