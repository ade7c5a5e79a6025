package httpapi

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWidgetScript(t *testing.T) {
	s := newMessagingServer(t, "memory", options{})
	r := s.do("GET", "/embed/gellhub-chat.js", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "application/javascript; charset=utf-8", r.header.Get("Content-Type"))
	require.Equal(t, "public, max-age=300", r.header.Get("Cache-Control"))
	require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
	require.Less(t, len(r.body), 14<<10, "the widget stays small")
	body := string(r.body)
	require.Contains(t, body, "window.GellHubChat")
	require.Contains(t, body, "gellhub:handoff")
	require.NotContains(t, body, "innerHTML", "server values are rendered with DOM APIs only")
}

var cspNonce = regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9_-]{22})'`)

func TestChatPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{})
		w := s.widget()

		r := s.do("GET", "/chat/"+w.embedID, nil, withHeader("Accept", "text/html"))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
		require.Equal(t, "no-store", r.header.Get("Cache-Control"))
		csp := r.header.Get("Content-Security-Policy")
		m := cspNonce.FindStringSubmatch(csp)
		require.NotNil(t, m, "CSP: %s", csp)
		require.Contains(t, csp, "connect-src 'self'")
		require.NotContains(t, csp, "unsafe-inline")
		body := string(r.body)
		require.Contains(t, body, `<script nonce="`+m[1]+`" src="/embed/gellhub-chat.js" data-embed-id="`+w.embedID+`"`)
		require.Contains(t, body, `data-mode="page"`)
		require.Contains(t, body, "<title>Ada</title>")
		// A fresh nonce per response.
		r2 := s.do("GET", "/chat/"+w.embedID, nil)
		require.NotEqual(t, m[1], cspNonce.FindStringSubmatch(r2.header.Get("Content-Security-Policy"))[1])

		// Unknown, malformed and disabled ids: a 404 page.
		for _, id := range []string{"emb_unknown", "not-an-embed", strings.Repeat("x", 200)} {
			r := s.do("GET", "/chat/"+id, nil, withHeader("Accept", "text/html"))
			require.Equal(t, http.StatusNotFound, r.status, "%s: %s", id, r.body)
			require.Contains(t, r.header.Get("Content-Type"), "text/html")
			require.NotContains(t, string(r.body), "data-embed-id")
		}
		r = s.do("PUT", "/api/messaging/v1/embed", map[string]any{"embedEnabled": false}, withKey(w.key))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, http.StatusNotFound, s.do("GET", "/chat/"+w.embedID, nil).status)
	})
}

// TestChatPageOriginAccepted: the page's own requests to the public
// routes, as a browser sends them from gellhub's origin (the GET without
// Origin, the POST with it), are accepted by an embed that does not list
// gellhub's host.
func TestChatPageOriginAccepted(t *testing.T) {
	s := newMessagingServer(t, "memory", options{})
	w := s.widget()
	r := s.do("GET", configURL(w.embedID), nil, withHeader("Sec-Fetch-Site", "same-origin"))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	r = s.do("POST", "/api/messaging/embed/v1/chat", widgetChat(w.embedID, "What are your prices?"),
		withHeader("Origin", "http://127.0.0.1:8080"), withHeader("Sec-Fetch-Site", "same-origin"))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.Contains(t, r.json(t)["content"], "9 euros")
}
