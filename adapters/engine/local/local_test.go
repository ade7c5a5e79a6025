package local_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gellhub/gellhub/adapters/engine/local"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// shop is a realistic agent: a shoe shop's assistant.
var shop = core.Agent{
	ID:                 "agt_1",
	Name:               "Support",
	BotDisplayName:     "Ana",
	BotRoleSummary:     "the virtual assistant of Acme Shoes",
	SystemInstructions: "Be friendly and brief.",
}

func qa(id, question, answer string) core.KnowledgeSource {
	return core.KnowledgeSource{ID: id, Kind: core.KnowledgeQA, Question: question, Content: answer}
}

func text(id, title, content string) core.KnowledgeSource {
	return core.KnowledgeSource{ID: id, Kind: core.KnowledgeText, Title: title, Content: content}
}

// faq is the shop's knowledge: the questions every shop is asked, a
// Spanish entry, and a few texts.
func faq() []core.KnowledgeSource {
	return []core.KnowledgeSource{
		qa("shipping_time", "How long does shipping take?",
			"Orders leave our warehouse within 1 business day. Delivery takes 2–4 business days in mainland Spain and 5–8 days to the rest of the EU."),
		qa("shipping_cost", "How much does shipping cost?",
			"Shipping is free on orders over 50 €. Below that, standard shipping costs 4.95 €."),
		qa("returns", "What is your return policy?",
			"You can return any unworn pair within 30 days of delivery for a full refund. Start your return from the link in your confirmation email."),
		qa("hours", "What are your opening hours?",
			"Our shop in Valencia is open Monday to Friday from 10:00 to 20:00 and Saturday from 10:00 to 14:00. We are closed on Sundays."),
		qa("address", "Where is your shop?",
			"Our shop is at Calle de la Paz 12, 46003 Valencia, Spain, two minutes from the cathedral."),
		qa("payment", "Which payment methods do you accept?",
			"We accept Visa, Mastercard, American Express, PayPal and Bizum."),
		qa("gift_cards", "Do you sell gift cards?",
			"Yes. Gift cards are sold in the shop and online, from 10 € to 200 €; the price is the value of the card."),
		qa("vat", "Do your prices include VAT?",
			"Yes, every price on the website includes 21% Spanish VAT."),
		qa("envio_canarias", "¿Hacéis envíos a Canarias?",
			"Sí, enviamos a Canarias en 5–7 días laborables. Los impuestos de importación (IGIC) corren a cargo del cliente."),
		text("about", "About us",
			"Acme Shoes is a family business founded in 1985 in Valencia. We make leather shoes by hand in our own workshop. Every pair is made to last and can be resoled."),
		text("care", "Care guide",
			"# Leather\n\nClean leather with a soft, dry cloth. Apply a neutral cream once a month to keep the leather supple. Never put your shoes in the washing machine.\n\n# Wet shoes\n\nLet wet shoes dry at room temperature, stuffed with newspaper, away from radiators and direct sunlight. Heat cracks the leather."),
		text("sizing", "Sizing",
			"Our shoes fit true to size. If you are between two sizes, we recommend the larger one. Our Comfort line is 5 mm wider for wide feet."),
	}
}

func reply(t *testing.T, knowledge []core.KnowledgeSource, messages ...string) ports.EngineReply {
	t.Helper()
	var conv []core.ChatMessage
	for i, m := range messages {
		role := core.RoleUser
		if i%2 == 1 {
			role = core.RoleAssistant
		}
		conv = append(conv, core.ChatMessage{Role: role, Content: m})
	}
	r, err := local.New().Reply(context.Background(), ports.EngineRequest{Agent: shop, Knowledge: knowledge, Messages: conv})
	if err != nil {
		t.Fatalf("Reply(%q): %v", messages, err)
	}
	if strings.TrimSpace(r.Content) == "" {
		t.Fatalf("Reply(%q): empty content", messages)
	}
	return r
}

func answerOf(t *testing.T, id string) string {
	t.Helper()
	for _, s := range faq() {
		if s.ID == id {
			return s.Content
		}
	}
	t.Fatalf("no source %q", id)
	return ""
}

func TestReply_answersParaphrasedQuestions(t *testing.T) {
	t.Parallel()
	cases := []struct{ question, want string }{
		{"how many days until my package is delivered?", "shipping_time"},
		{"When will my order arrive?", "shipping_time"},
		{"is delivery free?", "shipping_cost"},
		{"What do you charge for postage?", "shipping_cost"},
		{"How much is delivery", "shipping_cost"},
		{"Can I get a refund?", "returns"},
		{"i want to return the shoes i bought, is that possible??", "returns"},
		{"Are you open on saturday?", "hours"},
		{"when do you close today", "hours"},
		{"what's your address", "address"},
		{"where are you located?", "address"},
		{"can I pay with paypal", "payment"},
		{"Do you accept Apple Pay?", "payment"},
		{"What payment options do you have?", "payment"},
		{"I'd like to buy a gift card for my sister", "gift_cards"},
		{"is VAT included in the prices?", "vat"},
		{"¿Cuánto cuesta el envío?", "shipping_cost"},
		{"cuanto cuesta el envio", "shipping_cost"},
		{"¿Puedo devolver un producto?", "returns"},
		{"¿Cuál es vuestro horario?", "hours"},
		{"¿Dónde está la tienda?", "address"},
		{"envios a canarias?", "envio_canarias"},
		{"¿Enviáis a las Islas Canarias?", "envio_canarias"},
	}
	for _, c := range cases {
		t.Run(c.question, func(t *testing.T) {
			t.Parallel()
			r := reply(t, faq(), c.question)
			if r.Content != answerOf(t, c.want) {
				t.Errorf("Reply(%q)\n got: %q\nwant: %q (%s)", c.question, r.Content, answerOf(t, c.want), c.want)
			}
			if len(r.SourceIDs) != 1 || r.SourceIDs[0] != c.want {
				t.Errorf("SourceIDs = %v, want [%s]", r.SourceIDs, c.want)
			}
		})
	}
}

func TestReply_answersFromTextPassages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		question, want, notWant, id string
	}{
		{"How should I clean my leather shoes?", "soft, dry cloth", "radiators", "care"},
		{"my shoes got wet in the rain, what do I do", "room temperature", "washing machine", "care"},
		{"I'm between two sizes, which one should I choose?", "larger one", "", "sizing"},
		{"who makes your shoes? are they handmade", "by hand", "", "about"},
	}
	for _, c := range cases {
		t.Run(c.question, func(t *testing.T) {
			t.Parallel()
			r := reply(t, faq(), c.question)
			if !strings.Contains(r.Content, c.want) {
				t.Errorf("Reply(%q) = %q, want it to contain %q", c.question, r.Content, c.want)
			}
			if c.notWant != "" && strings.Contains(r.Content, c.notWant) {
				t.Errorf("Reply(%q) = %q: the wrong passage (%q)", c.question, r.Content, c.notWant)
			}
			if len(r.SourceIDs) == 0 || r.SourceIDs[0] != c.id {
				t.Errorf("SourceIDs = %v, want %s first", r.SourceIDs, c.id)
			}
			if strings.Contains(r.Content, "#") {
				t.Errorf("Reply(%q) = %q shows a markdown heading", c.question, r.Content)
			}
		})
	}
}

func TestReply_greets(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]string{
		"hi":                   "Hi! I'm Ana, the virtual assistant of Acme Shoes. How can I help you today?",
		"Hello there!":         "Hi! I'm Ana, the virtual assistant of Acme Shoes. How can I help you today?",
		"hey ana, how are you": "Hi! I'm Ana, the virtual assistant of Acme Shoes. How can I help you today?",
		"Hola":                 "¡Hola! Soy Ana, the virtual assistant of Acme Shoes. ¿En qué puedo ayudarte?",
		"hola, buenas tardes":  "¡Hola! Soy Ana, the virtual assistant of Acme Shoes. ¿En qué puedo ayudarte?",
	} {
		if got := reply(t, faq(), msg); got.Content != want || len(got.SourceIDs) != 0 {
			t.Errorf("Reply(%q) = %q %v, want %q", msg, got.Content, got.SourceIDs, want)
		}
	}
	// A greeting followed by a question: a short hello, then the answer.
	r := reply(t, faq(), "Hi! How much does delivery cost?")
	if want := "Hi! " + answerOf(t, "shipping_cost"); r.Content != want {
		t.Errorf("greeting and question: got %q, want %q", r.Content, want)
	}
	if r := reply(t, faq(), "thanks a lot!"); !strings.HasPrefix(r.Content, "You're welcome!") {
		t.Errorf("thanks: got %q", r.Content)
	}
	if r := reply(t, faq(), "muchas gracias"); !strings.HasPrefix(r.Content, "¡De nada!") {
		t.Errorf("gracias: got %q", r.Content)
	}
}

func TestReply_personaWordings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		agent core.Agent
		want  string
	}{
		{core.Agent{BotDisplayName: "Max", BotRoleSummary: "Helps customers of Bikes & Co."}, "Hi! I'm Max — Helps customers of Bikes & Co. How can I help you today?"},
		{core.Agent{Name: "Support"}, "Hi! I'm Support. How can I help you today?"},
		{core.Agent{}, "Hi! I'm your virtual assistant. How can I help you today?"},
	}
	for _, c := range cases {
		r, err := local.New().Reply(context.Background(), ports.EngineRequest{
			Agent: c.agent, Messages: []core.ChatMessage{{Role: core.RoleUser, Content: "hello"}},
		})
		if err != nil || r.Content != c.want {
			t.Errorf("Reply(%+v) = %q, %v; want %q", c.agent, r.Content, err, c.want)
		}
	}
}

func TestReply_fallsBackPolitely(t *testing.T) {
	t.Parallel()
	for _, msg := range []string{
		"Do you sell bicycles?",
		"what's the weather like in Madrid",
		"Can I pay with bitcoin?",
		"??",
	} {
		r := reply(t, faq(), msg)
		if !strings.HasPrefix(r.Content, "I'm Ana, the virtual assistant of Acme Shoes. I don't have information about that yet") {
			t.Errorf("Reply(%q) = %q, want the fallback", msg, r.Content)
		}
		if len(r.SourceIDs) != 0 {
			t.Errorf("Reply(%q): SourceIDs = %v on a fallback", msg, r.SourceIDs)
		}
		if strings.Count(r.Content, "“") != 3 {
			t.Errorf("Reply(%q) = %q, want three suggested topics", msg, r.Content)
		}
	}
	r := reply(t, faq(), "what's the weather like in Madrid")
	want := "I'm Ana, the virtual assistant of Acme Shoes. I don't have information about that yet — could you rephrase your question, or ask me about “How long does shipping take”, “How much does shipping cost” or “What is your return policy”?"
	if r.Content != want {
		t.Errorf("fallback:\n got %q\nwant %q", r.Content, want)
	}
	r = reply(t, faq(), "¿Vendéis bicicletas?")
	if !strings.HasPrefix(r.Content, "Soy Ana, the virtual assistant of Acme Shoes. Todavía no tengo información sobre eso — ¿podrías reformular tu pregunta o preguntarme sobre “") {
		t.Errorf("Spanish fallback: %q", r.Content)
	}
}

func TestReply_foldsAccents(t *testing.T) {
	t.Parallel()
	knowledge := []core.KnowledgeSource{
		qa("a", "¿Cuánto tarda el envío?", "El envío tarda 48 horas."),
		qa("b", "¿Cuál es la política de devolución?", "Tienes 30 días para devolver tu compra."),
	}
	for _, msg := range []string{"cuanto tarda el envio", "CUÁNTO TARDA EL ENVÍO", "envio", "ENVIO?", "envíos", "Envi\u0301o"} {
		if r := reply(t, knowledge, msg); r.Content != "El envío tarda 48 horas." {
			t.Errorf("Reply(%q) = %q", msg, r.Content)
		}
	}
	if r := reply(t, knowledge, "devolucion"); r.Content != "Tienes 30 días para devolver tu compra." {
		t.Errorf("Reply(devolucion) = %q", r.Content)
	}
}

func TestReply_shortFollowUpUsesContext(t *testing.T) {
	t.Parallel()
	r := reply(t, faq(), "Do you sell gift cards?", answerOf(t, "gift_cards"), "and the price?")
	if r.Content != answerOf(t, "gift_cards") {
		t.Errorf("follow-up on gift cards = %q", r.Content)
	}
	r = reply(t, faq(), "Do your prices include VAT?", answerOf(t, "vat"), "and the price?")
	if r.Content != answerOf(t, "vat") {
		t.Errorf("follow-up on VAT = %q", r.Content)
	}
	// A short message that stands on its own is not pulled back.
	r = reply(t, faq(), "How long does shipping take?", answerOf(t, "shipping_time"), "and returns?")
	if r.Content != answerOf(t, "returns") {
		t.Errorf("new topic = %q", r.Content)
	}
}

func TestReply_emptyKnowledge(t *testing.T) {
	t.Parallel()
	for _, k := range [][]core.KnowledgeSource{nil, {qa("x", "Empty?", "  ")}} {
		r := reply(t, k, "How long does shipping take?")
		want := "I'm Ana, the virtual assistant of Acme Shoes. I don't have information about that yet — could you rephrase your question?"
		if r.Content != want {
			t.Errorf("Reply = %q, want %q", r.Content, want)
		}
	}
}

func TestReply_noUserMessageIsInvalid(t *testing.T) {
	t.Parallel()
	for _, msgs := range [][]core.ChatMessage{nil, {{Role: core.RoleAssistant, Content: "Hi!"}}, {{Role: core.RoleUser, Content: "  "}}} {
		_, err := local.New().Reply(context.Background(), ports.EngineRequest{Agent: shop, Messages: msgs})
		if !core.IsKind(err, core.KindInvalid) {
			t.Errorf("Reply(%v) error = %v, want invalid", msgs, err)
		}
	}
}

func TestReply_canceledContextIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := local.New().Reply(ctx, ports.EngineRequest{Agent: shop, Messages: []core.ChatMessage{{Role: core.RoleUser, Content: "hi"}}})
	if !core.IsKind(err, core.KindUnavailable) {
		t.Errorf("error = %v, want unavailable", err)
	}
}

func TestReply_isDeterministic(t *testing.T) {
	t.Parallel()
	knowledge := bigKnowledge(300)
	for _, msg := range []string{"how much is shipping to topic 7", "hello", "returns for item 12?", "nothing at all matches zzz"} {
		first := reply(t, knowledge, msg)
		for range 20 {
			if r := reply(t, knowledge, msg); r.Content != first.Content || fmt.Sprint(r.SourceIDs) != fmt.Sprint(first.SourceIDs) {
				t.Fatalf("Reply(%q) changed: %q then %q", msg, first.Content, r.Content)
			}
		}
	}
}

func TestReply_trimsLongPassages(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Our warranty covers manufacturing defects for two years from the date of purchase. ", 40)
	r := reply(t, []core.KnowledgeSource{text("w", "Warranty", long)}, "how long is the warranty?")
	if len(r.Content) > 900 || !strings.HasPrefix(r.Content, "Our warranty covers") || !strings.HasSuffix(r.Content, ".") {
		t.Errorf("long passage answer (%d bytes) = %q", len(r.Content), r.Content)
	}
	oneSentence := "Warranty " + strings.Repeat("ñandú ", 400)
	r = reply(t, []core.KnowledgeSource{text("w", "", oneSentence)}, "warranty")
	if len(r.Content) > 900 || !strings.HasSuffix(r.Content, "…") || !strings.HasPrefix(r.Content, "Warranty") {
		t.Errorf("long sentence answer (%d bytes) = %q", len(r.Content), r.Content)
	}
}

func TestRank(t *testing.T) {
	t.Parallel()
	hits := local.Rank(faq(), "How much does delivery cost?", 3)
	if len(hits) == 0 || hits[0].Source.ID != "shipping_cost" {
		t.Fatalf("Rank = %+v, want shipping_cost first", hits)
	}
	if len(hits) > 3 {
		t.Errorf("Rank returned %d hits, want at most 3", len(hits))
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Score > hits[i-1].Score {
			t.Errorf("hits out of order: %+v", hits)
		}
	}
	for _, h := range hits {
		if h.Source.ID == "care" || h.Source.ID == "about" {
			t.Errorf("irrelevant source ranked: %s", h.Source.ID)
		}
	}
	care := local.Rank(faq(), "wet shoes radiator", 0)
	if len(care) == 0 || care[0].Source.ID != "care" || !strings.Contains(care[0].Passage, "radiators") || strings.Contains(care[0].Passage, "washing") {
		t.Errorf("Rank(wet shoes) = %+v, want the care guide's wet-shoes passage", care)
	}
	if hits := local.Rank(faq(), "the and of", 5); hits != nil {
		t.Errorf("Rank(stop words) = %+v, want nil", hits)
	}
	if hits := local.Rank(nil, "shipping", 5); hits != nil {
		t.Errorf("Rank(no knowledge) = %+v, want nil", hits)
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	conv := []core.ChatMessage{
		{Role: core.RoleUser, Content: "Do you sell gift cards?"},
		{Role: core.RoleAssistant, Content: "Yes."},
		{Role: core.RoleUser, Content: "and the price?"},
	}
	if got := local.Query(conv); got != "and the price?\nDo you sell gift cards?" {
		t.Errorf("Query(short follow-up) = %q", got)
	}
	conv[2].Content = "What does a gift card cost?"
	if got := local.Query(conv); got != "What does a gift card cost?" {
		t.Errorf("Query(full question) = %q", got)
	}
	if got := local.Query(nil); got != "" {
		t.Errorf("Query(nil) = %q", got)
	}
}

// bigKnowledge builds n sources about numbered topics: a mix of qa and
// text entries of a realistic size.
func bigKnowledge(n int) []core.KnowledgeSource {
	words := strings.Fields("shipping returns warranty leather sizes colors stock delivery payment discount store hours gift card exchange repair cleaning laces soles boots sandals sneakers kids women men")
	out := make([]core.KnowledgeSource, 0, n)
	for i := range n {
		w1, w2, w3 := words[i%len(words)], words[(i*7+3)%len(words)], words[(i*13+5)%len(words)]
		if i%3 == 0 {
			body := fmt.Sprintf("Topic %d covers %s and %s. ", i, w1, w2) +
				strings.Repeat(fmt.Sprintf("Item %d: details about %s, %s and %s for our customers. ", i, w1, w2, w3), 8)
			out = append(out, text(fmt.Sprintf("t%d", i), fmt.Sprintf("Topic %d: %s", i, w1), body))
			continue
		}
		out = append(out, qa(fmt.Sprintf("q%d", i),
			fmt.Sprintf("What about %s and %s for item %d?", w1, w2, i),
			fmt.Sprintf("For item %d, %s and %s work like this: %s is included, and %s is handled by our team within %d days.", i, w1, w2, w1, w3, i%9+1)))
	}
	return out
}

func BenchmarkReply1000Sources(b *testing.B) {
	knowledge := bigKnowledge(1000)
	e := local.New()
	req := ports.EngineRequest{Agent: shop, Knowledge: knowledge, Messages: []core.ChatMessage{
		{Role: core.RoleUser, Content: "How long does delivery of leather boots take for item 512?"},
	}}
	var bytes int
	for _, k := range knowledge {
		bytes += len(k.Question) + len(k.Title) + len(k.Content)
	}
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Reply(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRank1000Sources(b *testing.B) {
	knowledge := bigKnowledge(1000)
	b.ReportAllocs()
	for b.Loop() {
		if hits := local.Rank(knowledge, "warranty on sneakers for kids", 8); len(hits) == 0 {
			b.Fatal("no hits")
		}
	}
}
