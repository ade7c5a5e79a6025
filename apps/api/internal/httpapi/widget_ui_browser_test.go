package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
)

// xssProbe must show as text and never run.
const xssProbe = `<img src=x onerror=window.__pwned=1>`

// hookBlocks answers each visitor message with one kind of ui block (or a
// handoff) and records the messages it saw.
type hookBlocks struct {
	mu   sync.Mutex
	seen []string
}

func (h *hookBlocks) saw() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.seen...)
}

func (h *hookBlocks) BeforeTurn(_ context.Context, t messaging.HookTurn) (messaging.HookAnswer, bool, error) {
	var last string
	for _, m := range t.Messages {
		if m.Role == core.RoleUser {
			last = m.Content
		}
	}
	h.mu.Lock()
	h.seen = append(h.seen, last)
	h.mu.Unlock()
	switch last {
	case "slots":
		return messaging.HookAnswer{Content: "Pick a slot", UI: []byte(`{"type":"slot_list","items":[
			{"id":"s1","title":"Monday 10:00","subtitle":"with Ana"},
			{"id":"s2","title":` + jsonString(xssProbe) + `,"subtitle":"probe"}]}`)}, true, nil
	case "products":
		return messaging.HookAnswer{Content: "Our products", UI: []byte(`{"type":"product_cards","items":[
			{"title":"Blue mug","price":"9 EUR","imageUrl":"https://img.example.com/mug.png","actionUrl":"https://shop.example.com/mug"},
			{"title":` + jsonString(xssProbe) + `,"price":"1 EUR","imageUrl":"https://img.example.com/x.png","actionUrl":"https://shop.example.com/x"}]}`)}, true, nil
	case "buttons":
		return messaging.HookAnswer{Content: "What next?", UI: []byte(`{"type":"buttons","items":[
			{"label":"Confirm booking","action":"message","message":"confirm booking please"},
			{"label":"Open site","action":"url","url":"https://shop.example.com/"}]}`)}, true, nil
	case "confirm booking please":
		return messaging.HookAnswer{Content: "Booking confirmed"}, true, nil
	case "calendar":
		return messaging.HookAnswer{Content: "Choose below", UI: []byte(`{"type":"iframe","url":"https://cal.example.com/book","height":300}`)}, true, nil
	case "human":
		return messaging.HookAnswer{Content: "Connecting you", Handoff: true}, true, nil
	}
	return messaging.HookAnswer{Content: "unknown: " + last}, true, nil
}

func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestWidgetRendersUIBlocksInBrowser runs the widget in headless Chromium,
// framed by a merchant page, against a TurnHook answering with each ui
// block type and a handoff.
func TestWidgetRendersUIBlocksInBrowser(t *testing.T) {
	requireBrowser(t)
	hook := &hookBlocks{}
	_, base, w := listeningWidget(t, options{turnHook: hook})

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
<script>window.addEventListener('message', function (e) { if (e.data && e.data.type === 'gellhub:handoff') window.__handoff = e.data; });</script>
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
		require.Contains(t, hook.saw(), "confirm booking please", "the hook saw the button's message")
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

	t.Run("handoff", func(t *testing.T) {
		require.Equal(t, "undefined", eval(t, `typeof window.__handoff`))
		say(t, "human", "Connecting you")
		poll(t, `window.__handoff`)
		require.Equal(t, "gellhub:handoff", eval(t, `window.__handoff.type`))
		require.Equal(t, w.embedID, eval(t, `window.__handoff.embedId`))
		require.Contains(t, eval(t, sr+`.querySelector('.m').lastChild.textContent`), "asked to follow up")
	})

	require.Equal(t, []string{"slots", "products", "buttons", "confirm booking please", "calendar", "human"}, hook.saw())
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
