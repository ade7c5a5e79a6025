package messaging

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

var skillStart = time.Date(2026, 8, 3, 9, 30, 0, 0, time.UTC)

// fakeSender is a ports.WebhookSender that records the requests and
// answers with respond.
type fakeSender struct {
	mu        sync.Mutex
	reqs      []ports.WebhookRequest
	deadlines []time.Time // each call's context deadline (zero: none)
	respond   func(r ports.WebhookRequest) (ports.WebhookResponse, error)
}

func (f *fakeSender) Send(ctx context.Context, r ports.WebhookRequest) (ports.WebhookResponse, error) {
	deadline, _ := ctx.Deadline()
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	f.deadlines = append(f.deadlines, deadline)
	f.mu.Unlock()
	return f.respond(r)
}

func (f *fakeSender) requests() []ports.WebhookRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ports.WebhookRequest(nil), f.reqs...)
}

// answers answers every call with status and body.
func answers(status int, body string) func(ports.WebhookRequest) (ports.WebhookResponse, error) {
	return func(ports.WebhookRequest) (ports.WebhookResponse, error) {
		return ports.WebhookResponse{StatusCode: status, ContentType: "application/json", Body: []byte(body)}, nil
	}
}

// failingSkillsStore fails SkillsConfig.
type failingSkillsStore struct{ *testkit.Store }

func (failingSkillsStore) SkillsConfig(context.Context, string) (core.SkillsConfig, core.SkillsStatus, error) {
	return core.SkillsConfig{}, core.SkillsStatus{}, core.Unavailable("database", errors.New("down"))
}

type skillEnv struct {
	ctx    context.Context
	store  *testkit.Store
	clock  *testkit.Clock
	sender *fakeSender
	svc    *Service
	pid    string
}

const skillSecret = "s3cr3t-s3cr3t-s3cr3t"

var testSkills = []core.Skill{
	{Key: "booking", Label: "Booking", Keywords: []string{"book", "appointment", "réserver"}},
	{Key: "catalog", Label: "Products", Keywords: []string{"product", "price catalog", "book"}},
}

// newSkillEnv makes a profile whose skills call the fake sender, which
// answers a valid message without ui.
func newSkillEnv(t *testing.T, secret string) *skillEnv {
	t.Helper()
	e := &skillEnv{
		ctx: context.Background(), store: testkit.NewStore(), clock: testkit.NewClock(skillStart),
		sender: &fakeSender{respond: answers(200, `{"version":1,"message":"Hello from the skill"}`)},
		pid:    "prof_" + strings.ToLower(rand.Text()[:12]),
	}
	require.NoError(t, e.store.CreateAccount(e.ctx, core.Account{Profile: core.Profile{
		ID: e.pid, Email: e.pid + "@example.com", EmailNormalized: e.pid + "@example.com", CreatedAt: skillStart, UpdatedAt: skillStart,
	}}))
	e.svc = New(Config{Store: e.store, Clock: e.clock, Random: rand.Reader, Sender: e.sender, BaseURL: "https://gellhub.test"})
	e.configure(t, core.SkillsConfig{Enabled: true, WebhookURL: "https://shop.example.com/gellhub/skills", Secret: secret, Skills: testSkills})
	return e
}

func (e *skillEnv) configure(t *testing.T, c core.SkillsConfig) {
	t.Helper()
	c.ProfileID, c.UpdatedAt = e.pid, e.clock.Now()
	require.NoError(t, e.store.UpdateMessaging(e.ctx, e.pid, func(tx ports.MessagingTx) error {
		return tx.SaveSkillsConfig(e.ctx, c)
	}))
}

func (e *skillEnv) status(t *testing.T) core.SkillsStatus {
	t.Helper()
	_, st, err := e.store.SkillsConfig(e.ctx, e.pid)
	require.NoError(t, err)
	return st
}

// webTurn is a widget turn whose last user message is last.
func (e *skillEnv) webTurn(last string) turn {
	return turn{
		profileID: e.pid, channel: "web", ref: "web:emb_abc:visitor-1", visitorID: "visitor-1",
		messages: []core.ChatMessage{
			{Role: core.RoleUser, Content: "hi"}, {Role: core.RoleAssistant, Content: "Hello! <b>&</b>"},
			{Role: core.RoleUser, Content: last},
		},
	}
}

func TestSkillTurnCall(t *testing.T) {
	t.Parallel()

	t.Run("posts_the_guides_body_signed", func(t *testing.T) {
		t.Parallel()
		e := newSkillEnv(t, skillSecret)
		e.sender.respond = answers(200, `{"version":1,"message":"Available times tomorrow:","ui":{"items":[{"title":"10:00","id":"10:00","subtitle":"30 min"}],"type":"slot_list"}}`)
		content, ui, skill, ok := e.svc.skillTurn(e.ctx, e.webTurn("Can I Book for tomorrow?"))
		require.True(t, ok)
		require.Equal(t, "booking", skill)
		require.Equal(t, "Available times tomorrow:", content)
		require.JSONEq(t, `{"type":"slot_list","items":[{"id":"10:00","title":"10:00","subtitle":"30 min"}]}`, string(ui))
		require.Equal(t, `{"type":"slot_list","items":[{"id":"10:00","title":"10:00","subtitle":"30 min"}]}`, string(ui), "canonical order")

		reqs := e.sender.requests()
		require.Len(t, reqs, 1)
		r := reqs[0]
		require.Equal(t, "https://shop.example.com/gellhub/skills", r.URL)
		require.Equal(t, SkillTimeout, r.Timeout)
		require.Equal(t, 5*time.Second, r.Timeout)
		require.EqualValues(t, 64*1024, r.MaxResponseBytes)
		e.sender.mu.Lock()
		deadline := e.sender.deadlines[0]
		e.sender.mu.Unlock()
		require.False(t, deadline.IsZero(), "the call's context is bounded too")
		require.LessOrEqual(t, time.Until(deadline), SkillTimeout)
		require.JSONEq(t, `{
			"version": 1, "skill": "booking", "profileId": "`+e.pid+`", "conversationRef": "web:emb_abc:visitor-1",
			"visitorId": "visitor-1", "channel": "web", "message": "Can I Book for tomorrow?",
			"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello! <b>&</b>"},
				{"role": "user", "content": "Can I Book for tomorrow?"}]
		}`, string(r.Body))
		require.True(t, strings.HasPrefix(string(r.Body), `{"version":1,"skill":"booking","profileId":`), "the guide's field order: %s", r.Body)

		ts := strconv.FormatInt(skillStart.Unix(), 10)
		mac := hmac.New(sha256.New, []byte(skillSecret))
		mac.Write([]byte(ts + "." + string(r.Body)))
		require.Equal(t, map[string]string{
			"X-GellHub-Timestamp": ts,
			"X-GellHub-Skill":     "booking",
			"X-GellHub-Signature": hex.EncodeToString(mac.Sum(nil)),
		}, r.Header)

		st := e.status(t)
		require.Equal(t, skillStart, st.LastCallAt)
		require.Equal(t, skillStart, st.LastSuccessAt)
		require.Empty(t, st.RecentErrors)
	})

	t.Run("no_signature_without_a_secret", func(t *testing.T) {
		t.Parallel()
		e := newSkillEnv(t, "")
		e.clock.Advance(90 * time.Second)
		_, ui, skill, ok := e.svc.skillTurn(e.ctx, turn{
			profileID: e.pid, channel: "api", ref: "api:conv_1",
			messages: []core.ChatMessage{{Role: core.RoleUser, Content: "what is your price catalog?"}},
		})
		require.True(t, ok)
		require.Equal(t, "catalog", skill)
		require.Nil(t, ui)
		r := e.sender.requests()[0]
		require.Equal(t, map[string]string{
			"X-GellHub-Timestamp": strconv.FormatInt(skillStart.Add(90*time.Second).Unix(), 10),
			"X-GellHub-Skill":     "catalog",
		}, r.Header)
		require.JSONEq(t, `{"version":1,"skill":"catalog","profileId":"`+e.pid+`","conversationRef":"api:conv_1","visitorId":"","channel":"api",
			"message":"what is your price catalog?","messages":[{"role":"user","content":"what is your price catalog?"}]}`, string(r.Body))
	})

	t.Run("no_call_when_nothing_matches_or_skills_are_off", func(t *testing.T) {
		t.Parallel()
		e := newSkillEnv(t, skillSecret)
		for _, msg := range []string{"I saw you on facebook", "booking please", "products", "price"} {
			_, _, _, ok := e.svc.skillTurn(e.ctx, e.webTurn(msg))
			require.False(t, ok, msg)
		}
		// Only the last user message counts.
		tr := e.webTurn("thanks")
		tr.messages[0].Content = "I want to book"
		_, _, _, ok := e.svc.skillTurn(e.ctx, tr)
		require.False(t, ok)

		e.configure(t, core.SkillsConfig{Enabled: false, WebhookURL: "https://shop.example.com/s", Skills: testSkills})
		_, _, _, ok = e.svc.skillTurn(e.ctx, e.webTurn("book"))
		require.False(t, ok, "disabled")
		require.Empty(t, e.sender.requests())
		require.Equal(t, core.SkillsStatus{}, e.status(t), "nothing was called, nothing recorded")

		failing := New(Config{Store: failingSkillsStore{e.store}, Clock: e.clock, Random: rand.Reader, Sender: e.sender})
		_, _, _, ok = failing.skillTurn(e.ctx, e.webTurn("book"))
		require.False(t, ok, "a store failure goes to the engine")

		noSender := New(Config{Store: e.store, Clock: e.clock, Random: rand.Reader})
		e.configure(t, core.SkillsConfig{Enabled: true, WebhookURL: "https://shop.example.com/s", Skills: testSkills})
		_, _, _, ok = noSender.skillTurn(e.ctx, e.webTurn("book"))
		require.False(t, ok, "no sender wired")
		require.Empty(t, e.sender.requests())
	})

	t.Run("first_skill_in_order_wins", func(t *testing.T) {
		t.Parallel()
		e := newSkillEnv(t, "")
		_, _, skill, ok := e.svc.skillTurn(e.ctx, e.webTurn("is this BOOK's price catalog right?"))
		require.True(t, ok)
		require.Equal(t, "catalog", skill, "book's folds to books: only the catalog phrase matches")
		_, _, skill, ok = e.svc.skillTurn(e.ctx, e.webTurn("the price catalog for the book"))
		require.True(t, ok)
		require.Equal(t, "booking", skill, "both match: booking is configured first")
		_, _, skill, ok = e.svc.skillTurn(e.ctx, e.webTurn("Je veux RÉSERVER"))
		require.True(t, ok)
		require.Equal(t, "booking", skill)
	})

	t.Run("failures_go_to_the_engine_and_are_recorded", func(t *testing.T) {
		t.Parallel()
		timeout := func(ports.WebhookRequest) (ports.WebhookResponse, error) {
			return ports.WebhookResponse{}, core.Unavailable("skills webhook", fmt.Errorf("post: %w", context.DeadlineExceeded))
		}
		refused := func(ports.WebhookRequest) (ports.WebhookResponse, error) {
			return ports.WebhookResponse{}, core.E(core.KindForbidden, "the webhook's address 10.0.0.1 is not public").WithCode("webhook_address_refused")
		}
		oddError := func(ports.WebhookRequest) (ports.WebhookResponse, error) {
			return ports.WebhookResponse{}, errors.New("dial tcp: secret internals " + skillSecret)
		}
		truncated := func(ports.WebhookRequest) (ports.WebhookResponse, error) {
			return ports.WebhookResponse{StatusCode: 200, Body: make([]byte, MaxSkillResponseBytes), Truncated: true}, nil
		}
		for _, c := range []struct {
			name    string
			respond func(ports.WebhookRequest) (ports.WebhookResponse, error)
			want    string
		}{
			{"redirect", answers(302, ""), "answered 302: redirects are not followed"},
			{"see_other", answers(303, `{"version":1,"message":"x"}`), "answered 303: redirects are not followed"},
			{"not_found", answers(404, `{"version":1,"message":"x"}`), "answered 404"},
			{"server_error", answers(500, "oops"), "answered 500"},
			{"unavailable", answers(503, ""), "answered 503"},
			{"informational", answers(101, ""), "answered 101"},
			{"oversized", truncated, "answered more than 64 KiB"},
			{"timeout", timeout, "timed out after 5s"},
			{"refused_address", refused, "no answer: the webhook's address 10.0.0.1 is not public"},
			{"unknown_error", oddError, "no answer: the webhook could not be reached"},
			{"empty_body", answers(200, ""), "invalid response: the body is not valid JSON"},
			{"html", answers(200, "<html>hi</html>"), "invalid response: the body is not valid JSON"},
			{"no_content", answers(204, ""), "invalid response: the body is not valid JSON"},
			{"bad_ui", answers(200, `{"version":1,"message":"Pick one","ui":{"type":"buttons","items":[
				{"label":"a","url":"https://a.example"},{"label":"b"},{"label":"c","url":"http://c.example"}]}}`),
				"invalid response: ui.items[2].url must be an https URL of at most 2048 bytes"},
			{"secret_in_a_field_name", answers(200, `{"version":1,"message":"x","`+skillSecret+`":1}`),
				`invalid response: the body has an unknown field "[secret]"`},
		} {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				e := newSkillEnv(t, skillSecret)
				e.sender.respond = c.respond
				content, ui, skill, ok := e.svc.skillTurn(e.ctx, e.webTurn("book"))
				require.False(t, ok)
				require.Empty(t, content)
				require.Nil(t, ui)
				require.Empty(t, skill)
				st := e.status(t)
				require.Equal(t, skillStart, st.LastCallAt)
				require.True(t, st.LastSuccessAt.IsZero())
				require.Equal(t, []core.SkillCallError{{At: skillStart, Skill: "booking", Error: c.want}}, st.RecentErrors)
				require.NotContains(t, st.RecentErrors[0].Error, skillSecret)
				require.LessOrEqual(t, len(st.RecentErrors[0].Error), MaxSkillErrorBytes)
			})
		}
	})

	t.Run("newest_errors_first_and_success_recorded", func(t *testing.T) {
		t.Parallel()
		e := newSkillEnv(t, "")
		e.sender.respond = answers(500, "")
		_, _, _, ok := e.svc.skillTurn(e.ctx, e.webTurn("book"))
		require.False(t, ok)
		e.clock.Advance(time.Minute)
		e.sender.respond = answers(404, "")
		_, _, _, ok = e.svc.skillTurn(e.ctx, e.webTurn("what about the price catalog"))
		require.False(t, ok)
		e.clock.Advance(time.Minute)
		e.sender.respond = answers(200, `{"version":1,"message":"ok"}`)
		_, _, _, ok = e.svc.skillTurn(e.ctx, e.webTurn("book"))
		require.True(t, ok)
		st := e.status(t)
		require.Equal(t, skillStart.Add(2*time.Minute), st.LastCallAt)
		require.Equal(t, skillStart.Add(2*time.Minute), st.LastSuccessAt)
		require.Equal(t, []core.SkillCallError{
			{At: skillStart.Add(time.Minute), Skill: "catalog", Error: "answered 404"},
			{At: skillStart, Skill: "booking", Error: "answered 500"},
		}, st.RecentErrors)
	})

	t.Run("a_caller_that_left_records_nothing", func(t *testing.T) {
		t.Parallel()
		e := newSkillEnv(t, "")
		ctx, cancel := context.WithCancel(e.ctx)
		e.sender.respond = func(ports.WebhookRequest) (ports.WebhookResponse, error) {
			cancel()
			return ports.WebhookResponse{}, core.Unavailable("skills webhook", context.Canceled)
		}
		_, _, _, ok := e.svc.skillTurn(ctx, e.webTurn("book"))
		require.False(t, ok)
		require.Empty(t, e.status(t).RecentErrors)
	})
}

func TestSkillFailureText(t *testing.T) {
	t.Parallel()
	long := "invalid response: " + strings.Repeat("é", 400)
	got := skillFailureText(long, "")
	require.LessOrEqual(t, len(got), MaxSkillErrorBytes)
	require.True(t, strings.HasSuffix(got, "…"))
	require.True(t, strings.HasPrefix(long, strings.TrimSuffix(got, "…")), "cut on a character boundary")
	require.Equal(t, "a [secret] b", skillFailureText("a "+skillSecret+" b", skillSecret))
	require.Equal(t, "ab", skillFailureText("a\x00\nb", ""))
}

// answerWithUI is a valid answer carrying ui (raw JSON).
func answerWithUI(ui string) string { return `{"version":1,"message":"Pick one","ui":` + ui + `}` }

func repeatItems(n int, item string) string {
	return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
}

func TestParseSkillAnswer(t *testing.T) {
	t.Parallel()
	slot := `{"id":"10:00","title":"10:00"}`
	card := `{"title":"Mug"}`
	button := `{"label":"Yes"}`
	for _, c := range []struct {
		name    string
		body    string
		message string // "" when the message is "Pick one"
		ui      string // the re-encoded ui, "" for none
	}{
		{"message_only", `{"version":1,"message":"Hello"}`, "Hello", ""},
		{"fields_in_any_order_and_spaces", " \n{ \"message\" : \"Hello\" , \"version\" : 1 }\n ", "Hello", ""},
		{"null_ui", `{"version":1,"message":"Hello","ui":null}`, "Hello", ""},
		{"message_trimmed_multiline", `{"version":1,"message":"  Times:\n- 10:00\n\t- 11:30  "}`, "Times:\n- 10:00\n\t- 11:30", ""},
		{"message_of_4000_bytes", `{"version":1,"message":"` + strings.Repeat("é", 2000) + `"}`, strings.Repeat("é", 2000), ""},
		{"message_with_emoji_and_joiner", `{"version":1,"message":"👩‍💻 ok"}`, "👩‍💻 ok", ""},
		{"html_is_data", `{"version":1,"message":"<b>bold</b> & more"}`, "<b>bold</b> & more", ""},

		{"slot_list", answerWithUI(`{"type":"slot_list","items":[{"subtitle":"30 min","title":"10:00","id":"10:00"},{"id":"11:30","title":" 11:30 ","subtitle":null}]}`),
			"", `{"type":"slot_list","items":[{"id":"10:00","title":"10:00","subtitle":"30 min"},{"id":"11:30","title":"11:30"}]}`},
		{"slot_list_20_items", answerWithUI(`{"type":"slot_list","items":` + repeatItems(20, slot) + `}`),
			"", `{"type":"slot_list","items":` + repeatItems(20, slot) + `}`},
		{"slot_list_caps", answerWithUI(`{"type":"slot_list","items":[{"id":"` + strings.Repeat("i", 100) + `","title":"` + strings.Repeat("é", 100) + `","subtitle":"` + strings.Repeat("s", 100) + `"}]}`),
			"", `{"type":"slot_list","items":[{"id":"` + strings.Repeat("i", 100) + `","title":"` + strings.Repeat("é", 100) + `","subtitle":"` + strings.Repeat("s", 100) + `"}]}`},
		{"slot_empty_subtitle_dropped", answerWithUI(`{"type":"slot_list","items":[{"id":"a","title":"A","subtitle":""}]}`),
			"", `{"type":"slot_list","items":[{"id":"a","title":"A"}]}`},

		{"product_cards", answerWithUI(`{"type":"product_cards","items":[
			{"actionUrl":"https://shop.example.com/p/1#buy","imageUrl":"https://cdn.example.com/1.jpg","price":12.50,"subtitle":"Blue","title":"Mug","id":"p1"},
			{"title":"Cap","price":"$9.99"},
			{"title":"Pen","price":1e3},
			{"title":"Box","price":-0}]}`),
			"", `{"type":"product_cards","items":[` +
				`{"id":"p1","title":"Mug","subtitle":"Blue","price":12.50,"imageUrl":"https://cdn.example.com/1.jpg","actionUrl":"https://shop.example.com/p/1#buy"},` +
				`{"title":"Cap","price":"$9.99"},{"title":"Pen","price":1e3},{"title":"Box","price":-0}]}`},
		{"product_cards_10_items", answerWithUI(`{"type":"product_cards","items":` + repeatItems(10, card) + `}`),
			"", `{"type":"product_cards","items":` + repeatItems(10, card) + `}`},
		{"product_caps", answerWithUI(`{"type":"product_cards","items":[{"id":"` + strings.Repeat("i", 100) + `","title":"` + strings.Repeat("t", 200) + `","subtitle":"` + strings.Repeat("s", 200) + `","price":"` + strings.Repeat("9", 40) + `","imageUrl":"https://a.example/` + strings.Repeat("x", 2048-18) + `"}]}`),
			"", `{"type":"product_cards","items":[{"id":"` + strings.Repeat("i", 100) + `","title":"` + strings.Repeat("t", 200) + `","subtitle":"` + strings.Repeat("s", 200) + `","price":"` + strings.Repeat("9", 40) + `","imageUrl":"https://a.example/` + strings.Repeat("x", 2048-18) + `"}]}`},
		{"html_escaped_on_output", answerWithUI(`{"type":"product_cards","items":[{"title":"<script>"}]}`),
			"", `{"type":"product_cards","items":[{"title":"\u003cscript\u003e"}]}`},

		{"buttons", answerWithUI(`{"type":"buttons","items":[
			{"label":"Yes"},
			{"label":"Book 10:00","message":"I'll take 10:00"},
			{"label":"Site","url":"https://shop.example.com"},
			{"label":"Ask","action":"message"},
			{"label":"Say","action":"message","message":"hello"},
			{"url":"https://shop.example.com/x","action":"url","label":"Open"}]}`),
			"", `{"type":"buttons","items":[` +
				`{"label":"Yes","action":"message","message":"Yes"},` +
				`{"label":"Book 10:00","action":"message","message":"I'll take 10:00"},` +
				`{"label":"Site","action":"url","url":"https://shop.example.com"},` +
				`{"label":"Ask","action":"message","message":"Ask"},` +
				`{"label":"Say","action":"message","message":"hello"},` +
				`{"label":"Open","action":"url","url":"https://shop.example.com/x"}]}`},
		{"buttons_10_items", answerWithUI(`{"type":"buttons","items":` + repeatItems(10, button) + `}`),
			"", `{"type":"buttons","items":` + repeatItems(10, `{"label":"Yes","action":"message","message":"Yes"}`) + `}`},
		{"button_caps", answerWithUI(`{"type":"buttons","items":[{"label":"` + strings.Repeat("l", 80) + `","message":"` + strings.Repeat("m", 500) + `"}]}`),
			"", `{"type":"buttons","items":[{"label":"` + strings.Repeat("l", 80) + `","action":"message","message":"` + strings.Repeat("m", 500) + `"}]}`},

		{"iframe", answerWithUI(`{"type":"iframe","url":"https://book.example.com/form?x=1"}`),
			"", `{"type":"iframe","url":"https://book.example.com/form?x=1"}`},
		{"iframe_height_100", answerWithUI(`{"height":100,"type":"iframe","url":"https://book.example.com/"}`),
			"", `{"type":"iframe","url":"https://book.example.com/","height":100}`},
		{"iframe_height_1200", answerWithUI(`{"type":"iframe","url":"https://book.example.com/","height":1200}`),
			"", `{"type":"iframe","url":"https://book.example.com/","height":1200}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			msg, ui, err := parseSkillAnswer([]byte(c.body))
			require.NoError(t, err)
			want := c.message
			if want == "" {
				want = "Pick one"
			}
			require.Equal(t, want, msg)
			if c.ui == "" {
				require.Nil(t, ui)
				return
			}
			require.Equal(t, c.ui, string(ui))
		})
	}
}

func TestParseSkillAnswerRefuses(t *testing.T) {
	t.Parallel()
	slot := `{"id":"10:00","title":"10:00"}`
	card := `{"title":"Mug"}`
	button := `{"label":"Yes"}`
	items := func(typ, item string) string {
		return answerWithUI(`{"type":"` + typ + `","items":[` + item + `]}`)
	}
	for _, c := range []struct {
		name, body, want string
	}{
		{"not_utf8", "{\"version\":1,\"message\":\"caf\xe9\"}", "the body is not valid UTF-8"},
		{"not_json", `hello`, "the body is not valid JSON"},
		{"truncated_json", `{"version":1,"message":"x"`, "the body is not valid JSON"},
		{"array", `[{"version":1,"message":"x"}]`, "the body must be a JSON object"},
		{"string", `"hello"`, "the body must be a JSON object"},
		{"two_values", `{"version":1,"message":"x"}{"version":1,"message":"y"}`, "the body must hold exactly one JSON value"},
		{"trailing_garbage", `{"version":1,"message":"x"} trailing`, "the body must hold exactly one JSON value"},
		{"unknown_field", `{"version":1,"message":"x","extra":true}`, `the body has an unknown field "extra"`},
		{"field_case_differs", `{"version":1,"Message":"x"}`, `the body has an unknown field "Message"`},
		{"long_unknown_field_shortened", `{"version":1,"message":"x","` + strings.Repeat("k", 100) + `":1}`, `the body has an unknown field "` + strings.Repeat("k", 40) + `…"`},
		{"repeated_field", `{"version":1,"message":"x","message":"y"}`, `the field "message" appears twice`},
		{"too_deep", `{"version":1,"message":"x","ui":{"type":"slot_list","items":[{"id":[[[[[[[[1]]]]]]]]}]}}`, "the body is nested too deeply"},
		{"no_version", `{"message":"x"}`, "version must be 1"},
		{"version_2", `{"version":2,"message":"x"}`, "version must be 1"},
		{"version_string", `{"version":"1","message":"x"}`, "version must be 1"},
		{"version_float", `{"version":1.0,"message":"x"}`, "version must be 1"},
		{"version_null", `{"version":null,"message":"x"}`, "version must be 1"},
		{"no_message", `{"version":1}`, "message must be a string"},
		{"message_null", `{"version":1,"message":null}`, "message must be a string"},
		{"message_number", `{"version":1,"message":3}`, "message must be a string"},
		{"message_empty", `{"version":1,"message":""}`, "message must not be empty"},
		{"message_blank", `{"version":1,"message":" \n "}`, "message must not be empty"},
		{"message_4001_bytes", `{"version":1,"message":"` + strings.Repeat("é", 2000) + `a"}`, "message must be at most 4000 bytes"},
		{"message_control_char", `{"version":1,"message":"a\u0007b"}`, "message must not contain control or invisible formatting characters"},
		{"message_bidi_override", `{"version":1,"message":"a\u202Eb"}`, "message must not contain control or invisible formatting characters"},

		{"ui_not_object", answerWithUI(`"slot_list"`), "ui must be a JSON object"},
		{"ui_type_unknown", answerWithUI(`{"type":"carousel","items":[` + slot + `]}`), "ui.type must be one of slot_list, product_cards, buttons, iframe"},
		{"ui_type_missing", answerWithUI(`{"items":[` + slot + `]}`), "ui.type must be one of slot_list, product_cards, buttons, iframe"},
		{"ui_type_case", answerWithUI(`{"type":"Slot_List","items":[` + slot + `]}`), "ui.type must be one of slot_list, product_cards, buttons, iframe"},
		{"ui_unknown_field", answerWithUI(`{"type":"slot_list","items":[` + slot + `],"title":"x"}`), `ui has an unknown field "title"`},
		{"ui_url_on_a_list", answerWithUI(`{"type":"buttons","items":[` + button + `],"url":"https://a.example"}`), "ui.url is not allowed for buttons"},

		{"slot_list_no_items", answerWithUI(`{"type":"slot_list"}`), "ui.items must be a list of 1 to 20 items for slot_list"},
		{"slot_list_empty", answerWithUI(`{"type":"slot_list","items":[]}`), "ui.items must be a list of 1 to 20 items for slot_list"},
		{"slot_list_21_items", answerWithUI(`{"type":"slot_list","items":` + repeatItems(21, slot) + `}`), "ui.items must be a list of 1 to 20 items for slot_list"},
		{"slot_list_items_object", answerWithUI(`{"type":"slot_list","items":` + slot + `}`), "ui.items must be a list of 1 to 20 items for slot_list"},
		{"slot_not_object", items("slot_list", `"10:00"`), "ui.items[0] must be a JSON object"},
		{"slot_no_id", items("slot_list", slot+`,{"title":"x"}`), "ui.items[1].id is required"},
		{"slot_blank_title", items("slot_list", `{"id":"a","title":"  "}`), "ui.items[0].title must not be empty"},
		{"slot_title_number", items("slot_list", `{"id":"a","title":10}`), "ui.items[0].title must be a string"},
		{"slot_id_101", items("slot_list", `{"id":"`+strings.Repeat("i", 101)+`","title":"a"}`), "ui.items[0].id must be at most 100 characters"},
		{"slot_title_101", items("slot_list", `{"id":"a","title":"`+strings.Repeat("é", 101)+`"}`), "ui.items[0].title must be at most 100 characters"},
		{"slot_subtitle_101", items("slot_list", `{"id":"a","title":"a","subtitle":"`+strings.Repeat("s", 101)+`"}`), "ui.items[0].subtitle must be at most 100 characters"},
		{"slot_newline", items("slot_list", `{"id":"a","title":"a\nb"}`), "ui.items[0].title must not contain control or invisible formatting characters"},
		{"slot_unknown_field", items("slot_list", `{"id":"a","title":"a","price":1}`), `ui.items[0] has an unknown field "price"`},

		{"product_cards_11_items", answerWithUI(`{"type":"product_cards","items":` + repeatItems(11, card) + `}`), "ui.items must be a list of 1 to 10 items for product_cards"},
		{"product_no_title", items("product_cards", `{"id":"p"}`), "ui.items[0].title is required"},
		{"product_title_201", items("product_cards", `{"title":"`+strings.Repeat("t", 201)+`"}`), "ui.items[0].title must be at most 200 characters"},
		{"product_subtitle_201", items("product_cards", `{"title":"t","subtitle":"`+strings.Repeat("s", 201)+`"}`), "ui.items[0].subtitle must be at most 200 characters"},
		{"product_id_101", items("product_cards", `{"title":"t","id":"`+strings.Repeat("i", 101)+`"}`), "ui.items[0].id must be at most 100 characters"},
		{"product_price_41", items("product_cards", `{"title":"t","price":"`+strings.Repeat("9", 41)+`"}`), "ui.items[0].price must be at most 40 characters"},
		{"product_price_number_41", items("product_cards", `{"title":"t","price":`+strings.Repeat("9", 41)+`}`), "ui.items[0].price must be at most 40 characters"},
		{"product_price_bool", items("product_cards", `{"title":"t","price":true}`), "ui.items[0].price must be a string or a number"},
		{"product_price_object", items("product_cards", `{"title":"t","price":{"amount":1}}`), "ui.items[0].price must be a string or a number"},
		{"product_image_http", items("product_cards", `{"title":"t","imageUrl":"http://cdn.example.com/1.jpg"}`), "ui.items[0].imageUrl must be an https URL of at most 2048 bytes"},
		{"product_image_javascript", items("product_cards", `{"title":"t","imageUrl":"javascript:alert(1)"}`), "ui.items[0].imageUrl must be an https URL of at most 2048 bytes"},
		{"product_image_2049", items("product_cards", `{"title":"t","imageUrl":"https://a.example/`+strings.Repeat("x", 2049-18)+`"}`), "ui.items[0].imageUrl must be an https URL of at most 2048 bytes"},
		{"product_action_no_host", items("product_cards", `{"title":"t","actionUrl":"https:///path"}`), "ui.items[0].actionUrl must be an https URL of at most 2048 bytes"},
		{"product_action_userinfo", items("product_cards", `{"title":"t","actionUrl":"https://user:pw@shop.example.com/"}`), "ui.items[0].actionUrl must be an https URL of at most 2048 bytes"},
		{"product_action_quote", items("product_cards", `{"title":"t","actionUrl":"https://shop.example.com/\"onload=x"}`), "ui.items[0].actionUrl must be an https URL of at most 2048 bytes"},
		{"product_action_space", items("product_cards", `{"title":"t","actionUrl":"https://shop.example.com/a b"}`), "ui.items[0].actionUrl must be an https URL of at most 2048 bytes"},
		{"product_action_number", items("product_cards", `{"title":"t","actionUrl":1}`), "ui.items[0].actionUrl must be an https URL of at most 2048 bytes"},

		{"buttons_11_items", answerWithUI(`{"type":"buttons","items":` + repeatItems(11, button) + `}`), "ui.items must be a list of 1 to 10 items for buttons"},
		{"button_no_label", items("buttons", `{"message":"hi"}`), "ui.items[0].label is required"},
		{"button_label_81", items("buttons", `{"label":"`+strings.Repeat("l", 81)+`"}`), "ui.items[0].label must be at most 80 characters"},
		{"button_message_501", items("buttons", `{"label":"l","message":"`+strings.Repeat("m", 501)+`"}`), "ui.items[0].message must be at most 500 characters"},
		{"button_action_unknown", items("buttons", `{"label":"l","action":"open"}`), `ui.items[0].action must be "message" or "url"`},
		{"button_action_number", items("buttons", `{"label":"l","action":1}`), `ui.items[0].action must be "message" or "url"`},
		{"button_url_action_without_url", items("buttons", `{"label":"l","action":"url"}`), "ui.items[0].url is required with the action url"},
		{"button_url_action_with_message", items("buttons", `{"label":"l","action":"url","url":"https://a.example","message":"m"}`), "ui.items[0].message is not allowed with the action url"},
		{"button_message_action_with_url", items("buttons", `{"label":"l","action":"message","url":"https://a.example"}`), "ui.items[0].url is not allowed with the action message"},
		{"button_both_without_action", items("buttons", `{"label":"l","url":"https://a.example","message":"m"}`), "ui.items[0] has both a message and a url: set its action"},
		{"button_http_url", items("buttons", button+`,{"label":"l","url":"http://a.example"}`), "ui.items[1].url must be an https URL of at most 2048 bytes"},

		{"iframe_no_url", answerWithUI(`{"type":"iframe"}`), "ui.url is required"},
		{"iframe_http", answerWithUI(`{"type":"iframe","url":"http://book.example.com/"}`), "ui.url must be an https URL of at most 2048 bytes"},
		{"iframe_data_url", answerWithUI(`{"type":"iframe","url":"data:text/html,<script>alert(1)</script>"}`), "ui.url must be an https URL of at most 2048 bytes"},
		{"iframe_items", answerWithUI(`{"type":"iframe","url":"https://book.example.com/","items":[` + slot + `]}`), "ui.items is not allowed for iframe"},
		{"iframe_height_99", answerWithUI(`{"type":"iframe","url":"https://book.example.com/","height":99}`), "ui.height must be a whole number from 100 to 1200"},
		{"iframe_height_1201", answerWithUI(`{"type":"iframe","url":"https://book.example.com/","height":1201}`), "ui.height must be a whole number from 100 to 1200"},
		{"iframe_height_fraction", answerWithUI(`{"type":"iframe","url":"https://book.example.com/","height":300.5}`), "ui.height must be a whole number from 100 to 1200"},
		{"iframe_height_exponent", answerWithUI(`{"type":"iframe","url":"https://book.example.com/","height":3e2}`), "ui.height must be a whole number from 100 to 1200"},
		{"iframe_height_string", answerWithUI(`{"type":"iframe","url":"https://book.example.com/","height":"300"}`), "ui.height must be a whole number from 100 to 1200"},
		{"iframe_unknown_field", answerWithUI(`{"type":"iframe","url":"https://book.example.com/","width":300}`), `ui has an unknown field "width"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			msg, ui, err := parseSkillAnswer([]byte(c.body))
			require.Error(t, err)
			require.Equal(t, c.want, err.Error())
			require.Empty(t, msg)
			require.Nil(t, ui)
		})
	}
}
