package messaging

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

func TestFoldText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"", " "},
		{"   ", " "},
		{"Book a table", " book a table "},
		{"BOOK.", " book "},
		{"  Réservez, s'il vous plaît!  ", " reservez sil vous plait "},
		{"Straße", " strasse "},
		{"STRASSE", " strasse "},
		{"GROẞE", " grosse "},
		{"Ｂｏｏｋ ｎｏｗ", " book now "},
		{"ﬁle", " file "},
		{"İstanbul", " istanbul "},
		{"ΣΟΦΟΣ σοφος", " σοφοσ σοφοσ "},
		{"I'd like a café", " id like a cafe "},
		{"quelqu’un", " quelquun "},
		{"e-mail/phone_number", " e mail phone number "},
		{"price: 10€ (2x)", " price 10 2x "},
		{"¿Puedo reservar?", " puedo reservar "},
		{"São João", " sao joao "},
		{"😀 hi 😀", " hi "},
		{"明日予約できますか", " 明 日 予 約 で き ま す か "},
		{"予約 please", " 予 約 please "},
		{"नमस्ते", " नमसत "},           // the non-spacing virama and vowel sign go
		{"हिंदी", " हिदी "},            // spacing vowel signs (Mc) stay in the word
		{"ガイド ｶﾞｲﾄﾞ", " ガ イ ド ガ イ ド "}, // kana keep their voicing; half-width kana unified
		{"line\nbreak\ttab", " line break tab "},
	} {
		require.Equal(t, c.want, foldText(c.in), "foldText(%q)", c.in)
	}
}

func TestMatchPhrase(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text, phrase string
		want         bool
	}{
		{"Book a table", "book", true},
		{"I want to book.", "book", true},
		{"book", "Book", true},
		{"BOOK!!!", "book", true},
		{"visit our facebook page", "book", false},
		{"booking for two", "book", false},
		{"notebook", "book", false},
		{"Réservar una mesa", "reservar", true},
		{"reservar una mesa", "Réservar", true},
		{"un café por favor", "cafe", true},
		{"un cafe por favor", "café", true},
		{"What are your opening hours?", "opening hours", true},
		{"What are your opening  hours?", "opening hours", true},
		{"opening-hours", "opening hours", true},
		{"opening soon; hours later", "opening hours", false},
		{"the reopening hours", "opening hours", false},
		{"e-mail me", "email", false},
		{"e-mail me", "e-mail", true},
		{"e mail me", "e-mail", true},
		{"I don't know", "dont", true},
		{"price?", "price", true},
		{"prices?", "price", false},
		{"明日予約できますか", "予約", true},
		{"明日予約できますか", "予約する", false},
		{"anything", "", false},
		{"anything", "   ", false},
		{"anything", "!!!", false},
	} {
		require.Equal(t, c.want, matchPhrase(foldText(c.text), foldText(c.phrase)), "matchPhrase(%q, %q)", c.text, c.phrase)
	}
}

func TestMatchSkill(t *testing.T) {
	t.Parallel()
	skills := []core.Skill{
		{Key: "booking", Label: "Booking", Keywords: []string{"book", "appointment", "réserver"}},
		{Key: "catalog", Label: "Products", Keywords: []string{"product", "price", "book"}},
		{Key: "hours", Label: "Hours", Keywords: []string{"opening hours"}},
	}
	for _, c := range []struct{ message, want string }{
		{"Can I book an appointment?", "booking"},
		{"What is the price of this book?", "booking"}, // both match: the first configured wins
		{"What is the price?", "catalog"},
		{"Je voudrais RESERVER", "booking"},
		{"what are your Opening Hours", "hours"},
		{"I'm on facebook", ""},
		{"booking", ""},
		{"", ""},
	} {
		sk, ok := matchSkill(skills, c.message)
		require.Equal(t, c.want != "", ok, "message %q", c.message)
		require.Equal(t, c.want, sk.Key, "message %q", c.message)
	}
	_, ok := matchSkill(nil, "book")
	require.False(t, ok)
}
