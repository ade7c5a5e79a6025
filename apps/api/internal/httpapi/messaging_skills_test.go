package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

// skillsSecret signs the calls of the test skills webhooks.
const skillsSecret = "skills-secret-0123456789abcdef"

// skillCall is one call a skillsReceiver got.
type skillCall struct {
	path   string
	header http.Header
	body   []byte
	json   map[string]any
	// signed says X-GellHub-Signature is the hex HMAC-SHA256 of
	// timestamp + "." + body with the receiver's secret, checked here with
	// crypto/hmac (not with gellhub's webhooksig).
	signed bool
}

// skillsReceiver is a merchant's skills webhook on 127.0.0.1: it records
// each call, checks its signature independently, and answers with
// answer's status and body. A call whose signature does not verify (while
// the receiver has a secret) is answered 401, so the turn falls back to
// the AI.
type skillsReceiver struct {
	*httptest.Server
	secret string
	answer func(c skillCall) (status int, body string)

	mu    sync.Mutex
	calls []skillCall
}

func newSkillsReceiver(t *testing.T, secret string, answer func(c skillCall) (int, string)) *skillsReceiver {
	t.Helper()
	r := &skillsReceiver{secret: secret, answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil || req.Method != http.MethodPost {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		c := skillCall{path: req.URL.Path, header: req.Header.Clone(), body: body}
		_ = json.Unmarshal(body, &c.json)
		c.signed = validHexSignature(r.secret, req.Header.Get("X-GellHub-Timestamp"), body, req.Header.Get("X-GellHub-Signature"))
		r.mu.Lock()
		r.calls = append(r.calls, c)
		secret := r.secret
		r.mu.Unlock()
		if secret != "" && !c.signed {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		status, out := r.answer(c)
		w.Header().Set("Content-Type", "application/json")
		if status >= 300 && status < 400 {
			w.Header().Set("Location", r.URL+"/elsewhere")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, out)
	}))
	t.Cleanup(r.Close)
	return r
}

// setSecret changes the secret the receiver expects ("" checks none).
func (r *skillsReceiver) setSecret(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = s
}

// received returns the calls so far.
func (r *skillsReceiver) received() []skillCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]skillCall(nil), r.calls...)
}

// last returns the latest call; it fails the test when there is none.
func (r *skillsReceiver) last(t *testing.T) skillCall {
	t.Helper()
	cs := r.received()
	require.NotEmpty(t, cs, "the skills webhook was not called")
	return cs[len(cs)-1]
}

// validHexSignature reports whether sig is gellhub's signature of body
// sent at ts: hex(HMAC-SHA256(secret, ts + "." + body)).
func validHexSignature(secret, ts string, body []byte, sig string) bool {
	if secret == "" || ts == "" || sig == "" {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	got, err := hex.DecodeString(sig)
	return err == nil && hmac.Equal(got, m.Sum(nil))
}

// slotAnswer is the guide's example answer.
const slotAnswer = `{"version":1,"message":"Available times tomorrow:","ui":{"type":"slot_list","items":[
	{"id":"10:00","title":"10:00","subtitle":"30 min"},{"id":"11:30","title":"11:30","subtitle":"Available"}]}}`

// skillsBody is a PUT body of the two skills of the guide.
func skillsBody(url string, secret *string) map[string]any {
	b := map[string]any{
		"skillsEnabled": true, "skillsWebhookUrl": url,
		"skills": []any{
			map[string]any{"key": "booking", "label": "Booking", "keywords": []any{"book", "appointment", "schedule"}},
			map[string]any{"key": "catalog", "label": "Products", "keywords": []any{"product", "price list", "catalog"}},
		},
	}
	if secret != nil {
		b["skillsWebhookSecret"] = *secret
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// requireNoSecret asserts that no answer shows a webhook secret.
func requireNoSecret(t testing.TB, r reply, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		require.NotContains(t, string(r.body), s, "a secret leaked")
	}
	require.NotContains(t, r.json(t), "skillsWebhookSecret")
	require.NotContains(t, r.json(t), "handoffWebhookSecret")
}

// skillsStatus returns GET /api/messaging/v1/skills's skillsStatus.
func (s *testServer) skillsStatus(key string) map[string]any {
	s.t.Helper()
	r := s.do("GET", "/api/messaging/v1/skills", nil, withKey(key))
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	requireNoSecret(s.t, r, skillsSecret)
	return r.json(s.t)["skillsStatus"].(map[string]any)
}

func TestMessagingSkills(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{})
		w := s.widget()
		key, auth := w.key, withKey(w.key)
		answer := slotAnswer
		var answerMu sync.Mutex
		setAnswer := func(a string) { answerMu.Lock(); answer = a; answerMu.Unlock() }
		status := http.StatusOK
		recv := newSkillsReceiver(t, skillsSecret, func(skillCall) (int, string) {
			answerMu.Lock()
			defer answerMu.Unlock()
			return status, answer
		})

		// Never configured: the zero configuration.
		r := s.do("GET", "/api/messaging/v1/skills", nil, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "no-store", r.header.Get("Cache-Control"))
		require.Equal(t, map[string]any{
			"skillsEnabled": false, "skillsWebhookUrl": "", "skillsWebhookSecretSet": false, "skills": []any{},
			"skillsStatus": map[string]any{"lastCallAt": nil, "lastSuccessAt": nil, "recentErrors": []any{}},
			"updatedAt":    nil,
		}, r.json(t))

		// Configure with the key; the session twin sees the same.
		r = s.do("PUT", "/api/messaging/v1/skills", skillsBody(recv.URL+"/skills", ptr(skillsSecret)), auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		requireNoSecret(t, r, skillsSecret)
		saved := r.json(t)
		require.Equal(t, true, saved["skillsWebhookSecretSet"])
		require.Equal(t, recv.URL+"/skills", saved["skillsWebhookUrl"])
		require.Len(t, saved["skills"], 2)
		require.NotNil(t, saved["updatedAt"])
		r = s.do("GET", "/api/messaging/skills-config", nil, withSession(w.a.session))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		requireNoSecret(t, r, skillsSecret)
		require.Equal(t, saved, r.json(t))

		// The session twin saves; the key route sees it. No secret in the
		// body keeps the secret.
		body := skillsBody(recv.URL+"/skills", nil)
		body["skills"].([]any)[0].(map[string]any)["label"] = "Book a visit"
		r = s.do("PUT", "/api/messaging/skills-config", body, withSession(w.a.session))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		r = s.do("GET", "/api/messaging/v1/skills", nil, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		requireNoSecret(t, r, skillsSecret)
		got := r.json(t)
		require.Equal(t, "Book a visit", got["skills"].([]any)[0].(map[string]any)["label"])
		require.Equal(t, true, got["skillsWebhookSecretSet"], "an absent secret is kept")

		// A matching turn: the webhook answers it, for free.
		before := s.messagingUsage(w.a)["credits"]
		r = s.do("POST", "/api/messaging/v1/chat", chatBody("whatsapp:+15551234567:t1", "Can I BOOK a table tomorrow?"), auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		m := r.json(t)
		require.Equal(t, "Available times tomorrow:", m["content"])
		require.Equal(t, 0.0, m["creditsCharged"])
		require.Equal(t, map[string]any{"type": "slot_list", "items": []any{
			map[string]any{"id": "10:00", "title": "10:00", "subtitle": "30 min"},
			map[string]any{"id": "11:30", "title": "11:30", "subtitle": "Available"},
		}}, m["ui"])
		require.NotContains(t, m, "handoff")
		require.Equal(t, before, s.messagingUsage(w.a)["credits"], "a skill turn costs nothing")

		call := recv.last(t)
		require.True(t, call.signed, "X-GellHub-Signature verifies")
		require.Equal(t, "booking", call.header.Get("X-GellHub-Skill"))
		ts, err := strconv.ParseInt(call.header.Get("X-GellHub-Timestamp"), 10, 64)
		require.NoError(t, err)
		require.Equal(t, s.clock.Now().Unix(), ts)
		require.Equal(t, "application/json", call.header.Get("Content-Type"))
		require.Equal(t, map[string]any{
			"version": 1.0, "skill": "booking", "profileId": w.a.profileID, "conversationRef": "whatsapp:+15551234567:t1",
			"visitorId": "", "channel": "api", "message": "Can I BOOK a table tomorrow?",
			"messages": []any{map[string]any{"role": "user", "content": "Can I BOOK a table tomorrow?"}},
		}, call.json)

		// The first matching skill in order wins; a phrase matches as whole words.
		r = s.do("POST", "/api/messaging/v1/chat", chatBody("t2", "Send me your price list and a schedule"), auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "booking", recv.last(t).header.Get("X-GellHub-Skill"), "booking comes first")
		r = s.do("POST", "/api/messaging/v1/chat", chatBody("t2", "Show me the catalog"), auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "catalog", recv.last(t).header.Get("X-GellHub-Skill"))
		calls := len(recv.received())
		r = s.do("POST", "/api/messaging/v1/chat", chatBody("t2", "What are your prices?"), auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Len(t, recv.received(), calls, "no keyword, no call")
		require.Equal(t, 1.0, r.json(t)["creditsCharged"])

		// The widget route renders the same ui, for free too.
		before = s.messagingUsage(w.a)["credits"]
		r = s.do("POST", "/api/messaging/embed/v1/chat", widgetChat(w.embedID, "I want an appointment"), withHeader("Origin", shopOrigin))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		m = r.json(t)
		require.Equal(t, "Available times tomorrow:", m["content"])
		require.Equal(t, "slot_list", m["ui"].(map[string]any)["type"])
		require.NotContains(t, m, "creditsCharged")
		require.Equal(t, before, s.messagingUsage(w.a)["credits"], "a skill turn on the widget costs nothing")
		call = recv.last(t)
		require.Equal(t, "web", call.json["channel"])
		require.Equal(t, "visitor-1", call.json["visitorId"])
		require.Equal(t, "web:"+w.embedID+":visitor-1", call.json["conversationRef"])

		st := s.skillsStatus(key)
		require.NotNil(t, st["lastCallAt"])
		require.Equal(t, st["lastCallAt"], st["lastSuccessAt"])
		require.Equal(t, []any{}, st["recentErrors"])

		// Failures: each turn goes to the AI (charged) and the merchant
		// sees why.
		for _, tc := range []struct {
			name, answer string
			status       int
			want         string
		}{
			{"invalid JSON", `{"version":1,"message":`, http.StatusOK, "invalid response"},
			{"unknown ui type", `{"version":1,"message":"Hi","ui":{"type":"video","url":"https://v.example.com"}}`, http.StatusOK, "ui.type"},
			{"wrong version", `{"version":2,"message":"Hi"}`, http.StatusOK, "version"},
			{"plain http iframe", `{"version":1,"message":"Hi","ui":{"type":"iframe","url":"http://cal.example.com"}}`, http.StatusOK, "ui.url"},
			{"redirect", `{}`, http.StatusFound, "302"},
			{"server error", `{"version":1,"message":"Hi"}`, http.StatusInternalServerError, "500"},
			{"over 64 KiB", `{"version":1,"message":"` + strings.Repeat("a", 64<<10) + `"}`, http.StatusOK, "64 KiB"},
		} {
			setAnswer(tc.answer)
			answerMu.Lock()
			status = tc.status
			answerMu.Unlock()
			credits := s.messagingUsage(w.a)["credits"].(float64)
			r = s.do("POST", "/api/messaging/v1/chat", chatBody("t3", "book please"), auth)
			require.Equal(t, http.StatusOK, r.status, "%s: %s", tc.name, r.body)
			m = r.json(t)
			require.Equal(t, 1.0, m["creditsCharged"], tc.name)
			require.NotContains(t, m, "ui", tc.name)
			require.NotEmpty(t, m["content"], tc.name)
			require.Equal(t, credits-1, s.messagingUsage(w.a)["credits"], tc.name)
			st = s.skillsStatus(key)
			errs := st["recentErrors"].([]any)
			require.NotEmpty(t, errs, tc.name)
			e := errs[0].(map[string]any)
			require.Equal(t, "booking", e["skill"], tc.name)
			require.Contains(t, e["error"], tc.want, tc.name)
			require.NotEmpty(t, e["at"], tc.name)
		}
		st = s.skillsStatus(key)
		require.Len(t, st["recentErrors"], 7)
		require.NotEqual(t, st["lastCallAt"], nil)
		require.Len(t, recv.received(), calls+1+7, "no redirect was followed")
		for _, c := range recv.received() {
			require.Equal(t, "/skills", c.path, "no redirect was followed")
		}

		// "" removes the secret: calls are no longer signed.
		setAnswer(slotAnswer)
		answerMu.Lock()
		status = http.StatusOK
		answerMu.Unlock()
		recv.setSecret("")
		r = s.do("PUT", "/api/messaging/v1/skills", skillsBody(recv.URL+"/skills", ptr("")), auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, false, r.json(t)["skillsWebhookSecretSet"])
		r = s.do("POST", "/api/messaging/v1/chat", chatBody("t4", "book"), auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "Available times tomorrow:", r.json(t)["content"])
		require.Empty(t, recv.last(t).header.Get("X-GellHub-Signature"))

		// Disabled: no call, an AI turn.
		off := skillsBody(recv.URL+"/skills", nil)
		off["skillsEnabled"] = false
		r = s.do("PUT", "/api/messaging/v1/skills", off, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		calls = len(recv.received())
		r = s.do("POST", "/api/messaging/v1/chat", chatBody("t4", "book"), auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, 1.0, r.json(t)["creditsCharged"])
		require.Len(t, recv.received(), calls)
	})
}

// TestMessagingSkillsValidation: a refused configuration is 400 with the
// field, and changes nothing.
func TestMessagingSkillsValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newMessagingServer(t, backend, options{})
		a := s.register(uniqueEmail("msg-skills"))
		key := s.messagingKey(a)
		auth := withKey(key)
		good := skillsBody("https://hooks.example.com/skills", ptr(skillsSecret))
		r := s.do("PUT", "/api/messaging/v1/skills", good, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		saved := s.do("GET", "/api/messaging/v1/skills", nil, auth).body

		with := func(k string, v any) map[string]any {
			b := skillsBody("https://hooks.example.com/other", ptr("another-secret-0123456789"))
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
			return b
		}
		skill := func(key string, keywords ...any) map[string]any {
			return map[string]any{"key": key, "label": "L " + key, "keywords": keywords}
		}
		tooMany := make([]any, core.MaxSkills+1)
		for i := range tooMany {
			tooMany[i] = skill(fmt.Sprintf("s%d", i), "k")
		}
		manyKeywords := make([]any, core.MaxSkillKeywords+1)
		for i := range manyKeywords {
			manyKeywords[i] = fmt.Sprintf("word%d", i)
		}
		for _, tc := range []struct {
			name   string
			body   any
			detail string
		}{
			{"not a URL", with("skillsWebhookUrl", "hooks.example.com/skills"), "skillsWebhookUrl"},
			{"ftp URL", with("skillsWebhookUrl", "ftp://hooks.example.com/skills"), "skillsWebhookUrl"},
			{"user info", with("skillsWebhookUrl", "https://u:p@hooks.example.com/skills"), "skillsWebhookUrl"},
			{"enabled without URL", with("skillsWebhookUrl", ""), "skillsWebhookUrl"},
			{"URL missing", with("skillsWebhookUrl", nil), "skillsWebhookUrl"},
			{"enabled missing", with("skillsEnabled", nil), "skillsEnabled"},
			{"enabled not a boolean", with("skillsEnabled", "yes"), "skillsEnabled"},
			{"skills missing", with("skills", nil), "skills"},
			{"skills not a list", with("skills", "booking"), "skills"},
			{"duplicate keys", with("skills", []any{skill("booking", "book"), skill("booking", "reserve")}), "skills"},
			{"no keywords", with("skills", []any{skill("booking")}), "skills"},
			{"empty keyword", with("skills", []any{skill("booking", "")}), "skills"},
			{"punctuation keyword", with("skills", []any{skill("booking", "?!")}), "skills"},
			{"too many keywords", with("skills", []any{skill("booking", manyKeywords...)}), "skills"},
			{"too many skills", with("skills", tooMany), "skills"},
			{"bad key", with("skills", []any{skill("Book Now", "book")}), "skills"},
			{"enabled without skills", with("skills", []any{}), "skills"},
			{"short secret", with("skillsWebhookSecret", "fifteen-chars-1"), "skillsWebhookSecret"},
			{"secret with spaces", with("skillsWebhookSecret", "a secret with spaces in it"), "skillsWebhookSecret"},
			{"malformed", `{"skillsEnabled":`, "body"},
		} {
			for _, route := range []struct {
				path string
				auth reqOpt
			}{{"/api/messaging/v1/skills", auth}, {"/api/messaging/skills-config", withSession(a.session)}} {
				r := s.do("PUT", route.path, tc.body, route.auth)
				r.requireError(t, http.StatusBadRequest, "invalid_request", tc.detail)
				secret := "another-secret"
				if b, ok := tc.body.(map[string]any); ok && b["skillsWebhookSecret"] != nil {
					secret = b["skillsWebhookSecret"].(string)
				}
				require.NotContains(t, string(r.body), secret, "%s: the secret sent is never echoed", tc.name)
			}
		}
		require.Equal(t, string(saved), string(s.do("GET", "/api/messaging/v1/skills", nil, auth).body), "nothing changed")

		// Disabled needs neither a URL nor skills.
		r = s.do("PUT", "/api/messaging/v1/skills", map[string]any{"skillsEnabled": false, "skillsWebhookUrl": "", "skills": []any{}}, auth)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, true, r.json(t)["skillsWebhookSecretSet"], "the secret is kept")

		// Other lines' keys and no plan.
		s.do("GET", "/api/messaging/v1/skills", nil, withKey(a.apiKey)).requireError(t, http.StatusForbidden, "forbidden", "")
		s.do("PUT", "/api/messaging/v1/skills", good, withKey(a.driveKey)).requireError(t, http.StatusForbidden, "forbidden", "")
		s.do("GET", "/api/messaging/v1/skills", nil).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		s.do("GET", "/api/messaging/skills-config", nil).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		s.do("PUT", "/api/messaging/skills-config", good, withSession(a.session), withHeader("Sec-Fetch-Site", "cross-site")).
			requireError(t, http.StatusForbidden, "forbidden", "")
		b := s.register(uniqueEmail("msg-skills-noplan"))
		s.do("GET", "/api/messaging/skills-config", nil, withSession(b.session)).requireError(t, http.StatusPaymentRequired, "subscription_required", "")
	})
}

// TestMessagingWebhooksPublicOnly: where private webhook targets are not
// allowed (production), plain http and addresses that are obviously not
// public are refused when saved.
func TestMessagingWebhooksPublicOnly(t *testing.T) {
	t.Parallel()
	s := newMessagingServer(t, "memory", options{publicWebhooksOnly: true})
	a := s.register(uniqueEmail("msg-public"))
	auth := withKey(s.messagingKey(a))
	for _, u := range []string{
		"http://hooks.example.com/skills", "https://127.0.0.1/skills", "https://10.0.0.1/skills",
		"https://169.254.169.254/latest", "https://[::ffff:127.0.0.1]/skills", "https://localhost:8443/skills",
		"https://[::1]/skills",
	} {
		s.do("PUT", "/api/messaging/v1/skills", skillsBody(u, nil), auth).requireError(t, http.StatusBadRequest, "invalid_request", "skillsWebhookUrl")
		s.do("PUT", "/api/messaging/v1/handoff", map[string]any{"handoffWebhookUrl": u}, auth).
			requireError(t, http.StatusBadRequest, "invalid_request", "handoffWebhookUrl")
	}
	r := s.do("PUT", "/api/messaging/v1/skills", skillsBody("https://hooks.example.com/skills", nil), auth)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	r = s.do("PUT", "/api/messaging/v1/handoff", map[string]any{"handoffWebhookUrl": "https://inbox.example.com/handoff"}, auth)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)

}
