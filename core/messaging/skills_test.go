package messaging_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
)

const hookSecret = "whk-0123456789abcdef"

func bookingSkills() []core.Skill {
	return []core.Skill{
		{Key: "booking", Label: "Booking", Keywords: []string{"book", "appointment", "schedule"}},
		{Key: "catalog", Label: "Products", Keywords: []string{"product", "price", "catalog"}},
	}
}

func validSkillsInput() messaging.SkillsInput {
	return messaging.SkillsInput{
		Enabled: true, WebhookURL: "https://yourstore.com/api/gellhub/skills", Secret: ptr(hookSecret), Skills: bookingSkills(),
	}
}

// storedSkills reads the profile's configuration as stored.
func (f *fixture) storedSkills(t *testing.T, u user) core.SkillsConfig {
	t.Helper()
	c, _, err := f.store.SkillsConfig(f.ctx, u.profileID)
	require.NoError(t, err)
	return c
}

func TestSkills(t *testing.T) {
	t.Parallel()

	t.Run("defaults_before_any_configuration", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		v, err := f.svc.Skills(f.ctx, u.key)
		require.NoError(t, err)
		require.Equal(t, messaging.SkillsView{Skills: []core.Skill{}}, v)
	})

	t.Run("saves_and_reads_back_without_the_secret", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		f.clock.Advance(time.Hour)
		in := validSkillsInput()
		in.WebhookURL = "  https://yourstore.com/api/gellhub/skills  "
		in.Skills[0].Label = "  Booking  "
		in.Skills[0].Keywords = []string{" book ", "appointment", "schedule"}
		v, err := f.svc.PutSkills(f.ctx, u.key, in)
		require.NoError(t, err)
		want := messaging.SkillsView{
			Enabled: true, WebhookURL: "https://yourstore.com/api/gellhub/skills", SecretSet: true,
			Skills: bookingSkills(), UpdatedAt: start.Add(time.Hour),
		}
		require.Equal(t, want, v)
		require.NotContains(t, fmt.Sprintf("%+v", v), hookSecret)

		got, err := f.svc.Skills(f.ctx, u.session)
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.NotContains(t, fmt.Sprintf("%+v", got), hookSecret)

		c := f.storedSkills(t, u)
		require.Equal(t, hookSecret, c.Secret)
		require.Equal(t, bookingSkills(), c.Skills)
	})

	t.Run("secret_kept_when_nil_removed_when_empty", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		_, err := f.svc.PutSkills(f.ctx, u.key, validSkillsInput())
		require.NoError(t, err)

		in := validSkillsInput()
		in.Secret = nil
		in.Skills = in.Skills[1:]
		v, err := f.svc.PutSkills(f.ctx, u.session, in)
		require.NoError(t, err)
		require.True(t, v.SecretSet)
		require.Equal(t, hookSecret, f.storedSkills(t, u).Secret)
		require.Equal(t, []string{"catalog"}, []string{v.Skills[0].Key})

		other := "another-secret-0123456789"
		in.Secret = &other
		_, err = f.svc.PutSkills(f.ctx, u.key, in)
		require.NoError(t, err)
		require.Equal(t, other, f.storedSkills(t, u).Secret)

		in.Secret = ptr("")
		v, err = f.svc.PutSkills(f.ctx, u.key, in)
		require.NoError(t, err)
		require.False(t, v.SecretSet)
		require.Empty(t, f.storedSkills(t, u).Secret)
	})

	t.Run("disabled_may_be_empty", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		_, err := f.svc.PutSkills(f.ctx, u.key, validSkillsInput())
		require.NoError(t, err)
		v, err := f.svc.PutSkills(f.ctx, u.key, messaging.SkillsInput{})
		require.NoError(t, err)
		require.Equal(t, messaging.SkillsView{SecretSet: true, Skills: []core.Skill{}, UpdatedAt: start}, v)
		v, err = f.svc.PutSkills(f.ctx, u.key, messaging.SkillsInput{Skills: bookingSkills(), WebhookURL: "https://yourstore.com/x"})
		require.NoError(t, err, "disabled skills keep their configuration")
		require.False(t, v.Enabled)
		require.Equal(t, bookingSkills(), v.Skills)
	})

	t.Run("status_is_shown", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		_, err := f.svc.PutSkills(f.ctx, u.key, validSkillsInput())
		require.NoError(t, err)
		at := start.Add(time.Minute)
		failure := core.SkillCallError{At: at, Skill: "booking", Error: "answered 500"}
		require.NoError(t, f.store.RecordSkillCall(f.ctx, u.profileID, at, &failure))
		v, err := f.svc.Skills(f.ctx, u.key)
		require.NoError(t, err)
		require.Equal(t, core.SkillsStatus{LastCallAt: at, RecentErrors: []core.SkillCallError{failure}}, v.Status)
		v, err = f.svc.PutSkills(f.ctx, u.key, validSkillsInput())
		require.NoError(t, err)
		require.Equal(t, core.SkillsStatus{LastCallAt: at, RecentErrors: []core.SkillCallError{failure}}, v.Status, "saving keeps the status")
	})

	t.Run("callers", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		_, err := f.svc.Skills(f.ctx, u.drive)
		wantKind(t, err, core.KindForbidden, "")
		_, err = f.svc.PutSkills(f.ctx, u.drive, validSkillsInput())
		wantKind(t, err, core.KindForbidden, "")
		require.Empty(t, f.storedSkills(t, u).Skills)

		unsubscribed := f.register(t)
		_, err = f.svc.Skills(f.ctx, unsubscribed.key)
		wantKind(t, err, core.KindPaymentRequired, "subscription_required")
		_, err = f.svc.PutSkills(f.ctx, unsubscribed.session, validSkillsInput())
		wantKind(t, err, core.KindPaymentRequired, "subscription_required")

		other, _ := f.merchant(t, 0)
		_, err = f.svc.PutSkills(f.ctx, other.key, validSkillsInput())
		require.NoError(t, err)
		v, err := f.svc.Skills(f.ctx, u.key)
		require.NoError(t, err)
		require.Empty(t, v.Skills, "each profile has its own")
	})
}

func TestPutSkillsValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u, _ := f.merchant(t, 0)
	before, err := f.svc.PutSkills(f.ctx, u.key, validSkillsInput())
	require.NoError(t, err)
	stored := f.storedSkills(t, u)

	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	skills := func(n int) []core.Skill {
		out := make([]core.Skill, n)
		for i := range out {
			out[i] = core.Skill{Key: fmt.Sprintf("s%d", i), Label: "S", Keywords: []string{"k"}}
		}
		return out
	}
	withSkill := func(sk core.Skill) func(*messaging.SkillsInput) {
		return func(in *messaging.SkillsInput) { in.Skills = append(in.Skills, sk) }
	}
	withURL := func(url string) func(*messaging.SkillsInput) {
		return func(in *messaging.SkillsInput) { in.WebhookURL = url }
	}
	withSecret := func(s string) func(*messaging.SkillsInput) {
		return func(in *messaging.SkillsInput) { in.Secret = &s }
	}
	keywords := func(k ...string) core.Skill { return core.Skill{Key: "extra", Label: "Extra", Keywords: k} }

	for _, c := range []struct {
		name  string
		edit  func(*messaging.SkillsInput)
		field string
	}{
		{"enabled_without_url", withURL(""), "skillsWebhookUrl"},
		{"enabled_with_blank_url", withURL("   "), "skillsWebhookUrl"},
		{"url_http", withURL("http://yourstore.com/hook"), "skillsWebhookUrl"},
		{"url_ftp", withURL("ftp://yourstore.com/hook"), "skillsWebhookUrl"},
		{"url_relative", withURL("/api/gellhub/skills"), "skillsWebhookUrl"},
		{"url_no_scheme", withURL("yourstore.com/hook"), "skillsWebhookUrl"},
		{"url_opaque", withURL("https:yourstore.com"), "skillsWebhookUrl"},
		{"url_no_host", withURL("https:///hook"), "skillsWebhookUrl"},
		{"url_port_only", withURL("https://:443/hook"), "skillsWebhookUrl"},
		{"url_bad_port", withURL("https://yourstore.com:0/hook"), "skillsWebhookUrl"},
		{"url_port_too_big", withURL("https://yourstore.com:70000/hook"), "skillsWebhookUrl"},
		{"url_userinfo", withURL("https://user:pw@yourstore.com/hook"), "skillsWebhookUrl"},
		{"url_user_only", withURL("https://user@yourstore.com/hook"), "skillsWebhookUrl"},
		{"url_fragment", withURL("https://yourstore.com/hook#x"), "skillsWebhookUrl"},
		{"url_empty_fragment", withURL("https://yourstore.com/hook#"), "skillsWebhookUrl"},
		{"url_inner_space", withURL("https://yourstore.com/my hook"), "skillsWebhookUrl"},
		{"url_tab", withURL("https://yourstore.com/\thook"), "skillsWebhookUrl"},
		{"url_control", withURL("https://yourstore.com/\x00hook"), "skillsWebhookUrl"},
		{"url_2049_bytes", withURL("https://yourstore.com/" + strings.Repeat("x", 2049-22)), "skillsWebhookUrl"},
		{"url_localhost", withURL("https://localhost/hook"), "skillsWebhookUrl"},
		{"url_localhost_upper_dot", withURL("https://LOCALHOST./hook"), "skillsWebhookUrl"},
		{"url_sub_localhost", withURL("https://app.localhost:8443/hook"), "skillsWebhookUrl"},
		{"url_loopback", withURL("https://127.0.0.1/hook"), "skillsWebhookUrl"},
		{"url_loopback_other", withURL("https://127.8.9.10/hook"), "skillsWebhookUrl"},
		{"url_private_10", withURL("https://10.0.0.1/hook"), "skillsWebhookUrl"},
		{"url_private_172", withURL("https://172.16.5.4/hook"), "skillsWebhookUrl"},
		{"url_private_192", withURL("https://192.168.1.1:8443/hook"), "skillsWebhookUrl"},
		{"url_metadata", withURL("https://169.254.169.254/latest/meta-data"), "skillsWebhookUrl"},
		{"url_cgnat", withURL("https://100.64.0.1/hook"), "skillsWebhookUrl"},
		{"url_unspecified", withURL("https://0.0.0.0/hook"), "skillsWebhookUrl"},
		{"url_this_network", withURL("https://0.1.2.3/hook"), "skillsWebhookUrl"},
		{"url_broadcast", withURL("https://255.255.255.255/hook"), "skillsWebhookUrl"},
		{"url_multicast", withURL("https://224.0.0.1/hook"), "skillsWebhookUrl"},
		{"url_test_net", withURL("https://192.0.2.10/hook"), "skillsWebhookUrl"},
		{"url_ipv6_loopback", withURL("https://[::1]/hook"), "skillsWebhookUrl"},
		{"url_ipv6_unspecified", withURL("https://[::]/hook"), "skillsWebhookUrl"},
		{"url_ipv4_mapped_loopback", withURL("https://[::ffff:127.0.0.1]/hook"), "skillsWebhookUrl"},
		{"url_ipv4_mapped_private", withURL("https://[::ffff:10.0.0.1]/hook"), "skillsWebhookUrl"},
		{"url_ipv4_mapped_public", withURL("https://[::ffff:8.8.8.8]/hook"), "skillsWebhookUrl"},
		{"url_ula", withURL("https://[fd00::1]/hook"), "skillsWebhookUrl"},
		{"url_link_local_v6", withURL("https://[fe80::1%25eth0]/hook"), "skillsWebhookUrl"},
		{"url_nat64", withURL("https://[64:ff9b::a00:1]/hook"), "skillsWebhookUrl"},
		{"url_6to4", withURL("https://[2002:7f00:1::1]/hook"), "skillsWebhookUrl"},
		{"url_documentation_v6", withURL("https://[2001:db8::1]/hook"), "skillsWebhookUrl"},

		{"secret_15_bytes", withSecret(strings.Repeat("s", 15)), "skillsWebhookSecret"},
		{"secret_257_bytes", withSecret(strings.Repeat("s", 257)), "skillsWebhookSecret"},
		{"secret_with_space", withSecret("0123456789 abcdef"), "skillsWebhookSecret"},
		{"secret_with_newline", withSecret("0123456789abcdef\n"), "skillsWebhookSecret"},
		{"secret_not_ascii", withSecret("0123456789abcdéf"), "skillsWebhookSecret"},
		{"secret_control", withSecret("0123456789abcdef\x7f"), "skillsWebhookSecret"},

		{"enabled_without_skills", func(in *messaging.SkillsInput) { in.Skills = nil }, "skills"},
		{"21_skills", func(in *messaging.SkillsInput) { in.Skills = skills(core.MaxSkills + 1) }, "skills"},
		{"key_empty", withSkill(core.Skill{Key: "", Label: "x", Keywords: []string{"x"}}), "skills"},
		{"key_upper", withSkill(core.Skill{Key: "Booking2", Label: "x", Keywords: []string{"x"}}), "skills"},
		{"key_starts_with_dash", withSkill(core.Skill{Key: "-x", Label: "x", Keywords: []string{"x"}}), "skills"},
		{"key_starts_with_underscore", withSkill(core.Skill{Key: "_x", Label: "x", Keywords: []string{"x"}}), "skills"},
		{"key_with_space", withSkill(core.Skill{Key: "my skill", Label: "x", Keywords: []string{"x"}}), "skills"},
		{"key_with_dot", withSkill(core.Skill{Key: "a.b", Label: "x", Keywords: []string{"x"}}), "skills"},
		{"key_41_chars", withSkill(core.Skill{Key: strings.Repeat("k", 41), Label: "x", Keywords: []string{"x"}}), "skills"},
		{"key_repeated", withSkill(core.Skill{Key: "booking", Label: "Again", Keywords: []string{"again"}}), "skills"},
		{"label_empty", withSkill(core.Skill{Key: "x", Label: "  ", Keywords: []string{"x"}}), "skills"},
		{"label_61_chars", withSkill(core.Skill{Key: "x", Label: strings.Repeat("é", 61), Keywords: []string{"x"}}), "skills"},
		{"label_two_lines", withSkill(core.Skill{Key: "x", Label: "a\nb", Keywords: []string{"x"}}), "skills"},
		{"label_control", withSkill(core.Skill{Key: "x", Label: "a\x1b[31m", Keywords: []string{"x"}}), "skills"},
		{"no_keywords", withSkill(keywords()), "skills"},
		{"31_keywords", withSkill(keywords(many(core.MaxSkillKeywords+1, func(i int) string { return fmt.Sprintf("k%d", i) })...)), "skills"},
		{"keyword_empty", withSkill(keywords("ok", "  ")), "skills"},
		{"keyword_61_chars", withSkill(keywords(strings.Repeat("é", 61))), "skills"},
		{"keyword_punctuation_only", withSkill(keywords("?!", "ok")), "skills"},
		{"keyword_emoji_only", withSkill(keywords("📅")), "skills"},
		{"keyword_two_lines", withSkill(keywords("a\nb")), "skills"},
		{"keyword_repeated", withSkill(keywords("book", "appointment", "book")), "skills"},
		{"keyword_repeated_once_folded", withSkill(keywords("Réserver", "reserver!")), "skills"},
		{"keyword_bidi", withSkill(keywords("a\u202eb")), "skills"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := validSkillsInput()
			in.Skills = bookingSkills()
			c.edit(&in)
			_, err := f.svc.PutSkills(f.ctx, u.key, in)
			wantKind(t, err, core.KindInvalid, "invalid_request")
			e, _ := core.AsError(err)
			require.Equal(t, c.field, e.Detail, "error: %v", err)
			require.NotContains(t, err.Error(), hookSecret)
			if in.Secret != nil && len(*in.Secret) > 3 {
				require.NotContains(t, err.Error(), *in.Secret)
			}
			require.Equal(t, stored, f.storedSkills(t, u), "nothing changed")
		})
	}
	after, err := f.svc.Skills(f.ctx, u.key)
	require.NoError(t, err)
	require.Equal(t, before, after)
}

func TestPutSkillsBoundaries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u, _ := f.merchant(t, 0)
	maxSkills := make([]core.Skill, core.MaxSkills)
	for i := range maxSkills {
		kws := make([]string, core.MaxSkillKeywords)
		for j := range kws {
			kws[j] = fmt.Sprintf("word%d %d", i, j)
		}
		maxSkills[i] = core.Skill{Key: fmt.Sprintf("skill-%02d", i), Label: strings.Repeat("é", 60), Keywords: kws}
	}
	maxSkills[0].Key = "0" + strings.Repeat("a_-", 13) // 40 bytes
	maxSkills[1].Keywords[0] = strings.Repeat("ü", 60)
	maxSkills[2].Keywords = []string{"¿Réservar?", "réservar mañana", "BOOK NOW", "予約"}
	for _, in := range []messaging.SkillsInput{
		{Enabled: true, WebhookURL: "https://yourstore.com/" + strings.Repeat("x", 2048-22), Secret: ptr(strings.Repeat("s", 16)), Skills: maxSkills},
		{Enabled: true, WebhookURL: "https://yourstore.com:8443/hooks/skills?store=42&x=%20", Secret: ptr(strings.Repeat("~", 256)), Skills: maxSkills[:1]},
		{Enabled: true, WebhookURL: "HTTPS://YourStore.com/hook", Skills: maxSkills[:1]},
		{Enabled: true, WebhookURL: "https://8.8.8.8/hook", Skills: maxSkills[:1]},
		{Enabled: true, WebhookURL: "https://[2606:4700:4700::1111]/hook", Skills: maxSkills[:1]},
		{Enabled: true, WebhookURL: "https://xn--bcher-kva.example/hook", Skills: maxSkills[:1]},
		{Enabled: true, WebhookURL: "https://localhost.example.com/hook", Skills: maxSkills[:1]},
		{Enabled: true, WebhookURL: "https://10.0.0.1.nip.io/hook", Skills: maxSkills[:1]}, // a name: the sender checks where it resolves
	} {
		v, err := f.svc.PutSkills(f.ctx, u.key, in)
		require.NoError(t, err, "url %q", in.WebhookURL)
		require.Equal(t, in.Skills, v.Skills)
		require.Equal(t, in.WebhookURL, v.WebhookURL)
	}
	require.Equal(t, maxSkills[:1], f.storedSkills(t, u).Skills)
}

func TestPutSkillsPrivateWebhooks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.cfg.AllowPrivateWebhooks = true
	f.rebuild()
	u, _ := f.merchant(t, 0)
	for _, url := range []string{
		"http://127.0.0.1:8080/hook", "http://localhost:3000/skills", "https://10.0.0.1/hook", "http://[::1]:9000/x",
		"http://192.168.1.20/hook", "https://shop.example.com/hook",
	} {
		in := validSkillsInput()
		in.WebhookURL = url
		v, err := f.svc.PutSkills(f.ctx, u.key, in)
		require.NoError(t, err, url)
		require.Equal(t, url, v.WebhookURL)
	}
	for _, url := range []string{"ftp://127.0.0.1/hook", "http://user:pw@localhost/hook", "http://localhost/hook#frag", "ws://localhost/hook"} {
		in := validSkillsInput()
		in.WebhookURL = url
		_, err := f.svc.PutSkills(f.ctx, u.key, in)
		wantKind(t, err, core.KindInvalid, "")
	}
}
