package messaging

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Caps of the public widget.
const (
	// MaxUserMessageChars caps a visitor's message (in characters).
	MaxUserMessageChars = 1000
	// widgetHistory is how many stored messages of the visitor's
	// conversation go to the engine with the new one.
	widgetHistory = 20
	// WebChannel is the channel of widget turns.
	WebChannel = "web"
)

// PublicEmbedConfig is the widget's bootstrap: no key, no balance.
type PublicEmbedConfig struct {
	EmbedID             string
	ChatTitle           string
	AccentColor         string
	LauncherIcon        string
	Greeting            string
	ShowLauncher        bool
	MaxUserMessageChars int
}

// EmbedChatInput is one visitor turn of the public widget. OriginHost is
// the host name of the request's Origin (no scheme, no port); ClientIP
// keys the per-address rate limit.
type EmbedChatInput struct {
	EmbedID    string
	OriginHost string
	VisitorID  string
	ClientIP   string
	Message    string
}

// EmbedReply is what a visitor sees of a turn: never credits or keys.
type EmbedReply struct {
	Content string
	UI      []byte
	Handoff bool
	// HandoffURLs are the default agent's handoff links when Handoff is
	// true (the widget shows them); nil otherwise.
	HandoffURLs []core.HandoffLink
}

// publicEmbed resolves an embed id for an origin: an unknown, rotated or
// disabled id is KindNotFound; an origin host that is neither allowed
// nor gellhub's own (its /chat/ page) is KindForbidden.
func (s *Service) publicEmbed(ctx context.Context, embedID, originHost string) (core.EmbedSettings, error) {
	if !strings.HasPrefix(embedID, "emb_") || !core.ValidID(embedID) {
		return core.EmbedSettings{}, core.NotFound("embed")
	}
	e, err := s.cfg.Store.EmbedByPublicID(ctx, embedID)
	if err != nil {
		return core.EmbedSettings{}, core.Errorf("embed", err)
	}
	if !e.Enabled {
		return core.EmbedSettings{}, core.NotFound("embed")
	}
	if !s.OriginAllowed(e, originHost) {
		return core.EmbedSettings{}, core.Forbidden("this site is not allowed to use this chat widget").WithCode("origin_not_allowed")
	}
	return e, nil
}

// OriginAllowed reports whether a request from originHost may use e: the
// host is in e's allowlist or is gellhub's own host (from BaseURL).
func (s *Service) OriginAllowed(e core.EmbedSettings, originHost string) bool {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(originHost)), ".")
	if h == "" {
		return false
	}
	return h == s.ownHost || slices.Contains(e.AllowedOrigins, h)
}

// EmbedConfigInput asks for a widget's bootstrap.
type EmbedConfigInput struct {
	EmbedID    string
	OriginHost string // the request's Origin host, lower-cased, no port
	ClientIP   string // the client's address, for the per-address limit ("" skips it)
}

// EmbedConfig returns the widget's bootstrap for an allowed origin. It is
// rate limited per client address (EmbedConfigPerIP), before any lookup.
func (s *Service) EmbedConfig(ctx context.Context, in EmbedConfigInput) (PublicEmbedConfig, error) {
	if in.ClientIP != "" {
		if err := s.limit(ctx, "embedconfig:ip:"+in.ClientIP, EmbedConfigPerIP); err != nil {
			return PublicEmbedConfig{}, err
		}
	}
	e, err := s.publicEmbed(ctx, in.EmbedID, in.OriginHost)
	if err != nil {
		return PublicEmbedConfig{}, err
	}
	title, err := s.chatTitle(ctx, e.ProfileID)
	if err != nil {
		return PublicEmbedConfig{}, err
	}
	return PublicEmbedConfig{
		EmbedID: e.PublicID, ChatTitle: title, AccentColor: e.AccentColor, LauncherIcon: e.LauncherIcon,
		Greeting: e.Greeting, ShowLauncher: e.ShowLauncher, MaxUserMessageChars: MaxUserMessageChars,
	}, nil
}

// EmbedChat runs one visitor turn through the profile's default agent,
// in the conversation "web:<embedId>:<visitorId>", with the recent stored
// messages of that conversation as context. It is rate limited per
// visitor and per address, needs the profile's Messaging plan to be
// eligible (402 subscription_required) and costs what Chat costs.
func (s *Service) EmbedChat(ctx context.Context, in EmbedChatInput) (EmbedReply, error) {
	e, err := s.publicEmbed(ctx, in.EmbedID, in.OriginHost)
	if err != nil {
		return EmbedReply{}, err
	}
	if !core.ValidID(in.VisitorID) {
		return EmbedReply{}, core.Invalid("visitorId", "visitorId is 1 to %d letters, digits, '_' or '-'", core.MaxIDLen)
	}
	msg := strings.TrimSpace(in.Message)
	if msg == "" || !utf8.ValidString(msg) {
		return EmbedReply{}, core.Invalid("messages", "the message is required")
	}
	if utf8.RuneCountInString(msg) > MaxUserMessageChars {
		return EmbedReply{}, core.Invalid("messages", "a message is at most %d characters", MaxUserMessageChars)
	}
	if err := s.limit(ctx, "embedchat:visitor:"+e.PublicID+":"+in.VisitorID, EmbedChatPerVisitor); err != nil {
		return EmbedReply{}, err
	}
	if in.ClientIP != "" {
		if err := s.limit(ctx, "embedchat:ip:"+in.ClientIP, EmbedChatPerIP); err != nil {
			return EmbedReply{}, err
		}
	}
	if _, err := s.subscribed(ctx, e.ProfileID); err != nil {
		return EmbedReply{}, err
	}
	ref := WebChannel + ":" + e.PublicID + ":" + in.VisitorID
	history, err := s.history(ctx, e.ProfileID, ref)
	if err != nil {
		return EmbedReply{}, err
	}
	r, err := s.runTurn(ctx, turn{
		profileID: e.ProfileID, channel: WebChannel, ref: ref, visitorID: in.VisitorID,
		messages: append(history, core.ChatMessage{Role: core.RoleUser, Content: msg}),
	})
	if err != nil {
		return EmbedReply{}, err
	}
	return EmbedReply{Content: r.Content, UI: r.UI, Handoff: r.Handoff, HandoffURLs: r.handoffURLs}, nil
}

// history returns the last stored messages of the conversation ref.
func (s *Service) history(ctx context.Context, profileID, ref string) ([]core.ChatMessage, error) {
	conv, err := s.cfg.Store.ConversationByRef(ctx, profileID, ref)
	if core.IsKind(err, core.KindNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, core.Errorf("conversation", err)
	}
	stored, err := s.cfg.Store.ConversationMessages(ctx, profileID, conv.ID, widgetHistory)
	if err != nil {
		return nil, core.Errorf("conversation messages", err)
	}
	out := make([]core.ChatMessage, 0, len(stored)+1)
	for _, m := range stored {
		out = append(out, core.ChatMessage{Role: m.Role, Content: m.Content})
	}
	return out, nil
}

// limit records one event under key; a refused event is KindRateLimited.
// A limiter that is down lets the event through.
func (s *Service) limit(ctx context.Context, key string, l ports.Limit) error {
	if s.cfg.Limiter == nil {
		return nil
	}
	d, err := s.cfg.Limiter.Allow(ctx, key, l)
	if err != nil {
		if core.IsKind(err, core.KindUnavailable) {
			return nil
		}
		return core.Errorf("rate limit", err)
	}
	if !d.Allowed {
		return core.RateLimited(d.RetryAfter)
	}
	return nil
}
