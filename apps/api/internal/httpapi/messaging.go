package httpapi

import (
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
)

// The Messaging API: the dashboard's session routes (/api/messaging/…)
// and the msg_ key routes (/api/messaging/v1/…). The public widget
// routes are in messaging_embed.go.

// messagingAccountJSON is GET /api/messaging/account.
type messagingAccountJSON struct {
	Credits       int64   `json:"credits"`
	InboundCount  int64   `json:"inboundCount"`
	OutboundCount int64   `json:"outboundCount"`
	HasAPIKey     bool    `json:"hasApiKey"`
	MaskedAPIKey  *string `json:"maskedApiKey"` // null without a key
}

// agentSummaryJSON is an agent in a list.
type agentSummaryJSON struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	BotDisplayName string    `json:"botDisplayName"`
	IsDefault      bool      `json:"isDefault"`
	SourcesCount   int       `json:"sourcesCount"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// agentJSON is the full agent record.
type agentJSON struct {
	agentSummaryJSON
	BotRoleSummary      string            `json:"botRoleSummary"`
	SystemInstructions  string            `json:"systemInstructions"`
	HumanHandoffEnabled bool              `json:"humanHandoffEnabled"`
	HandoffURLs         []handoffLinkJSON `json:"handoffUrls"` // [] for none
	CreatedAt           time.Time         `json:"createdAt"`
}

// handoffLinkJSON is one of an agent's handoff links.
type handoffLinkJSON struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// handoffLinksView renders links, [] for none.
func handoffLinksView(ls []core.HandoffLink) []handoffLinkJSON {
	out := make([]handoffLinkJSON, len(ls))
	for i, l := range ls {
		out[i] = handoffLinkJSON(l)
	}
	return out
}

// handoffLinks reads links from a request.
func handoffLinks(ls []handoffLinkJSON) []core.HandoffLink {
	out := make([]core.HandoffLink, len(ls))
	for i, l := range ls {
		out[i] = core.HandoffLink(l)
	}
	return out
}

func agentSummaryView(a core.Agent) agentSummaryJSON {
	return agentSummaryJSON{
		ID: a.ID, Name: a.Name, BotDisplayName: a.BotDisplayName, IsDefault: a.IsDefault,
		SourcesCount: a.SourcesCount, UpdatedAt: a.UpdatedAt,
	}
}

func agentView(a core.Agent) agentJSON {
	return agentJSON{
		agentSummaryJSON: agentSummaryView(a), BotRoleSummary: a.BotRoleSummary,
		SystemInstructions: a.SystemInstructions, HumanHandoffEnabled: a.HumanHandoffEnabled,
		HandoffURLs: handoffLinksView(a.HandoffURLs), CreatedAt: a.CreatedAt,
	}
}

func agentSummaries(as []core.Agent) []agentSummaryJSON {
	out := make([]agentSummaryJSON, 0, len(as))
	for _, a := range as {
		out = append(out, agentSummaryView(a))
	}
	return out
}

// sourceJSON is a knowledge source: a text (title, content) or a
// question and its answer (question, answer).
type sourceJSON struct {
	ID        string    `json:"id"`
	AgentID   string    `json:"agentId"`
	Type      string    `json:"type"`
	Title     *string   `json:"title,omitempty"`
	Content   *string   `json:"content,omitempty"`
	Question  *string   `json:"question,omitempty"`
	Answer    *string   `json:"answer,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

func sourceView(src core.KnowledgeSource) sourceJSON {
	j := sourceJSON{ID: src.ID, AgentID: src.AgentID, Type: string(src.Kind), CreatedAt: src.CreatedAt}
	title, content, question := src.Title, src.Content, src.Question
	if src.Kind == core.KnowledgeQA {
		j.Question, j.Answer = &question, &content
	} else {
		j.Title, j.Content = &title, &content
	}
	return j
}

// embedJSON is the widget's settings with the share link and the two
// install snippets (GET/PUT /api/messaging/v1/embed and the session twin).
type embedJSON struct {
	EmbedEnabled        bool      `json:"embedEnabled"`
	EmbedAllowedOrigins []string  `json:"embedAllowedOrigins"`
	EmbedAccentColor    string    `json:"embedAccentColor"`
	EmbedLauncherIcon   string    `json:"embedLauncherIcon"`
	EmbedShowLauncher   bool      `json:"embedShowLauncher"`
	EmbedGreeting       string    `json:"embedGreeting"`
	EmbedPublicID       string    `json:"embedPublicId"`
	EmbedShareLink      string    `json:"embedShareLink"`
	EmbedCodeFloating   string    `json:"embedCodeFloating"`
	EmbedCodeButton     string    `json:"embedCodeButton"`
	ChatTitle           string    `json:"chatTitle"`
	UpdatedAt           time.Time `json:"updatedAt"`
}

func embedView(v messaging.EmbedView) embedJSON {
	e := v.Settings
	origins := e.AllowedOrigins
	if origins == nil {
		origins = []string{}
	}
	return embedJSON{
		EmbedEnabled: e.Enabled, EmbedAllowedOrigins: origins, EmbedAccentColor: e.AccentColor,
		EmbedLauncherIcon: e.LauncherIcon, EmbedShowLauncher: e.ShowLauncher, EmbedGreeting: e.Greeting,
		EmbedPublicID: e.PublicID, EmbedShareLink: v.ShareLink, EmbedCodeFloating: v.CodeFloating,
		EmbedCodeButton: v.CodeButton, ChatTitle: v.ChatTitle, UpdatedAt: e.UpdatedAt,
	}
}

// botJSON is GET /api/messaging/v1/bot.
type botJSON struct {
	Account struct {
		Credits int64 `json:"credits"`
	} `json:"account"`
	Agents          []agentSummaryJSON `json:"agents"`
	DefaultAgent    *agentJSON         `json:"defaultAgent"` // null without agents
	Embed           embedJSON          `json:"embed"`
	EmbedShareLink  string             `json:"embedShareLink"`
	InstallSnippets struct {
		Floating string `json:"floating"`
		Button   string `json:"button"`
	} `json:"installSnippets"`
}

// present records that a JSON key was sent, whatever its value (null
// included).
type present bool

// UnmarshalJSON implements json.Unmarshaler.
func (p *present) UnmarshalJSON([]byte) error {
	*p = true
	return nil
}

type chatMessageJSON struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Channel         string            `json:"channel"`
	AgentID         string            `json:"agentId"`
	ConversationRef string            `json:"conversationRef"`
	Messages        []chatMessageJSON `json:"messages"`
	Model           present           `json:"model"`
	Provider        present           `json:"provider"`
}

// chatResponse is one turn's answer. UI comes from a skill and Handoff
// from human handoff; both are left out otherwise. Content is always
// present: "" on the turns of a conversation a person has.
type chatResponse struct {
	Role           string          `json:"role"`
	Content        string          `json:"content"`
	CreditsCharged *int64          `json:"creditsCharged,omitempty"`
	ConversationID string          `json:"conversationId,omitempty"`
	UI             json.RawMessage `json:"ui,omitempty"`
	Handoff        bool            `json:"handoff,omitempty"`
}

type agentRequest struct {
	Name                *string `json:"name"`
	BotDisplayName      *string `json:"botDisplayName"`
	BotRoleSummary      *string `json:"botRoleSummary"`
	SystemInstructions  *string `json:"systemInstructions"`
	HumanHandoffEnabled *bool   `json:"humanHandoffEnabled"`
	// HandoffURLs replaces the agent's handoff links; absent (or null)
	// keeps them.
	HandoffURLs *[]handoffLinkJSON `json:"handoffUrls"`
	IsDefault   *bool              `json:"isDefault"`
}

type sourceRequest struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Content  string `json:"content"`
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// embedRequest saves widget settings; absent (or null) fields keep their
// value.
type embedRequest struct {
	EmbedEnabled        *bool     `json:"embedEnabled"`
	EmbedAllowedOrigins *[]string `json:"embedAllowedOrigins"`
	EmbedAccentColor    *string   `json:"embedAccentColor"`
	EmbedLauncherIcon   *string   `json:"embedLauncherIcon"`
	EmbedShowLauncher   *bool     `json:"embedShowLauncher"`
	EmbedGreeting       *string   `json:"embedGreeting"`
	RotateEmbedID       *bool     `json:"rotateEmbedId"`
}

func value[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// --- session routes ---

func (s *Server) messagingAccount(c *fiber.Ctx) error {
	a, err := s.Messaging.Account(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(messagingAccountJSON{
		Credits: a.Credits, InboundCount: a.InboundCount, OutboundCount: a.OutboundCount,
		HasAPIKey: a.HasAPIKey, MaskedAPIKey: optional(a.MaskedAPIKey),
	})
}

func (s *Server) messagingRotateKey(c *fiber.Ctx) error {
	key, err := s.Messaging.RotateKey(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"apiKey": key})
}

// --- key routes (and the session twin of the embed settings) ---

func (s *Server) messagingBot(c *fiber.Ctx) error {
	b, err := s.Messaging.Bot(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	var out botJSON
	out.Account.Credits = b.Credits
	out.Agents = agentSummaries(b.Agents)
	if b.DefaultAgent != nil {
		a := agentView(*b.DefaultAgent)
		out.DefaultAgent = &a
	}
	out.Embed = embedView(b.Embed)
	out.EmbedShareLink = b.Embed.ShareLink
	out.InstallSnippets.Floating, out.InstallSnippets.Button = b.Embed.CodeFloating, b.Embed.CodeButton
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

func (s *Server) messagingChat(c *fiber.Ctx) error {
	var req chatRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := messaging.ChatInput{
		Channel: req.Channel, AgentID: req.AgentID, ConversationRef: req.ConversationRef,
		ModelSet: bool(req.Model), ProviderSet: bool(req.Provider),
		Messages: make([]core.ChatMessage, 0, len(req.Messages)),
	}
	for _, m := range req.Messages {
		in.Messages = append(in.Messages, core.ChatMessage{Role: core.ChatRole(m.Role), Content: m.Content})
	}
	r, err := s.Messaging.Chat(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	charged := r.CreditsCharged
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(chatResponse{
		Role: string(core.RoleAssistant), Content: r.Content, CreditsCharged: &charged,
		ConversationID: r.ConversationID, UI: r.UI, Handoff: r.Handoff,
	})
}

func (s *Server) messagingAgents(c *fiber.Ctx) error {
	as, err := s.Messaging.Agents(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"agents": agentSummaries(as)})
}

func (s *Server) messagingCreateAgent(c *fiber.Ctx) error {
	var req agentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := messaging.AgentInput{
		Name: value(req.Name), BotDisplayName: value(req.BotDisplayName), BotRoleSummary: value(req.BotRoleSummary),
		SystemInstructions: value(req.SystemInstructions), HumanHandoffEnabled: value(req.HumanHandoffEnabled),
		IsDefault: value(req.IsDefault),
	}
	if req.HandoffURLs != nil {
		in.HandoffURLs = handoffLinks(*req.HandoffURLs)
	}
	a, err := s.Messaging.CreateAgent(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(agentView(a))
}

func (s *Server) messagingAgent(c *fiber.Ctx) error {
	a, err := s.Messaging.Agent(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(agentView(a))
}

func (s *Server) messagingUpdateAgent(c *fiber.Ctx) error {
	var req agentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p := messaging.AgentPatch{
		Name: req.Name, BotDisplayName: req.BotDisplayName, BotRoleSummary: req.BotRoleSummary,
		SystemInstructions: req.SystemInstructions, HumanHandoffEnabled: req.HumanHandoffEnabled, IsDefault: req.IsDefault,
	}
	if req.HandoffURLs != nil {
		ls := handoffLinks(*req.HandoffURLs)
		p.HandoffURLs = &ls
	}
	a, err := s.Messaging.UpdateAgent(c.UserContext(), principal(c), c.Params("id"), p)
	if err != nil {
		return err
	}
	return c.JSON(agentView(a))
}

func (s *Server) messagingDeleteAgent(c *fiber.Ctx) error {
	if err := s.Messaging.DeleteAgent(c.UserContext(), principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) messagingSources(c *fiber.Ctx) error {
	srcs, err := s.Messaging.Sources(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	out := make([]sourceJSON, 0, len(srcs))
	for _, src := range srcs {
		out = append(out, sourceView(src))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"sources": out})
}

func (s *Server) messagingAddSource(c *fiber.Ctx) error {
	var req sourceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	src, err := s.Messaging.AddSource(c.UserContext(), principal(c), c.Params("id"), messaging.SourceInput{
		Kind: req.Type, Title: req.Title, Content: req.Content, Question: req.Question, Answer: req.Answer,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(sourceView(src))
}

func (s *Server) messagingDeleteSource(c *fiber.Ctx) error {
	if err := s.Messaging.DeleteSource(c.UserContext(), principal(c), c.Params("id"), c.Params("sourceId")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) messagingEmbed(c *fiber.Ctx) error {
	v, err := s.Messaging.GetEmbed(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(embedView(v))
}

func (s *Server) messagingPutEmbed(c *fiber.Ctx) error {
	var req embedRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, err := s.Messaging.PutEmbed(c.UserContext(), principal(c), messaging.EmbedInput{
		Enabled: req.EmbedEnabled, AllowedOrigins: req.EmbedAllowedOrigins, AccentColor: req.EmbedAccentColor,
		LauncherIcon: req.EmbedLauncherIcon, Greeting: req.EmbedGreeting, ShowLauncher: req.EmbedShowLauncher,
		RotateEmbedID: value(req.RotateEmbedID),
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(embedView(v))
}
