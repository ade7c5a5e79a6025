package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWidgetInBrowser runs the widget in headless Chromium: the real API
// on 127.0.0.1, a merchant page on localhost (allowed) and the same page
// on refused.test (mapped to 127.0.0.1, not allowed), and the /chat/ page.
func TestWidgetInBrowser(t *testing.T) {
	requireBrowser(t)
	_, base, w := listeningWidget(t, options{})

	merchant := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, `<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>
<script src="%s/embed/gellhub-chat.js" data-embed-id="%s" data-chat-title="Shop" data-launcher-icon="💬" data-launcher="true" async></script>
</body></html>`, base, w.embedID)
	}))
	t.Cleanup(merchant.Close)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(merchant.URL, "http://"))
	require.NoError(t, err)

	b := startBrowser(t, 40*time.Second, "MAP refused.test 127.0.0.1")
	const sr = `document.getElementById('gellhub-chat').shadowRoot`
	poll, eval, navigate := b.poll, b.eval, b.navigate
	state := func(s string) string {
		return `(function(){var h=document.getElementById('gellhub-chat');return !!h&&h.getAttribute('data-state')==='` + s + `'})()`
	}
	chat := func(t *testing.T) {
		t.Helper()
		poll(t, state("open"))
		require.NotEmpty(t, eval(t, sr+`.querySelector('.b.a').textContent`), "the greeting")
		eval(t, `(function(){var r=`+sr+`;r.querySelector('input').value='What are your prices?';r.querySelector('form').requestSubmit();return true})()`)
		poll(t, `(function(){var b=`+sr+`.querySelectorAll('.b.a');return b.length>1&&b[b.length-1].textContent.indexOf('9 euros')>=0})()`)
		require.Equal(t, "What are your prices?", eval(t, sr+`.querySelector('.b.u').textContent`))
	}

	t.Run("allowed origin", func(t *testing.T) {
		navigate(t, "http://localhost:"+port+"/")
		poll(t, `document.getElementById('gellhub-chat')&&`+sr+`.querySelector('.l')`)
		eval(t, sr+`.querySelector('.l').click()`)
		chat(t)
		require.Regexp(t, `^v_[0-9a-f]{32}$`, eval(t, `localStorage.getItem('gellhub-visitor:`+w.embedID+`')`))
	})

	t.Run("refused origin", func(t *testing.T) {
		navigate(t, "http://refused.test:"+port+"/")
		poll(t, `window.GellHubChat`)
		eval(t, `GellHubChat.open()`)
		poll(t, state("unavailable"))
		require.Equal(t, "true", eval(t, sr+`.querySelector('.p').classList.contains('hid')`), "the panel stays closed")
		require.Equal(t, "false", eval(t, sr+`.querySelector('.x').classList.contains('hid')`), "chat unavailable is shown")
		require.Equal(t, "0", eval(t, sr+`.querySelectorAll('.b').length`), "no greeting, no reply")
	})

	t.Run("chat page", func(t *testing.T) {
		navigate(t, base+"/chat/"+w.embedID)
		chat(t)
	})

	if err := b.ctx.Err(); errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("browser test timed out")
	}
}
