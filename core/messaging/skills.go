package messaging

import (
	"context"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Caps of a skills configuration.
const (
	MaxSkillsWebhookURLBytes = core.MaxURLLen
	MinSkillsSecretBytes     = 16
	MaxSkillsSecretBytes     = 256
	MaxSkillKeyLen           = 40
	MaxSkillLabelLen         = 60 // characters
	MaxSkillKeywordLen       = 60 // characters
)

// SkillsView is a profile's skills configuration as the merchant sees it:
// never the secret, only whether one is set. Skills is never nil.
type SkillsView struct {
	Enabled    bool
	WebhookURL string
	SecretSet  bool
	Skills     []core.Skill
	Status     core.SkillsStatus
	UpdatedAt  time.Time // zero: never configured
}

// SkillsInput replaces a profile's skills configuration. Secret nil keeps
// the stored secret, "" removes it.
type SkillsInput struct {
	Enabled    bool
	WebhookURL string
	Secret     *string
	Skills     []core.Skill
}

// Skills returns the caller's skills configuration and what its recent
// calls did.
func (s *Service) Skills(ctx context.Context, who core.Principal) (SkillsView, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return SkillsView{}, err
	}
	c, st, err := s.cfg.Store.SkillsConfig(ctx, pid)
	if err != nil {
		return SkillsView{}, core.Errorf("skills config", err)
	}
	return skillsView(c, st), nil
}

// PutSkills validates and saves the caller's skills configuration,
// replacing the one it has (the secret is kept when in.Secret is nil).
// An enabled configuration needs a webhook URL and at least one skill.
// Nothing is saved when a field is refused (KindInvalid, the field's JSON
// name as detail).
func (s *Service) PutSkills(ctx context.Context, who core.Principal, in SkillsInput) (SkillsView, error) {
	pid, err := s.caller(ctx, who)
	if err != nil {
		return SkillsView{}, err
	}
	if in, err = s.checkSkillsInput(in); err != nil {
		return SkillsView{}, err
	}
	var view SkillsView
	err = s.cfg.Store.UpdateMessaging(ctx, pid, func(tx ports.MessagingTx) error {
		cur, st, err := tx.SkillsConfig(ctx)
		if err != nil {
			return core.Errorf("skills config", err)
		}
		c := core.SkillsConfig{
			ProfileID: pid, Enabled: in.Enabled, WebhookURL: in.WebhookURL, Secret: cur.Secret,
			Skills: in.Skills, UpdatedAt: s.now(),
		}
		if in.Secret != nil {
			c.Secret = *in.Secret
		}
		view = skillsView(c, st)
		return core.Errorf("save skills config", tx.SaveSkillsConfig(ctx, c))
	})
	if err != nil {
		return SkillsView{}, err
	}
	return view, nil
}

// skillsView is what the merchant sees of c and st.
func skillsView(c core.SkillsConfig, st core.SkillsStatus) SkillsView {
	c = c.Clone()
	if c.Skills == nil {
		c.Skills = []core.Skill{}
	}
	return SkillsView{
		Enabled: c.Enabled, WebhookURL: c.WebhookURL, SecretSet: c.Secret != "", Skills: c.Skills,
		Status: st, UpdatedAt: c.UpdatedAt,
	}
}

// checkSkillsInput validates in and returns it cleaned: the URL, labels
// and keywords trimmed, the skills in the order given.
func (s *Service) checkSkillsInput(in SkillsInput) (SkillsInput, error) {
	in.WebhookURL = strings.TrimSpace(in.WebhookURL)
	if in.WebhookURL == "" {
		if in.Enabled {
			return in, core.Invalid("skillsWebhookUrl", "skillsWebhookUrl is required when skills are enabled")
		}
	} else if err := checkWebhookURL("skillsWebhookUrl", in.WebhookURL, s.cfg.AllowPrivateWebhooks); err != nil {
		return in, err
	}
	if in.Secret != nil && *in.Secret != "" {
		if err := checkWebhookSecret("skillsWebhookSecret", *in.Secret); err != nil {
			return in, err
		}
	}
	skills, err := checkSkills(in.Skills)
	if err != nil {
		return in, err
	}
	if in.Enabled && len(skills) == 0 {
		return in, core.Invalid("skills", "enabled skills need at least one skill")
	}
	in.Skills = skills
	return in, nil
}

// checkSkills validates skills (see checkSkill) and that their keys are
// unique; nil for none.
func checkSkills(in []core.Skill) ([]core.Skill, error) {
	if len(in) > core.MaxSkills {
		return nil, core.Invalid("skills", "at most %d skills", core.MaxSkills)
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]core.Skill, len(in))
	keys := make(map[string]bool, len(in))
	for i, sk := range in {
		c, err := checkSkill(i, sk)
		if err != nil {
			return nil, err
		}
		if keys[c.Key] {
			return nil, core.Invalid("skills", "skills[%d].key %q is used by another skill: keys are unique", i, c.Key)
		}
		keys[c.Key] = true
		out[i] = c
	}
	return out, nil
}

// checkSkill validates the skill at index i: a key of 1 to MaxSkillKeyLen
// lower-case letters, digits, '_' or '-' (starting with a letter or digit),
// a label of 1 to MaxSkillLabelLen characters on one line, and 1 to
// core.MaxSkillKeywords keywords of 1 to MaxSkillKeywordLen characters on
// one line, each holding a letter or digit, none repeating another once
// folded (case and accents ignored).
func checkSkill(i int, sk core.Skill) (core.Skill, error) {
	const field = "skills"
	if !validSkillKey(sk.Key) {
		return core.Skill{}, core.Invalid(field, "skills[%d].key must be 1 to %d lower-case letters, digits, '_' or '-', starting with a letter or digit", i, MaxSkillKeyLen)
	}
	label, err := oneLine(sk.Label, MaxSkillLabelLen)
	if err != nil {
		return core.Skill{}, core.Invalid(field, "skills[%d].label must be 1 to %d characters on one line", i, MaxSkillLabelLen)
	}
	if len(sk.Keywords) == 0 || len(sk.Keywords) > core.MaxSkillKeywords {
		return core.Skill{}, core.Invalid(field, "skills[%d].keywords must hold 1 to %d keywords", i, core.MaxSkillKeywords)
	}
	keywords := make([]string, len(sk.Keywords))
	seen := make(map[string]bool, len(sk.Keywords))
	for j, k := range sk.Keywords {
		k, err := oneLine(k, MaxSkillKeywordLen)
		if err != nil {
			return core.Skill{}, core.Invalid(field, "skills[%d].keywords[%d] must be 1 to %d characters on one line", i, j, MaxSkillKeywordLen)
		}
		folded := foldText(k)
		if strings.TrimSpace(folded) == "" {
			return core.Skill{}, core.Invalid(field, "skills[%d].keywords[%d] must hold a letter or a digit", i, j)
		}
		if seen[folded] {
			return core.Skill{}, core.Invalid(field, "skills[%d].keywords[%d] repeats another keyword of the skill", i, j)
		}
		seen[folded] = true
		keywords[j] = k
	}
	return core.Skill{Key: sk.Key, Label: label, Keywords: keywords}, nil
}

// oneLine trims s and checks it is 1 to max characters of text on one
// line.
func oneLine(s string, max int) (string, error) {
	s, err := core.CleanText("skills", s, max, true)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(s, "\r\n\t") {
		return "", core.Invalid("skills", "one line")
	}
	return s, nil
}

// validSkillKey matches ^[a-z0-9][a-z0-9_-]{0,39}$.
func validSkillKey(k string) bool {
	if k == "" || len(k) > MaxSkillKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// checkWebhookSecret accepts MinSkillsSecretBytes to MaxSkillsSecretBytes
// of printable ASCII without spaces. Its message never repeats the secret.
func checkWebhookSecret(field, secret string) error {
	ok := len(secret) >= MinSkillsSecretBytes && len(secret) <= MaxSkillsSecretBytes
	for i := 0; ok && i < len(secret); i++ {
		ok = secret[i] > ' ' && secret[i] < 0x7f
	}
	if !ok {
		return core.Invalid(field, "%s must be %d to %d printable ASCII characters without spaces", field, MinSkillsSecretBytes, MaxSkillsSecretBytes)
	}
	return nil
}

// checkWebhookURL accepts an absolute https URL of at most
// MaxSkillsWebhookURLBytes with a host, without user info, fragment,
// spaces or control characters. Plain http, and hosts that are obviously
// not public (localhost, *.localhost and literal IP addresses that are
// not public unicast), only when allowPrivate. This is an early, friendly
// check: the webhook sender checks the address it actually dials.
func checkWebhookURL(field, raw string, allowPrivate bool) error {
	bad := func(why string) error { return core.Invalid(field, "%s %s", field, why) }
	if len(raw) > MaxSkillsWebhookURLBytes {
		return bad("must be at most " + strconv.Itoa(MaxSkillsWebhookURLBytes) + " bytes")
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] <= ' ' || raw[i] == 0x7f {
			return bad("must not contain spaces or control characters")
		}
	}
	if !utf8.ValidString(raw) {
		return bad("must be valid UTF-8")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return bad("must be an absolute https URL with a host, like https://shop.example.com/gellhub/skills")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowPrivate:
	default:
		return bad("must be an https URL")
	}
	if u.User != nil {
		return bad("must not hold a user name or password")
	}
	if strings.Contains(raw, "#") {
		return bad("must not hold a fragment (#…)")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("has an invalid port")
		}
	}
	if !allowPrivate && privateHost(u.Hostname()) {
		return bad("must point to a public address, not localhost or a private network")
	}
	return nil
}

// privateHost reports whether host is obviously not public: localhost,
// a name under .localhost, or a literal IP address outside public
// unicast.
func privateHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	if err != nil {
		return false // a name: the sender checks what it resolves to
	}
	return !publicAddr(ip)
}

// nonPublic are the special-purpose ranges that IsGlobalUnicast and
// IsPrivate leave out (IANA's special-purpose registries).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // CGNAT shared space
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: could reach any IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments (Teredo, …)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds any IPv4
	netip.MustParsePrefix("fc00::/7"),        // unique local
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
}

// publicAddr reports whether ip is a public unicast address. An
// IPv4-mapped IPv6 literal is never public here: the sender refuses to dial
// one, whatever IPv4 it maps.
func publicAddr(ip netip.Addr) bool {
	if ip.Is4In6() {
		return false
	}
	ip = ip.WithZone("")
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}
