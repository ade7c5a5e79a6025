// Package openai implements ports.Engine on any OpenAI-compatible chat
// completions endpoint: POST {BaseURL}/v1/chat/completions, as served by
// OpenAI, vLLM, Ollama and the llama.cpp server.
//
// Each turn sends one system message — the agent's persona, its system
// instructions, and the knowledge sources that the local engine's BM25
// ranking (local.Rank) finds relevant to the visitor's message, with the
// instruction to answer from them — followed by the conversation. The
// reply is choices[0].message.content.
//
// Every failure — a transport error, a timeout, a non-2xx status, a body
// that is not a completion or has no content — is core.KindUnavailable
// ("ai engine"), so that the caller charges nothing. Errors name the
// status code but never the API key or the response body. Redirects are
// not followed, so the Authorization header never reaches another host.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gellhub/gellhub/adapters/engine/local"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Defaults of Config.
const (
	// DefaultTimeout bounds one turn when Config.Timeout is 0.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxKnowledge is how many sources a prompt includes when
	// Config.MaxKnowledge is 0.
	DefaultMaxKnowledge = 8
)

// maxResponseBytes caps how much of a response body is read.
const maxResponseBytes = 1 << 20

// dependency names the engine in core.Unavailable errors.
const dependency = "ai engine"

// Config configures Engine.
type Config struct {
	// BaseURL is the server's root, e.g. https://api.openai.com or
	// http://localhost:11434 (Ollama); requests go to
	// {BaseURL}/v1/chat/completions. A BaseURL that already ends in /v1
	// is accepted as well.
	BaseURL string
	// APIKey, when set, is sent as "Authorization: Bearer <APIKey>".
	APIKey string
	// Model is the model name the server knows ("gpt-4o-mini", "llama3.1").
	Model string
	// Timeout bounds one turn, connection included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxKnowledge is how many knowledge sources go into the prompt at
	// most; 0 means DefaultMaxKnowledge.
	MaxKnowledge int
	// HTTPClient sends the requests; nil means a new client. Engine uses
	// a copy that refuses redirects.
	HTTPClient *http.Client
}

// Engine implements ports.Engine on an OpenAI-compatible chat completions
// endpoint. It is safe for concurrent use.
type Engine struct {
	endpoint     string
	apiKey       string
	model        string
	timeout      time.Duration
	maxKnowledge int
	client       *http.Client
}

var _ ports.Engine = (*Engine)(nil)

// New checks cfg and returns an Engine. BaseURL must be an absolute http
// or https URL without a query, and Model must be set.
func New(cfg Config) (*Engine, error) {
	base, err := url.Parse(strings.TrimSpace(cfg.BaseURL))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" ||
		base.RawQuery != "" || base.Fragment != "" {
		return nil, errors.New("openai: BaseURL must be an absolute http(s) URL without query or fragment")
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("openai: Model is required")
	}
	if strings.ContainsFunc(cfg.APIKey, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, errors.New("openai: APIKey contains control characters")
	}
	if cfg.Timeout < 0 || cfg.MaxKnowledge < 0 {
		return nil, errors.New("openai: Timeout and MaxKnowledge must not be negative")
	}
	path := strings.TrimRight(base.Path, "/")
	if !strings.HasSuffix(path, "/v1") {
		path += "/v1"
	}
	base.Path, base.RawPath = path+"/chat/completions", ""

	client := &http.Client{}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		client = &c
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	e := &Engine{
		endpoint:     base.String(),
		apiKey:       cfg.APIKey,
		model:        cfg.Model,
		timeout:      cfg.Timeout,
		maxKnowledge: cfg.MaxKnowledge,
		client:       client,
	}
	if e.timeout == 0 {
		e.timeout = DefaultTimeout
	}
	if e.maxKnowledge == 0 {
		e.maxKnowledge = DefaultMaxKnowledge
	}
	return e, nil
}

// Wire types of the chat completions API.
type (
	chatMessage struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	chatRequest struct {
		Model    string        `json:"model"`
		Messages []chatMessage `json:"messages"`
		Stream   bool          `json:"stream"`
	}
	chatResponse struct {
		Choices []struct {
			Message struct {
				Content *string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
)

// Reply sends the turn to the endpoint and returns its answer, with the
// ids of the knowledge sources the prompt included. It fails with
// core.KindInvalid when r has no user message, and core.KindUnavailable
// on any failure of the endpoint.
func (e *Engine) Reply(ctx context.Context, r ports.EngineRequest) (ports.EngineReply, error) {
	msgs := conversation(r.Messages)
	if len(msgs) == 0 {
		return ports.EngineReply{}, core.Invalid("messages", "there is no user message to answer")
	}
	hits := local.Rank(r.Knowledge, local.Query(r.Messages), e.maxKnowledge)
	body, err := json.Marshal(chatRequest{
		Model:    e.model,
		Messages: append([]chatMessage{{Role: "system", Content: systemPrompt(r.Agent, hits)}}, msgs...),
	})
	if err != nil {
		return ports.EngineReply{}, core.Internal(fmt.Errorf("openai: encode request: %w", err))
	}

	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	content, err := e.post(ctx, body)
	if err != nil {
		return ports.EngineReply{}, core.Unavailable(dependency, err)
	}
	reply := ports.EngineReply{Content: content}
	for _, h := range hits {
		reply.SourceIDs = append(reply.SourceIDs, h.Source.ID)
	}
	return reply, nil
}

// post sends one completion request and returns the answer's content.
// Its errors carry no key and no response body.
func (e *Engine) post(ctx context.Context, body []byte) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("openai: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if e.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.apiKey)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", fmt.Errorf("openai: request: %w", ctxErr)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return "", fmt.Errorf("openai: request: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
		return "", fmt.Errorf("openai: status %d", resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return "", fmt.Errorf("openai: read response: %w", err)
	}
	if len(raw) > maxResponseBytes {
		return "", fmt.Errorf("openai: response larger than %d bytes", maxResponseBytes)
	}
	var cr chatResponse
	if err := json.Unmarshal(raw, &cr); err != nil {
		return "", errors.New("openai: malformed response")
	}
	if len(cr.Choices) == 0 || cr.Choices[0].Message.Content == nil {
		return "", errors.New("openai: response has no choices")
	}
	content := strings.TrimSpace(*cr.Choices[0].Message.Content)
	if content == "" {
		return "", errors.New("openai: empty content")
	}
	return content, nil
}

// conversation maps the chat to the API's roles, oldest first, up to the
// last user message (an assistant message after it, if any, is left out
// so that the model answers the visitor). Empty messages are skipped.
// It is empty when there is no user message.
func conversation(messages []core.ChatMessage) []chatMessage {
	last := -1
	for i, m := range messages {
		if m.Role == core.RoleUser && strings.TrimSpace(m.Content) != "" {
			last = i
		}
	}
	var out []chatMessage
	for _, m := range messages[:last+1] {
		if strings.TrimSpace(m.Content) == "" {
			continue
		}
		switch m.Role {
		case core.RoleUser:
			out = append(out, chatMessage{Role: "user", Content: m.Content})
		case core.RoleAssistant:
			out = append(out, chatMessage{Role: "assistant", Content: m.Content})
		}
	}
	return out
}
