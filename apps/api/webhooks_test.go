package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/webhooksig"
)

// TestEmbeddedDefaultRunsSkillsAndDeliversHandoffEvents runs the real
// program on its embedded default with private webhook targets allowed:
// a skill answers a turn through the wired sender, and a handoff event,
// queued in SQLite with its turn, reaches the partner's receiver through
// the delivery worker the API runs in process, signed and listed as
// delivered.
func TestEmbeddedDefaultRunsSkillsAndDeliversHandoffEvents(t *testing.T) {
	t.Parallel()
	const secret = "partner-secret-0123456789"
	type event struct {
		header http.Header
		body   []byte
	}
	events := make(chan event, 8)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		switch r.URL.Path {
		case "/skills":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"version":1,"message":"Open slots:","ui":{"type":"slot_list","items":[{"id":"10:00","title":"10:00"}]}}`)
		case "/handoff":
			events <- event{r.Header.Clone(), body}
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(recv.Close)

	env := map[string]string{"GELLHUB_DATA_DIR": t.TempDir(), "GELLHUB_RATE_LIMITS": "off", "GELLHUB_WEBHOOK_ALLOW_PRIVATE": "true"}
	base, logs, stop := start(t, env)
	defer func() { require.NoError(t, stop()) }()
	c := newClient(t, base)
	status, _, raw := c.call("POST", "/api/register", map[string]any{
		"email": "hooks@example.com", "password": "a long password", "displayName": "Hooks", "accountType": "studio",
	})
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	status, _, raw = c.call("POST", "/api/login", map[string]any{"email": "hooks@example.com", "password": "a long password"})
	require.Equal(t, http.StatusOK, status, "%s", raw)
	status, out, raw := c.call("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_messaging_free"})
	require.Equal(t, http.StatusOK, status, "%s", raw)
	require.Equal(t, true, out["activated"], "%s", raw)
	status, out, raw = c.call("POST", "/api/messaging/api-key", nil)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	key := out["apiKey"].(string)
	call := func(method, path string, body any) map[string]any {
		t.Helper()
		status, out, raw := c.call(method, path, body, "x-api-key", key)
		require.Less(t, status, 300, "%s %s: %s", method, path, raw)
		return out
	}
	call("POST", "/api/messaging/v1/agents", map[string]any{"name": "Front desk", "humanHandoffEnabled": true})
	call("PUT", "/api/messaging/v1/skills", map[string]any{
		"skillsEnabled": true, "skillsWebhookUrl": recv.URL + "/skills",
		"skills": []any{map[string]any{"key": "booking", "label": "Booking", "keywords": []any{"book"}}},
	})
	call("PUT", "/api/messaging/v1/handoff", map[string]any{"handoffWebhookUrl": recv.URL + "/handoff", "handoffWebhookSecret": secret})

	turn := func(text string) map[string]any {
		return call("POST", "/api/messaging/v1/chat", map[string]any{
			"conversationRef": "whatsapp:+15550001234", "messages": []any{map[string]any{"role": "user", "content": text}},
		})
	}
	r := turn("Can I book a table?")
	require.Equal(t, "Open slots:", r["content"])
	require.Equal(t, "slot_list", r["ui"].(map[string]any)["type"])
	require.Equal(t, 0.0, r["creditsCharged"])

	r = turn("I want to talk to a human")
	require.Equal(t, true, r["handoff"])
	require.Equal(t, 0.0, r["creditsCharged"])
	var ev event
	select {
	case ev = <-events:
	case <-time.After(60 * time.Second):
		t.Fatalf("no handoff event reached the receiver; logs:\n%s", logs.String())
	}
	require.Equal(t, "handoff.requested", ev.header.Get("X-GellHub-Event"))
	require.NoError(t, webhooksig.VerifyHeaders(secret, ev.header, ev.body, time.Now()))
	require.NoError(t, webhooksig.VerifyStandardHeaders(secret, ev.header, ev.body, time.Now()))
	id := ev.header.Get("X-GellHub-Event-Id")
	require.Equal(t, id, ev.header.Get("webhook-id"))
	require.Contains(t, string(ev.body), `"conversationId":"`+r["conversationId"].(string)+`"`)

	require.Eventually(t, func() bool {
		ds := call("GET", "/api/messaging/v1/handoff/deliveries", nil)["deliveries"].([]any)
		return len(ds) == 1 && ds[0].(map[string]any)["eventId"] == id && ds[0].(map[string]any)["state"] == "delivered"
	}, 30*time.Second, 100*time.Millisecond, "the delivery is listed as delivered")
	require.Contains(t, logs.String(), "WEBHOOKS MAY REACH PRIVATE ADDRESSES", "allowing private targets is announced at start")
	require.Contains(t, logs.String(), "webhook delivery worker started")
	require.NotContains(t, logs.String(), secret)
}
