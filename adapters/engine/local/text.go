package local

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file turns text into index terms: lower-case, accents folded
// (é → e, ñ → n, ß → ss), punctuation dropped, stop words removed, a light
// stemmer (plural s/es/ies, -ing, -ed, a final e), and a small bilingual
// table of shop words that mean the same thing ("delivery", "shipping",
// "envío" are one term). Index and query go through the same path, so the
// stemmer only has to be consistent, not linguistically right.

// latinExtA folds U+0100…U+017F to ASCII letters; '*' marks the two
// ligatures foldRune spells out ("ij", "oe").
const latinExtA = "aaaaaacccccccc" + "dddd" + "eeeeeeeeee" + "gggggggg" + "hhhh" +
	"iiiiiiiiii" + "**" + "jj" + "kkk" + "llllllllll" + "nnnnnnnnn" + "oooooo" +
	"**" + "rrrrrr" + "ssssssss" + "tttttt" + "uuuuuuuuuuuu" + "ww" + "yyy" +
	"zzzzzz" + "s"

// latin1 folds U+00C0…U+00FF; '*' marks the letters foldRune spells out
// (æ, þ, ß) and '_' the signs × and ÷, which separate words.
const latin1 = "aaaaaa*ceeeeiiiidnooooo_ouuuuy**" + "aaaaaa*ceeeeiiiidnooooo_ouuuuy*y"

// foldRune lower-cases r and folds its accent away. It returns the
// replacement (one or two ASCII letters, or the lower-cased rune itself)
// and whether r belongs to a word at all.
func foldRune(r rune) (string, rune, bool) {
	switch {
	case r < utf8.RuneSelf:
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return "", r, true
		case 'A' <= r && r <= 'Z':
			return "", r + 'a' - 'A', true
		}
		return "", 0, false
	case 0xC0 <= r && r <= 0xFF:
		switch c := latin1[r-0xC0]; c {
		case '_':
			return "", 0, false
		case '*':
			switch r {
			case 'Æ', 'æ':
				return "ae", 0, true
			case 'Þ', 'þ':
				return "th", 0, true
			default: // ß
				return "ss", 0, true
			}
		default:
			return "", rune(c), true
		}
	case 0x100 <= r && r <= 0x17F:
		if c := latinExtA[r-0x100]; c != '*' {
			return "", rune(c), true
		}
		if r == 'Ĳ' || r == 'ĳ' {
			return "ij", 0, true
		}
		return "oe", 0, true
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return "", unicode.ToLower(r), true
	}
	return "", 0, false
}

// isJoiner reports the marks that are dropped without splitting a word:
// apostrophes ("don't" → "dont") and combining accents of decomposed text.
func isJoiner(r rune) bool {
	return r == '\'' || r == '’' || (0x300 <= r && r <= 0x36F)
}

// tokenizer splits text into terms. Its buffer is reused, so a tokenizer
// is used by one goroutine at a time; the []byte handed to the callback is
// valid only during the call.
type tokenizer struct {
	buf []byte
}

// each calls fn with every term of s, in order.
func (t *tokenizer) each(s string, fn func(term []byte)) {
	t.words(s, func(w []byte) {
		if term, ok := termOf(w); ok {
			fn(term)
		}
	})
}

// termOf turns a folded word into its term (stemming w in place), or
// reports false for a stop word or a lone letter. The result must not be
// modified.
func termOf(w []byte) ([]byte, bool) {
	if len(w) < 2 && (w[0] < '0' || w[0] > '9') {
		return nil, false
	}
	if _, stop := stopWords[string(w)]; stop {
		return nil, false
	}
	w = stem(w)
	if c, ok := synonyms[string(w)]; ok {
		return c, true
	}
	return w, true
}

// words calls fn with every folded word of s, stop words included.
func (t *tokenizer) words(s string, fn func(w []byte)) {
	b := t.buf[:0]
	for _, r := range s {
		if isJoiner(r) {
			continue
		}
		two, one, ok := foldRune(r)
		switch {
		case !ok:
			if len(b) > 0 {
				fn(b)
				b = b[:0]
			}
		case two != "":
			b = append(b, two...)
		default:
			b = utf8.AppendRune(b, one)
		}
	}
	if len(b) > 0 {
		fn(b)
	}
	t.buf = b[:0]
}

// terms returns the terms of s as strings.
func terms(s string) []string {
	var t tokenizer
	var out []string
	t.each(s, func(w []byte) { out = append(out, string(w)) })
	return out
}

// foldWords returns the folded words of s, stop words included.
func foldWords(s string) []string {
	var t tokenizer
	var out []string
	t.words(s, func(w []byte) { out = append(out, string(w)) })
	return out
}

// stem strips a plural, an -ing or -ed, or a final e, in place. It is a
// light, language-agnostic stemmer for English and Spanish shop talk.
func stem(w []byte) []byte {
	n := len(w)
	switch {
	case n > 4 && hasSuffix(w, "ies"):
		w = append(w[:n-3], 'y')
	case n > 4 && hasSuffix(w, "sses"):
		w = w[:n-2]
	case n > 4 && hasSuffix(w, "es") && (hasSuffix(w[:n-2], "x") || hasSuffix(w[:n-2], "z") ||
		hasSuffix(w[:n-2], "ch") || hasSuffix(w[:n-2], "sh")):
		w = w[:n-2]
	case n > 3 && w[n-1] == 's' && !hasSuffix(w, "ss") && !hasSuffix(w, "us") && !hasSuffix(w, "is"):
		w = w[:n-1]
	}
	n = len(w)
	switch {
	case n > 5 && hasSuffix(w, "ing"):
		return undouble(w[:n-3])
	case n > 4 && hasSuffix(w, "ed"):
		return undouble(w[:n-2])
	case n > 4 && w[n-1] == 'e' && !hasSuffix(w, "lle"): // "calle" is not "call"
		return w[:n-1]
	}
	return w
}

// undouble drops the last letter of a doubled final consonant
// ("shipp" → "ship"), except l, s and z ("call", "pass").
func undouble(w []byte) []byte {
	n := len(w)
	if n >= 3 && w[n-1] == w[n-2] && w[n-1] < utf8.RuneSelf && !strings.ContainsRune("aeiouylsz", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

func hasSuffix(w []byte, s string) bool {
	return len(w) >= len(s) && string(w[len(w)-len(s):]) == s
}

// stopWords are dropped before stemming: English and Spanish function
// words, and the filler of chat questions ("could you tell me…").
// Interrogatives that carry meaning ("where", "donde", "much") are mapped
// by synonyms instead.
var stopWords = wordSet(`
a about above after again against all also am an and any are as at be because been before being
below between both but by can cannot could did do does doing done dont down during each either
else ever every few for from further get gets getting give got had has have having he her here
hers him his how however i id if im in into is isnt it its itself ive just know let like me might
mine more most must my myself need hasnt havent didnt doesnt isnt arent wasnt wont cant neither no nor not now of off ok okay on once only or other
our ours out over own please really same she should so some such tell than that thats the their
theirs them then there these they this those through to too under until up upon us very want was
we were what whats which while who whom whose why will with would wondering wonder yes yeah
you your youre yours yourself question questions ask asking info information hi hello hey hiya
howdy thanks thank thx dear many well take product products item items thing things stuff
de del la las el los lo le les un una unos unas y e o u a al en con por para sin sobre entre
hasta desde que qué quien quienes cual cuales como cuanto cuantos cuanta cuantas porque
pero mas ya si no ni se su sus mi mis tu tus te ti me nos os yo ella ellos ellas usted ustedes
nosotros vosotros este esta esto estos estas ese esa eso esos esas aquel es son soy eres somos
sea fue era ser estar estoy estan hay ha han he has haber tiene tienen tengo tener puedo puede
pueden podria podrias quiero quisiera queria saber hacer hace favor hola buenas buenos dias
tardes noches gracias muy tambien algo alguna alguno pregunta informacion vale haceis hacen
teneis producto productos articulo articulos cosa cosas
`)

// synonymGroups are shop words that mean the same thing; each group maps
// to its first word's stem. English and Spanish side by side, so that a
// question in one matches an answer that uses another word for it.
var synonymGroups = [][]string{
	{"ship", "shipping", "shipment", "deliver", "delivery", "arrive", "arrival", "dispatch",
		"postage", "courier", "package", "parcel", "paquete", "envio", "enviais", "envias", "enviamos", "enviar", "envian", "entrega", "entregar", "despacho",
		"llega", "llegar", "llegan", "llegara"},
	{"return", "refund", "exchange", "devolucion", "devolver", "reembolso"},
	{"price", "cost", "much", "fee", "charge", "pricing", "precio", "cuesta", "cuestan", "coste", "costo",
		"tarifa"},
	{"hour", "open", "close", "schedule", "timetable", "horario", "abierto", "abren", "abre",
		"cierra", "cierran", "cerrado"},
	{"pay", "payment", "paid", "pago", "pagar"},
	{"where", "location", "located", "address", "situated", "donde", "direccion", "ubicacion",
		"ubicado", "ubicados"},
	{"contact", "phone", "telephone", "email", "call", "reach", "contacto", "contactar",
		"telefono", "llamar", "correo"},
	{"cancel", "cancellation", "cancelar", "cancelacion", "anular"},
	{"order", "purchase", "buy", "bought", "pedido", "compra", "comprar"},
	{"shop", "store", "tienda"},
	{"method", "option", "way", "forma", "metodo", "opcion"},
	{"size", "sizing", "talla"},
	{"discount", "coupon", "promo", "promotion", "sale", "descuento", "cupon", "oferta", "rebaja"},
	{"warranty", "guarantee", "garantia"},
	{"stock", "available", "availability", "disponible", "disponibilidad", "existencia"},
	{"long", "when", "cuando", "tarda", "tardan", "tardar", "demora", "plazo"},
}

// synonyms maps a stem to its group's stem.
var synonyms = buildSynonyms(synonymGroups)

func buildSynonyms(groups [][]string) map[string][]byte {
	m := map[string][]byte{}
	for _, g := range groups {
		canon := stem([]byte(g[0]))
		for _, w := range g {
			m[string(stem([]byte(w)))] = canon
		}
	}
	return m
}

func wordSet(s string) map[string]struct{} {
	m := map[string]struct{}{}
	for _, w := range strings.Fields(s) {
		for _, f := range foldWords(w) {
			m[f] = struct{}{}
		}
	}
	return m
}
