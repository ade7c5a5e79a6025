package messaging

import "unicode/utf8"

// maxEmojiBytes bounds one emoji: the longest ZWJ family sequences are
// about 35 bytes.
const maxEmojiBytes = 64

// singleEmoji reports whether s is exactly one emoji grapheme: a flag (two
// regional indicators), a keycap (0-9, # or * with U+20E3), or emoji
// elements joined by U+200D, each a pictograph with an optional
// variation selector, skin-tone modifier and tag sequence. It follows the
// shape of UTS #51's emoji sequences over the pictographic blocks rather
// than the full emoji data table: good enough to refuse words, several
// emoji and stray symbols.
func singleEmoji(s string) bool {
	if s == "" || len(s) > maxEmojiBytes || !utf8.ValidString(s) {
		return false
	}
	rs := []rune(s)
	if len(rs) == 2 && regional(rs[0]) && regional(rs[1]) {
		return true
	}
	if keycapBase(rs[0]) {
		return len(rs) == 2 && rs[1] == 0x20E3 || len(rs) == 3 && rs[1] == 0xFE0F && rs[2] == 0x20E3
	}
	i := 0
	for {
		if i >= len(rs) || !pictograph(rs[i]) {
			return false
		}
		i++
		if i < len(rs) && rs[i] == 0xFE0F {
			i++
		}
		if i < len(rs) && skinTone(rs[i]) {
			i++
		}
		for i < len(rs) && rs[i] >= 0xE0020 && rs[i] <= 0xE007E {
			i++
			if i < len(rs) && rs[i] == 0xE007F {
				i++
				break
			}
		}
		if i == len(rs) {
			return true
		}
		if rs[i] != 0x200D {
			return false
		}
		i++
	}
}

func regional(r rune) bool   { return r >= 0x1F1E6 && r <= 0x1F1FF }
func skinTone(r rune) bool   { return r >= 0x1F3FB && r <= 0x1F3FF }
func keycapBase(r rune) bool { return r >= '0' && r <= '9' || r == '#' || r == '*' }

// pictograph reports the code points that can start an emoji: the
// pictographic planes and the older symbol blocks that hold emoji.
func pictograph(r rune) bool {
	switch {
	case skinTone(r), regional(r):
		return false
	case r >= 0x1F000 && r <= 0x1FAFF, // mahjong … symbols and pictographs extended-A
		r >= 0x2600 && r <= 0x27BF, // miscellaneous symbols, dingbats
		r >= 0x2300 && r <= 0x23FF, // miscellaneous technical (⌚, ⏰)
		r >= 0x2B00 && r <= 0x2BFF, // arrows and stars (⭐, ⬆)
		r >= 0x2190 && r <= 0x21FF, // arrows
		r >= 0x25A0 && r <= 0x25FF, // geometric shapes
		r >= 0x2900 && r <= 0x297F, // supplemental arrows
		r == 0x00A9, r == 0x00AE, r == 0x203C, r == 0x2049, r == 0x2122, r == 0x2139, r == 0x24C2,
		r == 0x3030, r == 0x303D, r == 0x3297, r == 0x3299:
		return true
	}
	return false
}
