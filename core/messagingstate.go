package core

import (
	"slices"
	"time"
)

// The reasons of credit ledger entries.
const (
	CreditMonthlyGrant = "monthly_grant" // a plan's monthly credits
	CreditGrant        = "grant"         // any other grant (staff, promotions)
	CreditChatTurn     = "chat_turn"     // one AI turn
)

// CreditEntry is one line of a profile's credit ledger: a grant (Amount >
// 0) or a charge (Amount < 0). A profile's balance is the sum of its
// entries and never drops below zero.
type CreditEntry struct {
	ID        string
	ProfileID string
	Amount    int64
	Reason    string
	// Key makes a grant idempotent: a profile has at most one entry per
	// non-empty key ("monthly:2026-08:plan_x"). Charges leave it empty.
	Key       string
	CreatedAt time.Time
}

// MessagingUsage is a profile's messaging counters: its credit balance
// and how many messages its bots received (inbound) and sent (outbound).
type MessagingUsage struct {
	Credits       int64
	InboundCount  int64
	OutboundCount int64
}

// Conversation groups the messages of one exchange with a bot. Ref, the
// caller's conversationRef ("whatsapp:+1555…:thread-1",
// "web:emb_…:visitor"), is unique per profile.
type Conversation struct {
	ID           string
	ProfileID    string
	Ref          string
	Channel      string // "api", "web", …
	AgentID      string // the agent of the latest turn
	MessageCount int
	// HandedOffAt is when a person took the conversation over (the
	// visitor asked for one): the bot then answers none of its turns
	// until the partner hands it back. Zero: the bot has it.
	HandedOffAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ConversationMessage is one stored message of a conversation.
type ConversationMessage struct {
	ID             string
	ConversationID string
	Role           ChatRole
	Content        string
	CreatedAt      time.Time
}

// EmbedSettings is a profile's website chat widget. PublicID (emb_…) is
// what the widget's snippet carries: unique across profiles, it names the
// profile publicly and stops resolving once rotated.
type EmbedSettings struct {
	ProfileID      string
	PublicID       string
	Enabled        bool
	AllowedOrigins []string // hostnames, lower-cased
	AccentColor    string   // "#rrggbb"
	LauncherIcon   string   // one emoji, or an https image URL
	Greeting       string
	ShowLauncher   bool
	UpdatedAt      time.Time
}

// Clone returns a copy of e that shares no memory with it.
func (e EmbedSettings) Clone() EmbedSettings {
	e.AllowedOrigins = slices.Clone(e.AllowedOrigins)
	return e
}
