package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/argon2id"
	"github.com/gellhub/gellhub/adapters/bunstore"
	"github.com/gellhub/gellhub/adapters/bunstore/buntest"
	localengine "github.com/gellhub/gellhub/adapters/engine/local"
	"github.com/gellhub/gellhub/adapters/inproc"
	"github.com/gellhub/gellhub/adapters/localblob"
	"github.com/gellhub/gellhub/adapters/redisstore"
	"github.com/gellhub/gellhub/adapters/riverjobs"
	"github.com/gellhub/gellhub/adapters/s3blob"
	"github.com/gellhub/gellhub/adapters/s3blob/s3test"
	"github.com/gellhub/gellhub/adapters/webhook"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/billing"
	"github.com/gellhub/gellhub/core/connect"
	"github.com/gellhub/gellhub/core/developer"
	"github.com/gellhub/gellhub/core/drive"
	"github.com/gellhub/gellhub/core/gallery"
	"github.com/gellhub/gellhub/core/messaging"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/core/uploads"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

// backends are the stores every HTTP test runs on.
var backends = []string{"memory", "sqlite", "postgres"}

// storeUnderTest is what the HTTP layer needs from a store.
type storeUnderTest interface {
	ports.AccountStore
	ports.PlanStore
	ports.SessionStore
	ports.PartnerAppStore
	ports.LinkStore
	ports.QuotaStore
	ports.GalleryStore
	ports.DriveStore
	ports.BillingStore
	ports.SimulatedPaymentsStore
	ports.MessagingStore
	ports.WebhookStore
}

type options struct {
	rateLimits   bool
	baseURL      string
	admins       []string
	wrap         func(storeUnderTest) storeUnderTest // failure injection
	checks       []Check
	proxies      []string
	payments     bool   // wire testkit.Payments as the payment provider
	billing      string // "local": localbilling; "stripe-mock": the Stripe adapter on stripe-mock (billing_harness_test.go)
	dsn          string // "postgres+redis": share this database (a second instance)
	prefix       string // "postgres+redis": and this Redis key prefix
	s3           bool   // "postgres+redis": object storage on a real S3 server (versitygw)
	maxFileBytes int64
	engine       ports.Engine // the AI engine; nil: the local engine
	// publicWebhooksOnly refuses private webhook targets and plain http
	// webhook URLs, as production does; by default tests allow them, so
	// that httptest receivers on 127.0.0.1 can be reached.
	publicWebhooksOnly bool
	// retrySchedule is the wait after each failed handoff delivery;
	// nil: testRetrySchedule.
	retrySchedule []time.Duration
	// deliveries runs the handoff delivery worker on SQLite and
	// PostgreSQL (River, as apps/worker does), for the tests that
	// configure a handoff webhook: without it a turn that queues an event
	// fails there (the store has no enqueuer). Memory always delivers
	// through an in-process queue, which costs nothing while idle; River
	// polls its tables, which slows every other test down.
	deliveries bool
}

// testRetrySchedule is the handoff delivery retry schedule of tests: seven
// attempts within about three seconds.
var testRetrySchedule = []time.Duration{
	200 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
	400 * time.Millisecond, 800 * time.Millisecond, 800 * time.Millisecond,
}

// testServer is a Fiber app wired like the real one over a chosen store.
type testServer struct {
	t        testing.TB
	app      *fiber.App
	clock    *testkit.Clock
	store    storeUnderTest
	logs     *testkit.SyncBuffer
	payments *testkit.Payments
	// billing is wired with payments or billing set.
	billing   *billing.Service
	dsn       string // the PostgreSQL DSN ("postgres+redis")
	prefix    string // the Redis key prefix ("postgres+redis")
	blobs     ports.BlobStore
	memBlobs  *testkit.BlobStore // presigned PUTs go through its Upload when set
	quota     ports.QuotaStore
	uploads   *uploads.Service
	drive     *drive.Service
	messaging *messaging.Service
}

// newTestServer wires the app over backend: "memory", "sqlite" (with the
// in-process cache), "postgres", or "postgres+redis" (sessions, cache,
// codes and rate limits in Redis, as in production).
func newTestServer(t testing.TB, backend string, o options) *testServer {
	t.Helper()
	ctx := context.Background()
	clock := testkit.NewClock(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	ts := &testServer{t: t, clock: clock, logs: &testkit.SyncBuffer{}}
	var st storeUnderTest
	var sessions ports.SessionStore
	var cache ports.Cache = inproc.NewCache(clock)
	var codes ports.CodeCache = inproc.NewCodeCache(clock)
	var limiter ports.RateLimiter = inproc.NewRateLimiter(clock)
	signingKey := randomBytes(32)
	if o.baseURL == "" {
		o.baseURL = "http://127.0.0.1:8080"
	}
	var local *localblob.Store
	var mem *testkit.Store  // memory: deliveries go through a MemQueue
	var bun *bunstore.Store // sqlite, postgres: through River
	switch backend {
	case "memory":
		mem = testkit.NewStore()
		st = mem
		ts.memBlobs = testkit.NewBlobStore(clock)
		ts.blobs = ts.memBlobs
	case "sqlite":
		bun = buntest.OpenSQLite(t)
		st = bun
		lb, err := localblob.New(t.TempDir(), o.baseURL, signingKey, clock)
		require.NoError(t, err)
		t.Cleanup(func() { _ = lb.Close() })
		local, ts.blobs = lb, lb
	case "postgres":
		// The worker needs the DSN (its own pool, LISTEN/NOTIFY): open the
		// store on a fresh schema by hand, as buntest.OpenPostgres does.
		ts.dsn = buntest.PostgresDSN(t)
		pg, err := bunstore.OpenPostgres(ctx, ts.dsn)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, pg.Close()) })
		bun, st = pg, pg
		ts.memBlobs = testkit.NewBlobStore(clock)
		ts.blobs = ts.memBlobs
	case "postgres+redis":
		ts.dsn, ts.prefix = o.dsn, o.prefix
		if ts.dsn == "" {
			ts.dsn = buntest.PostgresDSN(t)
		}
		pg, err := bunstore.OpenPostgres(ctx, ts.dsn)
		require.NoError(t, err)
		t.Cleanup(func() { _ = pg.Close() })
		bun, st = pg, pg
		if ts.prefix == "" {
			ts.prefix = "gellhub-http-" + hex.EncodeToString(randomBytes(6)) + ":"
		}
		url := testkit.EnvOr("GELLHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
		rc, err := redisstore.Open(ctx, url, ts.prefix)
		testkit.RequireService(t, "Redis", err)
		t.Cleanup(func() { _ = rc.Close() })
		if o.prefix == "" { // the first instance cleans up the shared prefix
			t.Cleanup(func() { cleanRedis(t, url, ts.prefix) })
		}
		sessions, cache, codes, limiter = rc.Sessions(), rc.Cache(), rc.Codes(), rc.RateLimiter()
		if o.s3 {
			s3, err := s3blob.New(ctx, s3test.Start(t))
			require.NoError(t, err)
			ts.blobs = s3
		} else {
			ts.memBlobs = testkit.NewBlobStore(clock)
			ts.blobs = ts.memBlobs
		}
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	if o.wrap != nil {
		st = o.wrap(st)
	}
	if sessions == nil {
		sessions = st
	}
	if !o.rateLimits {
		limiter = nil
	}
	ts.store = st
	dev := developer.New(st, clock, rand.Reader)
	ps := plans.New(st, clock, rand.Reader, dev)
	require.NoError(t, ps.Seed(ctx))
	acc, err := accounts.New(accounts.Config{
		Accounts: st, Sessions: sessions, Plans: ps, Hasher: argon2id.New(argon2id.TestParams),
		Clock: clock, Random: rand.Reader, Limiter: limiter, AdminEmails: o.admins,
	})
	require.NoError(t, err)
	log := slog.New(slog.NewJSONHandler(ts.logs, nil))
	var pay ports.Payments
	var settle func(context.Context, string) error
	if o.payments || o.billing != "" {
		ts.billing = newTestBilling(t, ts, ps, o, log)
		pay, settle = ts.billing.Payments(), ts.billing.SyncCheckout
		acc.SetCheckout(ts.billing.RegistrationCheckout())
	}
	conn := connect.New(connect.Config{
		Developer: dev, Accounts: acc, Store: st, Links: st, Plans: ps, Codes: codes, Flows: cache,
		Payments: pay, Settle: settle, Limiter: limiter, Clock: clock, Random: rand.Reader, BaseURL: o.baseURL,
		Report: func(ctx context.Context, err error) { log.Warn("connect side effect failed", "err", err) },
	})
	ts.quota = st
	ups := uploads.New(uploads.Config{Blobs: ts.blobs, Quota: st, Clock: clock, Random: rand.Reader, MaxFileBytes: o.maxFileBytes})
	gal := gallery.New(gallery.Config{
		Store: st, Accounts: acc, Uploads: ups, Blobs: ts.blobs, Clock: clock, Random: rand.Reader,
		SigningKey: signingKey, BaseURL: o.baseURL,
	})
	ts.uploads = ups
	ts.drive = drive.New(drive.Config{
		Store: st, Accounts: acc, Uploads: ups, Apps: st, Links: st, Blobs: ts.blobs, Clock: clock,
		Random: rand.Reader, SigningKey: signingKey, BaseURL: o.baseURL,
	})
	engine := o.engine
	if engine == nil {
		engine = localengine.New()
	}
	retries := o.retrySchedule
	if retries == nil {
		retries = testRetrySchedule
	}
	ts.messaging = messaging.New(messaging.Config{
		Store: st, Keys: st, Accounts: acc, Engine: engine, Limiter: limiter,
		Sender: webhook.New(webhook.Config{AllowPrivate: !o.publicWebhooksOnly}), Webhooks: st,
		AllowPrivateWebhooks: !o.publicWebhooksOnly, RetrySchedule: retries,
		Clock: clock, Random: rand.Reader, BaseURL: o.baseURL,
	})
	if mem != nil || o.deliveries {
		ts.startDeliveries(mem, bun)
	}
	deps := Deps{
		Log: log, Accounts: acc, Plans: ps, Developer: dev, Connect: conn, Gallery: gal, Drive: ts.drive, Checks: o.checks,
		BaseURL: o.baseURL, SecureCookies: strings.HasPrefix(o.baseURL, "https://"), BodyLimit: 64 << 10,
		TrustedProxies: o.proxies, Billing: ts.billing, Messaging: ts.messaging,
	}
	if local != nil {
		deps.LocalUploads = local
	}
	ts.app = New(deps)
	return ts
}

// startDeliveries runs the handoff delivery worker of the backend, as
// apps/worker does: a MemQueue on memory, River on SQLite and PostgreSQL
// (on a queue of this server's own, with a short fetch interval so that
// the tests' short retries are prompt). The worker stops before the store
// closes.
func (s *testServer) startDeliveries(mem *testkit.Store, bun *bunstore.Store) {
	t := s.t
	t.Helper()
	if mem != nil {
		q := testkit.NewMemQueue(func(ctx context.Context, id string) (time.Duration, bool, error) {
			o, err := s.messaging.Deliver(ctx, id)
			return o.RetryIn, o.Done, err
		})
		mem.SetEnqueuer(q.Enqueue)
		t.Cleanup(q.Close)
		return
	}
	ctx := context.Background()
	cfg := riverjobs.Config{
		Queue:             "http-" + hex.EncodeToString(randomBytes(6)),
		FetchPollInterval: 50 * time.Millisecond,
		Logger:            slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	require.NoError(t, riverjobs.Migrate(ctx, bun.DB(), bun.Dialect()))
	q, err := riverjobs.NewQueue(bun.DB(), bun.Dialect(), cfg)
	require.NoError(t, err)
	bun.SetEnqueuer(q)
	src := riverjobs.SQLite(bun.DB())
	if bun.Dialect() == riverjobs.DialectPostgres {
		src = riverjobs.Postgres(s.dsn)
	}
	w, err := riverjobs.StartWorker(ctx, src, cfg, func(ctx context.Context, id string) (riverjobs.Outcome, error) {
		o, err := s.messaging.Deliver(ctx, id)
		return riverjobs.Outcome{Done: o.Done, RetryIn: o.RetryIn}, err
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, w.Stop(ctx))
	})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// cleanRedis deletes every key under prefix.
func cleanRedis(t testing.TB, url, prefix string) {
	t.Helper()
	opt, err := goredis.ParseURL(url)
	require.NoError(t, err)
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		require.NoError(t, rdb.Del(ctx, iter.Val()).Err())
	}
	require.NoError(t, iter.Err())
}

// reply is a decoded response.
type reply struct {
	status  int
	header  http.Header
	body    []byte
	cookie  *http.Cookie            // the session cookie, when set
	cookies map[string]*http.Cookie // every cookie set, by name
}

// json decodes the body into a map.
func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// list decodes the body into an array.
func (r reply) list(t testing.TB) []map[string]any {
	t.Helper()
	var m []map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// requireError asserts the contract's error body.
func (r reply) requireError(t testing.TB, status int, code, detail string) {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	m := r.json(t)
	require.Equal(t, code, m["error"], "body: %s", r.body)
	require.NotEmpty(t, m["message"], "body: %s", r.body)
	if detail != "" {
		require.Equal(t, detail, m["detail"], "body: %s", r.body)
	}
}

type reqOpt func(*http.Request)

func withKey(k string) reqOpt { return func(r *http.Request) { r.Header.Set("x-api-key", k) } }

// withSession sends a session token under both names the server may use
// (the __Host- one over https).
func withSession(tok string) reqOpt {
	return func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: SessionCookie, Value: tok})
		r.AddCookie(&http.Cookie{Name: "__Host-" + SessionCookie, Value: tok})
	}
}

func withCookie(name, value string) reqOpt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: value}) }
}

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// do sends a request. body is JSON-encoded unless it is a string (sent raw).
func (s *testServer) do(method, path string, body any, opts ...reqOpt) reply {
	s.t.Helper()
	body = s.withConnectFlow(path, body, opts)
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(s.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	res, err := s.app.Test(req, -1)
	require.NoError(s.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	out := reply{status: res.StatusCode, header: res.Header, body: raw, cookies: map[string]*http.Cookie{}}
	for _, c := range res.Cookies() {
		out.cookies[c.Name] = c
		if c.Name == SessionCookie || c.Name == "__Host-"+SessionCookie {
			out.cookie = c
		}
	}
	return out
}

// account is a registered test account.
type account struct {
	profileID, email, password, session, apiKey, driveKey string
}

func uniqueEmail(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:]) + "@example.com"
}

// register creates an account through the API.
func (s *testServer) register(email string) account {
	s.t.Helper()
	pw := "correct horse battery"
	r := s.do("POST", "/api/register", map[string]any{
		"email": email, "password": pw, "displayName": "Test Studio", "accountType": "studio",
	})
	require.Equal(s.t, http.StatusCreated, r.status, "body: %s", r.body)
	m := r.json(s.t)
	require.NotNil(s.t, r.cookie)
	return account{
		profileID: m["profileId"].(string), email: email, password: pw, session: r.cookie.Value,
		apiKey: m["apiKey"].(string), driveKey: m["driveApiKey"].(string),
	}
}

// forEachBackend runs fn as a sub-test on every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, backend string)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

// withConnectFlow does what the sign-in pages do: a login or register sent
// with a connect cookie carries the flow's connectFlow token (from GET
// context) unless the body already says connectFlow (even empty: the
// tests of the opt-in set it so).
func (s *testServer) withConnectFlow(path string, body any, opts []reqOpt) any {
	m, ok := body.(map[string]any)
	if !ok || (path != "/api/login" && path != "/api/register") {
		return body
	}
	if _, set := m["connectFlow"]; set {
		return body
	}
	probe := httptest.NewRequest("GET", "/", nil)
	for _, o := range opts {
		o(probe)
	}
	c, err := probe.Cookie(ConnectCookie)
	if err != nil || c.Value == "" {
		return body
	}
	req := httptest.NewRequest("GET", "/api/integrations/connect/context", nil)
	req.AddCookie(c)
	res, err := s.app.Test(req, -1)
	require.NoError(s.t, err)
	defer res.Body.Close()
	var ctx map[string]any
	require.NoError(s.t, json.NewDecoder(res.Body).Decode(&ctx))
	tok, _ := ctx["connectFlow"].(string)
	if tok == "" {
		return body
	}
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out["connectFlow"] = tok
	return out
}
