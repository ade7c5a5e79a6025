package messaging

import (
	"context"
	"html"
	"net/url"
	"slices"
	"strings"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Embed defaults and caps.
const (
	DefaultAccentColor  = "#0d9488"
	DefaultLauncherIcon = "💬"
	DefaultGreeting     = "Hi! How can we help?"
	DefaultChatTitle    = "Chat"
	MaxAllowedOrigins   = 20
	MaxGreetingLen      = 300
	maxHostnameLen      = 253
)

// EmbedInput saves widget settings; nil fields keep their value.
// RotateEmbedID issues a new embed id: the old one stops resolving.
type EmbedInput struct {
	Enabled        *bool
	AllowedOrigins *[]string
	AccentColor    *string
	LauncherIcon   *string
	Greeting       *string
	ShowLauncher   *bool
	RotateEmbedID  bool
}

// EmbedView is the widget's settings with what derives from them: the
// chat title (the default agent's display name), the share link and the
// two install snippets of the guide.
type EmbedView struct {
	Settings     core.EmbedSettings
	ChatTitle    string
	ShareLink    string // BaseURL + "/chat/" + embed id
	CodeFloating string
	CodeButton   string
}

// Bot is the read-only snapshot of GET /api/messaging/v1/bot.
type Bot struct {
	Credits      int64
	Agents       []core.Agent
	DefaultAgent *core.Agent // nil while the profile has no agent
	Embed        EmbedView
}

// Bot returns the caller's snapshot: credits, agents, the default agent
// and the widget with its install snippets.
func (s *Service) Bot(ctx context.Context, who core.Principal) (Bot, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return Bot{}, err
	}
	u, err := s.cfg.Store.MessagingUsage(ctx, pid)
	if err != nil {
		return Bot{}, core.Errorf("credits", err)
	}
	out := Bot{Credits: u.Credits}
	if out.Agents, err = s.cfg.Store.Agents(ctx, pid); err != nil {
		return Bot{}, core.Errorf("agents", err)
	}
	for i := range out.Agents {
		if out.Agents[i].IsDefault {
			out.DefaultAgent = &out.Agents[i]
		}
	}
	if out.Embed, err = s.embedView(ctx, pid); err != nil {
		return Bot{}, err
	}
	return out, nil
}

// GetEmbed returns the caller's widget settings, created with the
// defaults (disabled, a fresh embed id) on first use.
func (s *Service) GetEmbed(ctx context.Context, who core.Principal) (EmbedView, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return EmbedView{}, err
	}
	return s.embedView(ctx, pid)
}

// PutEmbed validates and saves the caller's widget settings. An enabled
// widget needs at least one allowed origin.
func (s *Service) PutEmbed(ctx context.Context, who core.Principal, in EmbedInput) (EmbedView, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return EmbedView{}, err
	}
	in, err = checkEmbedInput(in)
	if err != nil {
		return EmbedView{}, err
	}
	var newID string
	if in.RotateEmbedID {
		if newID, err = s.newEmbedID(); err != nil {
			return EmbedView{}, err
		}
	}
	var saved core.EmbedSettings
	err = s.cfg.Store.UpdateMessaging(ctx, pid, func(tx ports.MessagingTx) error {
		e, err := s.currentEmbed(ctx, tx, pid)
		if err != nil {
			return err
		}
		set(&e.Enabled, in.Enabled)
		set(&e.AllowedOrigins, in.AllowedOrigins)
		set(&e.AccentColor, in.AccentColor)
		set(&e.LauncherIcon, in.LauncherIcon)
		set(&e.Greeting, in.Greeting)
		set(&e.ShowLauncher, in.ShowLauncher)
		if e.Enabled && len(e.AllowedOrigins) == 0 {
			return core.Invalid("embedAllowedOrigins", "an enabled widget needs at least one allowed domain")
		}
		if newID != "" {
			e.PublicID = newID
		}
		e.UpdatedAt = s.now()
		saved = e
		return core.Errorf("save embed", tx.SaveEmbed(ctx, e))
	})
	if err != nil {
		return EmbedView{}, err
	}
	return s.view(ctx, pid, saved)
}

// currentEmbed reads the profile's settings in tx, or the defaults.
func (s *Service) currentEmbed(ctx context.Context, tx ports.MessagingTx, pid string) (core.EmbedSettings, error) {
	e, err := tx.Embed(ctx)
	if err == nil {
		return e, nil
	}
	if !core.IsKind(err, core.KindNotFound) {
		return core.EmbedSettings{}, core.Errorf("embed", err)
	}
	id, err := s.newEmbedID()
	if err != nil {
		return core.EmbedSettings{}, err
	}
	return core.EmbedSettings{
		ProfileID: pid, PublicID: id, AccentColor: DefaultAccentColor, LauncherIcon: DefaultLauncherIcon,
		Greeting: DefaultGreeting, ShowLauncher: true, UpdatedAt: s.now(),
	}, nil
}

// embedView reads the profile's settings, storing the defaults on first
// use, and derives the view.
func (s *Service) embedView(ctx context.Context, pid string) (EmbedView, error) {
	e, err := s.cfg.Store.Embed(ctx, pid)
	if core.IsKind(err, core.KindNotFound) {
		err = s.cfg.Store.UpdateMessaging(ctx, pid, func(tx ports.MessagingTx) error {
			if e, err = tx.Embed(ctx); err == nil {
				return nil // created meanwhile
			}
			if e, err = s.currentEmbed(ctx, tx, pid); err != nil {
				return err
			}
			return core.Errorf("save embed", tx.SaveEmbed(ctx, e))
		})
	}
	if err != nil {
		return EmbedView{}, core.Errorf("embed", err)
	}
	return s.view(ctx, pid, e)
}

// view derives the share link and the snippets of e.
func (s *Service) view(ctx context.Context, pid string, e core.EmbedSettings) (EmbedView, error) {
	title, err := s.chatTitle(ctx, pid)
	if err != nil {
		return EmbedView{}, err
	}
	v := EmbedView{Settings: e, ChatTitle: title, ShareLink: s.cfg.BaseURL + "/chat/" + e.PublicID}
	v.CodeFloating, v.CodeButton = s.Snippets(e.PublicID, title, e.LauncherIcon)
	return v, nil
}

// chatTitle is the default agent's display name (or name), else "Chat".
func (s *Service) chatTitle(ctx context.Context, pid string) (string, error) {
	a, err := s.cfg.Store.DefaultAgent(ctx, pid)
	switch {
	case core.IsKind(err, core.KindNotFound):
		return DefaultChatTitle, nil
	case err != nil:
		return "", core.Errorf("default agent", err)
	case a.BotDisplayName != "":
		return a.BotDisplayName, nil
	}
	return a.Name, nil
}

// Snippets returns the guide's two install snippets, the floating bubble
// and the custom button, with every attribute value HTML-escaped.
func (s *Service) Snippets(embedID, title, icon string) (floating, button string) {
	if icon == "" {
		icon = DefaultLauncherIcon
	}
	esc := html.EscapeString
	script := `<script src="` + esc(s.cfg.BaseURL+"/embed/gellhub-chat.js") + `" data-embed-id="` + esc(embedID) +
		`" data-chat-title="` + esc(title) + `"`
	floating = script + ` data-launcher-icon="` + esc(icon) + `" data-launcher="true" async ></script>`
	button = script + ` data-launcher="false" async ></script> <button type="button" onclick="window.GellHubChat && GellHubChat.open()">Chat</button>`
	return floating, button
}

// newEmbedID returns a fresh public embed id: emb_ and 128 random bits.
func (s *Service) newEmbedID() (string, error) {
	tok, err := core.RandomToken(s.cfg.Random, 16)
	if err != nil {
		return "", core.Internal(err)
	}
	return "emb_" + tok, nil
}

// checkEmbedInput validates and normalizes the fields in carries.
func checkEmbedInput(in EmbedInput) (EmbedInput, error) {
	if in.AllowedOrigins != nil {
		hosts, err := checkOrigins(*in.AllowedOrigins)
		if err != nil {
			return in, err
		}
		in.AllowedOrigins = &hosts
	}
	if in.AccentColor != nil {
		c, err := checkColor(*in.AccentColor)
		if err != nil {
			return in, err
		}
		in.AccentColor = &c
	}
	if in.LauncherIcon != nil {
		icon, err := checkLauncherIcon(*in.LauncherIcon)
		if err != nil {
			return in, err
		}
		in.LauncherIcon = &icon
	}
	if in.Greeting != nil {
		g, err := core.CleanText("embedGreeting", *in.Greeting, MaxGreetingLen, false)
		if err != nil {
			return in, err
		}
		in.Greeting = &g
	}
	return in, nil
}

// checkOrigins normalizes the allowed origins: host names only
// (lower-cased, no scheme, port or path; international names in their
// xn-- form), at most MaxAllowedOrigins, duplicates dropped.
func checkOrigins(in []string) ([]string, error) {
	if len(in) > MaxAllowedOrigins {
		return nil, core.Invalid("embedAllowedOrigins", "at most %d allowed domains", MaxAllowedOrigins)
	}
	out := []string{}
	for _, h := range in {
		h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
		if !validHostname(h) {
			return nil, core.Invalid("embedAllowedOrigins", "%q is not a host name: give names like shop.example.com, without scheme, port or path (international names in their xn-- form)", truncate(h, 80))
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out, nil
}

// validHostname reports whether h is a lower-case DNS host name: labels of
// 1 to 63 letters, digits and inner hyphens, at most 253 bytes.
func validHostname(h string) bool {
	if h == "" || len(h) > maxHostnameLen {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// checkColor accepts "#rrggbb" (any case) and returns it lower-cased.
func checkColor(c string) (string, error) {
	c = strings.ToLower(strings.TrimSpace(c))
	ok := len(c) == 7 && c[0] == '#'
	for i := 1; ok && i < len(c); i++ {
		ok = c[i] >= '0' && c[i] <= '9' || c[i] >= 'a' && c[i] <= 'f'
	}
	if !ok {
		return "", core.Invalid("embedAccentColor", "embedAccentColor must be a color like #0d9488")
	}
	return c, nil
}

// checkLauncherIcon accepts one emoji or an https image URL.
func checkLauncherIcon(icon string) (string, error) {
	icon = strings.TrimSpace(icon)
	if strings.HasPrefix(strings.ToLower(icon), "https://") {
		if err := core.CheckAbsoluteURL("embedLauncherIcon", icon); err != nil {
			return "", err
		}
		if u, _ := url.Parse(icon); u.Scheme != "https" || u.User != nil || strings.ContainsAny(icon, " \"'<>") {
			return "", core.Invalid("embedLauncherIcon", "embedLauncherIcon must be one emoji or an https image URL")
		}
		return icon, nil
	}
	if !singleEmoji(icon) {
		return "", core.Invalid("embedLauncherIcon", "embedLauncherIcon must be one emoji or an https image URL")
	}
	return icon, nil
}
