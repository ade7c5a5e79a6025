package local

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gellhub/gellhub/core"
)

// language is the language of the engine's own sentences (the knowledge
// is quoted as the merchant wrote it).
type language int

const (
	english language = iota
	spanish
)

// Words that tell English from Spanish, folded.
var (
	englishMarkers = wordSet(`the is are do does you your what how when where can my of to and have
		it in for i we there which hi hello hey thanks thank please`)
	spanishMarkers = wordSet(`el la los las de del que es son y en hola buenas buenos gracias cuanto
		cuando donde como puedo tienen tiene hay mi un una para por con se su sus cual quiero
		envio precio`)
)

// detectLanguage guesses the visitor's language: Spanish when its marker
// words (and ¿, ¡, ñ, accented vowels) outnumber the English ones.
func detectLanguage(s string) language {
	var en, es int
	for _, w := range foldWords(s) {
		if _, ok := englishMarkers[w]; ok {
			en++
		}
		if _, ok := spanishMarkers[w]; ok {
			es++
		}
	}
	if strings.ContainsAny(s, "¿¡ñÑáéíóúÁÉÍÓÚ") {
		es += 2
	}
	if es > en {
		return spanish
	}
	return english
}

// Greetings and thanks: a message made only of such words (with at least
// one of the first set) is answered without the knowledge.
var (
	greetingWords  = wordSet(`hi hello hey hiya howdy greetings hola buenas buenos saludos ola`)
	greetingFiller = wordSet(`good morning afternoon evening day there all everyone team folks
		how are you doing is it going dias tardes noches que tal como estas esta`)
	thanksWords  = wordSet(`thanks thank thx ty cheers gracias`)
	thanksFiller = wordSet(`you very much so a lot ok okay great perfect nice cool awesome
		excellent super that all for the help bye goodbye muchas mil vale perfecto genial
		excelente por la ayuda adios chao hasta luego`)
)

// isOnly reports whether words holds at least one word of strong, and
// nothing but words of strong, filler and extra.
func isOnly(words []string, strong, filler map[string]struct{}, extra []string) bool {
	found := false
	for _, w := range words {
		if _, ok := strong[w]; ok {
			found = true
			continue
		}
		if _, ok := filler[w]; ok {
			continue
		}
		if !contains(extra, w) {
			return false
		}
	}
	return found
}

func contains(list []string, w string) bool {
	for _, x := range list {
		if x == w {
			return true
		}
	}
	return false
}

// nameWords are the folded words of the agent's names ("hi Ana").
func nameWords(a core.Agent) []string {
	return append(foldWords(a.BotDisplayName), foldWords(a.Name)...)
}

// intro is the agent's one-sentence self-introduction: "I'm Ana, the
// assistant of Acme Shoes." A role summary that starts with a capital
// letter is set off with a dash, so that a sentence stays a sentence.
func intro(a core.Agent, l language) string {
	name := strings.TrimSpace(a.BotDisplayName)
	if name == "" {
		name = strings.TrimSpace(a.Name)
	}
	var s string
	switch {
	case name == "" && l == spanish:
		s = "Soy tu asistente virtual"
	case name == "":
		s = "I'm your virtual assistant"
	case l == spanish:
		s = "Soy " + name
	default:
		s = "I'm " + name
	}
	role := strings.TrimRight(strings.TrimSpace(a.BotRoleSummary), ".!;:, ")
	if role != "" {
		if first, _ := utf8.DecodeRuneInString(role); unicode.IsUpper(first) {
			s += " — " + role
		} else {
			s += ", " + role
		}
	}
	return s + "."
}

// hello opens an answer to a message that started with a greeting.
func (l language) hello() string {
	if l == spanish {
		return "¡Hola!"
	}
	return "Hi!"
}

// greeting answers a greeting.
func (l language) greeting(intro string) string {
	if l == spanish {
		return "¡Hola! " + intro + " ¿En qué puedo ayudarte?"
	}
	return "Hi! " + intro + " How can I help you today?"
}

// welcome answers thanks.
func (l language) welcome() string {
	if l == spanish {
		return "¡De nada! ¿Puedo ayudarte en algo más?"
	}
	return "You're welcome! Is there anything else I can help you with?"
}

// fallback answers what the knowledge does not cover.
func (l language) fallback(intro string, topics []string) string {
	if l == spanish {
		s := intro + " Todavía no tengo información sobre eso — ¿podrías reformular tu pregunta"
		if len(topics) > 0 {
			s += " o preguntarme sobre " + quoteList(topics, "o")
		}
		return s + "?"
	}
	s := intro + " I don't have information about that yet — could you rephrase your question"
	if len(topics) > 0 {
		s += ", or ask me about " + quoteList(topics, "or")
	}
	return s + "?"
}

// quoteList writes “a”, “b” or “c”.
func quoteList(items []string, or string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = "“" + it + "”"
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + or + " " + q[len(q)-1]
}
