package messaging

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDetectHandoff(t *testing.T) {
	t.Parallel()
	positives := map[string][]string{
		langEnglish: {
			"talk to a human",
			"I need to speak with someone on your team",
			"Can I talk to a REAL PERSON please?",
			"real person",
			"Get me a live agent!!!",
			"I'd like to speak to a representative.",
			"connect me to customer service",
			"Is there a person I can talk to?",
			"Transfer me to an operator",
			"let me talk to your manager",
			"HUMAN",
			"Agent.",
			"human please",
			"Can I chat with support?",
			"i want a human, not a bot",
			"speak to someone",
			"Could you put me through to a member of staff?",
		},
		langSpanish: {
			"hablar con una persona",
			"Quiero hablar con alguien",
			"agente humano",
			"¿Puedo HABLAR CON UN AGENTE?",
			"Necesito hablar con una persona real, por favor",
			"pásame con un asesor",
			"Quiero un humano",
			"¿Me puede comunicar con atención al cliente?",
			"Quisiera hablar con alguien del equipo",
			"ponme con el encargado",
			"Persona real!!",
			"humano",
			"prefiero que me atienda una persona",
			"Quiero un agente humano",
		},
		langFrench: {
			"parler à quelqu'un",
			"Je voudrais parler à un humain",
			"un conseiller",
			"Je veux PARLER A QUELQU’UN svp",
			"Puis-je avoir un conseiller ?",
			"J'ai besoin d'un conseiller humain",
			"Est-ce que je peux parler à une vraie personne ?",
			"mettez-moi en relation avec le service client",
			"Je souhaite parler avec l'équipe",
			"passez-moi un responsable",
			"humain svp",
			"Un conseiller, s'il vous plaît.",
			"Je peux discuter avec quelqu'un de votre équipe ?",
		},
		langGerman: {
			"mit einem Menschen sprechen",
			"Ich möchte mit einem echten Mitarbeiter sprechen",
			"echten Mitarbeiter",
			"KANN ICH MIT JEMANDEM REDEN?",
			"Bitte verbinden Sie mich mit einem Mitarbeiter.",
			"Ich will einen Menschen sprechen!",
			"Gibt es einen Ansprechpartner? Ich möchte mit Ihrem Kundenservice sprechen",
			"Können Sie mich an einen Mitarbeiter weiterleiten?",
			"ich brauche einen Berater",
			"echter Mensch bitte",
			"Mensch",
			"Ich möchte mit jemandem aus dem Team chatten",
			"Ich möchte gerne mit einer realen Person sprechen",
		},
		langPortuguese: {
			"falar com um atendente",
			"Quero falar com uma pessoa",
			"Posso FALAR COM UM ATENDENTE?",
			"atendimento humano, por favor",
			"Preciso falar com alguém da equipe",
			"me passa para um atendente",
			"Quero um humano",
			"Gostaria de falar com o suporte",
			"você pode me transferir para um consultor?",
			"pessoa de verdade!",
			"atendente",
			"Quero conversar com uma pessoa real",
			"tem um atendente disponível?",
			"Quero um agente humano",
		},
	}
	for lang, phrases := range positives {
		require.GreaterOrEqual(t, len(phrases), 10, lang)
		for _, p := range phrases {
			t.Run(lang+"/"+p, func(t *testing.T) {
				t.Parallel()
				got, ok := detectHandoff(p)
				require.True(t, ok, "%q asks for a person", p)
				require.Equal(t, lang, got, "%q", p)
			})
		}
	}

	// A negation in another clause, or in a question, keeps the request.
	for p, lang := range map[string]string{
		"No, I want to talk to a human":                  langEnglish,
		"I don't know. Can I talk to a human?":           langEnglish,
		"Can I not talk to a real person?":               langEnglish,
		"¿No puedo hablar con una persona?":              langSpanish,
		"No sé, quiero hablar con alguien":               langSpanish,
		"Kann ich nicht mit einem Menschen sprechen?":    langGerman,
		"Je ne sais pas. Je veux parler à un conseiller": langFrench,
		"Não sei! Quero falar com uma pessoa":            langPortuguese,
	} {
		t.Run("negation_elsewhere/"+p, func(t *testing.T) {
			t.Parallel()
			got, ok := detectHandoff(p)
			require.True(t, ok, "%q asks for a person", p)
			require.Equal(t, lang, got, "%q", p)
		})
	}

	negatives := []string{
		"",
		"   ",
		"What are your opening hours?",
		"human resources",
		"Can I talk to human resources about a job?",
		"I am a person who likes hiking",
		"Is my personal data safe?",
		"What time does customer service open?",
		"Do you sell human hair wigs?",
		"I'll talk to my wife about it",
		"talk to you later",
		"Our team loves your product",
		"The agent field is empty in my invoice",
		"Can I talk to a real estate agent about this flat?",
		"agent immobilier",
		"Je cherche un agent immobilier à Lyon",
		"Je ne veux parler à personne",
		"Le personnel était très aimable",
		"ressources humaines",
		"Der Mensch ist ein Gewohnheitstier",
		"Ich habe mit dem Team gesprochen",
		"Wie viele Mitarbeiter haben Sie?",
		"los derechos humanos",
		"Una persona mayor puede comprar?",
		"¿Cuánto cuesta el envío?",
		"Quero comprar um presente para uma pessoa especial",
		"direitos humanos",
		"book an appointment for two people",
		"personalized gifts",
		"Do you have a person-sized teddy bear?",
	}
	// A request turned down in its own clause asks for nobody, in every
	// language.
	negatives = append(negatives,
		"I don't want to talk to a human",
		"I do not need a real person, just the price",
		"No quiero hablar con una persona, gracias",
		"Je ne veux pas parler à un humain",
		"Ich möchte nicht mit einem Menschen sprechen",
		"Não quero falar com um atendente",
	)
	require.GreaterOrEqual(t, len(negatives), 15)
	for _, n := range negatives {
		t.Run("not/"+n, func(t *testing.T) {
			t.Parallel()
			lang, ok := detectHandoff(n)
			require.False(t, ok, "%q does not ask for a person (matched %s)", n, lang)
		})
	}
}

func TestHandoffAck(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, lang := range []string{langEnglish, langSpanish, langFrench, langGerman, langPortuguese} {
		ack := handoffAck(lang)
		require.NotEmpty(t, ack)
		require.False(t, seen[ack], "each language has its own acknowledgement")
		seen[ack] = true
	}
	require.Equal(t, handoffAck(langEnglish), handoffAck("xx"), "an unknown language is answered in English")
	require.True(t, strings.HasPrefix(handoffAck(langEnglish), "I've asked a member of the team"))
}

// BenchmarkDetectHandoff keeps detection cheap next to a turn: it runs on
// every message of agents with handoff enabled.
func BenchmarkDetectHandoff(b *testing.B) {
	msg := strings.Repeat("I would like to know more about the shipping costs to Germany. ", 60)
	for b.Loop() {
		detectHandoff(msg)
	}
}
