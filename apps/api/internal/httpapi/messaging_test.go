package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// newMessagingServer is a test server with payments (the free Messaging
// plan applies at once through checkout).
func newMessagingServer(t *testing.T, backend string, o options) *testServer {
	t.Helper()
	o.payments = true
	return newTestServer(t, backend, o)
}

// subscribeMessaging puts a's Messaging on the free plan (100 credits).
func (s *testServer) subscribeMessaging(a account) {
	s.t.Helper()
	r := s.do("POST", "/api/billing/checkout-session", map[string]any{"planId": "plan_messaging_free"}, withSession(a.session))
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(s.t, true, r.json(s.t)["activated"], "body: %s", r.body)
}

// messagingKey subscribes a and returns a fresh msg_ key.
func (s *testServer) messagingKey(a account) string {
	s.t.Helper()
	s.subscribeMessaging(a)
	r := s.do("POST", "/api/messaging/api-key", nil, withSession(a.session))
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	key := r.json(s.t)["apiKey"].(string)
	require.True(s.t, strings.HasPrefix(key, "msg_"), key)
	return key
}

// mkAgent creates an agent through the API and returns its record. The
// clock moves on a second first, so that agents list in creation order.
func (s *testServer) mkAgent(key string, body map[string]any) map[string]any {
	s.t.Helper()
	s.clock.Advance(time.Second)
	r := s.do("POST", "/api/messaging/v1/agents", body, withKey(key))
	require.Equal(s.t, http.StatusCreated, r.status, "body: %s", r.body)
	return r.json(s.t)
}

// agentList returns GET /api/messaging/v1/agents.
func (s *testServer) agentList(key string) []any {
	s.t.Helper()
	r := s.do("GET", "/api/messaging/v1/agents", nil, withKey(key))
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	return r.json(s.t)["agents"].([]any)
}

// defaultAgentID returns the id of the one default agent of the list.
func defaultAgentID(t *testing.T, agents []any) string {
	t.Helper()
	id := ""
	for _, a := range agents {
		m := a.(map[string]any)
		if m["isDefault"] == true {
			require.Empty(t, id, "exactly one default agent: %v", agents)
			id = m["id"].(string)
		}
	}
	require.NotEmpty(t, id, "exactly one default agent: %v", agents)
	return id
}

// messagingUsage reads GET /api/messaging/account.
func (s *testServer) messagingUsage(a account) map[string]any {
	s.t.Helper()
	r := s.do("GET", "/api/messaging/account", nil, withSession(a.session))
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	return r.json(s.t)
}

func chatBody(ref, msg string) map[string]any {
	return map[string]any{"channel": "api", "conversationRef": ref, "messages": []any{map[string]any{"role": "user", "content": msg}}}
}

func TestMessagingAccountAndKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{})
		a := s.register(uniqueEmail("msg-acct"))

		s.do("GET", "/api/messaging/account", nil).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		s.do("GET", "/api/messaging/account", nil, withKey(a.apiKey)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		m := s.messagingUsage(a)
		require.Equal(t, map[string]any{"credits": 0.0, "inboundCount": 0.0, "outboundCount": 0.0, "hasApiKey": false, "maskedApiKey": nil}, m)
		s.do("POST", "/api/messaging/api-key", nil, withSession(a.session)).requireError(t, http.StatusPaymentRequired, "subscription_required", "")
		s.do("GET", "/api/messaging/embed-config", nil, withSession(a.session)).requireError(t, http.StatusPaymentRequired, "subscription_required", "")
		s.do("PUT", "/api/messaging/embed-config", map[string]any{"embedGreeting": "Hi"}, withSession(a.session)).
			requireError(t, http.StatusPaymentRequired, "subscription_required", "")
		// A cookie route refuses a cross-site POST.
		s.do("POST", "/api/messaging/api-key", nil, withSession(a.session), withHeader("Sec-Fetch-Site", "cross-site")).
			requireError(t, http.StatusForbidden, "forbidden", "")

		key := s.messagingKey(a)
		m = s.messagingUsage(a)
		require.Equal(t, 100.0, m["credits"], "the free plan's credits of the month")
		require.Equal(t, true, m["hasApiKey"])
		masked := m["maskedApiKey"].(string)
		require.True(t, strings.HasPrefix(key, strings.TrimSuffix(masked, "…")), "%s masks %s", masked, key)
		require.NotContains(t, string(s.do("GET", "/api/messaging/account", nil, withSession(a.session)).body), key)
		require.Equal(t, 100.0, s.messagingUsage(a)["credits"], "granted once a month")

		// Key routes: no key 401, another line's key 403, the msg_ key 200.
		s.do("GET", "/api/messaging/v1/agents", nil).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		s.do("GET", "/api/messaging/v1/agents", nil, withSession(a.session)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		s.do("GET", "/api/messaging/v1/bot", nil, withKey(a.apiKey)).requireError(t, http.StatusForbidden, "forbidden", "")
		s.do("POST", "/api/messaging/v1/chat", chatBody("", "hi"), withKey(a.driveKey)).requireError(t, http.StatusForbidden, "forbidden", "")
		s.do("GET", "/api/messaging/v1/embed", nil, withKey(a.driveKey)).requireError(t, http.StatusForbidden, "forbidden", "")
		require.Empty(t, s.agentList(key))

		// Rotating revokes the old key at once.
		next := s.messagingKey(a)
		require.NotEqual(t, key, next)
		s.do("GET", "/api/messaging/v1/agents", nil, withKey(key)).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		require.Empty(t, s.agentList(next))

		// The msg_ key works on billing too.
		r := s.do("GET", "/api/billing/status", nil, withKey(next))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "plan_messaging_free", r.json(t)["plan"].(map[string]any)["id"])
	})
}

func TestMessagingAgents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{})
		a := s.register(uniqueEmail("msg-agents"))
		key := s.messagingKey(a)
		auth := withKey(key)

		s.do("POST", "/api/messaging/v1/agents", map[string]any{"botDisplayName": "x"}, auth).requireError(t, http.StatusBadRequest, "invalid_request", "name")
		s.do("POST", "/api/messaging/v1/agents", map[string]any{"name": 7}, auth).requireError(t, http.StatusBadRequest, "invalid_request", "name")
		s.do("POST", "/api/messaging/v1/agents", `{"name":"a","name":"b"}`, auth).requireError(t, http.StatusBadRequest, "invalid_request", "name")
		s.do("POST", "/api/messaging/v1/agents", map[string]any{"name": "x", "botRoleSummary": strings.Repeat("r", 501)}, auth).
			requireError(t, http.StatusBadRequest, "invalid_request", "botRoleSummary")

		first := s.mkAgent(key, map[string]any{
			"name": "Sales bot", "botDisplayName": "Store assistant", "botRoleSummary": "Help with products and prices",
			"systemInstructions": "Be friendly and concise.", "humanHandoffEnabled": true, "isDefault": false,
		})
		require.Equal(t, true, first["isDefault"], "the first agent is the default")
		for _, f := range []string{"id", "name", "botDisplayName", "isDefault", "sourcesCount", "updatedAt", "botRoleSummary", "systemInstructions", "humanHandoffEnabled", "createdAt"} {
			require.Contains(t, first, f)
		}
		require.Equal(t, true, first["humanHandoffEnabled"])
		second := s.mkAgent(key, map[string]any{"name": "Support"})
		require.Equal(t, false, second["isDefault"])
		third := s.mkAgent(key, map[string]any{"name": "Promo", "isDefault": true})
		require.Equal(t, true, third["isDefault"])
		list := s.agentList(key)
		require.Len(t, list, 3)
		require.Equal(t, third["id"], defaultAgentID(t, list))
		require.ElementsMatch(t, []string{"id", "name", "botDisplayName", "isDefault", "sourcesCount", "updatedAt"}, keys(list[0].(map[string]any)))
		require.Equal(t, first["id"], list[0].(map[string]any)["id"], "oldest first")

		// GET one: the full record; unknown and foreign ids are 404.
		r := s.do("GET", "/api/messaging/v1/agents/"+first["id"].(string), nil, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "Be friendly and concise.", r.json(t)["systemInstructions"])
		s.do("GET", "/api/messaging/v1/agents/agt_nope", nil, auth).requireError(t, http.StatusNotFound, "not_found", "")
		other := s.register(uniqueEmail("msg-other"))
		okey := s.messagingKey(other)
		s.do("GET", "/api/messaging/v1/agents/"+first["id"].(string), nil, withKey(okey)).requireError(t, http.StatusNotFound, "not_found", "")
		s.do("DELETE", "/api/messaging/v1/agents/"+first["id"].(string), nil, withKey(okey)).requireError(t, http.StatusNotFound, "not_found", "")

		// PATCH: absent fields keep their value; isDefault moves the default.
		r = s.do("PATCH", "/api/messaging/v1/agents/"+first["id"].(string), map[string]any{"botDisplayName": "Updated name"}, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		m := r.json(t)
		require.Equal(t, "Updated name", m["botDisplayName"])
		require.Equal(t, "Sales bot", m["name"])
		require.Equal(t, "Be friendly and concise.", m["systemInstructions"])
		require.Equal(t, true, m["humanHandoffEnabled"])
		s.do("PATCH", "/api/messaging/v1/agents/"+third["id"].(string), map[string]any{"isDefault": false}, auth).
			requireError(t, http.StatusConflict, "default_agent_required", "")
		s.do("PATCH", "/api/messaging/v1/agents/"+first["id"].(string), map[string]any{"name": ""}, auth).
			requireError(t, http.StatusBadRequest, "invalid_request", "name")
		r = s.do("PATCH", "/api/messaging/v1/agents/"+first["id"].(string), map[string]any{"isDefault": true}, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, first["id"], defaultAgentID(t, s.agentList(key)))

		// Deleting the default makes the oldest remaining one the default.
		r = s.do("DELETE", "/api/messaging/v1/agents/"+first["id"].(string), nil, auth)
		require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
		require.Equal(t, second["id"], defaultAgentID(t, s.agentList(key)))
		s.do("DELETE", "/api/messaging/v1/agents/"+first["id"].(string), nil, auth).requireError(t, http.StatusNotFound, "not_found", "")

		// At most 25 agents: the 26th is 409.
		for i := len(s.agentList(key)); i < core.MaxAgents; i++ {
			s.mkAgent(key, map[string]any{"name": fmt.Sprintf("Agent %d", i)})
		}
		s.do("POST", "/api/messaging/v1/agents", map[string]any{"name": "one too many"}, auth).requireError(t, http.StatusConflict, "agent_limit", "")
		list = s.agentList(key)
		require.Len(t, list, core.MaxAgents)

		// The last agent cannot be deleted.
		for _, x := range list[1:] {
			r := s.do("DELETE", "/api/messaging/v1/agents/"+x.(map[string]any)["id"].(string), nil, auth)
			require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
		}
		last := list[0].(map[string]any)["id"].(string)
		require.Equal(t, last, defaultAgentID(t, s.agentList(key)))
		s.do("DELETE", "/api/messaging/v1/agents/"+last, nil, auth).requireError(t, http.StatusConflict, "last_agent", "")
	})
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestMessagingSources(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{})
		a := s.register(uniqueEmail("msg-src"))
		key := s.messagingKey(a)
		auth := withKey(key)
		ag := s.mkAgent(key, map[string]any{"name": "FAQ"})
		path := "/api/messaging/v1/agents/" + ag["id"].(string) + "/sources"

		r := s.do("GET", path, nil, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, map[string]any{"sources": []any{}}, r.json(t))

		r = s.do("POST", path, map[string]any{"type": "text", "title": "Shipping", "content": "We ship worldwide in 3 to 5 days."}, auth)
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		text := r.json(t)
		require.Equal(t, "text", text["type"])
		require.Equal(t, "Shipping", text["title"])
		require.Equal(t, ag["id"], text["agentId"])
		s.clock.Advance(time.Second)
		r = s.do("POST", path, map[string]any{"type": "qa", "question": "Do you open on Sunday?", "answer": "No, Monday to Saturday."}, auth)
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		qa := r.json(t)
		require.Equal(t, "No, Monday to Saturday.", qa["answer"])
		require.Equal(t, "Do you open on Sunday?", qa["question"])

		s.do("POST", path, map[string]any{"type": "pdf", "content": "x"}, auth).requireError(t, http.StatusBadRequest, "invalid_request", "type")
		s.do("POST", path, map[string]any{"type": "qa", "question": "Q?"}, auth).requireError(t, http.StatusBadRequest, "invalid_request", "answer")
		s.do("POST", path, map[string]any{"type": "text", "content": strings.Repeat("a", core.MaxSourceBytes+1)}, auth).
			requireError(t, http.StatusRequestEntityTooLarge, "source_too_large", "")
		s.do("POST", "/api/messaging/v1/agents/agt_nope/sources", map[string]any{"type": "text", "content": "x"}, auth).
			requireError(t, http.StatusNotFound, "not_found", "")

		r = s.do("GET", path, nil, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		srcs := r.json(t)["sources"].([]any)
		require.Len(t, srcs, 2)
		require.Equal(t, text["id"], srcs[0].(map[string]any)["id"])
		require.Equal(t, 2.0, s.agentList(key)[0].(map[string]any)["sourcesCount"])

		r = s.do("DELETE", path+"/"+text["id"].(string), nil, auth)
		require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
		s.do("DELETE", path+"/"+text["id"].(string), nil, auth).requireError(t, http.StatusNotFound, "not_found", "")
		require.Equal(t, 1.0, s.agentList(key)[0].(map[string]any)["sourcesCount"])

		other := s.register(uniqueEmail("msg-src-other"))
		s.do("GET", path, nil, withKey(s.messagingKey(other))).requireError(t, http.StatusNotFound, "not_found", "")
	})
}

// engineDown is an AI engine that cannot answer.
type engineDown struct{}

func (engineDown) Reply(context.Context, ports.EngineRequest) (ports.EngineReply, error) {
	return ports.EngineReply{}, core.Unavailable("ai engine", nil)
}

func TestMessagingChat(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{})
		a := s.register(uniqueEmail("msg-chat"))
		key := s.messagingKey(a)
		auth := withKey(key)
		const chat = "/api/messaging/v1/chat"

		s.do("POST", chat, chatBody("t1", "Hello"), auth).requireError(t, http.StatusConflict, "no_agent", "")
		ag := s.mkAgent(key, map[string]any{"name": "Shop", "botDisplayName": "Ada"})
		r := s.do("POST", "/api/messaging/v1/agents/"+ag["id"].(string)+"/sources", map[string]any{
			"type": "qa", "question": "What are your opening hours?", "answer": "We are open 9 to 18, Monday to Saturday.",
		}, auth)
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)

		for _, body := range []string{
			`{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o"}`,
			`{"messages":[{"role":"user","content":"hi"}],"model":null}`,
		} {
			s.do("POST", chat, body, auth).requireError(t, http.StatusBadRequest, "invalid_request", "model")
		}
		s.do("POST", chat, `{"messages":[{"role":"user","content":"hi"}],"provider":null}`, auth).requireError(t, http.StatusBadRequest, "invalid_request", "provider")
		s.do("POST", chat, map[string]any{"messages": []any{}}, auth).requireError(t, http.StatusBadRequest, "invalid_request", "messages")
		s.do("POST", chat, map[string]any{"messages": []any{map[string]any{"role": "system", "content": "x"}}}, auth).
			requireError(t, http.StatusBadRequest, "invalid_request", "messages")
		s.do("POST", chat, map[string]any{"messages": []any{map[string]any{"role": "user", "content": strings.Repeat("a", 4001)}}}, auth).
			requireError(t, http.StatusBadRequest, "invalid_request", "messages")
		s.do("POST", chat, map[string]any{"channel": "no spaces", "messages": []any{map[string]any{"role": "user", "content": "x"}}}, auth).
			requireError(t, http.StatusBadRequest, "invalid_request", "channel")
		body := chatBody("t1", "hi")
		body["agentId"] = "agt_nope"
		s.do("POST", chat, body, auth).requireError(t, http.StatusNotFound, "not_found", "")
		require.Equal(t, 100.0, s.messagingUsage(a)["credits"], "refused turns cost nothing")

		r = s.do("POST", chat, chatBody("whatsapp:+15551234567:thread-1", "When are you open?"), auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		m := r.json(t)
		require.Equal(t, "assistant", m["role"])
		require.Contains(t, m["content"], "9 to 18")
		require.Equal(t, 1.0, m["creditsCharged"])
		conv := m["conversationId"].(string)
		require.NotEmpty(t, conv)
		require.Equal(t, "no-store", r.header.Get("Cache-Control"))

		body = chatBody("whatsapp:+15551234567:thread-1", "Thanks")
		body["agentId"] = ag["id"]
		r = s.do("POST", chat, body, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, conv, r.json(t)["conversationId"], "one conversation per conversationRef")
		r = s.do("POST", chat, chatBody("thread-2", "Hello"), auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.NotEqual(t, conv, r.json(t)["conversationId"])

		u := s.messagingUsage(a)
		require.Equal(t, 97.0, u["credits"])
		require.Equal(t, 3.0, u["inboundCount"])
		require.Equal(t, 3.0, u["outboundCount"])
		r = s.do("GET", "/api/messaging/v1/bot", nil, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, 97.0, r.json(t)["account"].(map[string]any)["credits"])

		// Out of credits: 402 before the engine runs, nothing charged.
		_, err := s.store.ChargeCredits(context.Background(), core.CreditEntry{
			ID: "cred_drain_" + a.profileID[len(a.profileID)-8:], ProfileID: a.profileID, Amount: 97, Reason: core.CreditChatTurn,
			CreatedAt: s.clock.Now(),
		})
		require.NoError(t, err)
		s.do("POST", chat, chatBody("t3", "Hello"), auth).requireError(t, http.StatusPaymentRequired, "insufficient_credits", "")
		u = s.messagingUsage(a)
		require.Equal(t, 0.0, u["credits"])
		require.Equal(t, 3.0, u["inboundCount"])
	})
}

func TestMessagingChatEngineDown(t *testing.T) {
	s := newMessagingServer(t, "memory", options{engine: engineDown{}})
	a := s.register(uniqueEmail("msg-down"))
	key := s.messagingKey(a)
	s.mkAgent(key, map[string]any{"name": "Shop"})
	s.do("POST", "/api/messaging/v1/chat", chatBody("t", "Hello"), withKey(key)).requireError(t, http.StatusServiceUnavailable, "unavailable", "")
	require.Equal(t, 100.0, s.messagingUsage(a)["credits"], "an engine failure costs nothing")
}

func TestMessagingKeyRoutesNeedAPlan(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{})
		w := s.widget()
		// The plan lapses: a paid plan left unpaid is not eligible.
		now := s.clock.Now()
		require.NoError(t, s.store.SetSubscription(context.Background(), core.Subscription{
			ID: "sub_lapsed_" + w.a.profileID[len(w.a.profileID)-8:], ProfileID: w.a.profileID, Line: core.LineMessaging,
			PlanID: "plan_messaging_growth_monthly", Status: core.StatusUnpaid, CreatedAt: now, UpdatedAt: now,
		}))
		const agent = "/api/messaging/v1/agents/agt_x"
		for _, rt := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/messaging/v1/bot", nil},
			{"POST", "/api/messaging/v1/chat", chatBody("t", "hi")},
			{"GET", "/api/messaging/v1/agents", nil},
			{"POST", "/api/messaging/v1/agents", map[string]any{"name": "x"}},
			{"GET", agent, nil},
			{"PATCH", agent, map[string]any{"name": "y"}},
			{"DELETE", agent, nil},
			{"GET", agent + "/sources", nil},
			{"POST", agent + "/sources", map[string]any{"type": "text", "content": "x"}},
			{"DELETE", agent + "/sources/src_x", nil},
			{"GET", "/api/messaging/v1/embed", nil},
			{"PUT", "/api/messaging/v1/embed", map[string]any{"embedGreeting": "x"}},
		} {
			s.do(rt.method, rt.path, rt.body, withKey(w.key)).requireError(t, http.StatusPaymentRequired, "subscription_required", "")
			s.do(rt.method, rt.path, rt.body).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		}
		s.do("GET", "/api/messaging/embed-config", nil, withSession(w.a.session)).requireError(t, http.StatusPaymentRequired, "subscription_required", "")
		// The public widget does not tell visitors the merchant's plan lapsed.
		r := s.do("POST", "/api/messaging/embed/v1/chat", widgetChat(w.embedID, "hi"), withHeader("Origin", shopOrigin))
		r.requireError(t, http.StatusServiceUnavailable, "unavailable", "chat")
		requireCORS(t, r, shopOrigin)
		require.Equal(t, 100.0, s.messagingUsage(w.a)["credits"], "the account still reads, credits kept")
	})
}
