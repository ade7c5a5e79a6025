package testkit

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// messagingState is the part of Store that holds Messaging. It is guarded
// by Store.mu.
type messagingState struct {
	profiles   map[string]*msgProfile // profile id → agents, knowledge, embed
	embedOwner map[string]string      // current embed public id → profile id
	ledger     map[string][]core.CreditEntry
	grantKeys  map[string]map[string]struct{} // profile id → grant keys
	usage      map[string]core.MessagingUsage // counts only; Credits is unused
	convs      map[string]core.Conversation   // id → conversation
	convByRef  map[string]map[string]string   // profile id → ref → conversation id
	msgs       map[string][]core.ConversationMessage

	// skillsStatus is each configured profile's skills status: what
	// RecordSkillCall writes, outside UpdateMessaging's copies.
	skillsStatus map[string]core.SkillsStatus
	// Outgoing webhook deliveries and their queue (memstore_webhooks.go).
	webhooks webhookState
}

func newMessagingState() messagingState {
	return messagingState{
		profiles:   map[string]*msgProfile{},
		embedOwner: map[string]string{},
		ledger:     map[string][]core.CreditEntry{},
		grantKeys:  map[string]map[string]struct{}{},
		usage:      map[string]core.MessagingUsage{},
		convs:      map[string]core.Conversation{},
		convByRef:  map[string]map[string]string{},
		msgs:       map[string][]core.ConversationMessage{},

		skillsStatus: map[string]core.SkillsStatus{},
		webhooks:     newWebhookState(),
	}
}

// msgProfile is one profile's agents, knowledge, embed settings and
// webhook configurations. A transaction works on a copy (sources slices
// are never changed in place, so the copy may share them) and replaces the
// original when fn succeeds.
type msgProfile struct {
	agents  map[string]core.Agent
	sources map[string][]core.KnowledgeSource // agent id → oldest first
	embed   *core.EmbedSettings
	skills  *core.SkillsConfig  // nil: never configured
	handoff *core.HandoffConfig // nil: never configured
}

func (p *msgProfile) clone() *msgProfile {
	c := &msgProfile{agents: maps.Clone(p.agents), sources: maps.Clone(p.sources)}
	if p.embed != nil {
		e := p.embed.Clone()
		c.embed = &e
	}
	if p.skills != nil {
		sk := p.skills.Clone()
		c.skills = &sk
	}
	if p.handoff != nil {
		h := *p.handoff
		c.handoff = &h
	}
	return c
}

var emptyMsgProfile = &msgProfile{}

// msgProfile returns the profile's messaging data, empty when it has none.
// s.mu is held.
func (s *Store) msgProfile(profileID string) *msgProfile {
	if p, ok := s.messaging.profiles[profileID]; ok {
		return p
	}
	return emptyMsgProfile
}

func sortedAgents(p *msgProfile) []core.Agent {
	out := slices.Collect(maps.Values(p.agents))
	for i := range out {
		out[i] = cloneAgent(out[i])
	}
	slices.SortFunc(out, func(a, b core.Agent) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out
}

func (p *msgProfile) agent(id string) (core.Agent, error) {
	a, ok := p.agents[id]
	if !ok {
		return core.Agent{}, core.NotFound("agent")
	}
	return cloneAgent(a), nil
}

// cloneAgent copies a's HandoffURLs, so no caller shares the stored list
// (none is nil, as the SQL stores read it).
func cloneAgent(a core.Agent) core.Agent {
	if len(a.HandoffURLs) == 0 {
		a.HandoffURLs = nil
	} else {
		a.HandoffURLs = slices.Clone(a.HandoffURLs)
	}
	return a
}

func (p *msgProfile) embedSettings() (core.EmbedSettings, error) {
	if p.embed == nil {
		return core.EmbedSettings{}, core.NotFound("embed settings")
	}
	return p.embed.Clone(), nil
}

// UpdateMessaging implements ports.MessagingStore. It holds the store's
// lock while fn runs, on a copy of the profile's data that replaces it
// when fn succeeds.
func (s *Store) UpdateMessaging(_ context.Context, profileID string, fn func(tx ports.MessagingTx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.profiles[profileID]; !ok {
		return core.NotFound("profile")
	}
	old := s.msgProfile(profileID)
	tx := &msgTx{s: s, profileID: profileID, p: old.clone()}
	if tx.p.agents == nil {
		tx.p.agents, tx.p.sources = map[string]core.Agent{}, map[string][]core.KnowledgeSource{}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if old.embed != nil && (tx.p.embed == nil || tx.p.embed.PublicID != old.embed.PublicID) {
		delete(s.messaging.embedOwner, old.embed.PublicID)
	}
	if tx.p.embed != nil {
		s.messaging.embedOwner[tx.p.embed.PublicID] = profileID
	}
	s.messaging.profiles[profileID] = tx.p
	return nil
}

// Agent implements ports.MessagingStore.
func (s *Store) Agent(_ context.Context, profileID, id string) (core.Agent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.msgProfile(profileID).agent(id)
}

// Agents implements ports.MessagingStore.
func (s *Store) Agents(_ context.Context, profileID string) ([]core.Agent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedAgents(s.msgProfile(profileID)), nil
}

// DefaultAgent implements ports.MessagingStore.
func (s *Store) DefaultAgent(_ context.Context, profileID string) (core.Agent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.msgProfile(profileID).agents {
		if a.IsDefault {
			return cloneAgent(a), nil
		}
	}
	return core.Agent{}, core.NotFound("agent")
}

// KnowledgeSources implements ports.MessagingStore.
func (s *Store) KnowledgeSources(_ context.Context, profileID, agentID string) ([]core.KnowledgeSource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.msgProfile(profileID)
	if _, err := p.agent(agentID); err != nil {
		return nil, err
	}
	out := slices.Clone(p.sources[agentID])
	slices.SortStableFunc(out, func(a, b core.KnowledgeSource) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Embed implements ports.MessagingStore.
func (s *Store) Embed(_ context.Context, profileID string) (core.EmbedSettings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.msgProfile(profileID).embedSettings()
}

// EmbedByPublicID implements ports.MessagingStore.
func (s *Store) EmbedByPublicID(_ context.Context, publicID string) (core.EmbedSettings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pid, ok := s.messaging.embedOwner[publicID]
	if !ok {
		return core.EmbedSettings{}, core.NotFound("embed")
	}
	return s.msgProfile(pid).embedSettings()
}

// GrantCredits implements ports.MessagingStore.
func (s *Store) GrantCredits(_ context.Context, e core.CreditEntry) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Amount <= 0 {
		return false, core.Invalid("amount", "a grant must be positive")
	}
	if _, ok := s.profiles[e.ProfileID]; !ok {
		return false, core.NotFound("profile")
	}
	if e.Key != "" {
		keys := s.messaging.grantKeys[e.ProfileID]
		if _, dup := keys[e.Key]; dup {
			return false, nil
		}
		if keys == nil {
			keys = map[string]struct{}{}
			s.messaging.grantKeys[e.ProfileID] = keys
		}
		keys[e.Key] = struct{}{}
	}
	s.messaging.ledger[e.ProfileID] = append(s.messaging.ledger[e.ProfileID], e)
	return true, nil
}

// ChargeCredits implements ports.MessagingStore.
func (s *Store) ChargeCredits(_ context.Context, e core.CreditEntry) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chargeLocked(e)
}

// chargeLocked charges e as ChargeCredits does. s.mu is held.
func (s *Store) chargeLocked(e core.CreditEntry) (int64, error) {
	if e.Amount <= 0 {
		return 0, core.Invalid("amount", "a charge must be positive")
	}
	if _, ok := s.profiles[e.ProfileID]; !ok {
		return 0, core.NotFound("profile")
	}
	bal := s.balanceLocked(e.ProfileID)
	if bal < e.Amount {
		return bal, errInsufficientCredits()
	}
	e.Amount = -e.Amount
	s.messaging.ledger[e.ProfileID] = append(s.messaging.ledger[e.ProfileID], e)
	return bal + e.Amount, nil
}

func errInsufficientCredits() error {
	return core.E(core.KindPaymentRequired, "not enough AI credits for this turn").WithCode("insufficient_credits")
}

func (s *Store) balanceLocked(profileID string) int64 {
	var n int64
	for _, e := range s.messaging.ledger[profileID] {
		n += e.Amount
	}
	return n
}

// CreditEntries implements ports.MessagingStore.
func (s *Store) CreditEntries(_ context.Context, profileID string, limit int) ([]core.CreditEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.messaging.ledger[profileID]
	return slices.Clone(l[:min(max(limit, 0), len(l))]), nil
}

// MessagingUsage implements ports.MessagingStore.
func (s *Store) MessagingUsage(_ context.Context, profileID string) (core.MessagingUsage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.messaging.usage[profileID]
	u.Credits = s.balanceLocked(profileID)
	return u, nil
}

// RecordTurn implements ports.MessagingStore. A turn with deliveries
// needs an enqueuer (SetEnqueuer), which is called with their ids once the
// turn is applied and the store's lock released: memory has no
// transactions, so the queue learns of the deliveries right after the
// turn, never for a refused one.
func (s *Store) RecordTurn(_ context.Context, t ports.ChatTurn) (core.Conversation, error) {
	conv, ids, enqueue, err := s.recordTurn(t)
	if err != nil {
		return core.Conversation{}, err
	}
	if len(ids) > 0 {
		enqueue(ids)
	}
	return conv, nil
}

// recordTurn applies t under the store's lock and returns, with the
// conversation, the ids of t's deliveries and the enqueuer to call with
// them. Everything that can refuse t is checked before anything changes.
func (s *Store) recordTurn(t ports.ChatTurn) (core.Conversation, []string, func([]string), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.profiles[t.ProfileID]; !ok {
		return core.Conversation{}, nil, nil, core.NotFound("profile")
	}
	enqueue := s.messaging.webhooks.enqueue
	if len(t.Deliveries) > 0 && enqueue == nil {
		return core.Conversation{}, nil, nil, errors.New("testkit: record turn: the turn has webhook deliveries and the store has no enqueuer (SetEnqueuer)")
	}
	ids := make([]string, len(t.Deliveries))
	for i, d := range t.Deliveries {
		if _, dup := s.messaging.webhooks.deliveries[d.ID]; dup || slices.Contains(ids[:i], d.ID) {
			return core.Conversation{}, nil, nil, core.Conflict("conflict", "delivery id already exists")
		}
		ids[i] = d.ID
	}
	if id, ok := s.messaging.convByRef[t.ProfileID][t.Ref]; ok && len(t.Deliveries) > 0 && id != t.ConversationID {
		return core.Conversation{}, nil, nil, core.Conflict("conversation_changed", "the conversation was created by a concurrent turn: run the turn again")
	}
	if t.Charge != nil {
		c := *t.Charge
		c.ProfileID = t.ProfileID
		if _, err := s.chargeLocked(c); err != nil {
			return core.Conversation{}, nil, nil, err
		}
	}
	refs := s.messaging.convByRef[t.ProfileID]
	if refs == nil {
		refs = map[string]string{}
		s.messaging.convByRef[t.ProfileID] = refs
	}
	conv, ok := s.messaging.convs[refs[t.Ref]]
	if !ok {
		conv = core.Conversation{ID: t.ConversationID, ProfileID: t.ProfileID, Ref: t.Ref, CreatedAt: t.At}
		refs[t.Ref] = conv.ID
	}
	conv.Channel, conv.AgentID, conv.UpdatedAt = t.Channel, t.AgentID, t.At
	if t.Handoff && conv.HandedOffAt.IsZero() {
		conv.HandedOffAt = t.At
	}
	u := s.messaging.usage[t.ProfileID]
	for _, m := range t.Messages {
		m.ConversationID = conv.ID
		s.messaging.msgs[conv.ID] = append(s.messaging.msgs[conv.ID], m)
		conv.MessageCount++
		switch m.Role {
		case core.RoleUser:
			u.InboundCount++
		case core.RoleAssistant:
			u.OutboundCount++
		}
	}
	s.messaging.usage[t.ProfileID] = u
	s.messaging.convs[conv.ID] = conv
	for _, d := range t.Deliveries {
		d.ProfileID, d.ConversationID, d.State, d.AttemptCount = t.ProfileID, conv.ID, core.DeliveryPending, 0
		d.NextAttemptAt, d.CreatedAt, d.UpdatedAt, d.DeliveredAt = t.At, t.At, t.At, time.Time{}
		s.messaging.webhooks.add(d)
	}
	return conv, ids, enqueue, nil
}

// Conversation implements ports.MessagingStore.
func (s *Store) Conversation(_ context.Context, profileID, id string) (core.Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conversationLocked(profileID, id)
}

// conversationLocked returns the profile's conversation id. s.mu is held.
func (s *Store) conversationLocked(profileID, id string) (core.Conversation, error) {
	c, ok := s.messaging.convs[id]
	if !ok || c.ProfileID != profileID {
		return core.Conversation{}, core.NotFound("conversation")
	}
	return c, nil
}

// HandBack implements ports.MessagingStore: a handed off conversation's
// HandedOffAt is cleared and its UpdatedAt set to at.
func (s *Store) HandBack(_ context.Context, profileID, conversationID string, at time.Time) (core.Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.conversationLocked(profileID, conversationID)
	if err != nil || c.HandedOffAt.IsZero() {
		return c, err
	}
	c.HandedOffAt, c.UpdatedAt = time.Time{}, at
	s.messaging.convs[c.ID] = c
	return c, nil
}

// ConversationByRef implements ports.MessagingStore.
func (s *Store) ConversationByRef(_ context.Context, profileID, ref string) (core.Conversation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.messaging.convByRef[profileID][ref]
	if !ok {
		return core.Conversation{}, core.NotFound("conversation")
	}
	return s.messaging.convs[id], nil
}

// ConversationMessages implements ports.MessagingStore.
func (s *Store) ConversationMessages(_ context.Context, profileID, conversationID string, limit int) ([]core.ConversationMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.messaging.convs[conversationID]
	if !ok || c.ProfileID != profileID {
		return nil, core.NotFound("conversation")
	}
	all := s.messaging.msgs[conversationID]
	return slices.Clone(all[len(all)-min(max(limit, 0), len(all)):]), nil
}

// msgTx implements ports.MessagingTx on a copy of one profile's data.
type msgTx struct {
	s         *Store
	profileID string
	p         *msgProfile
}

// Agents implements ports.MessagingTx.
func (tx *msgTx) Agents(context.Context) ([]core.Agent, error) { return sortedAgents(tx.p), nil }

// Agent implements ports.MessagingTx.
func (tx *msgTx) Agent(_ context.Context, id string) (core.Agent, error) { return tx.p.agent(id) }

// Embed implements ports.MessagingTx.
func (tx *msgTx) Embed(context.Context) (core.EmbedSettings, error) { return tx.p.embedSettings() }

// CreateAgent implements ports.MessagingTx.
func (tx *msgTx) CreateAgent(_ context.Context, a core.Agent) error {
	if _, taken := tx.p.agents[a.ID]; taken {
		return core.Conflict("conflict", "agent id already exists")
	}
	a.ProfileID, a.IsDefault, a.SourcesCount = tx.profileID, false, 0
	tx.p.agents[a.ID] = cloneAgent(a)
	return nil
}

// UpdateAgent implements ports.MessagingTx.
func (tx *msgTx) UpdateAgent(_ context.Context, a core.Agent) error {
	cur, err := tx.p.agent(a.ID)
	if err != nil {
		return err
	}
	cur.Name, cur.BotDisplayName, cur.BotRoleSummary = a.Name, a.BotDisplayName, a.BotRoleSummary
	cur.SystemInstructions, cur.HumanHandoffEnabled, cur.UpdatedAt = a.SystemInstructions, a.HumanHandoffEnabled, a.UpdatedAt
	cur.HandoffURLs = cloneAgent(a).HandoffURLs
	tx.p.agents[a.ID] = cur
	return nil
}

// SetDefaultAgent implements ports.MessagingTx.
func (tx *msgTx) SetDefaultAgent(_ context.Context, id string) error {
	if _, err := tx.p.agent(id); err != nil {
		return err
	}
	for aid, a := range tx.p.agents {
		a.IsDefault = aid == id
		tx.p.agents[aid] = a
	}
	return nil
}

// DeleteAgent implements ports.MessagingTx.
func (tx *msgTx) DeleteAgent(_ context.Context, id string) error {
	if _, err := tx.p.agent(id); err != nil {
		return err
	}
	delete(tx.p.agents, id)
	delete(tx.p.sources, id)
	return nil
}

// CreateSource implements ports.MessagingTx.
func (tx *msgTx) CreateSource(_ context.Context, src core.KnowledgeSource) error {
	a, err := tx.p.agent(src.AgentID)
	if err != nil {
		return err
	}
	for _, o := range tx.p.sources[src.AgentID] {
		if o.ID == src.ID {
			return core.Conflict("conflict", "source id already exists")
		}
	}
	// Never append in place: the slice may be shared with the committed copy.
	tx.p.sources[src.AgentID] = append(slices.Clip(tx.p.sources[src.AgentID]), src)
	a.SourcesCount++
	tx.p.agents[a.ID] = a
	return nil
}

// DeleteSource implements ports.MessagingTx.
func (tx *msgTx) DeleteSource(_ context.Context, agentID, id string) error {
	a, err := tx.p.agent(agentID)
	if err != nil {
		return err
	}
	srcs := tx.p.sources[agentID]
	i := slices.IndexFunc(srcs, func(k core.KnowledgeSource) bool { return k.ID == id })
	if i < 0 {
		return core.NotFound("source")
	}
	tx.p.sources[agentID] = slices.Delete(slices.Clone(srcs), i, i+1)
	a.SourcesCount--
	tx.p.agents[a.ID] = a
	return nil
}

// SaveEmbed implements ports.MessagingTx.
func (tx *msgTx) SaveEmbed(_ context.Context, e core.EmbedSettings) error {
	if owner, ok := tx.s.messaging.embedOwner[e.PublicID]; ok && owner != tx.profileID {
		return core.Conflict("embed_id_taken", "this embed id belongs to another profile")
	}
	e = e.Clone()
	e.ProfileID = tx.profileID
	tx.p.embed = &e
	return nil
}

// SkillsConfig implements ports.MessagingTx.
func (tx *msgTx) SkillsConfig(context.Context) (core.SkillsConfig, core.SkillsStatus, error) {
	c, st := tx.s.skillsLocked(tx.profileID, tx.p)
	return c, st, nil
}

// HandoffConfig implements ports.MessagingTx.
func (tx *msgTx) HandoffConfig(context.Context) (core.HandoffConfig, error) {
	return tx.p.handoffConfig(), nil
}

// SaveSkillsConfig implements ports.MessagingTx.
func (tx *msgTx) SaveSkillsConfig(_ context.Context, c core.SkillsConfig) error {
	c = c.Clone()
	c.ProfileID = tx.profileID
	tx.p.skills = &c
	return nil
}

// SaveHandoffConfig implements ports.MessagingTx.
func (tx *msgTx) SaveHandoffConfig(_ context.Context, c core.HandoffConfig) error {
	c.ProfileID = tx.profileID
	tx.p.handoff = &c
	return nil
}
