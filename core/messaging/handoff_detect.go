package messaging

import (
	"slices"
	"strings"
)

// Handoff detection. A visitor asks for a person when the last message,
// folded as skill keywords are (foldText: case, accents and punctuation
// ignored), holds one of a language's patterns on word boundaries: a
// verb of contact followed by someone to reach ("talk to" + "a" +
// "human", "hablar con" + "alguien"), a phrase that says it alone ("real
// person", "agente humano", "un conseiller", "echten Mitarbeiter"), or a
// whole message of one word ("human", "atendente"). Multi-word patterns
// keep ordinary sentences out ("I am a person who…", "personal data");
// a few fixed expressions are blanked first ("human resources", "agent
// immobilier"), so that "talk to human resources" asks for nobody; and a
// request counts only in a clause where no negation of its language
// precedes it ("I don't want to talk to a human"), unless that clause is a
// question ("Can't I talk to a human?").

// The languages handoff detection knows (ISO 639-1).
const (
	langEnglish    = "en"
	langSpanish    = "es"
	langFrench     = "fr"
	langGerman     = "de"
	langPortuguese = "pt"
)

// handoffPattern is a sequence of slots, each a list of folded
// alternatives (words without the surrounding spaces; "" makes the slot
// optional), matched one after the other on word boundaries. context,
// when set, must also appear somewhere in the message (a German verb that
// ends the sentence, say).
type handoffPattern struct {
	slots   [][]string
	context []string
}

// handoffLang is one language's patterns and acknowledgement.
type handoffLang struct {
	code     string
	ack      string
	patterns []handoffPattern
	exact    []string // folded whole messages
	// markers are common words of the language: when patterns of two
	// languages match ("agente humano"), the one with more markers wins.
	markers []string
	// byFirst indexes patterns by the words a match can start with.
	byFirst map[string][]int
}

// detectHandoff reports whether text asks for a person, and in which
// language (langEnglish, …). A request some clause of text makes without a
// negation before it counts: "I don't want to talk to a human" asks for
// nobody, "No, I want to talk to a human" and the questions "Can't I talk
// to a human?" or "¿No puedo hablar con una persona?" do.
func detectHandoff(text string) (lang string, ok bool) {
	folded := foldText(text)
	if _, ok := detectFolded(folded); !ok {
		return "", false // most messages: the exclusions need no blanking
	}
	if lang, ok = detectFolded(blankExclusions(folded)); !ok {
		return "", false
	}
	for _, c := range clauses(text) {
		if clauseAsks(c) {
			return lang, true
		}
	}
	return "", false
}

func blankExclusions(folded string) string {
	for _, x := range handoffExclusions {
		folded = strings.ReplaceAll(folded, x, " ")
	}
	return folded
}

// handoffNegations are, per language, the folded words that, before a
// request in the same clause, turn it down. English leaves "no" out ("no
// I want a human"); Spanish and Portuguese cannot.
var handoffNegations = map[string]map[string]bool{
	langEnglish:    words("dont", "not", "never", "doesnt", "didnt", "wont", "without", "neither", "nor"),
	langSpanish:    words("no", "nunca", "jamas", "ni", "tampoco", "sin"),
	langFrench:     words("ne", "pas", "jamais", "sans", "ni", "nai", "nest"),
	langGerman:     words("nicht", "kein", "keine", "keinen", "keinem", "keiner", "nie", "niemals", "ohne"),
	langPortuguese: words("nao", "nunca", "jamais", "nem", "sem"),
}

func words(ws ...string) map[string]bool {
	out := make(map[string]bool, len(ws))
	for _, w := range ws {
		out[w] = true
	}
	return out
}

// clause is a part of a message between sentence or clause punctuation;
// question says it ends with a question mark (or opens with ¿).
type clause struct {
	text     string
	question bool
}

// clauses splits text at . , ; : ! ? ¿ ¡ and line breaks.
func clauses(text string) []clause {
	var out []clause
	start, question := 0, false
	for i, r := range text {
		switch r {
		case '¿':
			out = append(out, clause{text[start:i], false})
			start, question = i+len("¿"), true
		case '?', '.', ',', ';', ':', '!', '¡', '\n':
			out = append(out, clause{text[start:i], question || r == '?'})
			start, question = i+len(string(r)), false
		}
	}
	return append(out, clause{text[start:], question})
}

// clauseAsks reports whether c holds a request for a person, in any
// language, that no negation of that language precedes within c (a
// question's negation does not count).
func clauseAsks(c clause) bool {
	folded := blankExclusions(foldText(c.text))
	ws := splitWords(folded)
	for li := range handoffLangs {
		l := &handoffLangs[li]
		if slices.Contains(l.exact, folded) {
			return true
		}
		neg := handoffNegations[l.code]
		for wi, w := range ws {
			for _, pi := range l.byFirst[w.word] {
				p := &l.patterns[pi]
				if !matchSlots(p.slots, folded[w.at:]) || !p.inContext(folded) {
					continue
				}
				if c.question || !slices.ContainsFunc(ws[:wi], func(x handoffWord) bool { return neg[x.word] }) {
					return true
				}
			}
		}
	}
	return false
}

func detectFolded(folded string) (lang string, ok bool) {
	words := splitWords(folded)
	best := -1
	for i := range handoffLangs {
		l := &handoffLangs[i]
		if !l.matches(folded, words) {
			continue
		}
		score := 0
		for _, m := range l.markers {
			if matchPhrase(folded, m) {
				score++
			}
		}
		if score > best {
			lang, best = l.code, score
		}
	}
	return lang, best >= 0
}

// handoffWord is a word of a folded message and the offset of the space
// before it.
type handoffWord struct {
	at   int
	word string
}

// splitWords returns the words of folded (foldText's result).
func splitWords(folded string) []handoffWord {
	var out []handoffWord
	for i := 0; i < len(folded)-1; i++ {
		if folded[i] == ' ' {
			end := i + 1 + strings.IndexByte(folded[i+1:], ' ')
			out = append(out, handoffWord{at: i, word: folded[i+1 : end]})
		}
	}
	return out
}

func (l *handoffLang) matches(folded string, words []handoffWord) bool {
	for _, e := range l.exact {
		if folded == e {
			return true
		}
	}
	for _, w := range words {
		for _, i := range l.byFirst[w.word] {
			p := &l.patterns[i]
			if matchSlots(p.slots, folded[w.at:]) && p.inContext(folded) {
				return true
			}
		}
	}
	return false
}

// inContext reports whether folded holds one of p's context words, when
// p has any.
func (p *handoffPattern) inContext(folded string) bool {
	if len(p.context) == 0 {
		return true
	}
	for _, c := range p.context {
		if matchPhrase(folded, c) {
			return true
		}
	}
	return false
}

// matchSlots reports whether rest (starting with a space) begins with one
// alternative of each slot in turn.
func matchSlots(slots [][]string, rest string) bool {
	if len(slots) == 0 {
		return true
	}
	for _, alt := range slots[0] {
		if alt == "" {
			if matchSlots(slots[1:], rest) {
				return true
			}
			continue
		}
		if len(rest) > len(alt)+1 && rest[len(alt)+1] == ' ' && rest[1:len(alt)+1] == alt &&
			matchSlots(slots[1:], rest[len(alt)+1:]) {
			return true
		}
	}
	return false
}

// firstWords adds to into the words a match of slots can start with.
func firstWords(slots [][]string, into map[string]bool) {
	if len(slots) == 0 {
		return
	}
	for _, alt := range slots[0] {
		if alt == "" {
			firstWords(slots[1:], into)
			continue
		}
		w, _, _ := strings.Cut(alt, " ")
		into[w] = true
	}
}

// indexed returns l with byFirst built.
func (l handoffLang) indexed() handoffLang {
	l.byFirst = map[string][]int{}
	for i, p := range l.patterns {
		first := map[string]bool{}
		firstWords(p.slots, first)
		for w := range first {
			l.byFirst[w] = append(l.byFirst[w], i)
		}
	}
	return l
}

// handoffAck returns the acknowledgement of a handoff turn in lang.
func handoffAck(lang string) string {
	for _, l := range handoffLangs {
		if l.code == lang {
			return l.ack
		}
	}
	return handoffLangs[0].ack
}

// fold returns each phrase folded as matchSlots compares it: foldText
// without the surrounding spaces ("" stays "").
func fold(phrases ...string) []string {
	out := make([]string, len(phrases))
	for i, p := range phrases {
		out[i] = strings.TrimSpace(foldText(p))
	}
	return out
}

// seq builds a pattern of slots, folding every alternative.
func seq(slots ...[]string) handoffPattern {
	p := handoffPattern{slots: make([][]string, len(slots))}
	for i, s := range slots {
		p.slots[i] = fold(s...)
	}
	return p
}

// alone is the pattern of phrases that say it by themselves.
func alone(phrases ...string) handoffPattern { return seq(phrases) }

// within is p matched only when one of words is in the message too.
func within(p handoffPattern, words ...string) handoffPattern {
	for _, w := range fold(words...) {
		p.context = append(p.context, " "+w+" ")
	}
	return p
}

// exactly folds whole messages for handoffLang.exact.
func exactly(msgs ...string) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = foldText(m)
	}
	return out
}

// markers folds marker words for matchPhrase.
func markers(words ...string) []string { return exactly(words...) }

// handoffExclusions are blanked before matching: fixed expressions whose
// words would otherwise look like a request for a person.
var handoffExclusions = exactly(
	"human resources", "human rights", "human error", "human hair", "real estate agent", "estate agent",
	"travel agent", "insurance agent", "booking agent",
	"recursos humanos", "derechos humanos", "agente inmobiliario", "agentes inmobiliarios", "agente de seguros",
	"agente de viajes",
	"ressources humaines", "droits humains", "agent immobilier", "agents immobiliers", "agente immobiliere",
	"agent de voyage", "agent d'assurance",
	"menschenrechte", "personalabteilung",
	"direitos humanos", "agente imobiliario", "agente de viagens", "agente de seguros",
)

// handoffLangs are the languages in the order a tie is decided.
var handoffLangs = []handoffLang{
	handoffEnglish().indexed(), handoffSpanish().indexed(), handoffFrench().indexed(), handoffGerman().indexed(),
	handoffPortuguese().indexed(),
}

func handoffEnglish() handoffLang {
	leads := []string{
		"talk to", "talk with", "speak to", "speak with", "chat to", "chat with", "get in touch with",
		"be connected to", "be connected with", "be put through to", "be transferred to",
		"connect me to", "connect me with", "put me through to", "put me in touch with", "transfer me to",
		"pass me to", "pass me over to", "hand me over to", "hand me to", "forward me to", "get me",
		"reach", "contact", "escalate to", "escalate this to", "escalate me to",
	}
	dets := []string{
		"", "a", "an", "the", "your", "one of your", "a member of your", "a member of the",
		"someone from your", "someone from the", "someone on your", "someone on the", "someone in your",
		"somebody from your", "somebody on your", "a real", "an actual", "a live", "a human", "real", "live",
	}
	nouns := []string{
		"human", "humans", "human being", "person", "agent", "representative", "rep", "operator", "staff",
		"staff member", "member of staff", "team", "support team", "sales team", "service team",
		"customer service", "customer support", "customer care", "support", "support agent", "manager",
		"supervisor", "employee", "owner",
	}
	anyone := []string{"someone", "somebody", "anyone", "anybody", "someone real"}
	return handoffLang{
		code: langEnglish,
		ack:  "I've asked a member of the team to join this conversation. They will get back to you.",
		patterns: []handoffPattern{
			seq(leads, dets, nouns),
			seq(leads, anyone),
			seq([]string{"want", "need", "get", "prefer", "give me", "request", "ask for", "asking for", "is there"}, []string{
				"a human", "human", "a human being", "a real person", "a real human", "a human agent", "a live agent",
				"a live person", "an actual person", "a representative", "an operator", "human help", "human support",
				"human assistance", "someone to talk to", "someone to speak to", "someone to speak with",
				"a person to talk to", "a person to speak to",
			}),
			seq([]string{"someone", "somebody", "anyone", "anybody", "person", "human", "agent", "a real person"},
				[]string{"i can talk to", "i can talk with", "i can speak to", "i can speak with", "i could talk to", "i could speak to"}),
			alone(
				"real person", "real human", "actual person", "actual human", "live agent", "live person", "live human",
				"live operator", "human agent", "human operator", "human representative", "human support",
				"human assistance", "human help", "human please", "person please", "agent please",
				"representative please", "operator please",
			),
		},
		exact:   exactly("human", "humans", "agent", "representative", "rep", "operator", "person", "a human", "a person", "customer service", "customer support"),
		markers: markers("i", "to", "with", "the", "please", "want", "need", "can", "someone", "me", "you", "your", "talk", "speak", "a", "an"),
	}
}

func handoffSpanish() handoffLang {
	leads := []string{
		"hablar con", "hablar a", "hablo con", "habla con", "hable con", "hablar directamente con",
		"comunicarme con", "comunicarse con", "comunicar con", "comunícame con", "comuníqueme con",
		"contactar con", "contactar a", "contactar", "contactarme con", "contacto con", "ponerme en contacto con",
		"ponerme con", "pásame con", "páseme con", "pasarme con", "pásame a", "páseme a", "ponme con",
		"póngame con", "conéctame con", "conécteme con", "conectarme con", "transfiéreme a", "transfiérame a",
		"transferirme a", "transferir a", "transferir con", "chatear con", "derivarme a", "derivarme con",
		"derívame a", "derívame con", "que me atienda", "ser atendido por", "ser atendida por",
		"atendido por", "atendida por",
	}
	dets := []string{
		"", "un", "una", "el", "la", "los", "las", "algún", "alguna", "alguno de", "alguna de",
		"alguno de los", "alguna de las", "su", "sus", "tu", "tus", "vuestro", "vuestra", "alguien de",
		"alguien del", "alguien de su", "alguien de tu", "alguien de la", "un miembro de", "un miembro del",
		"un miembro de su", "una persona de", "una persona del", "una persona de su", "un verdadero",
		"una verdadera",
	}
	nouns := []string{
		"humano", "ser humano", "agente", "agente humano", "agente real", "representante", "operador",
		"operadora", "asesor", "asesora", "equipo", "personal", "atención al cliente", "servicio al cliente",
		"servicio de atención al cliente", "soporte", "soporte técnico", "encargado", "encargada", "gerente",
		"responsable", "empleado", "empleada", "ejecutivo", "ejecutiva", "vendedor", "vendedora",
	}
	anyone := []string{
		"alguien", "alguien real", "una persona", "una persona real", "una persona de verdad",
		"una persona física", "la persona", "personas reales", "alguna persona", "un humano de verdad",
	}
	return handoffLang{
		code: langSpanish,
		ack:  "He pedido a un miembro del equipo que se una a esta conversación. Se pondrá en contacto contigo.",
		patterns: []handoffPattern{
			seq(leads, dets, nouns),
			seq(leads, anyone),
			seq([]string{"quiero", "necesito", "prefiero", "pido", "solicito", "deseo", "quisiera", "hay", "tienen"}, []string{
				"un humano", "una persona real", "un agente", "un agente humano", "un asesor", "una asesora",
				"un operador", "un representante", "atención humana", "una persona de verdad", "un ser humano",
				"alguien real", "un asesor humano", "un humano por favor",
			}),
			alone(
				"agente humano", "persona real", "persona de verdad", "humano de verdad", "atención humana",
				"operador humano", "asesor humano", "humano por favor", "persona por favor", "agente por favor",
				"asesor por favor", "alguien real",
			),
		},
		exact:   exactly("humano", "agente", "asesor", "asesora", "operador", "representante", "persona", "una persona", "un humano", "un agente", "un asesor"),
		markers: markers("con", "un", "una", "quiero", "necesito", "hablar", "alguien", "usted", "puedo", "el", "los", "yo", "quisiera", "hay", "persona", "atención"),
	}
}

func handoffFrench() handoffLang {
	leads := []string{
		"parler à", "parler au", "parler aux", "parler avec", "parle à", "discuter avec", "échanger avec",
		"dialoguer avec", "m'adresser à", "m'adresser au", "être mis en relation avec", "être mise en relation avec",
		"mettre en relation avec", "me mettre en relation avec", "mettez-moi en relation avec", "en relation avec",
		"en contact avec", "contacter", "joindre", "me passer", "passez-moi", "passe-moi", "me transférer à",
		"me transférer vers", "transférez-moi à", "transférez-moi vers", "transférer vers", "avoir affaire à",
	}
	dets := []string{
		"", "un", "une", "le", "la", "les", "des", "votre", "vos", "un de vos", "une de vos", "l'un de vos",
		"l'une de vos", "un membre de", "un membre du", "un membre de votre", "quelqu'un de", "quelqu'un du",
		"quelqu'un de votre", "quelqu'un dans", "quelqu'un chez", "quelqu'un au", "un vrai", "une vraie",
	}
	nouns := []string{
		"humain", "humains", "être humain", "agent", "agent humain", "conseiller", "conseillère",
		"conseillers", "conseiller humain", "opérateur", "opératrice", "équipe", "service client",
		"service clientèle", "support", "responsable", "employé", "employée", "interlocuteur",
		"interlocutrice", "gérant", "gérante", "manager", "technicien", "technicienne", "vendeur", "vendeuse",
		"commercial", "collaborateur", "collaboratrice", "personnel", "assistance",
	}
	anyone := []string{
		"quelqu'un", "quelqu'un de réel", "quelqu'un de vrai", "une personne", "une vraie personne",
		"une personne réelle", "une personne physique", "la personne", "un être humain", "un vrai humain",
		"des humains", "un humain", "quelqu'un de l'équipe", "un membre de l'équipe", "quelqu'un de l'assistance",
		"quelqu'un du service client", "l'équipe", "l'humain", "l'agent", "l'opérateur", "l'opératrice",
		"l'assistance", "l'interlocuteur", "l'employé",
	}
	wants := []string{
		"un humain", "un conseiller", "une conseillère", "un agent", "un agent humain", "un opérateur",
		"une vraie personne", "une personne réelle", "un être humain", "un vrai humain", "quelqu'un de réel",
		"un interlocuteur", "une personne",
	}
	return handoffLang{
		code: langFrench,
		ack:  "J'ai demandé à un membre de l'équipe de rejoindre cette conversation. Il ou elle reviendra vers vous.",
		patterns: []handoffPattern{
			seq(leads, dets, nouns),
			seq(leads, anyone),
			seq([]string{"je veux", "je voudrais", "je souhaite", "j'aimerais", "je préfère", "je demande",
				"donnez-moi", "puis-je avoir", "pourrais-je avoir", "je peux avoir", "avoir"}, wants),
			seq([]string{"besoin d'un", "besoin d'une", "besoin d'un vrai", "besoin d'une vraie"}, []string{
				"humain", "conseiller", "conseillère", "agent", "agent humain", "opérateur", "opératrice",
				"personne", "personne réelle", "être humain", "interlocuteur", "technicien",
			}),
			alone(
				"un conseiller", "une conseillère", "une vraie personne", "une personne réelle", "un vrai humain",
				"agent humain", "conseiller humain", "opérateur humain", "humain svp", "humain s'il vous plaît",
				"humain stp", "vraie personne", "personne réelle", "vrai humain", "vrai conseiller",
				"quelqu'un de réel", "conseiller svp",
			),
		},
		exact:   exactly("humain", "un humain", "conseiller", "conseillère", "agent", "opérateur", "une personne"),
		markers: markers("je", "une", "avec", "veux", "voudrais", "svp", "parler", "quelqu'un", "vous", "le", "est", "besoin", "moi", "un"),
	}
}

func handoffGerman() handoffLang {
	dets := []string{
		"", "einem", "einer", "einen", "eine", "dem", "der", "den", "die", "ihrem", "ihrer", "ihren", "eurem",
		"eurer", "euren", "einem echten", "einer echten", "einen echten", "eine echte", "einem richtigen",
		"einer richtigen", "einen richtigen", "einem realen", "einer realen", "einen realen",
		"einem menschlichen", "einer menschlichen", "einen menschlichen", "jemandem aus dem",
		"jemandem aus ihrem", "jemandem vom", "jemandem von", "jemanden aus dem", "jemanden vom",
		"einem ihrer", "einem eurer",
	}
	nouns := []string{
		"Mensch", "Menschen", "Mitarbeiter", "Mitarbeiterin", "Mitarbeitenden", "Servicemitarbeiter",
		"Service-Mitarbeiter", "Kundenberater", "Kundenberaterin", "Berater", "Beraterin", "Person", "Agent",
		"Agenten", "Agentin", "Kundendienst", "Kundenservice", "Kundensupport", "Support", "Team",
		"Ansprechpartner", "Ansprechpartnerin", "Verantwortlichen", "Kollegen", "Kollegin", "Angestellten",
		"Vorgesetzten", "Sachbearbeiter", "Sachbearbeiterin", "Chef",
	}
	anyone := []string{"jemandem", "jemanden", "jemand", "jemandem echten"}
	verbs := []string{
		"sprechen", "reden", "chatten", "schreiben", "verbunden", "verbinden", "telefonieren", "kommunizieren",
		"Kontakt", "unterhalten", "spreche", "rede",
	}
	with := []string{
		"sprechen mit", "reden mit", "chatten mit", "verbinden Sie mich mit", "verbinden Sie mich bitte mit",
		"verbinde mich mit", "verbindet mich mit", "Verbindung mit", "Kontakt mit", "Kontakt zu",
		"weiterleiten an", "leiten Sie mich an", "leiten Sie mich weiter an", "leite mich an", "leite mich weiter an",
		"durchstellen zu",
	}
	forward := []string{
		"weiterleiten", "weitergeleitet", "verbinden", "verbunden", "durchstellen", "durchgestellt",
		"übergeben", "übergeben werden",
	}
	return handoffLang{
		code: langGerman,
		ack:  "Ich habe das Team gebeten, dieses Gespräch zu übernehmen. Jemand meldet sich bei Ihnen.",
		patterns: []handoffPattern{
			within(seq([]string{"mit"}, dets, nouns), verbs...),
			within(seq([]string{"mit"}, anyone), verbs...),
			seq(with, dets, nouns),
			seq(with, anyone),
			seq([]string{"einen", "eine", "den", "die", "einen echten", "eine echte", "einen richtigen",
				"einen menschlichen", "ihren", "ihre"}, nouns, []string{"sprechen", "kontaktieren", "erreichen"}),
			seq([]string{"jemanden"}, []string{"sprechen", "kontaktieren", "erreichen"}),
			seq([]string{"an", "zu", "zum", "zur"}, dets, nouns, forward),
			seq([]string{"ich möchte", "ich will", "ich brauche", "ich hätte gern", "ich hätte gerne", "bitte",
				"ich wünsche mir", "gibt es"}, []string{
				"einen Menschen", "einen Mitarbeiter", "eine echte Person", "einen echten Mitarbeiter",
				"einen echten Menschen", "einen Berater", "einen Ansprechpartner", "einen menschlichen Mitarbeiter",
				"einen Kundenberater", "einen Agenten", "menschliche Hilfe", "menschlichen Support",
			}),
			alone(
				"echten Mitarbeiter", "echter Mitarbeiter", "echte Mitarbeiterin", "echten Mitarbeiterin",
				"echten Menschen", "echter Mensch", "echte Person", "echten Person", "realen Person", "reale Person",
				"richtigen Menschen", "richtiger Mensch", "menschlichen Mitarbeiter", "menschlicher Mitarbeiter",
				"menschlichen Ansprechpartner", "menschlicher Ansprechpartner", "menschliche Hilfe",
				"menschlichen Support", "Mensch bitte", "Mitarbeiter bitte", "Menschen bitte",
			),
		},
		exact:   exactly("Mensch", "Mitarbeiter", "Berater", "ein Mensch", "einen Menschen", "Kundenservice", "Kundendienst"),
		markers: markers("ich", "mit", "einem", "einer", "bitte", "möchte", "sprechen", "kann", "einen", "den", "der", "die", "mich", "Sie"),
	}
}

func handoffPortuguese() handoffLang {
	leads := []string{
		"falar com", "conversar com", "fale com", "falo com", "falar diretamente com", "me passa para",
		"me passe para", "me passar para", "passar para", "me transfere para", "me transfira para",
		"me transferir para", "transferir para", "me conecta com", "me conecte com", "me conectar com",
		"conectar com", "me coloca em contato com", "me coloque em contato com", "entrar em contato com",
		"contato com", "contatar", "contactar", "ser atendido por", "ser atendida por", "atendido por",
		"atendida por", "me encaminha para", "me encaminhe para", "encaminhar para",
	}
	dets := []string{
		"", "um", "uma", "o", "a", "os", "as", "algum", "alguma", "seu", "sua", "seus", "suas", "alguém da",
		"alguém do", "alguém de", "alguém da sua", "alguém do seu", "um membro da", "um membro do",
		"um membro da sua", "uma pessoa da", "uma pessoa do", "um de seus", "um dos", "uma das",
		"um verdadeiro", "uma verdadeira", "o seu", "a sua",
	}
	nouns := []string{
		"atendente", "atendentes", "atendente humano", "humano", "ser humano", "agente", "agente humano",
		"representante", "operador", "operadora", "consultor", "consultora", "equipe", "time", "suporte",
		"atendimento", "atendimento humano", "atendimento ao cliente", "serviço de atendimento", "SAC",
		"gerente", "funcionário", "funcionária", "responsável", "vendedor", "vendedora", "especialista",
	}
	anyone := []string{
		"alguém", "alguém real", "uma pessoa", "uma pessoa real", "uma pessoa de verdade", "a pessoa",
		"pessoas reais", "um humano de verdade", "uma pessoa física", "alguma pessoa",
	}
	return handoffLang{
		code: langPortuguese,
		ack:  "Pedi a um membro da equipe para participar desta conversa. Essa pessoa entrará em contato com você.",
		patterns: []handoffPattern{
			seq(leads, dets, nouns),
			seq(leads, anyone),
			seq([]string{"quero", "preciso de", "prefiro", "gostaria de", "solicito", "peço", "queria", "tem", "existe"}, []string{
				"um humano", "uma pessoa real", "um atendente", "uma atendente", "um agente", "um agente humano",
				"atendimento humano", "um operador", "um representante", "uma pessoa de verdade", "um ser humano",
				"alguém real", "um consultor", "uma consultora",
			}),
			alone(
				"atendimento humano", "atendente humano", "agente humano", "pessoa real", "pessoa de verdade",
				"humano de verdade", "atendente real", "atendente por favor", "humano por favor",
				"pessoa por favor", "operador humano", "alguém real",
			),
		},
		exact:   exactly("humano", "atendente", "agente", "operador", "pessoa", "uma pessoa", "um humano", "um atendente", "atendimento"),
		markers: markers("com", "um", "uma", "quero", "preciso", "falar", "alguém", "você", "posso", "não", "eu", "o", "os", "gostaria", "tem", "pessoa", "atendente", "atendimento"),
	}
}
