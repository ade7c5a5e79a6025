package local

import (
	"slices"
	"strings"
	"testing"
)

func TestFoldTables(t *testing.T) {
	t.Parallel()
	if len(latin1) != 0x100-0xC0 || len(latinExtA) != 0x180-0x100 {
		t.Fatalf("fold tables: latin1 %d, latinExtA %d", len(latin1), len(latinExtA))
	}
	for in, want := range map[string]string{
		"ÁÉÍÓÚ áéíóú Ññ Üü Çç":        "aeiou aeiou nn uu cc",
		"Straße Æsir œuvre":           "strasse aesir oeuvre",
		"Łódź Čeština İstanbul Ĳssel": "lodz cestina istanbul ijssel",
		"e\u0301te don’t l'été":       "ete dont lete",
		"9:00–18:00, 4×4 ÷2":          "9 00 18 00 4 4 2",
		"Привет МИР":                  "привет мир",
	} {
		if got := strings.Join(foldWords(in), " "); got != want {
			t.Errorf("foldWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTerms(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		"How long does shipping take?":      {"long", "ship"},
		"When will my parcel be delivered?": {"long", "ship", "ship"},
		"¿Cuánto cuesta el envío?":          {"pric", "ship"},
		"cuanto cuesta el envio":            {"pric", "ship"},
		"Devoluciones y reembolsos":         {"return", "return"},
		"prices, priced, pricing":           {"pric", "pric", "pric"},
		"boxes addresses stories":           {"box", "wher", "story"},
		"opening hours; closed on Sundays":  {"hour", "hour", "hour", "sunday"},
		"Calle de la Paz":                   {"calle", "paz"},
		"the and of a I":                    nil,
	} {
		if got := terms(in); !slices.Equal(got, want) {
			t.Errorf("terms(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitPassages(t *testing.T) {
	t.Parallel()
	text := "# Shipping\n\nWe ship worldwide. Orders leave within 24 h. Delivery to Spain takes 2-3 days. " +
		"Delivery to the rest of Europe takes 3-5 days. Outside Europe it takes 7-10 days. Tracking is sent by e-mail.\n\n" +
		"Opening hours:\nMon-Fri: 9:00-18:00\nSat: 10:00-14:00\n\nReturns\n\nReturn items within 30 days, 9 a.m. to 5 p.m. at the desk."
	got := splitPassages(text)
	want := []passage{
		{"Shipping", "We ship worldwide. Orders leave within 24 h. Delivery to Spain takes 2-3 days. Delivery to the rest of Europe takes 3-5 days. Outside Europe it takes 7-10 days. Tracking is sent by e-mail."},
		{"Shipping", "Opening hours:\nMon-Fri: 9:00-18:00\nSat: 10:00-14:00"},
		{"Returns", "Return items within 30 days, 9 a.m. to 5 p.m. at the desk."},
	}
	if !slices.Equal(got, want) {
		t.Errorf("splitPassages:\n got %q\nwant %q", got, want)
	}
	long := strings.Repeat("This sentence is about forty-five bytes long. ", 40)
	for _, p := range splitPassages(long) {
		if len(p.text) > maxPassage {
			t.Errorf("passage of %d bytes > %d", len(p.text), maxPassage)
		}
	}
	if got := splitPassages("  \n\n "); len(got) != 0 {
		t.Errorf("blank text: %q", got)
	}
	if got := splitPassages("Returns"); len(got) != 1 || got[0].text != "Returns" {
		t.Errorf("a lone short line is text, not a heading: %q", got)
	}
}
