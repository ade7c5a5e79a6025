package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMessagingAgentHandoffURLs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{})
		a := s.register(uniqueEmail("msg-handoff"))
		key := s.messagingKey(a)
		auth := withKey(key)
		links := []any{
			map[string]any{"label": "WhatsApp", "url": "https://wa.me/15551234567"},
			map[string]any{"label": "Email us", "url": "mailto:help@example.com"},
		}

		ag := s.mkAgent(key, map[string]any{"name": "Support", "handoffUrls": links})
		require.Equal(t, links, ag["handoffUrls"])
		path := "/api/messaging/v1/agents/" + ag["id"].(string)
		r := s.do("GET", path, nil, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, links, r.json(t)["handoffUrls"])
		r = s.do("GET", "/api/messaging/v1/bot", nil, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, links, r.json(t)["defaultAgent"].(map[string]any)["handoffUrls"])

		// PATCH: absent keeps them, [] clears them; none is [].
		r = s.do("PATCH", path, map[string]any{"name": "Support 2"}, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, links, r.json(t)["handoffUrls"])
		r = s.do("PATCH", path, map[string]any{"handoffUrls": []any{}}, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, []any{}, r.json(t)["handoffUrls"])
		other := s.mkAgent(key, map[string]any{"name": "No links"})
		require.Equal(t, []any{}, other["handoffUrls"])

		for _, bad := range []any{
			[]any{map[string]any{"label": "Site", "url": "http://shop.example.com"}},
			[]any{map[string]any{"label": "X", "url": "javascript:alert(1)"}},
			[]any{map[string]any{"label": "", "url": "https://shop.example.com"}},
			[]any{map[string]any{"label": strings.Repeat("l", 41), "url": "https://shop.example.com"}},
			[]any{map[string]any{"label": "A", "url": "https://a.example"}, map[string]any{"label": "B", "url": "https://a.example"}},
			[]any{
				map[string]any{"label": "1", "url": "tel:1"}, map[string]any{"label": "2", "url": "tel:2"}, map[string]any{"label": "3", "url": "tel:3"},
				map[string]any{"label": "4", "url": "tel:4"}, map[string]any{"label": "5", "url": "tel:5"}, map[string]any{"label": "6", "url": "tel:6"},
			},
		} {
			s.do("POST", "/api/messaging/v1/agents", map[string]any{"name": "Bad", "handoffUrls": bad}, auth).
				requireError(t, http.StatusBadRequest, "invalid_request", "handoffUrls")
			s.do("PATCH", path, map[string]any{"handoffUrls": bad}, auth).
				requireError(t, http.StatusBadRequest, "invalid_request", "handoffUrls")
		}
		s.do("POST", "/api/messaging/v1/agents", map[string]any{"name": "Bad", "handoffUrls": "https://a.example"}, auth).
			requireError(t, http.StatusBadRequest, "invalid_request", "handoffUrls")
		require.Len(t, s.agentList(key), 2, "refused agents are not created")
	})
}

// TestMessagingEmbedHandoffURLs: a visitor who asks for a person gets the
// agent's handoff links on the widget route, whether or not a handoff
// webhook is configured.
func TestMessagingEmbedHandoffURLs(t *testing.T) {
	s := newMessagingServer(t, "memory", options{})
	w := s.widget()
	links := []any{map[string]any{"label": "Call us", "url": "tel:+15551234567"}}
	r := s.do("PATCH", "/api/messaging/v1/agents/"+defaultAgentID(t, s.agentList(w.key)),
		map[string]any{"handoffUrls": links, "humanHandoffEnabled": true}, withKey(w.key))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	r = s.do("POST", "/api/messaging/embed/v1/chat", widgetChat(w.embedID, "talk to a human please"), withHeader("Origin", shopOrigin))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	m := r.json(t)
	require.Equal(t, true, m["handoff"])
	require.Equal(t, links, m["handoffUrls"])
	require.NotEmpty(t, m["content"], "the acknowledgement")
	require.NotContains(t, m, "ui")

	// Without handoff enabled, the same words are an AI turn: no links.
	r = s.do("PATCH", "/api/messaging/v1/agents/"+defaultAgentID(t, s.agentList(w.key)),
		map[string]any{"humanHandoffEnabled": false}, withKey(w.key))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	r = s.do("POST", "/api/messaging/embed/v1/chat", map[string]any{"embedId": w.embedID, "visitorId": "visitor-2", "message": "talk to a human please"},
		withHeader("Origin", shopOrigin))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.NotContains(t, r.json(t), "handoff")
	require.NotContains(t, r.json(t), "handoffUrls")
}
