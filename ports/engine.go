package ports

import (
	"context"

	"github.com/gellhub/gellhub/core"
)

// EngineRequest is one AI turn: who speaks (the agent's persona and
// instructions), what it knows, and the conversation so far, oldest
// first, ending with the visitor's message.
type EngineRequest struct {
	Agent     core.Agent
	Knowledge []core.KnowledgeSource
	Messages  []core.ChatMessage
}

// EngineReply is the assistant's answer.
type EngineReply struct {
	Content string
	// SourceIDs are the knowledge sources the answer drew on (may be
	// empty; informational).
	SourceIDs []string
}

// Engine writes the assistant's reply of one AI turn (the local
// retrieval engine, or an OpenAI-compatible chat-completions endpoint).
// Implementations are safe for concurrent use.
type Engine interface {
	// Reply answers the last user message of r. KindUnavailable when the
	// engine cannot answer now (down, timed out, refused): the caller
	// charges nothing. It never returns an empty Content without an error.
	Reply(ctx context.Context, r EngineRequest) (EngineReply, error)
}
