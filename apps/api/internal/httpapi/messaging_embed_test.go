package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
)

const (
	shopOrigin = "https://shop.example.com"
	evilOrigin = "https://evil.example.net"
)

// widgetFixture is an account with an agent that knows one answer and an
// enabled widget allowing shop.example.com.
type widgetFixture struct {
	a       account
	key     string
	embedID string
}

func (s *testServer) widget() widgetFixture {
	s.t.Helper()
	a := s.register(uniqueEmail("msg-widget"))
	key := s.messagingKey(a)
	ag := s.mkAgent(key, map[string]any{"name": "Shop", "botDisplayName": "Ada"})
	r := s.do("POST", "/api/messaging/v1/agents/"+ag["id"].(string)+"/sources", map[string]any{
		"type": "qa", "question": "What are your prices?", "answer": "Our plans start at 9 euros a month.",
	}, withKey(key))
	require.Equal(s.t, http.StatusCreated, r.status, "body: %s", r.body)
	r = s.do("PUT", "/api/messaging/v1/embed", map[string]any{
		"embedEnabled": true, "embedAllowedOrigins": []string{"shop.example.com", "WWW.Shop.Example.com"},
	}, withKey(key))
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	return widgetFixture{a: a, key: key, embedID: r.json(s.t)["embedPublicId"].(string)}
}

func configURL(embedID string) string {
	return "/api/messaging/embed/v1/config?embedId=" + url.QueryEscape(embedID)
}

func widgetChat(embedID, msg string) map[string]any {
	return map[string]any{"embedId": embedID, "visitorId": "visitor-1", "message": msg}
}

// requireCORS asserts a reflected single origin with Vary: Origin.
func requireCORS(t *testing.T, r reply, origin string) {
	t.Helper()
	require.Equal(t, []string{origin}, r.header.Values("Access-Control-Allow-Origin"), "body: %s", r.body)
	require.Contains(t, r.header.Values("Vary"), "Origin")
	require.Empty(t, r.header.Get("Access-Control-Allow-Credentials"))
}

func requireNoCORS(t *testing.T, r reply) {
	t.Helper()
	require.Empty(t, r.header.Get("Access-Control-Allow-Origin"), "body: %s", r.body)
}

func TestMessagingEmbedSettings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{baseURL: "https://gellhub.example"})
		a := s.register(uniqueEmail("msg-embed"))
		key := s.messagingKey(a)
		auth := withKey(key)

		r := s.do("GET", "/api/messaging/v1/embed", nil, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		e := r.json(t)
		id := e["embedPublicId"].(string)
		require.True(t, strings.HasPrefix(id, "emb_"), id)
		require.Equal(t, false, e["embedEnabled"])
		require.Equal(t, []any{}, e["embedAllowedOrigins"])
		require.Equal(t, messaging.DefaultAccentColor, e["embedAccentColor"])
		require.Equal(t, "https://gellhub.example/chat/"+id, e["embedShareLink"])
		require.Equal(t, `<script src="https://gellhub.example/embed/gellhub-chat.js" data-embed-id="`+id+
			`" data-chat-title="Chat" data-launcher-icon="💬" data-launcher="true" async ></script>`, e["embedCodeFloating"])
		require.Equal(t, `<script src="https://gellhub.example/embed/gellhub-chat.js" data-embed-id="`+id+
			`" data-chat-title="Chat" data-launcher="false" async ></script> <button type="button" onclick="window.GellHubChat && GellHubChat.open()">Chat</button>`, e["embedCodeButton"])

		put := func(body any, opts ...reqOpt) reply {
			return s.do("PUT", "/api/messaging/v1/embed", body, append([]reqOpt{auth}, opts...)...)
		}
		put(map[string]any{"embedEnabled": true}).requireError(t, http.StatusBadRequest, "invalid_request", "embedAllowedOrigins")
		put(map[string]any{"embedAllowedOrigins": []string{"https://shop.example.com"}}).requireError(t, http.StatusBadRequest, "invalid_request", "embedAllowedOrigins")
		put(map[string]any{"embedAllowedOrigins": []string{"shop.example.com:8443"}}).requireError(t, http.StatusBadRequest, "invalid_request", "embedAllowedOrigins")
		put(map[string]any{"embedAccentColor": "red"}).requireError(t, http.StatusBadRequest, "invalid_request", "embedAccentColor")
		put(map[string]any{"embedLauncherIcon": "ab"}).requireError(t, http.StatusBadRequest, "invalid_request", "embedLauncherIcon")
		put(map[string]any{"embedLauncherIcon": "http://cdn.example.com/i.png"}).requireError(t, http.StatusBadRequest, "invalid_request", "embedLauncherIcon")
		put(map[string]any{"embedEnabled": "yes"}).requireError(t, http.StatusBadRequest, "invalid_request", "embedEnabled")

		r = put(map[string]any{
			"embedEnabled": true, "embedAllowedOrigins": []string{"tenant-store.com", "www.tenant-store.com"},
			"embedAccentColor": "#0D9488", "embedLauncherIcon": "🤖", "embedShowLauncher": false,
			"embedGreeting": "Hi! How can we help?", "rotateEmbedId": false,
		})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		e = r.json(t)
		require.Equal(t, id, e["embedPublicId"])
		require.Equal(t, []any{"tenant-store.com", "www.tenant-store.com"}, e["embedAllowedOrigins"])
		require.Equal(t, "#0d9488", e["embedAccentColor"])
		require.Equal(t, false, e["embedShowLauncher"])
		require.Contains(t, e["embedCodeFloating"], `data-launcher-icon="🤖"`)

		// Absent fields keep their value; the session twin sees the same.
		r = put(map[string]any{"embedGreeting": "Hello"})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, true, r.json(t)["embedEnabled"])
		r = s.do("GET", "/api/messaging/embed-config", nil, withSession(a.session))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "Hello", r.json(t)["embedGreeting"])
		require.Equal(t, "🤖", r.json(t)["embedLauncherIcon"])

		// Rotation through the session twin: a new id.
		r = s.do("PUT", "/api/messaging/embed-config", map[string]any{"rotateEmbedId": true}, withSession(a.session))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		rotated := r.json(t)["embedPublicId"].(string)
		require.NotEqual(t, id, rotated)
		require.True(t, strings.HasPrefix(rotated, "emb_"))

		// The bot snapshot carries the embed and its snippets, no key.
		s.mkAgent(key, map[string]any{"name": "Shop", "botDisplayName": "Ada & Co"})
		r = s.do("GET", "/api/messaging/v1/bot", nil, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		b := r.json(t)
		require.Equal(t, 100.0, b["account"].(map[string]any)["credits"])
		require.Len(t, b["agents"], 1)
		require.Equal(t, "Ada & Co", b["defaultAgent"].(map[string]any)["botDisplayName"])
		require.Equal(t, rotated, b["embed"].(map[string]any)["embedPublicId"])
		require.Equal(t, "https://gellhub.example/chat/"+rotated, b["embedShareLink"])
		sn := b["installSnippets"].(map[string]any)
		require.Contains(t, sn["floating"], `data-chat-title="Ada &amp; Co"`)
		require.Contains(t, sn["button"], "GellHubChat.open()")
		require.NotContains(t, string(r.body), key)
	})
}

func TestMessagingEmbedPublic(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{})
		w := s.widget()

		// Config: an allowed origin gets its own origin reflected.
		for _, origin := range []string{shopOrigin, "https://www.shop.example.com:8443", "http://shop.example.com"} {
			r := s.do("GET", configURL(w.embedID), nil, withHeader("Origin", origin))
			require.Equal(t, http.StatusOK, r.status, "%s: %s", origin, r.body)
			requireCORS(t, r, origin)
			require.Equal(t, map[string]any{
				"embedId": w.embedID, "chatTitle": "Ada", "accentColor": messaging.DefaultAccentColor,
				"launcherIcon": messaging.DefaultLauncherIcon, "greeting": messaging.DefaultGreeting,
				"showLauncher": true, "maxUserMessageChars": float64(messaging.MaxUserMessageChars),
			}, r.json(t))
		}
		// gellhub's own /chat/ page: by its Origin, or same-origin without one.
		r := s.do("GET", configURL(w.embedID), nil, withHeader("Origin", "http://127.0.0.1:8080"))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		r = s.do("GET", configURL(w.embedID), nil, withHeader("Sec-Fetch-Site", "same-origin"))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		requireNoCORS(t, r)

		// Other origins, no origin and malformed ones: 403 without CORS.
		for _, opts := range [][]reqOpt{
			{withHeader("Origin", evilOrigin)}, {}, {withHeader("Origin", "null")},
			{withHeader("Origin", "https://shop.example.com.evil.net")}, {withHeader("Sec-Fetch-Site", "cross-site")},
		} {
			r := s.do("GET", configURL(w.embedID), nil, opts...)
			r.requireError(t, http.StatusForbidden, "origin_not_allowed", "")
			requireNoCORS(t, r)
			r = s.do("POST", "/api/messaging/embed/v1/chat", widgetChat(w.embedID, "hi"), opts...)
			r.requireError(t, http.StatusForbidden, "origin_not_allowed", "")
			requireNoCORS(t, r)
		}
		s.do("GET", configURL("emb_unknown"), nil, withHeader("Origin", shopOrigin)).requireError(t, http.StatusNotFound, "not_found", "")
		s.do("GET", configURL("not-an-embed"), nil, withHeader("Origin", shopOrigin)).requireError(t, http.StatusNotFound, "not_found", "")
		s.do("GET", "/api/messaging/embed/v1/config?embedId=a&embedId=b", nil, withHeader("Origin", shopOrigin)).
			requireError(t, http.StatusBadRequest, "invalid_request", "embedId")

		// Preflights.
		for _, path := range []string{"/api/messaging/embed/v1/chat", configURL(w.embedID)} {
			r := s.do("OPTIONS", path, nil, withHeader("Origin", shopOrigin), withHeader("Access-Control-Request-Method", "POST"),
				withHeader("Access-Control-Request-Headers", "content-type"))
			require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
			requireCORS(t, r, shopOrigin)
			require.Contains(t, r.header.Get("Access-Control-Allow-Methods"), "POST")
			require.Contains(t, strings.ToLower(r.header.Get("Access-Control-Allow-Headers")), "content-type")
		}

		// Chat from the shop, cross-site as a browser sends it: not blocked
		// by the cookie routes' CSRF guard, no credits in the answer.
		chat := func(body any, opts ...reqOpt) reply {
			return s.do("POST", "/api/messaging/embed/v1/chat", body,
				append([]reqOpt{withHeader("Origin", shopOrigin), withHeader("Sec-Fetch-Site", "cross-site")}, opts...)...)
		}
		r = chat(widgetChat(w.embedID, "What are your prices?"))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		requireCORS(t, r, shopOrigin)
		m := r.json(t)
		require.Equal(t, "assistant", m["role"])
		require.Contains(t, m["content"], "9 euros")
		require.ElementsMatch(t, []string{"role", "content"}, keys(m))
		require.NotContains(t, string(r.body), w.key)
		require.Equal(t, 99.0, s.messagingUsage(w.a)["credits"], "a widget turn costs what a chat turn costs")

		// The guide's messages form and the embed id header.
		r = chat(map[string]any{"visitorId": "visitor-1", "messages": []any{map[string]any{"role": "user", "content": "prices?"}}},
			withHeader("x-gellhub-embed-id", w.embedID))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)

		// Validation: readable by the allowed origin.
		r = chat(widgetChat(w.embedID, strings.Repeat("é", messaging.MaxUserMessageChars+1)))
		r.requireError(t, http.StatusBadRequest, "invalid_request", "messages")
		requireCORS(t, r, shopOrigin)
		r = chat(widgetChat(w.embedID, strings.Repeat("é", messaging.MaxUserMessageChars)))
		require.Equal(t, http.StatusOK, r.status, "the cap counts characters: %s", r.body)
		chat(widgetChat(w.embedID, "  ")).requireError(t, http.StatusBadRequest, "invalid_request", "messages")
		chat(map[string]any{"embedId": w.embedID, "visitorId": "bad visitor", "message": "hi"}).requireError(t, http.StatusBadRequest, "invalid_request", "visitorId")
		chat(`{"embedId":`).requireError(t, http.StatusBadRequest, "invalid_request", "body")

		// Rotated: the old id is 404 on both routes, the new one works.
		r = s.do("PUT", "/api/messaging/v1/embed", map[string]any{"rotateEmbedId": true}, withKey(w.key))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		newID := r.json(t)["embedPublicId"].(string)
		r = s.do("GET", configURL(w.embedID), nil, withHeader("Origin", shopOrigin))
		r.requireError(t, http.StatusNotFound, "not_found", "")
		requireNoCORS(t, r)
		chat(widgetChat(w.embedID, "hi")).requireError(t, http.StatusNotFound, "not_found", "")
		r = s.do("GET", configURL(newID), nil, withHeader("Origin", shopOrigin))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)

		// Disabled: 404.
		r = s.do("PUT", "/api/messaging/v1/embed", map[string]any{"embedEnabled": false}, withKey(w.key))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		s.do("GET", configURL(newID), nil, withHeader("Origin", shopOrigin)).requireError(t, http.StatusNotFound, "not_found", "")
		chat(widgetChat(newID, "hi")).requireError(t, http.StatusNotFound, "not_found", "")
	})
}

// TestMessagingEmbedRateLimits: the 21st turn of one visitor in a minute
// is 429 with Retry-After, readable by the allowed origin.
func TestMessagingEmbedRateLimits(t *testing.T) {
	s := newMessagingServer(t, "memory", options{rateLimits: true})
	w := s.widget()
	for i := 0; i < int(messaging.EmbedChatPerVisitor.Burst); i++ {
		r := s.do("POST", "/api/messaging/embed/v1/chat", widgetChat(w.embedID, "What are your prices?"), withHeader("Origin", shopOrigin))
		require.Equal(t, http.StatusOK, r.status, "turn %d: %s", i, r.body)
	}
	r := s.do("POST", "/api/messaging/embed/v1/chat", widgetChat(w.embedID, "What are your prices?"), withHeader("Origin", shopOrigin))
	r.requireError(t, http.StatusTooManyRequests, "rate_limited", "")
	require.NotEmpty(t, r.header.Get("Retry-After"))
	requireCORS(t, r, shopOrigin)
}

// TestMessagingEmbedHidesBillingState: a visitor never learns that the
// merchant ran out of credits; the widget can still read the 503.
func TestMessagingEmbedHidesBillingState(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{})
		w := s.widget()
		credits := int64(s.messagingUsage(w.a)["credits"].(float64))
		_, err := s.store.ChargeCredits(context.Background(), core.CreditEntry{
			ID: "cred_drain_" + w.a.profileID[len(w.a.profileID)-8:], ProfileID: w.a.profileID, Amount: credits,
			Reason: core.CreditChatTurn, CreatedAt: s.clock.Now(),
		})
		require.NoError(t, err)
		r := s.do("POST", "/api/messaging/embed/v1/chat", widgetChat(w.embedID, "What are your prices?"), withHeader("Origin", shopOrigin))
		r.requireError(t, http.StatusServiceUnavailable, "unavailable", "chat")
		requireCORS(t, r, shopOrigin)
		require.NotContains(t, strings.ToLower(string(r.body)), "credit")
		require.NotContains(t, strings.ToLower(string(r.body)), "plan")
	})
}
