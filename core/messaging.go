package core

import "time"

// Messaging limits.
const (
	// MaxAgents is how many agents one profile may have.
	MaxAgents = 25
	// MaxSourcesPerAgent caps an agent's knowledge sources.
	MaxSourcesPerAgent = 200
	// MaxSourceBytes caps one knowledge source's text (a question and
	// its answer together).
	MaxSourceBytes = 20000
	// MaxInstructionsBytes caps an agent's system instructions.
	MaxInstructionsBytes = 8000
	// MaxHandoffLinks caps an agent's handoff links.
	MaxHandoffLinks = 5
)

// Agent is one chat bot of a merchant: a persona, instructions, and the
// knowledge it answers from. Exactly one agent of a profile is its
// default (the one chat and the widget use when none is named).
type Agent struct {
	ID                  string
	ProfileID           string
	Name                string
	BotDisplayName      string
	BotRoleSummary      string
	SystemInstructions  string
	HumanHandoffEnabled bool
	// HandoffURLs are the links shown to the visitor when the
	// conversation is handed to a person (at most MaxHandoffLinks).
	HandoffURLs  []HandoffLink
	IsDefault    bool
	SourcesCount int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// HandoffLink is one way to reach a person: a label ("WhatsApp") and an
// https:, mailto: or tel: URL.
type HandoffLink struct {
	Label string
	URL   string
}

// KnowledgeKind tells a free text source from a question and its answer.
type KnowledgeKind string

// The kinds of knowledge sources.
const (
	KnowledgeText KnowledgeKind = "text"
	KnowledgeQA   KnowledgeKind = "qa"
)

// KnowledgeSource is one piece of what an agent knows: a text (Title and
// Content) or a question (Question) with its answer (Content).
type KnowledgeSource struct {
	ID        string
	AgentID   string
	Kind      KnowledgeKind
	Title     string // text sources; optional
	Question  string // qa sources
	Content   string // the text, or the answer
	CreatedAt time.Time
}

// ChatRole is who said a chat message.
type ChatRole string

// The chat roles.
const (
	RoleUser      ChatRole = "user"
	RoleAssistant ChatRole = "assistant"
)

// ChatMessage is one message of a conversation.
type ChatMessage struct {
	Role    ChatRole
	Content string
}
