package webhooksig_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/gellhub/gellhub/webhooksig"
)

// handoffInbox is a partner's endpoint for gellhub's handoff events. A
// real one keeps the seen event ids in its database (a unique column),
// and answers 2xx only once the event is safely stored.
type handoffInbox struct {
	secret string
	seen   sync.Map // event id → struct{}
}

func (in *handoffInbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The raw body, capped: the signature covers these exact bytes.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if err := webhooksig.VerifyHeaders(in.secret, r.Header, body, time.Now()); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev struct {
		Event          string `json:"event"`
		ProfileID      string `json:"profileId"`
		ConversationID string `json:"conversationId"`
		Message        string `json:"message"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "bad JSON", http.StatusBadRequest)
		return
	}
	// A retried event keeps its id: answer 2xx again, act once.
	id := r.Header.Get(webhooksig.HeaderEventID)
	if _, dup := in.seen.LoadOrStore(id, struct{}{}); dup {
		w.WriteHeader(http.StatusOK)
		return
	}
	fmt.Printf("%s: store of %s, conversation %s: %q\n", ev.Event, ev.ProfileID, ev.ConversationID, ev.Message)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}

// A partner's handler verifying gellhub's handoff events and dropping
// duplicates. Here the requests are made by hand, as gellhub makes them.
func Example_handoffReceiver() {
	const secret = "your-hmac-secret"
	inbox := &handoffInbox{secret: secret}
	body := []byte(`{"version":1,"event":"handoff.requested","profileId":"clx42","conversationRef":"web:emb_1:v-9",` +
		`"conversationId":"cnv_7","visitorId":"v-9","agentId":"agt_1","channel":"web",` +
		`"message":"I need to speak with someone on your team","requestedAt":"2026-05-25T12:00:00.000Z"}`)

	deliver := func(eventID, secretUsed string) int {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		r := httptest.NewRequest(http.MethodPost, "/api/gellhub/handoff", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(webhooksig.HeaderTimestamp, ts)
		r.Header.Set(webhooksig.HeaderEvent, "handoff.requested")
		r.Header.Set(webhooksig.HeaderEventID, eventID)
		r.Header.Set(webhooksig.HeaderSignature, webhooksig.Sign(secretUsed, ts, body))
		w := httptest.NewRecorder()
		inbox.ServeHTTP(w, r)
		return w.Code
	}

	fmt.Println("first delivery:", deliver("evt_1", secret))
	fmt.Println("retry of the same event:", deliver("evt_1", secret))
	fmt.Println("forged:", deliver("evt_2", "a guessed secret"))
	// Output:
	// handoff.requested: store of clx42, conversation cnv_7: "I need to speak with someone on your team"
	// first delivery: 200
	// retry of the same event: 200
	// forged: 401
}

func ExampleSign() {
	// X-GellHub-Signature for a body sent at X-GellHub-Timestamp 1779710400.
	fmt.Println(webhooksig.Sign("your-hmac-secret", "1779710400", []byte(`{"version":1}`)))
	// Output: aa9c1871eab9986dfae405d09f1fbea5afafc1c0747cc44b73ede4acec4da4a9
}

func ExampleSignStandard() {
	// The Standard Webhooks specification's example.
	fmt.Println(webhooksig.SignStandard("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", []byte(`{"test": 2432232314}`)))
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

func ExampleVerifyStandardHeaders() {
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	body := []byte(`{"test": 2432232314}`)
	sentAt := time.Unix(1614265330, 0)

	fmt.Println(webhooksig.VerifyStandardHeaders("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h, body, sentAt.Add(time.Minute)))
	fmt.Println(webhooksig.VerifyStandardHeaders("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h, body, sentAt.Add(time.Hour)))
	// Output:
	// <nil>
	// webhooksig: the timestamp is malformed or outside the tolerance
}
