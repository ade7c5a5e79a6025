package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// xssProbe must show as text and never run.
const xssProbe = `<img src=x onerror=window.__pwned=1>`

// skillBlocks answers each visitor message with one kind of ui block, as
// a merchant's skills webhook (one skill whose keywords are the messages).
func skillBlocks(c skillCall) (int, string) {
	msg, _ := c.json["message"].(string)
	answer := func(message, ui string) (int, string) {
		out := `{"version":1,"message":` + jsonString(message)
		if ui != "" {
			out += `,"ui":` + ui
		}
		return http.StatusOK, out + "}"
	}
	switch msg {
	case "slots":
		return answer("Pick a slot", `{"type":"slot_list","items":[
			{"id":"s1","title":"Monday 10:00","subtitle":"with Ana"},
			{"id":"s2","title":`+jsonString(xssProbe)+`,"subtitle":"probe"}]}`)
	case "products":
		return answer("Our products", `{"type":"product_cards","items":[
			{"title":"Blue mug","price":"9 EUR","imageUrl":"https://img.example.com/mug.png","actionUrl":"https://shop.example.com/mug"},
			{"title":`+jsonString(xssProbe)+`,"price":"1 EUR","imageUrl":"https://img.example.com/x.png","actionUrl":"https://shop.example.com/x"}]}`)
	case "buttons":
		return answer("What next?", `{"type":"buttons","items":[
			{"label":"Confirm booking","action":"message","message":"confirm booking please"},
			{"label":"Open site","action":"url","url":"https://shop.example.com/"}]}`)
	case "confirm booking please":
		return answer("Booking confirmed", "")
	case "calendar":
		return answer("Choose below", `{"type":"iframe","url":"https://cal.example.com/book","height":300}`)
	}
	return answer("unknown: "+msg, "")
}

func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestWidgetRendersUIBlocksInBrowser runs the widget in headless Chromium,
// framed by a merchant page, against a real skills webhook answering with
// each ui block type, and a real handoff.
func TestWidgetRendersUIBlocksInBrowser(t *testing.T) {
	requireBrowser(t)
	s, base, w := listeningWidget(t, options{})
	skills := newSkillsReceiver(t, skillsSecret, skillBlocks)
	r := s.do("PUT", "/api/messaging/v1/skills", map[string]any{
		"skillsEnabled": true, "skillsWebhookUrl": skills.URL, "skillsWebhookSecret": skillsSecret,
		"skills": []any{map[string]any{"key": "demo", "label": "Demo", "keywords": []any{"slots", "products", "buttons", "confirm", "calendar"}}},
	}, withKey(w.key))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	inbox := newHandoffReceiver(t, handoffSecret)
	r = s.do("PUT", "/api/messaging/v1/handoff", map[string]any{"handoffWebhookUrl": inbox.URL, "handoffWebhookSecret": handoffSecret}, withKey(w.key))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	r = s.do("PATCH", "/api/messaging/v1/agents/"+defaultAgentID(t, s.agentList(w.key)), map[string]any{
		"humanHandoffEnabled": true, "handoffUrls": []any{map[string]any{"label": "WhatsApp", "url": "https://wa.me/15551234567"}},
	}, withKey(w.key))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	saw := func() []string {
		var out []string
		for _, c := range skills.received() {
			msg, _ := c.json["message"].(string)
			out = append(out, msg)
		}
		return out
	}

	// /: the merchant page framing /inner (the snippet) and recording the
	// handoff messages it receives.
	merchant := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		if req.URL.Path == "/inner" {
			fmt.Fprintf(rw, `<!doctype html><html><head><title>Widget</title></head><body>
<script src="%s/embed/gellhub-chat.js" data-embed-id="%s" data-chat-title="Shop" data-launcher="true" async></script>
</body></html>`, base, w.embedID)
			return
		}
		fmt.Fprint(rw, `<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>
<script>window.__handoffs = 0; window.addEventListener('message', function (e) { if (e.data && e.data.type === 'gellhub:handoff') { window.__handoff = e.data; window.__handoffs++; } });</script>
<iframe id="w" src="/inner" style="width:480px;height:720px;border:0"></iframe>
</body></html>`)
	}))
	t.Cleanup(merchant.Close)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(merchant.URL, "http://"))
	require.NoError(t, err)

	// The ui blocks' https images and frames never reach the network.
	b := startBrowser(t, 30*time.Second, "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1")
	// F is the framed widget page (same origin as the merchant page).
	const F = `document.getElementById('w').contentWindow`
	const sr = F + `.document.getElementById('gellhub-chat').shadowRoot`
	poll, eval := b.poll, b.eval
	// lastUI is the newest ui block's element.
	lastUI := `(function(){var u=` + sr + `.querySelectorAll('.m > .ui');return u[u.length-1]})()`
	// say sends text and waits for the reply bubble.
	say := func(t *testing.T, text, reply string) {
		t.Helper()
		eval(t, `(function(){var r=`+sr+`;r.querySelector('input').value=`+jsonString(text)+`;r.querySelector('form').requestSubmit();return true})()`)
		waitReply(t, poll, sr, reply)
	}

	b.navigate(t, "http://localhost:"+port+"/")
	poll(t, F+`.GellHubChat`)
	eval(t, F+`.GellHubChat.open()`)
	poll(t, F+`.document.getElementById('gellhub-chat').getAttribute('data-state')==='open'`)

	t.Run("slot_list", func(t *testing.T) {
		say(t, "slots", "Pick a slot")
		require.Equal(t, "2", eval(t, lastUI+`.querySelectorAll('button').length`))
		require.Equal(t, "Monday 10:00", eval(t, lastUI+`.querySelectorAll('button')[0].firstChild.nodeValue`))
		require.Equal(t, "with Ana", eval(t, lastUI+`.querySelectorAll('button')[0].querySelector('small').textContent`))
		require.Equal(t, xssProbe, eval(t, lastUI+`.querySelectorAll('button')[1].firstChild.nodeValue`), "shown literally")
		require.Equal(t, "0", eval(t, lastUI+`.querySelectorAll('img').length`), "no element from ui strings")
	})

	t.Run("product_cards", func(t *testing.T) {
		say(t, "products", "Our products")
		require.Equal(t, "2", eval(t, lastUI+`.querySelectorAll('.c').length`))
		card := lastUI + `.querySelectorAll('.c')[0]`
		require.Equal(t, "Blue mug", eval(t, card+`.querySelector('a').textContent`))
		require.Equal(t, "https://shop.example.com/mug", eval(t, card+`.querySelector('a').href`))
		require.Equal(t, "9 EUR", eval(t, card+`.querySelector('small').textContent`))
		require.Equal(t, "https://img.example.com/mug.png", eval(t, card+`.querySelector('img').src`))
		require.Equal(t, xssProbe, eval(t, lastUI+`.querySelectorAll('.c')[1].querySelector('a').textContent`), "shown literally")
		require.Equal(t, "2", eval(t, lastUI+`.querySelectorAll('img').length`), "only the two card images")
	})

	t.Run("buttons", func(t *testing.T) {
		say(t, "buttons", "What next?")
		require.Equal(t, "Confirm booking", eval(t, lastUI+`.querySelector('button').textContent`))
		require.Equal(t, "Open site", eval(t, lastUI+`.querySelector('a.btn').textContent`))
		require.Equal(t, "https://shop.example.com/", eval(t, lastUI+`.querySelector('a.btn').href`))
		eval(t, lastUI+`.querySelector('button').click()`)
		waitReply(t, poll, sr, "Booking confirmed")
		require.Equal(t, "confirm booking please", eval(t, `(function(){var b=`+sr+`.querySelectorAll('.b.u');return b[b.length-1].textContent})()`))
		require.Contains(t, saw(), "confirm booking please", "the webhook got the button's message")
	})

	t.Run("iframe", func(t *testing.T) {
		say(t, "calendar", "Choose below")
		require.Equal(t, "https://cal.example.com/book", eval(t, lastUI+`.querySelector('iframe').src`))
		require.Equal(t, "300px", eval(t, lastUI+`.querySelector('iframe').style.height`))
	})

	t.Run("no script from ui strings", func(t *testing.T) {
		require.Equal(t, "undefined", eval(t, `typeof `+F+`.__pwned`))
		require.Equal(t, "undefined", eval(t, `typeof window.__pwned`))
	})

	// notices counts the handoff notices shown.
	notices := `Array.prototype.filter.call(` + sr + `.querySelectorAll('.b.n'),function(b){return b.textContent.indexOf('asked to follow up')>=0}).length`
	t.Run("handoff", func(t *testing.T) {
		require.Equal(t, "undefined", eval(t, `typeof window.__handoff`))
		say(t, "human", "I've asked a member of the team to join this conversation. They will get back to you.")
		poll(t, `window.__handoff`)
		require.Equal(t, "gellhub:handoff", eval(t, `window.__handoff.type`))
		require.Equal(t, w.embedID, eval(t, `window.__handoff.embedId`))
		require.Equal(t, "1", eval(t, notices))
		require.Equal(t, "WhatsApp", eval(t, lastUI+`.querySelector('a.btn').textContent`))
		require.Equal(t, "https://wa.me/15551234567", eval(t, lastUI+`.querySelector('a.btn').href`))
		require.Equal(t, "handoff.requested", inbox.waitEvents(t, 1)[0].header.Get("X-GellHub-Event"))
	})

	t.Run("a person has the conversation", func(t *testing.T) {
		bubbles := eval(t, sr+`.querySelectorAll('.b').length`)
		eval(t, `(function(){var r=`+sr+`;r.querySelector('input').value='are you there?';r.querySelector('form').requestSubmit();return true})()`)
		ev := inbox.waitEvents(t, 2)[1]
		require.Equal(t, "handoff.message", ev.header.Get("X-GellHub-Event"))
		require.Equal(t, "are you there?", ev.json["message"])
		poll(t, `(function(){var r=`+sr+`;return !r.querySelector('form button').disabled&&!Array.prototype.some.call(r.querySelectorAll('.b.n'),function(b){return b.textContent==='\u2026'})})()`)
		require.Equal(t, "are you there?", eval(t, `(function(){var b=`+sr+`.querySelectorAll('.b.u');return b[b.length-1].textContent})()`))
		n, err := strconv.Atoi(bubbles)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(n+1), eval(t, sr+`.querySelectorAll('.b').length`), "the visitor's bubble only: no empty reply, no second notice")
		require.Equal(t, "1", eval(t, notices))
		require.Equal(t, "1", eval(t, `window.__handoffs`), "the parent is told once")
	})

	require.Equal(t, []string{"slots", "products", "buttons", "confirm booking please", "calendar"}, saw())
	for _, c := range skills.received() {
		require.True(t, c.signed)
	}
	if err := b.ctx.Err(); errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("browser test timed out")
	}
}

// waitReply waits for reply as the newest assistant bubble and for the
// form to take a message again.
func waitReply(t *testing.T, poll func(*testing.T, string), sr, reply string) {
	t.Helper()
	poll(t, `(function(){var r=`+sr+`,b=r.querySelectorAll('.b.a');return b.length>0&&b[b.length-1].textContent===`+jsonString(reply)+`&&!r.querySelector('form button').disabled})()`)
}
