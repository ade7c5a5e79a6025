package openai_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/engine/openai"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

const apiKey = "sk-test-SECRET-4242"

var agent = core.Agent{
	ID:                 "agt_1",
	BotDisplayName:     "Ana",
	BotRoleSummary:     "the virtual assistant of Acme Shoes",
	SystemInstructions: "Always answer in two sentences at most.",
}

var knowledge = []core.KnowledgeSource{
	{ID: "ship_cost", Kind: core.KnowledgeQA, Question: "How much does shipping cost?",
		Content: "Shipping is free on orders over 50 €; below that it costs 4.95 €."},
	{ID: "ship_time", Kind: core.KnowledgeQA, Question: "How long does shipping take?",
		Content: "Delivery takes 2–4 business days in Spain."},
	{ID: "payment", Kind: core.KnowledgeQA, Question: "Which payment methods do you accept?",
		Content: "We accept Visa, Mastercard and Bizum."},
	{ID: "care", Kind: core.KnowledgeText, Title: "Care guide",
		Content: "Clean leather with a soft cloth. Never use the washing machine."},
}

var conversation = []core.ChatMessage{
	{Role: core.RoleUser, Content: "Hi!"},
	{Role: core.RoleAssistant, Content: "Hello! How can I help?"},
	{Role: core.RoleUser, Content: "How much is shipping?"},
}

// wireRequest is what the test server decodes.
type wireRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Stream *bool `json:"stream"`
}

func completion(content string) string {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "model": "test-model",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content}}},
	})
	return string(b)
}

func newEngine(t *testing.T, cfg openai.Config) *openai.Engine {
	t.Helper()
	if cfg.Model == "" {
		cfg.Model = "test-model"
	}
	e, err := openai.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func request(msgs ...core.ChatMessage) ports.EngineRequest {
	if len(msgs) == 0 {
		msgs = conversation
	}
	return ports.EngineRequest{Agent: agent, Knowledge: knowledge, Messages: msgs}
}

func TestReply_sendsPersonaKnowledgeAndConversation(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			t.Errorf("request %s %s, want POST /v1/chat/completions", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+apiKey {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q", got)
		}
		var req wireRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("decode request: %v", err)
		}
		if req.Model != "llama3.1" {
			t.Errorf("model = %q", req.Model)
		}
		if req.Stream == nil || *req.Stream {
			t.Errorf("stream = %v, want false", req.Stream)
		}
		if len(req.Messages) != 4 {
			t.Fatalf("messages = %+v, want a system message and the 3 of the conversation", req.Messages)
		}
		sys := req.Messages[0]
		if sys.Role != "system" {
			t.Errorf("first message role = %q, want system", sys.Role)
		}
		for _, want := range []string{
			"Ana", "the virtual assistant of Acme Shoes", // persona
			"Always answer in two sentences at most.",                  // instructions
			"answer only from the knowledge",                           // grounding
			"How much does shipping cost?", "free on orders over 50 €", // the relevant source
		} {
			if !strings.Contains(sys.Content, want) {
				t.Errorf("system message lacks %q:\n%s", want, sys.Content)
			}
		}
		for _, notWant := range []string{"Bizum", "washing machine"} {
			if strings.Contains(sys.Content, notWant) {
				t.Errorf("system message has irrelevant knowledge %q:\n%s", notWant, sys.Content)
			}
		}
		for i, m := range conversation {
			if got := req.Messages[i+1]; got.Role != string(m.Role) || got.Content != m.Content {
				t.Errorf("message %d = %+v, want %+v", i+1, got, m)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, completion("  Shipping is free over 50 €, otherwise 4.95 €.\n"))
	}))
	defer srv.Close()

	e := newEngine(t, openai.Config{BaseURL: srv.URL, APIKey: apiKey, Model: "llama3.1"})
	r, err := e.Reply(context.Background(), request())
	if err != nil {
		t.Fatalf("Reply: %v", err)
	}
	if r.Content != "Shipping is free over 50 €, otherwise 4.95 €." {
		t.Errorf("Content = %q", r.Content)
	}
	if len(r.SourceIDs) == 0 || r.SourceIDs[0] != "ship_cost" {
		t.Errorf("SourceIDs = %v, want ship_cost first", r.SourceIDs)
	}
	if calls.Load() != 1 {
		t.Errorf("%d calls, want 1", calls.Load())
	}
}

func TestReply_baseURLForms(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{"", "/", "/v1", "/v1/", "/proxy", "/proxy/v1"} {
		var path, auth string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			path, auth = r.URL.Path, r.Header.Get("Authorization")
			_, _ = io.WriteString(w, completion("ok"))
		}))
		e := newEngine(t, openai.Config{BaseURL: srv.URL + suffix}) // no API key
		if _, err := e.Reply(context.Background(), request()); err != nil {
			t.Errorf("BaseURL …%s: %v", suffix, err)
		}
		srv.Close()
		want := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(suffix, "/"), "/v1"), "/") + "/v1/chat/completions"
		if path != want {
			t.Errorf("BaseURL …%q: path %q, want %q", suffix, path, want)
		}
		if auth != "" {
			t.Errorf("no APIKey, yet Authorization = %q", auth)
		}
	}
}

func TestReply_noKnowledgeMatchesSaysSo(t *testing.T) {
	t.Parallel()
	var sys string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req wireRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		sys = req.Messages[0].Content
		_, _ = io.WriteString(w, completion("I don't know that yet."))
	}))
	defer srv.Close()
	e := newEngine(t, openai.Config{BaseURL: srv.URL})
	r, err := e.Reply(context.Background(), request(core.ChatMessage{Role: core.RoleUser, Content: "Do you sell bicycles?"}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sys, "Knowledge: none matches") || strings.Contains(sys, "Shipping is free") {
		t.Errorf("system message:\n%s", sys)
	}
	if len(r.SourceIDs) != 0 {
		t.Errorf("SourceIDs = %v", r.SourceIDs)
	}
}

func TestReply_maxKnowledge(t *testing.T) {
	t.Parallel()
	var sys string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req wireRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		sys = req.Messages[0].Content
		_, _ = io.WriteString(w, completion("ok"))
	}))
	defer srv.Close()
	e := newEngine(t, openai.Config{BaseURL: srv.URL, MaxKnowledge: 1})
	r, err := e.Reply(context.Background(), request(core.ChatMessage{Role: core.RoleUser, Content: "shipping cost and time"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.SourceIDs) != 1 || strings.Contains(sys, "[2]") {
		t.Errorf("MaxKnowledge 1: SourceIDs %v, system message:\n%s", r.SourceIDs, sys)
	}
}

func TestReply_failuresAreUnavailable(t *testing.T) {
	t.Parallel()
	const bodySecret = "internal-trace-XYZ"
	cases := []struct {
		name    string
		handler http.HandlerFunc
		inError string
	}{
		{"500", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, `{"error":{"message":"`+bodySecret+`"}}`, http.StatusInternalServerError)
		}, "status 500"},
		{"429", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "20")
			http.Error(w, bodySecret, http.StatusTooManyRequests)
		}, "status 429"},
		{"401 echoes the key", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "bad key "+r.Header.Get("Authorization"), http.StatusUnauthorized)
		}, "status 401"},
		{"malformed JSON", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, `{"choices": [`+bodySecret)
		}, "malformed"},
		{"not JSON", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "<html>"+bodySecret+"</html>")
		}, "malformed"},
		{"empty choices", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, `{"choices": []}`)
		}, "no choices"},
		{"null content", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, `{"choices": [{"message": {"role": "assistant", "content": null}}]}`)
		}, "no choices"},
		{"empty content", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, completion(" \n "))
		}, "empty content"},
		{"body over 1 MiB", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, completion(strings.Repeat("a", 1<<20)))
		}, "larger than"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/steal", http.StatusTemporaryRedirect)
		}, "status 307"},
		{"connection dropped", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}, "openai: request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			e := newEngine(t, openai.Config{BaseURL: srv.URL, APIKey: apiKey})
			r, err := e.Reply(context.Background(), request())
			requireUnavailable(t, r, err, c.inError)
			if strings.Contains(err.Error(), bodySecret) {
				t.Errorf("error leaks the response body: %v", err)
			}
		})
	}
}

func TestReply_redirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	var stolen atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Store(r.Header.Get("Authorization"))
		_, _ = io.WriteString(w, completion("from elsewhere"))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/v1/chat/completions", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	// Even a caller's client that would follow redirects does not.
	e := newEngine(t, openai.Config{BaseURL: srv.URL, APIKey: apiKey, HTTPClient: &http.Client{}})
	r, err := e.Reply(context.Background(), request())
	requireUnavailable(t, r, err, "status 307")
	if v := stolen.Load(); v != nil {
		t.Errorf("the redirect was followed, Authorization %q", v)
	}
}

func TestReply_timeout(t *testing.T) {
	t.Parallel()
	srv := hangingServer(t)
	e := newEngine(t, openai.Config{BaseURL: srv.URL, APIKey: apiKey, Timeout: 50 * time.Millisecond})
	start := time.Now()
	r, err := e.Reply(context.Background(), request())
	requireUnavailable(t, r, err, "deadline exceeded")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Reply took %v with a 50 ms timeout", d)
	}
}

func TestReply_callerCancels(t *testing.T) {
	t.Parallel()
	srv := hangingServer(t)
	e := newEngine(t, openai.Config{BaseURL: srv.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	r, err := e.Reply(ctx, request())
	requireUnavailable(t, r, err, "deadline exceeded")
}

func TestReply_serverClosed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	e := newEngine(t, openai.Config{BaseURL: url, APIKey: apiKey})
	r, err := e.Reply(context.Background(), request())
	requireUnavailable(t, r, err, "openai: request")
}

func TestReply_noUserMessageIsInvalid(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	e := newEngine(t, openai.Config{BaseURL: srv.URL})
	for _, msgs := range [][]core.ChatMessage{nil, {{Role: core.RoleAssistant, Content: "Hi"}}} {
		_, err := e.Reply(context.Background(), ports.EngineRequest{Agent: agent, Messages: msgs})
		if !core.IsKind(err, core.KindInvalid) {
			t.Errorf("Reply(%v) error = %v, want invalid", msgs, err)
		}
	}
	if calls.Load() != 0 {
		t.Errorf("the endpoint was called %d times", calls.Load())
	}
}

func TestReply_concurrent(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req wireRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		_, _ = io.WriteString(w, completion("echo: "+req.Messages[len(req.Messages)-1].Content))
	}))
	defer srv.Close()
	e := newEngine(t, openai.Config{BaseURL: srv.URL, APIKey: apiKey})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			msg := fmt.Sprintf("question %d about shipping", i)
			r, err := e.Reply(context.Background(), request(core.ChatMessage{Role: core.RoleUser, Content: msg}))
			if err != nil || r.Content != "echo: "+msg {
				t.Errorf("turn %d: %q, %v", i, r.Content, err)
			}
		})
	}
	wg.Wait()
}

func TestNew_rejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []openai.Config{
		{BaseURL: "", Model: "m"},
		{BaseURL: "localhost:11434", Model: "m"},
		{BaseURL: "ftp://example.com", Model: "m"},
		{BaseURL: "https://example.com/?x=1", Model: "m"},
		{BaseURL: "https://example.com"},
		{BaseURL: "https://example.com", Model: "m", APIKey: "sk\r\nX-Evil: 1"},
		{BaseURL: "https://example.com", Model: "m", Timeout: -time.Second},
	} {
		if _, err := openai.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		} else if cfg.APIKey != "" && strings.Contains(err.Error(), cfg.APIKey) {
			t.Errorf("New error leaks the key: %v", err)
		}
	}
}

// hangingServer answers no request until the client goes away or the
// test ends.
func hangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // the server notices a gone client only after the body
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() {
		close(release)
		srv.Close()
	})
	return srv
}

func requireUnavailable(t *testing.T, r ports.EngineReply, err error, inError string) {
	t.Helper()
	if !core.IsKind(err, core.KindUnavailable) {
		t.Fatalf("error = %v (%T), want unavailable", err, err)
	}
	if r.Content != "" {
		t.Errorf("Content = %q alongside an error", r.Content)
	}
	msg := err.Error()
	if !strings.Contains(msg, inError) {
		t.Errorf("error %q does not say %q", msg, inError)
	}
	if strings.Contains(msg, apiKey) || strings.Contains(msg, "SECRET") {
		t.Errorf("error leaks the API key: %q", msg)
	}
}
