package messaging_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
)

func TestAgentHandoffURLs(t *testing.T) {
	t.Parallel()
	link := func(label, url string) core.HandoffLink { return core.HandoffLink{Label: label, URL: url} }
	for _, c := range []struct {
		name  string
		links []core.HandoffLink
		want  []core.HandoffLink // nil with ok: none stored
		ok    bool
	}{
		{"none", nil, nil, true},
		{"empty_list", []core.HandoffLink{}, nil, true},
		{"https_mailto_tel_trimmed", []core.HandoffLink{
			link(" WhatsApp ", " https://wa.me/15551234567?text=Hi "), link("Email us", "mailto:help@example.com"), link("Call", "tel:+15551234567"),
		}, []core.HandoffLink{
			link("WhatsApp", "https://wa.me/15551234567?text=Hi"), link("Email us", "mailto:help@example.com"), link("Call", "tel:+15551234567"),
		}, true},
		{"five_links", []core.HandoffLink{
			link("1", "https://a.example"), link("2", "https://b.example"), link("3", "https://c.example"),
			link("4", "https://d.example"), link("5", "https://e.example"),
		}, nil, true},
		{"label_of_40_chars", []core.HandoffLink{link(strings.Repeat("é", 40), "https://a.example")}, nil, true},
		{"url_of_2048_bytes", []core.HandoffLink{link("Long", "https://a.example/"+strings.Repeat("x", 2048-18))}, nil, true},
		{"uppercase_scheme", []core.HandoffLink{link("A", "HTTPS://a.example/")}, nil, true},

		{"six_links", []core.HandoffLink{
			link("1", "https://a.example"), link("2", "https://b.example"), link("3", "https://c.example"),
			link("4", "https://d.example"), link("5", "https://e.example"), link("6", "https://f.example"),
		}, nil, false},
		{"empty_label", []core.HandoffLink{link("  ", "https://a.example")}, nil, false},
		{"label_of_41_chars", []core.HandoffLink{link(strings.Repeat("é", 41), "https://a.example")}, nil, false},
		{"label_with_a_newline", []core.HandoffLink{link("Whats\nApp", "https://a.example")}, nil, false},
		{"label_with_a_control_char", []core.HandoffLink{link("A\x07", "https://a.example")}, nil, false},
		{"label_with_invisible_formatting", []core.HandoffLink{link("A\u202e", "https://a.example")}, nil, false},
		{"empty_url", []core.HandoffLink{link("A", "")}, nil, false},
		{"http_url", []core.HandoffLink{link("A", "http://a.example")}, nil, false},
		{"javascript_url", []core.HandoffLink{link("A", "javascript:alert(1)")}, nil, false},
		{"data_url", []core.HandoffLink{link("A", "data:text/html,hi")}, nil, false},
		{"relative_url", []core.HandoffLink{link("A", "/contact")}, nil, false},
		{"scheme_relative_url", []core.HandoffLink{link("A", "//a.example/x")}, nil, false},
		{"https_without_host", []core.HandoffLink{link("A", "https:///path")}, nil, false},
		{"https_opaque", []core.HandoffLink{link("A", "https:a.example")}, nil, false},
		{"https_with_userinfo", []core.HandoffLink{link("A", "https://user:pw@a.example")}, nil, false},
		{"url_with_a_space", []core.HandoffLink{link("A", "https://a.example/a b")}, nil, false},
		{"url_with_a_control_char", []core.HandoffLink{link("A", "https://a.example/\x00")}, nil, false},
		{"empty_mailto", []core.HandoffLink{link("A", "mailto:")}, nil, false},
		{"empty_tel", []core.HandoffLink{link("A", "tel:")}, nil, false},
		{"url_of_2049_bytes", []core.HandoffLink{link("Long", "https://a.example/"+strings.Repeat("x", 2049-18))}, nil, false},
		{"duplicate_url", []core.HandoffLink{link("A", "https://a.example"), link("B", " https://a.example")}, nil, false},
		{"duplicate_label", []core.HandoffLink{link("Chat", "https://a.example"), link("chat", "https://b.example")}, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			u, a := f.merchant(t, 0)
			created, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "Support", HandoffURLs: c.links})
			patched, perr := f.svc.UpdateAgent(f.ctx, u.key, a.ID, messaging.AgentPatch{HandoffURLs: &c.links})
			if !c.ok {
				wantKind(t, err, core.KindInvalid, "")
				wantKind(t, perr, core.KindInvalid, "")
				var ie *core.Error
				require.ErrorAs(t, err, &ie)
				require.Equal(t, "handoffUrls", ie.Detail)
				got, gerr := f.svc.Agent(f.ctx, u.key, a.ID)
				require.NoError(t, gerr)
				require.Nil(t, got.HandoffURLs, "a refused patch changes nothing")
				return
			}
			require.NoError(t, err)
			require.NoError(t, perr)
			want := c.want
			if want == nil && len(c.links) > 0 {
				want = c.links
			}
			require.Equal(t, want, created.HandoffURLs)
			require.Equal(t, want, patched.HandoffURLs)
			got, err := f.svc.Agent(f.ctx, u.key, created.ID)
			require.NoError(t, err)
			require.Equal(t, want, got.HandoffURLs)
		})
	}

	t.Run("patch_without_the_field_keeps_them_and_empty_clears_them", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.merchant(t, 0)
		links := []core.HandoffLink{link("Email us", "mailto:help@example.com")}
		_, err := f.svc.UpdateAgent(f.ctx, u.key, a.ID, messaging.AgentPatch{HandoffURLs: &links})
		require.NoError(t, err)
		got, err := f.svc.UpdateAgent(f.ctx, u.key, a.ID, messaging.AgentPatch{Name: ptr("Renamed")})
		require.NoError(t, err)
		require.Equal(t, links, got.HandoffURLs)
		bot, err := f.svc.Bot(f.ctx, u.key)
		require.NoError(t, err)
		require.Equal(t, links, bot.DefaultAgent.HandoffURLs)
		require.Equal(t, links, bot.Agents[0].HandoffURLs)
		got, err = f.svc.UpdateAgent(f.ctx, u.key, a.ID, messaging.AgentPatch{HandoffURLs: &[]core.HandoffLink{}})
		require.NoError(t, err)
		require.Nil(t, got.HandoffURLs)
	})
}
