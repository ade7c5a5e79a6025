package messaging

import (
	"context"
	"net/url"
	"strings"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Field caps of agents.
const (
	MaxBotRoleSummaryLen = 500
	// MaxHandoffLabelLen caps a handoff link's label (in characters).
	MaxHandoffLabelLen = 40
	// MaxHandoffURLBytes caps a handoff link's URL.
	MaxHandoffURLBytes = 2048
)

// AgentInput creates an agent.
type AgentInput struct {
	Name                string
	BotDisplayName      string
	BotRoleSummary      string
	SystemInstructions  string
	HumanHandoffEnabled bool
	HandoffURLs         []core.HandoffLink
	IsDefault           bool
}

// AgentPatch changes an agent; nil fields keep their value. IsDefault
// true makes the agent the default; false on the default is refused
// (make another agent the default instead).
type AgentPatch struct {
	Name                *string
	BotDisplayName      *string
	BotRoleSummary      *string
	SystemInstructions  *string
	HumanHandoffEnabled *bool
	HandoffURLs         *[]core.HandoffLink // replaces the whole list
	IsDefault           *bool
}

// checkAgentFields validates an agent's text fields in place.
func checkAgentFields(a *core.Agent) error {
	var err error
	if a.Name, err = core.CleanText("name", a.Name, core.MaxNameLen, true); err != nil {
		return err
	}
	if a.BotDisplayName, err = core.CleanText("botDisplayName", a.BotDisplayName, core.MaxNameLen, false); err != nil {
		return err
	}
	if a.BotRoleSummary, err = core.CleanText("botRoleSummary", a.BotRoleSummary, MaxBotRoleSummaryLen, false); err != nil {
		return err
	}
	if len(a.SystemInstructions) > core.MaxInstructionsBytes {
		return core.Invalid("systemInstructions", "systemInstructions must be at most %d bytes", core.MaxInstructionsBytes)
	}
	if a.SystemInstructions, err = core.CleanText("systemInstructions", a.SystemInstructions, core.MaxInstructionsBytes, false); err != nil {
		return err
	}
	if a.HandoffURLs, err = checkHandoffLinks(a.HandoffURLs); err != nil {
		return err
	}
	return nil
}

// checkHandoffLinks validates an agent's handoff links and returns them
// cleaned (nil for none): at most core.MaxHandoffLinks, each a label of 1
// to MaxHandoffLabelLen characters on one line and an https:// (with a
// host), mailto: or tel: URL of at most MaxHandoffURLBytes; no two links
// share a URL or (ignoring case) a label.
func checkHandoffLinks(in []core.HandoffLink) ([]core.HandoffLink, error) {
	const field = "handoffUrls"
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > core.MaxHandoffLinks {
		return nil, core.Invalid(field, "an agent has at most %d handoff links", core.MaxHandoffLinks)
	}
	out := make([]core.HandoffLink, len(in))
	labels := make(map[string]bool, len(in))
	urls := make(map[string]bool, len(in))
	for i, l := range in {
		label, err := core.CleanText(field, l.Label, MaxHandoffLabelLen, true)
		if err != nil {
			return nil, core.Invalid(field, "a handoff link's label is 1 to %d characters of text", MaxHandoffLabelLen)
		}
		if strings.ContainsAny(label, "\r\n\t") {
			return nil, core.Invalid(field, "a handoff link's label is one line of text")
		}
		u := strings.TrimSpace(l.URL)
		if !handoffURLOK(u) {
			return nil, core.Invalid(field, "a handoff link's url is an https:// URL, a mailto: or a tel: link of at most %d bytes", MaxHandoffURLBytes)
		}
		key := strings.ToLower(label)
		if labels[key] || urls[u] {
			return nil, core.Invalid(field, "handoff links must not repeat a label or a url")
		}
		labels[key], urls[u] = true, true
		out[i] = core.HandoffLink{Label: label, URL: u}
	}
	return out, nil
}

// handoffURLOK accepts an https:// URL with a host, or a mailto: or tel:
// link, of at most MaxHandoffURLBytes, without spaces or control bytes.
func handoffURLOK(s string) bool {
	if s == "" || len(s) > MaxHandoffURLBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return u.Opaque == "" && u.Host != "" && u.Hostname() != "" && u.User == nil
	case "mailto", "tel":
		return u.Opaque != "" && strings.Trim(u.Opaque, "/") == u.Opaque
	}
	return false
}

func checkAgentID(id string) error {
	if !core.ValidID(id) {
		return core.NotFound("agent")
	}
	return nil
}

// Agents lists the caller's agents, oldest first.
func (s *Service) Agents(ctx context.Context, who core.Principal) ([]core.Agent, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return nil, err
	}
	out, err := s.cfg.Store.Agents(ctx, pid)
	return out, core.Errorf("agents", err)
}

// Agent returns one of the caller's agents.
func (s *Service) Agent(ctx context.Context, who core.Principal, id string) (core.Agent, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return core.Agent{}, err
	}
	if err := checkAgentID(id); err != nil {
		return core.Agent{}, err
	}
	a, err := s.cfg.Store.Agent(ctx, pid, id)
	return a, core.Errorf("agent", err)
}

// CreateAgent adds an agent. The first agent is the default, as is one
// created with IsDefault. The 26th is KindConflict "agent_limit".
func (s *Service) CreateAgent(ctx context.Context, who core.Principal, in AgentInput) (core.Agent, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return core.Agent{}, err
	}
	now := s.now()
	id, err := s.newID("agt")
	if err != nil {
		return core.Agent{}, err
	}
	a := core.Agent{
		ID: id, ProfileID: pid, Name: in.Name, BotDisplayName: in.BotDisplayName, BotRoleSummary: in.BotRoleSummary,
		SystemInstructions: in.SystemInstructions, HumanHandoffEnabled: in.HumanHandoffEnabled, HandoffURLs: in.HandoffURLs,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := checkAgentFields(&a); err != nil {
		return core.Agent{}, err
	}
	err = s.cfg.Store.UpdateMessaging(ctx, pid, func(tx ports.MessagingTx) error {
		all, err := tx.Agents(ctx)
		if err != nil {
			return core.Errorf("agents", err)
		}
		if len(all) >= core.MaxAgents {
			return core.Conflict("agent_limit", "a profile has at most 25 agents")
		}
		if err := tx.CreateAgent(ctx, a); err != nil {
			return core.Errorf("create agent", err)
		}
		a.IsDefault = len(all) == 0 || in.IsDefault
		if a.IsDefault {
			return core.Errorf("default agent", tx.SetDefaultAgent(ctx, a.ID))
		}
		return nil
	})
	if err != nil {
		return core.Agent{}, err
	}
	return a, nil
}

// UpdateAgent applies p to one of the caller's agents.
func (s *Service) UpdateAgent(ctx context.Context, who core.Principal, id string, p AgentPatch) (core.Agent, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return core.Agent{}, err
	}
	if err := checkAgentID(id); err != nil {
		return core.Agent{}, err
	}
	var out core.Agent
	err = s.cfg.Store.UpdateMessaging(ctx, pid, func(tx ports.MessagingTx) error {
		a, err := tx.Agent(ctx, id)
		if err != nil {
			return core.Errorf("agent", err)
		}
		set(&a.Name, p.Name)
		set(&a.BotDisplayName, p.BotDisplayName)
		set(&a.BotRoleSummary, p.BotRoleSummary)
		set(&a.SystemInstructions, p.SystemInstructions)
		set(&a.HumanHandoffEnabled, p.HumanHandoffEnabled)
		set(&a.HandoffURLs, p.HandoffURLs)
		if err := checkAgentFields(&a); err != nil {
			return err
		}
		a.UpdatedAt = s.now()
		if err := tx.UpdateAgent(ctx, a); err != nil {
			return core.Errorf("update agent", err)
		}
		if p.IsDefault != nil {
			switch {
			case *p.IsDefault && !a.IsDefault:
				if err := tx.SetDefaultAgent(ctx, a.ID); err != nil {
					return core.Errorf("default agent", err)
				}
				a.IsDefault = true
			case !*p.IsDefault && a.IsDefault:
				return core.Conflict("default_agent_required", "one agent is always the default: make another agent the default instead")
			}
		}
		out = a
		return nil
	})
	if err != nil {
		return core.Agent{}, err
	}
	return out, nil
}

// DeleteAgent deletes one of the caller's agents and its knowledge. The
// last agent cannot go (KindConflict "last_agent"); when the default goes,
// the oldest remaining agent becomes the default.
func (s *Service) DeleteAgent(ctx context.Context, who core.Principal, id string) error {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return err
	}
	if err := checkAgentID(id); err != nil {
		return err
	}
	return s.cfg.Store.UpdateMessaging(ctx, pid, func(tx ports.MessagingTx) error {
		a, err := tx.Agent(ctx, id)
		if err != nil {
			return core.Errorf("agent", err)
		}
		all, err := tx.Agents(ctx)
		if err != nil {
			return core.Errorf("agents", err)
		}
		if len(all) <= 1 {
			return core.Conflict("last_agent", "at least one agent must remain")
		}
		if err := tx.DeleteAgent(ctx, id); err != nil {
			return core.Errorf("delete agent", err)
		}
		if !a.IsDefault {
			return nil
		}
		for _, o := range all { // oldest first
			if o.ID != id {
				return core.Errorf("default agent", tx.SetDefaultAgent(ctx, o.ID))
			}
		}
		return nil
	})
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// SourceInput adds a knowledge source: Kind "text" (Title optional,
// Content required) or "qa" (Question and Answer required).
type SourceInput struct {
	Kind     string
	Title    string
	Content  string
	Question string
	Answer   string
}

// Sources lists an agent's knowledge, oldest first.
func (s *Service) Sources(ctx context.Context, who core.Principal, agentID string) ([]core.KnowledgeSource, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return nil, err
	}
	if err := checkAgentID(agentID); err != nil {
		return nil, err
	}
	out, err := s.cfg.Store.KnowledgeSources(ctx, pid, agentID)
	return out, core.Errorf("sources", err)
}

// checkSource validates in as a source. Its text (a question and its
// answer together) is at most core.MaxSourceBytes (KindTooLarge).
func checkSource(in SourceInput) (core.KnowledgeSource, error) {
	var src core.KnowledgeSource
	var err error
	switch core.KnowledgeKind(in.Kind) {
	case core.KnowledgeText:
		src.Kind = core.KnowledgeText
		if src.Title, err = core.CleanText("title", in.Title, core.MaxNameLen*2, false); err != nil {
			return src, err
		}
		if src.Content, err = cleanLong("content", in.Content); err != nil {
			return src, err
		}
	case core.KnowledgeQA:
		src.Kind = core.KnowledgeQA
		if src.Question, err = cleanLong("question", in.Question); err != nil {
			return src, err
		}
		if src.Content, err = cleanLong("answer", in.Answer); err != nil {
			return src, err
		}
	default:
		return src, core.Invalid("type", "type must be text or qa")
	}
	if len(src.Title)+len(src.Question)+len(src.Content) > core.MaxSourceBytes {
		return src, core.E(core.KindTooLarge, "a knowledge source is at most 20000 bytes").WithCode("source_too_large")
	}
	return src, nil
}

// cleanLong checks a required long text: its size first (KindTooLarge),
// then its characters.
func cleanLong(field, s string) (string, error) {
	if len(s) > core.MaxSourceBytes {
		return "", core.E(core.KindTooLarge, field+" is over 20000 bytes").WithCode("source_too_large").WithDetail(field)
	}
	return core.CleanText(field, s, core.MaxSourceBytes, true)
}

// AddSource adds a knowledge source to one of the caller's agents. An
// agent holds at most core.MaxSourcesPerAgent (KindQuotaExceeded
// "source_limit").
func (s *Service) AddSource(ctx context.Context, who core.Principal, agentID string, in SourceInput) (core.KnowledgeSource, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return core.KnowledgeSource{}, err
	}
	if err := checkAgentID(agentID); err != nil {
		return core.KnowledgeSource{}, err
	}
	src, err := checkSource(in)
	if err != nil {
		return core.KnowledgeSource{}, err
	}
	if src.ID, err = s.newID("src"); err != nil {
		return core.KnowledgeSource{}, err
	}
	src.AgentID, src.CreatedAt = agentID, s.now()
	err = s.cfg.Store.UpdateMessaging(ctx, pid, func(tx ports.MessagingTx) error {
		a, err := tx.Agent(ctx, agentID)
		if err != nil {
			return core.Errorf("agent", err)
		}
		if a.SourcesCount >= core.MaxSourcesPerAgent {
			return core.E(core.KindQuotaExceeded, "an agent has at most 200 knowledge sources").WithCode("source_limit")
		}
		return core.Errorf("add source", tx.CreateSource(ctx, src))
	})
	if err != nil {
		return core.KnowledgeSource{}, err
	}
	return src, nil
}

// DeleteSource deletes one of an agent's knowledge sources.
func (s *Service) DeleteSource(ctx context.Context, who core.Principal, agentID, id string) error {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return err
	}
	if err := checkAgentID(agentID); err != nil {
		return err
	}
	if !core.ValidID(id) {
		return core.NotFound("source")
	}
	return s.cfg.Store.UpdateMessaging(ctx, pid, func(tx ports.MessagingTx) error {
		return core.Errorf("delete source", tx.DeleteSource(ctx, agentID, id))
	})
}
