package httpapi

import (
	"context"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/testkit"
)

// chromiumPath is Debian's chromium (.ci/services.sh installs it).
const chromiumPath = "/usr/bin/chromium"

// requireBrowser skips under -short outside CI (never in CI) and fails in
// CI, skips loudly elsewhere, when Chromium is missing.
func requireBrowser(t *testing.T) {
	t.Helper()
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("SKIP the widget's browser tests: they start Chromium, which -short leaves out (never skipped in CI)")
	}
	_, err := os.Stat(chromiumPath)
	testkit.RequireService(t, "Chromium", err)
}

// listeningWidget is the real API on a 127.0.0.1 listener (base is its
// URL) with a widget whose embed allows localhost only.
func listeningWidget(t *testing.T, o options) (s *testServer, base string, w widgetFixture) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base = "http://" + ln.Addr().String()
	o.baseURL = base
	s = newMessagingServer(t, "memory", o)
	go func() { _ = s.app.Listener(ln) }()
	t.Cleanup(func() { _ = s.app.ShutdownWithTimeout(5 * time.Second) })
	w = s.widget()
	r := s.do("PUT", "/api/messaging/v1/embed", map[string]any{
		"embedEnabled": true, "embedAllowedOrigins": []string{"localhost"},
	}, withKey(w.key))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	return s, base, w
}

// browser is a headless Chromium tab.
type browser struct{ ctx context.Context }

// startBrowser starts headless Chromium with a fresh profile and the
// flags this closed network needs, resolving hosts by hostRules, for at
// most timeout.
func startBrowser(t *testing.T, timeout time.Duration, hostRules string) browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("host-resolver-rules", hostRules),
	)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	_, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`true`))
	require.NoError(t, err, "start chromium")
	return browser{ctx: bctx}
}

// poll waits up to 10 s for a JavaScript predicate to hold (a predicate
// that throws counts as false).
func (b browser) poll(t *testing.T, predicate string) {
	t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`(function(){try{return !!(`+predicate+`)}catch(e){return false}})()`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "waiting for %s", predicate)
}

// eval evaluates a JavaScript expression as a string.
func (b browser) eval(t *testing.T, expr string) string {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`String(`+expr+`)`))
	require.NoError(t, err, "evaluating %s", expr)
	return v
}

// navigate loads u.
func (b browser) navigate(t *testing.T, u string) {
	t.Helper()
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Navigate(u)))
}
