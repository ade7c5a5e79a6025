package messaging_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/inproc"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
)

// enable turns the widget on for origins.
func (f *fixture) enable(t *testing.T, u user, origins ...string) messaging.EmbedView {
	t.Helper()
	v, err := f.svc.PutEmbed(f.ctx, u.key, messaging.EmbedInput{Enabled: ptr(true), AllowedOrigins: &origins})
	require.NoError(t, err)
	return v
}

func TestGetEmbed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u, _ := f.merchant(t, 0)
	v, err := f.svc.GetEmbed(f.ctx, u.key)
	require.NoError(t, err)
	e := v.Settings
	require.True(t, strings.HasPrefix(e.PublicID, "emb_"), e.PublicID)
	require.False(t, e.Enabled)
	require.Empty(t, e.AllowedOrigins)
	require.Equal(t, "#0d9488", e.AccentColor)
	require.Equal(t, "💬", e.LauncherIcon)
	require.True(t, e.ShowLauncher)
	require.Equal(t, baseURL+"/chat/"+e.PublicID, v.ShareLink)
	require.Equal(t, "Store assistant", v.ChatTitle)
	again, err := f.svc.GetEmbed(f.ctx, u.session)
	require.NoError(t, err)
	require.Equal(t, e.PublicID, again.Settings.PublicID, "the embed id is stable")

	other, _ := f.merchant(t, 0)
	theirs, err := f.svc.GetEmbed(f.ctx, other.key)
	require.NoError(t, err)
	require.NotEqual(t, e.PublicID, theirs.Settings.PublicID)

	_, err = f.svc.GetEmbed(f.ctx, f.register(t).key)
	wantKind(t, err, core.KindPaymentRequired, "subscription_required")
}

func TestSnippets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u, a := f.merchant(t, 0)
	v, err := f.svc.GetEmbed(f.ctx, u.key)
	require.NoError(t, err)
	id := v.Settings.PublicID
	require.Equal(t, `<script src="https://gellhub.test/embed/gellhub-chat.js" data-embed-id="`+id+`" data-chat-title="Store assistant" data-launcher-icon="💬" data-launcher="true" async ></script>`, v.CodeFloating)
	require.Equal(t, `<script src="https://gellhub.test/embed/gellhub-chat.js" data-embed-id="`+id+`" data-chat-title="Store assistant" data-launcher="false" async ></script> <button type="button" onclick="window.GellHubChat && GellHubChat.open()">Chat</button>`, v.CodeButton)

	_, err = f.svc.UpdateAgent(f.ctx, u.key, a.ID, messaging.AgentPatch{BotDisplayName: ptr(`Tom & "Jerry" <shop>`)})
	require.NoError(t, err)
	v, err = f.svc.PutEmbed(f.ctx, u.key, messaging.EmbedInput{LauncherIcon: ptr("https://cdn.example.com/icon.png?a=1&b=2")})
	require.NoError(t, err)
	require.Equal(t, `<script src="https://gellhub.test/embed/gellhub-chat.js" data-embed-id="`+id+`" data-chat-title="Tom &amp; &#34;Jerry&#34; &lt;shop&gt;" data-launcher-icon="https://cdn.example.com/icon.png?a=1&amp;b=2" data-launcher="true" async ></script>`, v.CodeFloating)
}

func TestPutEmbed(t *testing.T) {
	t.Parallel()

	t.Run("saves_and_normalizes", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		origins := []string{"Tenant-Store.com", " www.tenant-store.com ", "tenant-store.com", "xn--bcher-kva.example."}
		v, err := f.svc.PutEmbed(f.ctx, u.key, messaging.EmbedInput{
			Enabled: ptr(true), AllowedOrigins: &origins, AccentColor: ptr("#0D9488"), LauncherIcon: ptr("👩🏽‍💻"),
			ShowLauncher: ptr(false), Greeting: ptr("  Hi! How can we help?  "),
		})
		require.NoError(t, err)
		e := v.Settings
		require.True(t, e.Enabled)
		require.Equal(t, []string{"tenant-store.com", "www.tenant-store.com", "xn--bcher-kva.example"}, e.AllowedOrigins)
		require.Equal(t, "#0d9488", e.AccentColor)
		require.Equal(t, "👩🏽‍💻", e.LauncherIcon)
		require.False(t, e.ShowLauncher)
		require.Equal(t, "Hi! How can we help?", e.Greeting)

		v2, err := f.svc.PutEmbed(f.ctx, u.session, messaging.EmbedInput{Greeting: ptr("Hello")})
		require.NoError(t, err)
		require.Equal(t, e.AllowedOrigins, v2.Settings.AllowedOrigins, "absent fields are kept")
		require.Equal(t, e.PublicID, v2.Settings.PublicID)
		require.Equal(t, "Hello", v2.Settings.Greeting)
	})

	t.Run("enabled_needs_an_origin", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		_, err := f.svc.PutEmbed(f.ctx, u.key, messaging.EmbedInput{Enabled: ptr(true)})
		wantKind(t, err, core.KindInvalid, "")
		f.enable(t, u, "shop.example.com")
		_, err = f.svc.PutEmbed(f.ctx, u.key, messaging.EmbedInput{AllowedOrigins: &[]string{}})
		wantKind(t, err, core.KindInvalid, "")
		_, err = f.svc.PutEmbed(f.ctx, u.key, messaging.EmbedInput{Enabled: ptr(false), AllowedOrigins: &[]string{}})
		require.NoError(t, err, "a disabled widget may have no origin")
	})

	t.Run("validation", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		tooMany := make([]string, messaging.MaxAllowedOrigins+1)
		for i := range tooMany {
			tooMany[i] = "s" + string(rune('a'+i)) + ".example.com"
		}
		for _, c := range []struct {
			name  string
			in    messaging.EmbedInput
			field string
		}{
			{"origin_with_scheme", messaging.EmbedInput{AllowedOrigins: &[]string{"https://shop.example.com"}}, "embedAllowedOrigins"},
			{"origin_with_port", messaging.EmbedInput{AllowedOrigins: &[]string{"shop.example.com:8080"}}, "embedAllowedOrigins"},
			{"origin_with_path", messaging.EmbedInput{AllowedOrigins: &[]string{"shop.example.com/x"}}, "embedAllowedOrigins"},
			{"origin_unicode", messaging.EmbedInput{AllowedOrigins: &[]string{"bücher.example"}}, "embedAllowedOrigins"},
			{"origin_empty", messaging.EmbedInput{AllowedOrigins: &[]string{""}}, "embedAllowedOrigins"},
			{"origin_wildcard", messaging.EmbedInput{AllowedOrigins: &[]string{"*.example.com"}}, "embedAllowedOrigins"},
			{"origin_bad_label", messaging.EmbedInput{AllowedOrigins: &[]string{"-shop.example.com"}}, "embedAllowedOrigins"},
			{"origin_empty_label", messaging.EmbedInput{AllowedOrigins: &[]string{"shop..example.com"}}, "embedAllowedOrigins"},
			{"origin_label_too_long", messaging.EmbedInput{AllowedOrigins: &[]string{strings.Repeat("a", 64) + ".com"}}, "embedAllowedOrigins"},
			{"21_origins", messaging.EmbedInput{AllowedOrigins: &tooMany}, "embedAllowedOrigins"},
			{"color_name", messaging.EmbedInput{AccentColor: ptr("teal")}, "embedAccentColor"},
			{"color_short", messaging.EmbedInput{AccentColor: ptr("#0d9")}, "embedAccentColor"},
			{"color_not_hex", messaging.EmbedInput{AccentColor: ptr("#0d948g")}, "embedAccentColor"},
			{"icon_word", messaging.EmbedInput{LauncherIcon: ptr("chat")}, "embedLauncherIcon"},
			{"icon_two_emoji", messaging.EmbedInput{LauncherIcon: ptr("💬💬")}, "embedLauncherIcon"},
			{"icon_emoji_and_text", messaging.EmbedInput{LauncherIcon: ptr("💬 hi")}, "embedLauncherIcon"},
			{"icon_http_url", messaging.EmbedInput{LauncherIcon: ptr("http://cdn.example.com/i.png")}, "embedLauncherIcon"},
			{"icon_javascript", messaging.EmbedInput{LauncherIcon: ptr("javascript:alert(1)")}, "embedLauncherIcon"},
			{"icon_empty", messaging.EmbedInput{LauncherIcon: ptr("")}, "embedLauncherIcon"},
			{"icon_skin_tone_alone", messaging.EmbedInput{LauncherIcon: ptr("🏽")}, "embedLauncherIcon"},
			{"greeting_too_long", messaging.EmbedInput{Greeting: ptr(strings.Repeat("g", 301))}, "embedGreeting"},
			{"greeting_control_chars", messaging.EmbedInput{Greeting: ptr("hi\x1b[31m")}, "embedGreeting"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.PutEmbed(f.ctx, u.key, c.in)
				wantKind(t, err, core.KindInvalid, "")
				e, _ := core.AsError(err)
				require.Equal(t, c.field, e.Detail)
			})
		}
		for _, icon := range []string{"💬", "⭐", "❤️", "🇫🇷", "1️⃣", "👨‍👩‍👧‍👦", "👍🏿", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "https://cdn.example.com/icon.png"} {
			_, err := f.svc.PutEmbed(f.ctx, u.key, messaging.EmbedInput{LauncherIcon: ptr(icon)})
			require.NoError(t, err, "icon %q", icon)
		}
		ok := tooMany[:messaging.MaxAllowedOrigins]
		_, err := f.svc.PutEmbed(f.ctx, u.key, messaging.EmbedInput{AllowedOrigins: &ok})
		require.NoError(t, err, "20 origins are fine")
	})

	t.Run("rotate_embed_id_invalidates_the_old_one", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		old := f.enable(t, u, "shop.example.com").Settings.PublicID
		_, err := f.svc.EmbedConfig(f.ctx, messaging.EmbedConfigInput{EmbedID: old, OriginHost: "shop.example.com"})
		require.NoError(t, err)
		v, err := f.svc.PutEmbed(f.ctx, u.key, messaging.EmbedInput{RotateEmbedID: true})
		require.NoError(t, err)
		require.NotEqual(t, old, v.Settings.PublicID)
		require.True(t, strings.HasPrefix(v.Settings.PublicID, "emb_"))
		require.Contains(t, v.CodeFloating, `data-embed-id="`+v.Settings.PublicID+`"`)
		require.Equal(t, baseURL+"/chat/"+v.Settings.PublicID, v.ShareLink)
		_, err = f.svc.EmbedConfig(f.ctx, messaging.EmbedConfigInput{EmbedID: old, OriginHost: "shop.example.com"})
		wantKind(t, err, core.KindNotFound, "")
		_, err = f.svc.EmbedConfig(f.ctx, messaging.EmbedConfigInput{EmbedID: v.Settings.PublicID, OriginHost: "shop.example.com"})
		require.NoError(t, err)
	})
}

func TestBot(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u, a := f.merchant(t, 7)
	f.clock.Advance(time.Second)
	b, err := f.svc.CreateAgent(f.ctx, u.key, messaging.AgentInput{Name: "Second"})
	require.NoError(t, err)
	bot, err := f.svc.Bot(f.ctx, u.key)
	require.NoError(t, err)
	require.EqualValues(t, 7, bot.Credits)
	require.Equal(t, []string{a.ID, b.ID}, []string{bot.Agents[0].ID, bot.Agents[1].ID})
	require.NotNil(t, bot.DefaultAgent)
	require.Equal(t, a.ID, bot.DefaultAgent.ID)
	emb, err := f.svc.GetEmbed(f.ctx, u.key)
	require.NoError(t, err)
	require.Equal(t, emb, bot.Embed)

	_, err = f.svc.Bot(f.ctx, u.drive)
	wantKind(t, err, core.KindForbidden, "")
}

func TestPublicEmbed(t *testing.T) {
	t.Parallel()

	t.Run("config_needs_a_live_id_and_an_allowed_origin", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		_, err := f.svc.PutEmbed(f.ctx, u.key, messaging.EmbedInput{AllowedOrigins: &[]string{"shop.example.com"}, Greeting: ptr("Hello!")})
		require.NoError(t, err)
		id := f.enable(t, u, "shop.example.com").Settings.PublicID

		c, err := f.svc.EmbedConfig(f.ctx, messaging.EmbedConfigInput{EmbedID: id, OriginHost: "Shop.Example.com"})
		require.NoError(t, err)
		require.Equal(t, messaging.PublicEmbedConfig{
			EmbedID: id, ChatTitle: "Store assistant", AccentColor: "#0d9488", LauncherIcon: "💬", Greeting: "Hello!",
			ShowLauncher: true, MaxUserMessageChars: 1000,
		}, c)
		_, err = f.svc.EmbedConfig(f.ctx, messaging.EmbedConfigInput{EmbedID: id, OriginHost: "gellhub.test"}) // the /chat/ page
		require.NoError(t, err)

		for _, host := range []string{"evil.example.com", "example.com", "shop.example.com.evil.net", ""} {
			_, err = f.svc.EmbedConfig(f.ctx, messaging.EmbedConfigInput{EmbedID: id, OriginHost: host})
			wantKind(t, err, core.KindForbidden, "origin_not_allowed")
		}
		for _, bad := range []string{"emb_unknown", "", "nope", "emb_../x"} {
			_, err = f.svc.EmbedConfig(f.ctx, messaging.EmbedConfigInput{EmbedID: bad, OriginHost: "shop.example.com"})
			wantKind(t, err, core.KindNotFound, "")
		}
		_, err = f.svc.PutEmbed(f.ctx, u.key, messaging.EmbedInput{Enabled: ptr(false)})
		require.NoError(t, err)
		_, err = f.svc.EmbedConfig(f.ctx, messaging.EmbedConfigInput{EmbedID: id, OriginHost: "shop.example.com"})
		wantKind(t, err, core.KindNotFound, "")
	})

	t.Run("chat_runs_a_turn_in_the_visitors_conversation", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, a := f.merchant(t, 10)
		_, err := f.svc.AddSource(f.ctx, u.key, a.ID, messaging.SourceInput{Kind: "qa", Question: "What are your prices?", Answer: "From $10."})
		require.NoError(t, err)
		id := f.enable(t, u, "shop.example.com").Settings.PublicID
		in := messaging.EmbedChatInput{EmbedID: id, OriginHost: "shop.example.com", VisitorID: "visitor-1", ClientIP: "198.51.100.7", Message: "What are your prices?"}
		r, err := f.svc.EmbedChat(f.ctx, in)
		require.NoError(t, err)
		require.Equal(t, messaging.EmbedReply{Content: "Store assistant: From $10."}, r)
		in.Message = "thanks"
		_, err = f.svc.EmbedChat(f.ctx, in)
		require.NoError(t, err)
		conv, err := f.store.ConversationByRef(f.ctx, u.profileID, "web:"+id+":visitor-1")
		require.NoError(t, err)
		require.Equal(t, "web", conv.Channel)
		require.Equal(t, 4, conv.MessageCount)
		require.EqualValues(t, 8, f.credits(t, u))
	})

	t.Run("chat_rules", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 10)
		id := f.enable(t, u, "shop.example.com").Settings.PublicID
		ok := messaging.EmbedChatInput{EmbedID: id, OriginHost: "shop.example.com", VisitorID: "v1", Message: "hi"}
		for _, c := range []struct {
			name string
			edit func(*messaging.EmbedChatInput)
			kind core.Kind
		}{
			{"unknown_embed", func(in *messaging.EmbedChatInput) { in.EmbedID = "emb_nope" }, core.KindNotFound},
			{"foreign_origin", func(in *messaging.EmbedChatInput) { in.OriginHost = "evil.example.com" }, core.KindForbidden},
			{"no_visitor", func(in *messaging.EmbedChatInput) { in.VisitorID = "" }, core.KindInvalid},
			{"bad_visitor", func(in *messaging.EmbedChatInput) { in.VisitorID = "a:b" }, core.KindInvalid},
			{"empty_message", func(in *messaging.EmbedChatInput) { in.Message = " " }, core.KindInvalid},
			{"message_over_1000_chars", func(in *messaging.EmbedChatInput) { in.Message = strings.Repeat("é", 1001) }, core.KindInvalid},
		} {
			t.Run(c.name, func(t *testing.T) {
				in := ok
				c.edit(&in)
				_, err := f.svc.EmbedChat(f.ctx, in)
				wantKind(t, err, c.kind, "")
			})
		}
		in := ok
		in.Message = strings.Repeat("é", 1000)
		_, err := f.svc.EmbedChat(f.ctx, in)
		require.NoError(t, err, "1000 characters are fine")

		f.subscribe(t, u, "plan_messaging_growth_monthly", core.StatusUnpaid)
		_, err = f.svc.EmbedChat(f.ctx, ok)
		wantKind(t, err, core.KindPaymentRequired, "subscription_required")
	})

	t.Run("chat_is_rate_limited_per_visitor", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.cfg.Limiter = inproc.NewRateLimiter(f.clock)
		f.rebuild()
		u, _ := f.merchant(t, 100)
		id := f.enable(t, u, "shop.example.com").Settings.PublicID
		in := messaging.EmbedChatInput{EmbedID: id, OriginHost: "shop.example.com", VisitorID: "v1", ClientIP: "198.51.100.7", Message: "hi"}
		for range messaging.EmbedChatPerVisitor.Burst {
			_, err := f.svc.EmbedChat(f.ctx, in)
			require.NoError(t, err)
		}
		_, err := f.svc.EmbedChat(f.ctx, in)
		wantKind(t, err, core.KindRateLimited, "")
		in.VisitorID = "v2"
		_, err = f.svc.EmbedChat(f.ctx, in)
		require.NoError(t, err, "another visitor is not limited")
	})
	t.Run("config_is_rate_limited_per_address", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.cfg.Limiter = inproc.NewRateLimiter(f.clock)
		f.rebuild()
		u, _ := f.merchant(t, 100)
		id := f.enable(t, u, "shop.example.com").Settings.PublicID
		in := messaging.EmbedConfigInput{EmbedID: id, OriginHost: "shop.example.com", ClientIP: "198.51.100.7"}
		for range messaging.EmbedConfigPerIP.Burst {
			_, err := f.svc.EmbedConfig(f.ctx, in)
			require.NoError(t, err)
		}
		_, err := f.svc.EmbedConfig(f.ctx, in)
		wantKind(t, err, core.KindRateLimited, "")
		in.EmbedID = "emb_unknown" // limited before any lookup
		_, err = f.svc.EmbedConfig(f.ctx, in)
		wantKind(t, err, core.KindRateLimited, "")
		in.EmbedID, in.ClientIP = id, "198.51.100.8"
		_, err = f.svc.EmbedConfig(f.ctx, in)
		require.NoError(t, err, "another address is not limited")
	})
}
