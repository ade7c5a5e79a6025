package local

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/gellhub/gellhub/core"
)

// BM25 parameters, and the weights of the fields of a unit (BM25F-style:
// a field's term counts are multiplied by its weight before saturation).
const (
	k1 = 1.2
	b  = 0.75

	questionWeight = 2.5 // a qa source's question
	titleWeight    = 1.5 // a text source's title, and the heading of a passage
	bodyWeight     = 1.0 // an answer, a passage

	// contextWeight scales the previous user message's terms when the
	// last message is very short ("and the price?"): they break ties
	// between the units the last message matches, never add new ones.
	contextWeight = 0.35
	// maxQueryTerms caps the terms taken from a long message.
	maxQueryTerms = 48
	// relativeCut drops Rank hits below this share of the best score.
	relativeCut = 0.2
)

// Hit is a knowledge source ranked for a query.
type Hit struct {
	// Source is the knowledge source.
	Source core.KnowledgeSource
	// Score is the BM25 score of the source's best passage; higher is
	// better, comparable only within one Rank call.
	Score float64
	// Passage is the best matching passage of a text source, or the
	// answer of a qa source.
	Passage string
}

// Rank returns at most n of the knowledge sources that match query, the
// best first (ties keep the order of knowledge): sources that share no
// term with the query, or score below a fifth of the best, are left out.
// n ≤ 0 means no limit. Rank is deterministic and runs in time linear in
// the size of the knowledge.
func Rank(knowledge []core.KnowledgeSource, query string, n int) []Hit {
	q := newQuery(query, "")
	if len(q.terms) == 0 {
		return nil
	}
	ix := buildIndex(knowledge, q)
	ranked := ix.rank()
	var hits []Hit
	seen := map[int]bool{}
	for _, s := range ranked {
		if s.score < relativeCut*ranked[0].score || (n > 0 && len(hits) == n) {
			break
		}
		u := ix.units[s.unit]
		if seen[u.src] {
			continue
		}
		seen[u.src] = true
		hits = append(hits, Hit{Source: knowledge[u.src], Score: s.score, Passage: u.text})
	}
	return hits
}

// Query returns the text to rank knowledge by for a conversation: its
// last user message, with the user message before it when the last one
// is very short ("and the price?"). It is "" when there is no user
// message.
func Query(messages []core.ChatMessage) string {
	last, prev := lastUserMessages(messages)
	if prev != "" && len(terms(last)) <= shortQuery {
		return last + "\n" + prev
	}
	return last
}

// shortQuery is how many terms a "very short" message has at most.
const shortQuery = 2

// lastUserMessages returns the contents of the last two user messages.
func lastUserMessages(messages []core.ChatMessage) (last, prev string) {
	for i := len(messages) - 1; i >= 0; i-- {
		m := messages[i]
		if m.Role != core.RoleUser || strings.TrimSpace(m.Content) == "" {
			continue
		}
		if last == "" {
			last = m.Content
			continue
		}
		return last, m.Content
	}
	return last, ""
}

// query is the ordered set of distinct terms to rank by. Primary terms
// come from the message being answered; the others are context.
type query struct {
	terms   []string
	primary []bool
	pos     map[string]int
}

// newQuery builds the query of message, with the terms of context when
// message has at most shortQuery terms (all of them, as primary, when it
// has none).
func newQuery(message, context string) *query {
	q := &query{pos: map[string]int{}}
	q.add(message, true)
	switch n := len(q.terms); {
	case n == 0:
		q.add(context, true)
	case n <= shortQuery:
		q.add(context, false)
	}
	return q
}

func (q *query) add(s string, primary bool) {
	var t tokenizer
	t.each(s, func(w []byte) {
		if _, dup := q.pos[string(w)]; dup || len(q.terms) == maxQueryTerms {
			return
		}
		q.pos[string(w)] = len(q.terms)
		q.terms = append(q.terms, string(w))
		q.primary = append(q.primary, primary)
	})
}

// unit is one ranked piece of knowledge: a qa source, or a passage of a
// text source.
type unit struct {
	src  int    // index in the knowledge
	qa   bool   // a qa source
	text string // what it says: the answer, or the passage
	dl   float64
	// heads is how many distinct terms its heading has (a qa source's
	// question; a passage's title and section heading), and matched how
	// many of them the query has.
	heads, matched int
}

// index holds, for one query, the weighted counts of its terms in every
// unit (a flat units × terms matrix), and their document frequencies
// counted over sources (a term all over one long text is still rare).
type index struct {
	q       *query
	units   []unit
	tf      []float64
	df      []int
	sources int // how many sources have units
	avgdl   float64
}

// buildIndex tokenizes the knowledge once, counting only the query's
// terms: O(total tokens) time, O(units × query terms) memory.
func buildIndex(knowledge []core.KnowledgeSource, q *query) *index {
	nq := len(q.terms)
	ix := &index{q: q, df: make([]int, nq)}
	var tok tokenizer
	// memo maps a folded word to its query term's index: -1 for a term
	// the query does not have, -2 for a stop word. Words repeat far more
	// than they vary, so most tokens cost one map lookup.
	memo := map[string]int{}
	count := func(s string, w float64, row []float64) (dl float64) {
		tok.words(s, func(word []byte) {
			j, ok := memo[string(word)]
			if !ok {
				key := string(word)
				j = -2
				if t, isTerm := termOf(word); isTerm {
					j = -1
					if p, inQuery := q.pos[string(t)]; inQuery {
						j = p
					}
				}
				memo[key] = j
			}
			if j == -2 {
				return
			}
			dl += w
			if j >= 0 {
				row[j] += w
			}
		})
		return dl
	}
	seen := map[string]bool{}
	heads := func(s ...string) (n, matched int) {
		clear(seen)
		for _, h := range s {
			tok.each(h, func(t []byte) {
				if seen[string(t)] {
					return
				}
				seen[string(t)] = true
				n++
				if _, ok := q.pos[string(t)]; ok {
					matched++
				}
			})
		}
		return n, matched
	}
	title := make([]float64, nq)
	inSource := make([]bool, nq)
	for i, src := range knowledge {
		content := strings.TrimSpace(src.Content)
		if content == "" {
			continue
		}
		first := len(ix.units)
		if src.Kind == core.KnowledgeQA {
			row := ix.addRow()
			u := unit{src: i, qa: true, text: content}
			u.heads, u.matched = heads(src.Question)
			u.dl = count(src.Question, questionWeight, row) + count(content, bodyWeight, row)
			ix.units = append(ix.units, u)
		} else {
			clear(title)
			titleLen := count(src.Title, titleWeight, title)
			for _, p := range splitPassages(content) {
				row := ix.addRow()
				copy(row, title)
				u := unit{src: i, text: p.text}
				u.heads, u.matched = heads(src.Title, p.heading)
				u.dl = titleLen + count(p.heading, titleWeight, row) + count(p.text, bodyWeight, row)
				ix.units = append(ix.units, u)
			}
		}
		if first == len(ix.units) {
			continue
		}
		ix.sources++
		clear(inSource)
		for j, v := range ix.tf[first*nq:] {
			if v > 0 {
				inSource[j%nq] = true
			}
		}
		for j, in := range inSource {
			if in {
				ix.df[j]++
			}
		}
	}
	var total float64
	for _, u := range ix.units {
		total += u.dl
	}
	if len(ix.units) > 0 {
		ix.avgdl = total / float64(len(ix.units))
	}
	return ix
}

// addRow appends a zeroed row of term counts and returns it.
func (ix *index) addRow() []float64 {
	n := len(ix.tf)
	ix.tf = slices.Grow(ix.tf, len(ix.q.terms))[:n+len(ix.q.terms)]
	row := ix.tf[n:]
	clear(row)
	return row
}

// scored is a unit's rank and how well it answers.
type scored struct {
	unit  int
	score float64
	// coverage is the share of the primary terms' weight (IDF) the unit
	// matches, in [0, 1].
	coverage float64
	// heading is the share of the unit's heading terms the query has
	// (0 without a heading).
	heading float64
	// rarest tells whether the unit matches one of the query's rarest
	// primary terms among those the knowledge has.
	rarest bool
}

// answers reports whether the unit answers the query well enough: it
// covers at least half of the query's weight, or the query has at least
// half of its heading, including the query's most telling term ("¿dónde
// está la tienda?" and "Where is your shop?" share "where" only, and
// "tienda" is unknown to the knowledge).
func (s scored) answers() bool {
	return s.coverage >= minCoverage || (s.rarest && s.heading >= minHeading)
}

// Match thresholds: see scored.answers.
const (
	minCoverage = 0.5
	minHeading  = 0.5
)

// idf is BM25's inverse document frequency (the "+1" form, never
// negative).
func idf(n, df int) float64 {
	return math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
}

// rank scores every unit that matches a primary term, best first.
func (ix *index) rank() []scored {
	nq := len(ix.q.terms)
	idfs := make([]float64, nq)
	var primaryIDF float64
	rarest := 0 // the smallest document frequency of a known primary term
	for j := range nq {
		idfs[j] = idf(ix.sources, ix.df[j])
		if !ix.q.primary[j] {
			continue
		}
		primaryIDF += idfs[j]
		if df := ix.df[j]; df > 0 && (rarest == 0 || df < rarest) {
			rarest = df
		}
	}
	var out []scored
	for ui, u := range ix.units {
		var primary, context, matched float64
		var hasRarest bool
		norm := k1 * (1 - b + b*u.dl/ix.avgdl)
		row := ix.tf[ui*nq : (ui+1)*nq]
		for j, tf := range row {
			if tf == 0 {
				continue
			}
			s := idfs[j] * tf * (k1 + 1) / (tf + norm)
			if ix.q.primary[j] {
				primary += s
				matched += idfs[j]
				hasRarest = hasRarest || ix.df[j] == rarest
			} else {
				context += s
			}
		}
		if primary == 0 {
			continue
		}
		s := scored{
			unit:     ui,
			score:    primary + contextWeight*context,
			coverage: matched / primaryIDF,
			rarest:   hasRarest,
		}
		if u.heads > 0 {
			s.heading = float64(u.matched) / float64(u.heads)
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(x, y scored) int { return cmp.Compare(y.score, x.score) })
	return out
}
