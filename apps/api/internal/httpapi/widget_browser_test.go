package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/testkit"
)

// chromiumPath is Debian's chromium (.ci/services.sh installs it).
const chromiumPath = "/usr/bin/chromium"

// TestWidgetInBrowser runs the widget in headless Chromium: the real API
// on 127.0.0.1, a merchant page on localhost (allowed) and the same page
// on refused.test (mapped to 127.0.0.1, not allowed), and the /chat/ page.
func TestWidgetInBrowser(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("SKIP the widget browser test: it starts Chromium, which -short leaves out (never skipped in CI)")
	}
	_, err := os.Stat(chromiumPath)
	testkit.RequireService(t, "Chromium", err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	s := newMessagingServer(t, "memory", options{baseURL: base})
	go func() { _ = s.app.Listener(ln) }()
	t.Cleanup(func() { _ = s.app.ShutdownWithTimeout(5 * time.Second) })

	w := s.widget()
	r := s.do("PUT", "/api/messaging/v1/embed", map[string]any{
		"embedEnabled": true, "embedAllowedOrigins": []string{"localhost"},
	}, withKey(w.key))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)

	merchant := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, `<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>
<script src="%s/embed/gellhub-chat.js" data-embed-id="%s" data-chat-title="Shop" data-launcher-icon="💬" data-launcher="true" async></script>
</body></html>`, base, w.embedID)
	}))
	t.Cleanup(merchant.Close)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(merchant.URL, "http://"))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("host-resolver-rules", "MAP refused.test 127.0.0.1"),
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	_, err = chromedp.Run(bctx, chromedp.Evaluate[bool](`true`))
	require.NoError(t, err, "start chromium")

	const sr = `document.getElementById('gellhub-chat').shadowRoot`
	poll := func(t *testing.T, predicate string) {
		t.Helper()
		_, err := chromedp.Run(bctx, chromedp.Poll[bool](`!!(`+predicate+`)`, chromedp.WithPollingTimeout(10*time.Second)))
		require.NoError(t, err, "waiting for %s", predicate)
	}
	eval := func(t *testing.T, expr string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](`String(`+expr+`)`))
		require.NoError(t, err, "evaluating %s", expr)
		return v
	}
	navigate := func(t *testing.T, u string) {
		t.Helper()
		require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(u)))
	}
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

	if err := ctx.Err(); errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("browser test timed out")
	}
}
