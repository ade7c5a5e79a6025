package core

import (
	"slices"
	"time"
)

// Limits of dynamic skills and outgoing webhooks.
const (
	// MaxSkills caps a profile's configured skills.
	MaxSkills = 20
	// MaxSkillKeywords caps one skill's keywords.
	MaxSkillKeywords = 30
	// MaxSkillErrors is how many recent skill call failures a profile's
	// SkillsStatus keeps.
	MaxSkillErrors = 10
)

// Skill is one keyword-triggered skill: when a visitor's message holds one
// of Keywords, the merchant's skills webhook answers the turn.
type Skill struct {
	Key      string // unique per profile: "booking"
	Label    string // shown to the merchant: "Booking"
	Keywords []string
}

// SkillsConfig is a profile's dynamic skills: its webhook and the skills
// that call it, in the order they are matched (the first match wins).
// Secret signs the calls (X-GellHub-Signature) and is never shown once
// saved; "" signs nothing.
type SkillsConfig struct {
	ProfileID  string
	Enabled    bool
	WebhookURL string
	Secret     string
	Skills     []Skill
	UpdatedAt  time.Time // zero: never configured
}

// Clone returns a copy of c that shares no memory with it.
func (c SkillsConfig) Clone() SkillsConfig {
	c.Skills = slices.Clone(c.Skills)
	for i := range c.Skills {
		c.Skills[i].Keywords = slices.Clone(c.Skills[i].Keywords)
	}
	return c
}

// SkillsStatus is what the recent calls of a profile's skills webhook did,
// for the merchant to see.
type SkillsStatus struct {
	LastCallAt    time.Time        // zero: never called
	LastSuccessAt time.Time        // zero: never answered validly
	RecentErrors  []SkillCallError // newest first, at most MaxSkillErrors
}

// SkillCallError is one failed skill call: the webhook was unreachable,
// slow, or answered something the contract refuses. The turn then went to
// the AI engine.
type SkillCallError struct {
	At    time.Time
	Skill string
	Error string // for the merchant: never a secret
}

// HandoffConfig is where a profile's handoff events go: a partner's inbox
// webhook, signed with Secret when it is set. An empty WebhookURL sends
// nothing.
type HandoffConfig struct {
	ProfileID  string
	WebhookURL string
	Secret     string
	UpdatedAt  time.Time // zero: never configured
}

// The outgoing webhook events.
const (
	// EventHandoffRequested: a visitor asked for a person.
	EventHandoffRequested = "handoff.requested"
	// EventHandoffMessage: a visitor wrote while a person has the
	// conversation.
	EventHandoffMessage = "handoff.message"
)

// DeliveryState is where an outgoing webhook event stands.
type DeliveryState string

// The delivery states.
const (
	DeliveryPending   DeliveryState = "pending"   // queued or waiting for a retry
	DeliveryDelivered DeliveryState = "delivered" // a 2xx answer
	DeliveryFailed    DeliveryState = "failed"    // given up after the last retry
)

// WebhookDelivery is one outgoing webhook event of a profile. ID is the
// event id receivers see (X-GellHub-Event-Id, webhook-id): the same on
// every attempt. Body is fixed when the event is created; the URL and
// secret are read from the profile's configuration at each attempt.
type WebhookDelivery struct {
	ID             string // "evt_…"
	ProfileID      string
	Event          string // EventHandoffRequested, …
	ConversationID string
	Body           []byte // the JSON payload
	State          DeliveryState
	AttemptCount   int
	NextAttemptAt  time.Time // zero unless pending
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeliveredAt    time.Time // zero unless delivered
	// Attempts are filled by listings, oldest first; nil otherwise.
	Attempts []WebhookAttempt
}

// WebhookAttempt is one try at delivering a WebhookDelivery.
type WebhookAttempt struct {
	DeliveryID string
	N          int // 1 for the first attempt
	At         time.Time
	URL        string
	StatusCode int // 0 when no answer came
	Duration   time.Duration
	Error      string // "" on success
	// Response is the start of the receiver's answer, truncated to
	// MaxAttemptResponseBytes.
	Response string
}

// MaxAttemptResponseBytes caps the part of a receiver's answer an attempt
// keeps.
const MaxAttemptResponseBytes = 1024
