package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// handoffSecret signs the test handoff events.
const handoffSecret = "handoff-secret-0123456789abcdef"

// handoffEvent is one request a handoffReceiver got.
type handoffEvent struct {
	at     time.Time // when it arrived (real time)
	header http.Header
	body   []byte
	json   map[string]any
	// signed and standardSigned say X-GellHub-Signature and
	// webhook-signature verify, checked here with crypto/hmac.
	signed, standardSigned bool
	status                 int // what the receiver answered
}

// handoffReceiver is a partner's inbox webhook on 127.0.0.1: it records
// every request, checks both signatures independently, and answers with
// the next of its scripted statuses (200 once they run out).
type handoffReceiver struct {
	*httptest.Server
	secret string

	mu     sync.Mutex
	script []handoffAnswer
	events []handoffEvent
}

// handoffAnswer is one scripted answer.
type handoffAnswer struct {
	status     int
	retryAfter string
}

func newHandoffReceiver(t *testing.T, secret string, script ...handoffAnswer) *handoffReceiver {
	t.Helper()
	r := &handoffReceiver{secret: secret, script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *handoffReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	e := handoffEvent{at: time.Now(), header: req.Header.Clone(), body: body}
	_ = json.Unmarshal(body, &e.json)
	ts := req.Header.Get("X-GellHub-Timestamp")
	e.signed = validHexSignature(r.secret, ts, body, req.Header.Get("X-GellHub-Signature"))
	e.standardSigned = validStandardSignature(r.secret, req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"),
		body, req.Header.Get("webhook-signature"))
	ans := handoffAnswer{status: http.StatusOK}
	r.mu.Lock()
	if len(r.script) > 0 {
		ans, r.script = r.script[0], r.script[1:]
	}
	e.status = ans.status
	r.events = append(r.events, e)
	r.mu.Unlock()
	if ans.retryAfter != "" {
		w.Header().Set("Retry-After", ans.retryAfter)
	}
	if ans.status >= 300 && ans.status < 400 {
		w.Header().Set("Location", "/elsewhere")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ans.status)
	if ans.status == http.StatusOK {
		_, _ = io.WriteString(w, `{"ok":true}`)
	} else {
		_, _ = io.WriteString(w, `{"error":"try later"}`)
	}
}

// received returns the requests so far.
func (r *handoffReceiver) received() []handoffEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]handoffEvent(nil), r.events...)
}

// waitEvents waits up to 10 s for n requests and returns them.
func (r *handoffReceiver) waitEvents(t *testing.T, n int) []handoffEvent {
	t.Helper()
	require.Eventually(t, func() bool { return len(r.received()) >= n }, 10*time.Second, 10*time.Millisecond,
		"the handoff webhook got %d of %d requests", len(r.received()), n)
	return r.received()
}

// validStandardSignature reports whether sigs (Standard Webhooks'
// webhook-signature, space-separated "v1,<base64>") holds the base64
// HMAC-SHA256 of id.ts.body keyed with secret's bytes.
func validStandardSignature(secret, id, ts string, body []byte, sigs string) bool {
	if secret == "" || id == "" || ts == "" {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	want := m.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		v, b64, _ := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if v == "v1" && err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// handoffFixture is an account whose default agent hands off, with the
// handoff webhook set to a receiver.
type handoffFixture struct {
	widgetFixture
	agentID string
	recv    *handoffReceiver
}

func (s *testServer) handoffFixture(t *testing.T, recv *handoffReceiver) handoffFixture {
	t.Helper()
	w := s.widget()
	agentID := defaultAgentID(t, s.agentList(w.key))
	r := s.do("PATCH", "/api/messaging/v1/agents/"+agentID, map[string]any{
		"humanHandoffEnabled": true, "handoffUrls": []any{map[string]any{"label": "WhatsApp", "url": "https://wa.me/15551234567"}},
	}, withKey(w.key))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	r = s.do("PUT", "/api/messaging/v1/handoff", map[string]any{"handoffWebhookUrl": recv.URL + "/handoff", "handoffWebhookSecret": handoffSecret}, withKey(w.key))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	return handoffFixture{widgetFixture: w, agentID: agentID, recv: recv}
}

// deliveries reads GET /api/messaging/v1/handoff/deliveries with query.
func (s *testServer) deliveries(key, query string) map[string]any {
	s.t.Helper()
	m, err := s.tryDeliveries(key, query)
	require.NoError(s.t, err)
	return m
}

// tryDeliveries is deliveries without failing the test, for polls (which
// run on another goroutine).
func (s *testServer) tryDeliveries(key, query string) (map[string]any, error) {
	req := httptest.NewRequest("GET", "/api/messaging/v1/handoff/deliveries"+query, nil)
	req.Header.Set("x-api-key", key)
	res, err := s.app.Test(req, -1)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("deliveries: HTTP %d: %s", res.StatusCode, body)
	}
	if strings.Contains(string(body), handoffSecret) {
		return nil, errors.New("deliveries: the secret leaked")
	}
	var m map[string]any
	return m, json.Unmarshal(body, &m)
}

// pollDeliveries polls the deliveries (query) every 20 ms for up to 10 s
// until ok holds, and returns the last page.
func (s *testServer) pollDeliveries(t *testing.T, key, query string, ok func(ds []map[string]any) bool) []map[string]any {
	t.Helper()
	var last []map[string]any
	var lastErr error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		m, err := s.tryDeliveries(key, query)
		if err != nil {
			lastErr = err
			continue
		}
		last = nil
		for _, x := range m["deliveries"].([]any) {
			last = append(last, x.(map[string]any))
		}
		if ok(last) {
			return last
		}
	}
	t.Fatalf("deliveries never as expected: %v (last error: %v)", last, lastErr)
	return nil
}

// waitDelivery waits up to 10 s for the delivery of event id to reach
// state, and returns it.
func (s *testServer) waitDelivery(t *testing.T, key, id, state string) map[string]any {
	t.Helper()
	var d map[string]any
	s.pollDeliveries(t, key, "?limit=100", func(ds []map[string]any) bool {
		for _, m := range ds {
			if m["eventId"] == id {
				d = m
				return m["state"] == state
			}
		}
		return false
	})
	return d
}

// requireEventHeaders checks the guide's and Standard Webhooks' headers
// of an event request.
func requireEventHeaders(t *testing.T, e handoffEvent, event string) {
	t.Helper()
	h := e.header
	require.Equal(t, event, h.Get("X-GellHub-Event"))
	id := h.Get("X-GellHub-Event-Id")
	require.True(t, strings.HasPrefix(id, "evt_"), id)
	require.Equal(t, id, h.Get("webhook-id"))
	require.NotEmpty(t, h.Get("X-GellHub-Timestamp"))
	require.Equal(t, h.Get("X-GellHub-Timestamp"), h.Get("webhook-timestamp"))
	require.Equal(t, "application/json", h.Get("Content-Type"))
	require.True(t, e.signed, "X-GellHub-Signature verifies")
	require.True(t, e.standardSigned, "webhook-signature verifies")
}

func TestMessagingHandoff(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{deliveries: true})
		recv := newHandoffReceiver(t, handoffSecret)
		f := s.handoffFixture(t, recv)
		key, auth := f.key, withKey(f.key)

		r := s.do("GET", "/api/messaging/v1/handoff", nil, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		requireNoSecret(t, r, handoffSecret)
		h := r.json(t)
		require.Equal(t, recv.URL+"/handoff", h["handoffWebhookUrl"])
		require.Equal(t, true, h["handoffWebhookSecretSet"])
		require.NotNil(t, h["updatedAt"])
		require.Len(t, h, 3)

		// The visitor asks for a person: an acknowledgement, for free, and
		// the event.
		credits := s.messagingUsage(f.a)["credits"]
		const ref = "whatsapp:+15551234567:thread-1"
		r = s.do("POST", "/api/messaging/v1/chat", chatBody(ref, "I need to speak with someone on your team"), auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		m := r.json(t)
		require.Equal(t, true, m["handoff"])
		require.Equal(t, 0.0, m["creditsCharged"])
		require.NotEmpty(t, m["content"])
		convID := m["conversationId"].(string)

		ev := recv.waitEvents(t, 1)[0]
		requireEventHeaders(t, ev, "handoff.requested")
		requested := ev.header.Get("X-GellHub-Event-Id")
		require.Equal(t, map[string]any{
			"version": 1.0, "event": "handoff.requested", "profileId": f.a.profileID, "conversationRef": ref,
			"conversationId": convID, "visitorId": "", "agentId": f.agentID, "channel": "api",
			"message": "I need to speak with someone on your team", "requestedAt": s.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		}, ev.json)

		r = s.do("GET", "/api/messaging/v1/conversations/"+convID, nil, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		c := r.json(t)
		require.Equal(t, convID, c["conversationId"])
		require.Equal(t, ref, c["conversationRef"])
		require.Equal(t, "api", c["channel"])
		require.Equal(t, f.agentID, c["agentId"])
		require.Equal(t, 2.0, c["messageCount"])
		require.Equal(t, true, c["handedOff"])
		require.NotNil(t, c["handedOffAt"])

		// A person has it: the bot says nothing, the message goes to the
		// partner.
		s.clock.Advance(time.Minute)
		r = s.do("POST", "/api/messaging/v1/chat", chatBody(ref, "Hello? What are your prices?"), auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, map[string]any{"role": "assistant", "content": "", "creditsCharged": 0.0, "conversationId": convID, "handoff": true}, r.json(t))
		require.Equal(t, credits, s.messagingUsage(f.a)["credits"], "handoff turns are free")
		ev = recv.waitEvents(t, 2)[1]
		requireEventHeaders(t, ev, "handoff.message")
		message := ev.header.Get("X-GellHub-Event-Id")
		require.NotEqual(t, requested, message)
		require.Equal(t, "Hello? What are your prices?", ev.json["message"])
		require.Equal(t, convID, ev.json["conversationId"])

		// The delivery log: newest first, every attempt.
		requireDelivered := func(d map[string]any, id, event string, body []byte) {
			t.Helper()
			require.Equal(t, id, d["eventId"])
			require.Equal(t, event, d["event"])
			require.Equal(t, convID, d["conversationId"])
			require.Equal(t, "delivered", d["state"])
			require.Equal(t, 1.0, d["attemptCount"])
			require.Nil(t, d["nextAttemptAt"])
			require.NotNil(t, d["deliveredAt"])
			var payload map[string]any
			require.NoError(t, json.Unmarshal(body, &payload))
			require.Equal(t, payload, d["payload"])
			as := d["attempts"].([]any)
			require.Len(t, as, 1)
			a := as[0].(map[string]any)
			require.Equal(t, 1.0, a["attempt"])
			require.Equal(t, 200.0, a["statusCode"])
			require.Equal(t, recv.URL+"/handoff", a["url"])
			require.Equal(t, "", a["error"])
			require.Equal(t, `{"ok":true}`, a["response"])
			require.Contains(t, a, "durationMs")
			require.NotEmpty(t, a["at"])
		}
		s.waitDelivery(t, key, message, "delivered")
		s.waitDelivery(t, key, requested, "delivered")
		page := s.deliveries(key, "")
		ds := page["deliveries"].([]any)
		require.Len(t, ds, 2)
		require.Nil(t, page["nextCursor"])
		evs := recv.received()
		requireDelivered(ds[0].(map[string]any), message, "handoff.message", evs[1].body)
		requireDelivered(ds[1].(map[string]any), requested, "handoff.requested", evs[0].body)

		page = s.deliveries(key, "?limit=1")
		require.Len(t, page["deliveries"], 1)
		require.Equal(t, message, page["deliveries"].([]any)[0].(map[string]any)["eventId"])
		require.NotEmpty(t, page["nextCursor"])
		page = s.deliveries(key, "?limit=1&cursor="+url.QueryEscape(page["nextCursor"].(string)))
		require.Len(t, page["deliveries"], 1)
		require.Equal(t, requested, page["deliveries"].([]any)[0].(map[string]any)["eventId"])
		require.Nil(t, page["nextCursor"])
		page = s.deliveries(key, "?event=handoff.requested")
		require.Len(t, page["deliveries"], 1)
		require.Equal(t, requested, page["deliveries"].([]any)[0].(map[string]any)["eventId"])
		for _, q := range []string{"?limit=0", "?limit=abc", "?limit=1001", "?limit=1&limit=2"} {
			s.do("GET", "/api/messaging/v1/handoff/deliveries"+q, nil, auth).requireError(t, http.StatusBadRequest, "invalid_request", "limit")
		}
		s.do("GET", "/api/messaging/v1/handoff/deliveries?event=order.created", nil, auth).requireError(t, http.StatusBadRequest, "invalid_request", "event")
		s.do("GET", "/api/messaging/v1/handoff/deliveries?cursor=a%20b", nil, auth).requireError(t, http.StatusBadRequest, "invalid_request", "cursor")
		// A well-formed cursor that names no delivery of this account is
		// refused under the parameter's name too.
		s.do("GET", "/api/messaging/v1/handoff/deliveries?cursor=evt_unknown", nil, auth).requireError(t, http.StatusBadRequest, "invalid_request", "cursor")

		// Handed back: the AI answers again, and charges.
		r = s.do("POST", "/api/messaging/v1/conversations/"+convID+"/handback", nil, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		c = r.json(t)
		require.Equal(t, false, c["handedOff"])
		require.Nil(t, c["handedOffAt"])
		require.Equal(t, 3.0, c["messageCount"], "the visitor's message without a reply")
		r = s.do("POST", "/api/messaging/v1/conversations/"+convID+"/handback", nil, auth)
		require.Equal(t, http.StatusOK, r.status, "handing back twice is fine: %s", r.body)
		r = s.do("POST", "/api/messaging/v1/chat", chatBody(ref, "What are your prices?"), auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		m = r.json(t)
		require.Contains(t, m["content"], "9 euros")
		require.Equal(t, 1.0, m["creditsCharged"])
		require.NotContains(t, m, "handoff")
		// An event would be stored with the turn (before the answer), so
		// the log shows at once whether one was queued.
		require.Len(t, s.deliveries(key, "")["deliveries"], 2, "no event for a bot turn")
		require.Len(t, recv.received(), 2, "no event for a bot turn")

		// Another account's conversation looks missing; so does a made-up one.
		other := s.register(uniqueEmail("msg-other"))
		otherKeyValue := s.messagingKey(other)
		otherKey := withKey(otherKeyValue)
		s.do("GET", "/api/messaging/v1/conversations/"+convID, nil, otherKey).requireError(t, http.StatusNotFound, "not_found", "")
		s.do("POST", "/api/messaging/v1/conversations/"+convID+"/handback", nil, otherKey).requireError(t, http.StatusNotFound, "not_found", "")
		s.do("GET", "/api/messaging/v1/conversations/conv_nope", nil, auth).requireError(t, http.StatusNotFound, "not_found", "")
		require.Equal(t, []any{}, s.deliveries(otherKeyValue, "")["deliveries"])
		s.do("GET", "/api/messaging/v1/handoff/deliveries?cursor="+url.QueryEscape(requested), nil, otherKey).
			requireError(t, http.StatusBadRequest, "invalid_request", "cursor")
		s.do("GET", "/api/messaging/v1/handoff", nil, withKey(f.a.apiKey)).requireError(t, http.StatusForbidden, "forbidden", "")

		// The widget route: the same handoff for a visitor.
		r = s.do("POST", "/api/messaging/embed/v1/chat", widgetChat(f.embedID, "talk to a human"), withHeader("Origin", shopOrigin))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, true, r.json(t)["handoff"])
		r = s.do("POST", "/api/messaging/embed/v1/chat", widgetChat(f.embedID, "anyone?"), withHeader("Origin", shopOrigin))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "", r.json(t)["content"])
		require.Contains(t, r.json(t), "content")
		require.Equal(t, true, r.json(t)["handoff"])
		byEvent := map[string]handoffEvent{} // the two events may arrive in either order
		for _, e := range recv.waitEvents(t, 4)[2:] {
			byEvent[e.header.Get("X-GellHub-Event")] = e
		}
		require.Equal(t, "visitor-1", byEvent["handoff.requested"].json["visitorId"])
		require.Equal(t, "web", byEvent["handoff.requested"].json["channel"])
		require.Equal(t, "web:"+f.embedID+":visitor-1", byEvent["handoff.requested"].json["conversationRef"])
		require.Equal(t, "anyone?", byEvent["handoff.message"].json["message"])

		// Secret removed: events are unsigned; URL removed: none are sent.
		r = s.do("PUT", "/api/messaging/v1/handoff", map[string]any{"handoffWebhookUrl": recv.URL + "/handoff", "handoffWebhookSecret": ""}, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, false, r.json(t)["handoffWebhookSecretSet"])
		r = s.do("POST", "/api/messaging/embed/v1/chat", widgetChat(f.embedID, "still there?"), withHeader("Origin", shopOrigin))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		ev = recv.waitEvents(t, 5)[4]
		require.Empty(t, ev.header.Get("X-GellHub-Signature"))
		require.Empty(t, ev.header.Get("webhook-signature"))
		require.NotEmpty(t, ev.header.Get("X-GellHub-Event-Id"))
		for _, bad := range []map[string]any{
			{"handoffWebhookUrl": "not a url"}, {"handoffWebhookUrl": "ftp://inbox.example.com"}, {},
			{"handoffWebhookUrl": "https://inbox.example.com", "handoffWebhookSecret": "short"},
		} {
			detail := "handoffWebhookUrl"
			if _, ok := bad["handoffWebhookSecret"]; ok {
				detail = "handoffWebhookSecret"
			}
			s.do("PUT", "/api/messaging/v1/handoff", bad, auth).requireError(t, http.StatusBadRequest, "invalid_request", detail)
		}
		r = s.do("PUT", "/api/messaging/v1/handoff", map[string]any{"handoffWebhookUrl": ""}, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "", r.json(t)["handoffWebhookUrl"])
	})
}

// TestMessagingHandoffRetries: a receiver that fails (a redirect, then a
// 503 asking to wait) gets the event again, with the same id, until it
// answers 2xx; one that is down and comes up gets it too. Every attempt
// is listed.
func TestMessagingHandoffRetries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{deliveries: true})
		recv := newHandoffReceiver(t, handoffSecret,
			handoffAnswer{status: http.StatusFound},
			handoffAnswer{status: http.StatusServiceUnavailable, retryAfter: "1"},
		)
		f := s.handoffFixture(t, recv)
		r := s.do("POST", "/api/messaging/v1/chat", chatBody("retry-1", "talk to a human"), withKey(f.key))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		evs := recv.waitEvents(t, 3)
		id := evs[0].header.Get("X-GellHub-Event-Id")
		for i, e := range evs {
			require.Equal(t, id, e.header.Get("X-GellHub-Event-Id"), "attempt %d: the same event id", i+1)
			require.Equal(t, id, e.header.Get("webhook-id"))
			require.Equal(t, evs[0].body, e.body, "the same body")
			requireEventHeaders(t, e, "handoff.requested")
		}
		require.GreaterOrEqual(t, evs[2].at.Sub(evs[1].at), 900*time.Millisecond, "Retry-After: 1 was honoured")
		d := s.waitDelivery(t, f.key, id, "delivered")
		require.Equal(t, 3.0, d["attemptCount"])
		as := d["attempts"].([]any)
		require.Len(t, as, 3)
		for i, want := range []float64{302, 503, 200} {
			a := as[i].(map[string]any)
			require.Equal(t, float64(i+1), a["attempt"])
			require.Equal(t, want, a["statusCode"])
			if want == 200 {
				require.Equal(t, "", a["error"])
			} else {
				require.Contains(t, a["error"], "HTTP")
				require.Equal(t, `{"error":"try later"}`, a["response"])
			}
		}
		require.Len(t, recv.received(), 3, "nothing after the delivery")

		// Down, then up on the same port.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		r = s.do("PUT", "/api/messaging/v1/handoff", map[string]any{"handoffWebhookUrl": "http://" + addr + "/handoff"}, withKey(f.key))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		s.clock.Advance(time.Second) // the newest delivery lists first
		r = s.do("POST", "/api/messaging/v1/chat", chatBody("retry-2", "talk to a human"), withKey(f.key))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		down := s.pollDeliveries(t, f.key, "?limit=1", func(ds []map[string]any) bool {
			return len(ds) == 1 && ds[0]["eventId"] != id && ds[0]["attemptCount"].(float64) >= 1
		})[0]
		first := down["attempts"].([]any)[0].(map[string]any)
		require.Equal(t, 0.0, first["statusCode"], "no answer")
		require.NotEmpty(t, first["error"])
		up := &handoffReceiver{secret: handoffSecret}
		ln, err = net.Listen("tcp", addr)
		require.NoError(t, err, "listen again on %s", addr)
		srv := &http.Server{Handler: http.HandlerFunc(up.serve), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		d = s.waitDelivery(t, f.key, down["eventId"].(string), "delivered")
		got := up.received()
		require.Len(t, got, 1)
		require.Equal(t, down["eventId"], got[0].header.Get("X-GellHub-Event-Id"))
		require.True(t, got[0].signed, "an absent secret is kept")
		as = d["attempts"].([]any)
		require.GreaterOrEqual(t, len(as), 2)
		require.Equal(t, 200.0, as[len(as)-1].(map[string]any)["statusCode"])
	})
}

// TestMessagingHandoffGivesUp: after the last retry the delivery fails
// for good.
func TestMessagingHandoffGivesUp(t *testing.T) {
	t.Parallel()
	s := newMessagingServer(t, "memory", options{retrySchedule: []time.Duration{50 * time.Millisecond}})
	recv := newHandoffReceiver(t, handoffSecret,
		handoffAnswer{status: http.StatusInternalServerError}, handoffAnswer{status: http.StatusInternalServerError})
	f := s.handoffFixture(t, recv)
	r := s.do("POST", "/api/messaging/v1/chat", chatBody("give-up", "talk to a human"), withKey(f.key))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	id := recv.waitEvents(t, 1)[0].header.Get("X-GellHub-Event-Id")
	d := s.waitDelivery(t, f.key, id, "failed")
	require.Equal(t, 2.0, d["attemptCount"])
	require.Nil(t, d["nextAttemptAt"])
	require.Nil(t, d["deliveredAt"])
	require.Len(t, recv.received(), 2)
}
