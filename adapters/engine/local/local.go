// Package local implements ports.Engine without a language model: a
// deterministic, free retrieval engine that answers from the agent's
// knowledge sources and speaks with its persona.
//
// Every reply is one of:
//
//   - a greeting with the agent's name and role, when the visitor only
//     greets ("hi", "hola, buenas tardes"), or a short "you're welcome"
//     when they only thank;
//   - the answer of the best matching qa source, or the best passage (or
//     two) of the text sources, trimmed to a sensible length — the
//     merchant's own words, never invented ones;
//   - a polite fallback in the agent's persona that names up to three
//     topics it can answer, when nothing matches well enough.
//
// Ranking is BM25 (k1 = 1.2, b = 0.75) over units: a qa source (its
// question weighted above its answer) or a passage of a few sentences of
// a text source (its title and section heading weighted above its body).
// Text is lower-cased, accent-folded, stripped of punctuation and of
// English and Spanish stop words, lightly stemmed, and common shop words
// are merged across both languages ("delivery", "shipping", "envío"). A
// match must be good enough to be answered: it covers at least half of
// the query's IDF weight, or the query has at least half of its heading
// (a question, a title) including the query's rarest known term. IDF
// counts sources, not passages. A very short follow-up
// ("and the price?") borrows the previous user message's terms to break
// ties. The fixed texts are in English, or Spanish when the visitor writes
// Spanish. SystemInstructions are not followed: there is no model to
// follow them.
//
// The index is built per request in time linear in the knowledge's size
// (a few milliseconds for a thousand sources); nothing is cached, so the
// Engine has no state and is safe for concurrent use.
package local

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Answer thresholds and sizes.
const (
	// secondPassage: a second text passage joins the best one when it
	// scores at least this share of the best.
	secondPassage = 0.8
	// maxAnswerLen caps a qa answer; maxPassageLen one passage;
	// maxTextAnswerLen two passages together (bytes).
	maxAnswerLen     = 1500
	maxPassageLen    = 600
	maxTextAnswerLen = 900
	// maxTopics is how many topics the fallback suggests, maxTopicLen
	// how long one may be.
	maxTopics   = 3
	maxTopicLen = 60
)

// Engine implements ports.Engine with retrieval over the agent's
// knowledge. The zero value is ready to use.
type Engine struct{}

var _ ports.Engine = (*Engine)(nil)

// New returns a local engine.
func New() *Engine { return &Engine{} }

// Reply answers the last user message of r from r.Knowledge. It fails
// with core.KindInvalid when r has no user message, and with
// core.KindUnavailable only when ctx is already done.
func (e *Engine) Reply(ctx context.Context, r ports.EngineRequest) (ports.EngineReply, error) {
	if err := ctx.Err(); err != nil {
		return ports.EngineReply{}, core.Unavailable("ai engine", err)
	}
	last, prev := lastUserMessages(r.Messages)
	if last == "" {
		return ports.EngineReply{}, core.Invalid("messages", "there is no user message to answer")
	}
	l := detectLanguage(last)
	words := foldWords(last)
	switch {
	case isOnly(words, greetingWords, greetingFiller, nameWords(r.Agent)):
		return ports.EngineReply{Content: l.greeting(intro(r.Agent, l))}, nil
	case isOnly(words, thanksWords, thanksFiller, nameWords(r.Agent)):
		return ports.EngineReply{Content: l.welcome()}, nil
	}

	q := newQuery(last, prev)
	var (
		ix     *index
		ranked []scored
	)
	if len(q.terms) > 0 {
		ix = buildIndex(r.Knowledge, q)
		ranked = ix.rank()
	}
	if content, ids, ok := answer(ix, ranked, r.Knowledge); ok {
		if len(words) > 0 {
			if _, hello := greetingWords[words[0]]; hello {
				content = l.hello() + " " + content
			}
		}
		return ports.EngineReply{Content: content, SourceIDs: ids}, nil
	}
	return ports.EngineReply{Content: l.fallback(intro(r.Agent, l), topics(r.Knowledge, ix, ranked))}, nil
}

// answer composes the reply from the best units, when the best one is
// good enough: a qa source's answer, or one or two text passages.
func answer(ix *index, ranked []scored, knowledge []core.KnowledgeSource) (string, []string, bool) {
	if len(ranked) == 0 || !ranked[0].answers() {
		return "", nil, false
	}
	best := ix.units[ranked[0].unit]
	ids := []string{knowledge[best.src].ID}
	if best.qa {
		return trimText(best.text, maxAnswerLen), ids, true
	}
	content := trimText(best.text, maxPassageLen)
	for _, s := range ranked[1:min(len(ranked), 5)] {
		u := ix.units[s.unit]
		if s.score < secondPassage*ranked[0].score {
			break
		}
		if u.qa || !s.answers() {
			continue
		}
		more := trimText(u.text, maxPassageLen)
		if len(content)+2+len(more) > maxTextAnswerLen {
			break
		}
		content += "\n\n" + more
		if id := knowledge[u.src].ID; id != ids[0] {
			ids = append(ids, id)
		}
		break
	}
	return content, ids, true
}

// topics suggests what the agent can answer: the sources that matched a
// little first, then the others in order; a qa source by its question, a
// text source by its title.
func topics(knowledge []core.KnowledgeSource, ix *index, ranked []scored) []string {
	order := make([]int, 0, len(knowledge)+len(ranked))
	for _, s := range ranked {
		order = append(order, ix.units[s.unit].src)
	}
	for i := range knowledge {
		order = append(order, i)
	}
	var out []string
	seen := map[string]bool{}
	for _, i := range order {
		src := knowledge[i]
		label := src.Title
		if src.Kind == core.KnowledgeQA {
			label = src.Question
		}
		label = strings.Trim(strings.TrimSpace(label), "¿?¡!.:;, ")
		if label == "" || strings.TrimSpace(src.Content) == "" {
			continue
		}
		label = trimWords(label, maxTopicLen)
		key := strings.Join(foldWords(label), " ")
		if seen[key] {
			continue
		}
		seen[key] = true
		if out = append(out, label); len(out) == maxTopics {
			break
		}
	}
	return out
}

// trimText shortens s to at most max bytes: at the last sentence or line
// end past a third of max, else at a word, with an ellipsis.
func trimText(s string, max int) string {
	s = strings.TrimSpace(s)
	if len(s) <= max {
		return s
	}
	for i := max - 1; i >= max/3; i-- {
		if s[i] == '\n' || (strings.IndexByte(".!?", s[i]) >= 0 && (s[i+1] == ' ' || s[i+1] == '\n')) {
			return strings.TrimSpace(s[:i+1])
		}
	}
	return trimWords(s, max)
}

// trimWords shortens s to at most max bytes at a word boundary, with an
// ellipsis.
func trimWords(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	if i := strings.LastIndexAny(s[:cut+1], " \n"); i > max/3 {
		cut = i
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRight(s[:cut], " \n,;:") + "…"
}
