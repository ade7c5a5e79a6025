package messaging

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// foldText returns s as keywords are matched: case-folded ("Book" →
// "book", "ß" and "ẞ" → "ss"), compatibility forms unified (full-width
// "Ｂｏｏｋ" → "book", "ﬁ" → "fi"), accents and other non-spacing marks
// removed ("Réserver" → "reserver"; kana keep their voicing marks), and
// every run of characters that are neither letters,
// digits nor spacing marks turned into one space, with a space at each
// end, so that " "+phrase+" " matches on word boundaries with
// strings.Contains. Apostrophes join ("I'd" → "id"). Characters of the
// scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao,
// Khmer, Myanmar) each stand as a word of their own, so a phrase of them
// matches anywhere in a sentence of them.
func foldText(s string) string {
	t := transform.Chain(norm.NFKD, cases.Fold(), norm.NFKD, runes.Remove(runes.Predicate(accent)), norm.NFC)
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(folded) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range folded {
		switch {
		case unicode.In(r, unspaced...):
			if !space {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			b.WriteByte(' ')
			space = true
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
			space = false
		case r == '\'' || r == '’':
			// "I'd", "quelqu'un": the apostrophe joins, it does not split.
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// accent reports the non-spacing marks foldText removes: all but the
// kana voicing marks, which make other letters ("て" → "で"), not accents.
func accent(r rune) bool {
	return unicode.Is(unicode.Mn, r) && r != '\u3099' && r != '\u309A'
}

// unspaced are the scripts written without spaces between words.
var unspaced = []*unicode.RangeTable{
	unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar,
}

// matchPhrase reports whether folded (foldText's result) holds phrase
// (itself folded) as whole words.
func matchPhrase(folded, phrase string) bool {
	return len(strings.TrimSpace(phrase)) > 0 && strings.Contains(folded, phrase)
}
