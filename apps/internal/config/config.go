// Package config reads gellhub's configuration from environment variables.
// It is the only place that knows their names; the README lists them all.
package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Env is the deployment environment.
type Env string

// The environments.
const (
	Development Env = "development"
	Production  Env = "production"
)

// Config is the whole configuration of the API and worker programs.
type Config struct {
	Addr           string        // GELLHUB_ADDR
	BaseURL        string        // GELLHUB_BASE_URL
	DataDir        string        // GELLHUB_DATA_DIR
	DatabaseURL    string        // GELLHUB_DATABASE_URL
	RedisURL       string        // GELLHUB_REDIS_URL
	RedisPrefix    string        // GELLHUB_REDIS_PREFIX
	AdminEmails    []string      // GELLHUB_ADMIN_EMAILS
	Env            Env           // GELLHUB_ENV
	RateLimits     bool          // GELLHUB_RATE_LIMITS
	LogLevel       string        // GELLHUB_LOG_LEVEL
	TrustedProxies []string      // GELLHUB_TRUSTED_PROXIES
	SessionTTL     time.Duration // GELLHUB_SESSION_TTL
	BodyLimit      int           // GELLHUB_BODY_LIMIT_BYTES
	SigningKey     []byte        // GELLHUB_SIGNING_KEY (base64); empty: a key file in the data dir
	MaxFileBytes   int64         // GELLHUB_MAX_FILE_BYTES
	S3             S3            // GELLHUB_S3_*
	Stripe         Stripe        // STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, GELLHUB_STRIPE_API_BASE
	AI             AI            // GELLHUB_AI_*
	// WebhookAllowPrivate is GELLHUB_WEBHOOK_ALLOW_PRIVATE: outgoing
	// webhooks (skills, handoff) may reach loopback and private addresses,
	// and plain http:// webhook URLs are accepted. Development and tests
	// only: production refuses it.
	WebhookAllowPrivate bool
	// JobRescueAfter is GELLHUB_JOB_RESCUE_AFTER: how long a queued job
	// (a webhook delivery) may stay running before another worker takes
	// it over, because the worker running it died.
	JobRescueAfter time.Duration
}

// The AI engines of Messaging (GELLHUB_AI_ENGINE).
const (
	AIEngineLocal  = "local"  // the built-in retrieval engine: free, no network
	AIEngineOpenAI = "openai" // an OpenAI-compatible /v1/chat/completions endpoint
)

// AI configures the engine that answers Messaging's chat turns.
type AI struct {
	Engine  string // GELLHUB_AI_ENGINE: local (default) or openai
	BaseURL string // GELLHUB_AI_BASE_URL: the openai engine's server root
	// APIKey is GELLHUB_AI_API_KEY, sent as a bearer token (optional for
	// servers without one, such as a local Ollama). Never logged.
	APIKey string
	Model  string // GELLHUB_AI_MODEL: the openai engine's model name
}

// String describes the engine without its API key.
func (a AI) String() string {
	if a.Engine != AIEngineOpenAI {
		return a.Engine
	}
	return a.Engine + " (" + a.BaseURL + ", model " + a.Model + ")"
}

// Stripe configures payments. With no secret key, payments are simulated
// (the embedded default's localbilling pages), which production refuses.
type Stripe struct {
	SecretKey string // STRIPE_SECRET_KEY: sk_live_…, sk_test_…, or a restricted rk_… key
	// WebhookSecrets are STRIPE_WEBHOOK_SECRET's comma-separated signing
	// secrets (whsec_…): several while one is rolled.
	WebhookSecrets []string
	// APIBase replaces https://api.stripe.com (GELLHUB_STRIPE_API_BASE):
	// stripe-mock in development and tests.
	APIBase string
}

// SimulatedPayments reports whether payments are simulated: no Stripe key.
func (c Config) SimulatedPayments() bool { return c.Stripe.SecretKey == "" }

// S3 configures S3-compatible object storage. With no endpoint and no
// bucket, files live under the data dir instead.
type S3 struct {
	Endpoint  string // GELLHUB_S3_ENDPOINT
	Bucket    string // GELLHUB_S3_BUCKET
	Region    string // GELLHUB_S3_REGION
	AccessKey string // GELLHUB_S3_ACCESS_KEY
	SecretKey string // GELLHUB_S3_SECRET_KEY
	PathStyle bool   // GELLHUB_S3_PATH_STYLE
}

// Enabled reports whether object storage is S3 rather than local files.
func (s S3) Enabled() bool { return s.Bucket != "" }

// Defaults.
const (
	DefaultAddr       = "127.0.0.1:8080"
	DefaultDataDir    = "./data"
	DefaultBodyLimit  = 1 << 20
	DefaultSessionTTL = 14 * 24 * time.Hour
	// DefaultJobRescueAfter is GELLHUB_JOB_RESCUE_AFTER's default.
	DefaultJobRescueAfter = 5 * time.Minute
	// MinJobRescueAfter is above a webhook delivery's longest run (its
	// 10 s attempt and the bookkeeping around it), so that a job is never
	// taken over while its worker is still on it.
	MinJobRescueAfter = 30 * time.Second
)

// Load reads the configuration through getenv (os.Getenv in programs, a map
// in tests) and validates it.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		Addr:        or(getenv("GELLHUB_ADDR"), DefaultAddr),
		DataDir:     or(getenv("GELLHUB_DATA_DIR"), DefaultDataDir),
		DatabaseURL: strings.TrimSpace(getenv("GELLHUB_DATABASE_URL")),
		RedisURL:    strings.TrimSpace(getenv("GELLHUB_REDIS_URL")),
		RedisPrefix: or(getenv("GELLHUB_REDIS_PREFIX"), "gellhub:"),
		Env:         Env(or(getenv("GELLHUB_ENV"), string(Development))),
		LogLevel:    or(getenv("GELLHUB_LOG_LEVEL"), "info"),
		SessionTTL:  DefaultSessionTTL,
		BodyLimit:   DefaultBodyLimit,
	}
	if c.Env != Development && c.Env != Production {
		return Config{}, fmt.Errorf("GELLHUB_ENV must be development or production, not %q", c.Env)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return Config{}, fmt.Errorf("GELLHUB_ADDR must be host:port: %w", err)
	}
	c.BaseURL = strings.TrimRight(or(getenv("GELLHUB_BASE_URL"), "http://"+c.Addr), "/")
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return Config{}, fmt.Errorf("GELLHUB_BASE_URL must be an absolute http(s) URL without a path, not %q", c.BaseURL)
	}
	if c.Env == Production && u.Scheme != "https" {
		return Config{}, fmt.Errorf("GELLHUB_BASE_URL must be https when GELLHUB_ENV=production")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return Config{}, fmt.Errorf("GELLHUB_DATABASE_URL must be a postgres:// URL (empty uses SQLite in the data dir)")
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		return Config{}, fmt.Errorf("GELLHUB_REDIS_URL must be a redis:// or rediss:// URL")
	}
	for _, e := range strings.Split(getenv("GELLHUB_ADMIN_EMAILS"), ",") {
		if e = strings.TrimSpace(e); e != "" {
			c.AdminEmails = append(c.AdminEmails, e)
		}
	}
	switch v := strings.ToLower(or(getenv("GELLHUB_RATE_LIMITS"), "on")); v {
	case "on", "true", "1":
		c.RateLimits = true
	case "off", "false", "0":
		c.RateLimits = false
	default:
		return Config{}, fmt.Errorf("GELLHUB_RATE_LIMITS must be on or off, not %q", v)
	}
	switch v := strings.ToLower(or(getenv("GELLHUB_WEBHOOK_ALLOW_PRIVATE"), "false")); v {
	case "true", "1", "on":
		c.WebhookAllowPrivate = true
	case "false", "0", "off":
	default:
		return Config{}, fmt.Errorf("GELLHUB_WEBHOOK_ALLOW_PRIVATE must be true or false, not %q", v)
	}
	if c.WebhookAllowPrivate && c.Env == Production {
		return Config{}, fmt.Errorf("GELLHUB_WEBHOOK_ALLOW_PRIVATE=true is refused when GELLHUB_ENV=production: webhooks must not reach private addresses")
	}
	c.JobRescueAfter = DefaultJobRescueAfter
	if v := getenv("GELLHUB_JOB_RESCUE_AFTER"); v != "" {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < MinJobRescueAfter {
			return Config{}, fmt.Errorf("GELLHUB_JOB_RESCUE_AFTER must be a duration of at least %s, such as 5m", MinJobRescueAfter)
		}
		c.JobRescueAfter = d
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return Config{}, fmt.Errorf("GELLHUB_LOG_LEVEL must be debug, info, warn or error")
	}
	for _, p := range strings.Split(getenv("GELLHUB_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return Config{}, fmt.Errorf("GELLHUB_TRUSTED_PROXIES: %q is neither an IP nor a CIDR", p)
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	if v := getenv("GELLHUB_SESSION_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return Config{}, fmt.Errorf("GELLHUB_SESSION_TTL must be a duration of at least 1m, such as 336h")
		}
		c.SessionTTL = d
	}
	if v := strings.TrimSpace(getenv("GELLHUB_SIGNING_KEY")); v != "" {
		key, err := decodeKey(v)
		if err != nil || len(key) < 32 {
			return Config{}, fmt.Errorf("GELLHUB_SIGNING_KEY must be base64 of at least 32 random bytes (openssl rand -base64 32)")
		}
		c.SigningKey = key
	} else if c.Env == Production {
		return Config{}, fmt.Errorf("GELLHUB_SIGNING_KEY is required when GELLHUB_ENV=production: every instance must sign media links with the same key")
	}
	c.MaxFileBytes = 5 << 30
	if v := getenv("GELLHUB_MAX_FILE_BYTES"); v != "" {
		// At most 5 GiB: a presigned upload is one PUT, and S3 takes no
		// larger single PUT.
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 1 || n > 5<<30 {
			return Config{}, fmt.Errorf("GELLHUB_MAX_FILE_BYTES must be a number of bytes between 1 and 5368709120 (5 GiB)")
		}
		c.MaxFileBytes = n
	}
	c.S3 = S3{
		Endpoint: strings.TrimSpace(getenv("GELLHUB_S3_ENDPOINT")), Bucket: strings.TrimSpace(getenv("GELLHUB_S3_BUCKET")),
		Region: or(getenv("GELLHUB_S3_REGION"), "us-east-1"), AccessKey: getenv("GELLHUB_S3_ACCESS_KEY"),
		SecretKey: getenv("GELLHUB_S3_SECRET_KEY"),
	}
	c.S3.PathStyle = c.S3.Endpoint != ""
	if v := getenv("GELLHUB_S3_PATH_STYLE"); v != "" {
		c.S3.PathStyle = v == "true" || v == "1" || v == "on"
	}
	if c.S3.Endpoint != "" && c.S3.Bucket == "" {
		return Config{}, fmt.Errorf("GELLHUB_S3_BUCKET is required with GELLHUB_S3_ENDPOINT")
	}
	if c.S3.Endpoint != "" {
		if u, err := url.Parse(c.S3.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Config{}, fmt.Errorf("GELLHUB_S3_ENDPOINT must be an http(s) URL")
		}
	}
	if err := c.loadStripe(getenv); err != nil {
		return Config{}, err
	}
	if err := c.loadAI(getenv); err != nil {
		return Config{}, err
	}
	if v := getenv("GELLHUB_BODY_LIMIT_BYTES"); v != "" {
		var n int
		if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 1024 || n > 64<<20 {
			return Config{}, fmt.Errorf("GELLHUB_BODY_LIMIT_BYTES must be between 1024 and 67108864")
		}
		c.BodyLimit = n
	}
	return c, nil
}

// loadStripe reads the payment settings. Production needs Stripe: a secret
// key (simulated payments are refused) and a webhook secret (without it no
// payment would ever reach the subscriptions).
func (c *Config) loadStripe(getenv func(string) string) error {
	c.Stripe.SecretKey = strings.TrimSpace(getenv("STRIPE_SECRET_KEY"))
	for _, s := range strings.Split(getenv("STRIPE_WEBHOOK_SECRET"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.Stripe.WebhookSecrets = append(c.Stripe.WebhookSecrets, s)
		}
	}
	c.Stripe.APIBase = strings.TrimRight(strings.TrimSpace(getenv("GELLHUB_STRIPE_API_BASE")), "/")
	key := c.Stripe.SecretKey
	switch {
	case key == "" && c.Env == Production:
		return fmt.Errorf("STRIPE_SECRET_KEY is required when GELLHUB_ENV=production: simulated payments are refused in production")
	case key == "" && len(c.Stripe.WebhookSecrets) > 0:
		return fmt.Errorf("STRIPE_WEBHOOK_SECRET is set but STRIPE_SECRET_KEY is empty: set both, or neither for simulated payments")
	case key == "" && c.Stripe.APIBase != "":
		return fmt.Errorf("GELLHUB_STRIPE_API_BASE is set but STRIPE_SECRET_KEY is empty")
	case key != "" && !strings.HasPrefix(key, "sk_") && !strings.HasPrefix(key, "rk_"):
		return fmt.Errorf("STRIPE_SECRET_KEY must be a Stripe secret key (sk_…) or restricted key (rk_…)")
	case key != "" && len(c.Stripe.WebhookSecrets) == 0 && c.Env == Production:
		return fmt.Errorf("STRIPE_WEBHOOK_SECRET is required when GELLHUB_ENV=production: without it payments never reach the subscriptions")
	}
	for _, s := range c.Stripe.WebhookSecrets {
		if !strings.HasPrefix(s, "whsec_") {
			return fmt.Errorf("STRIPE_WEBHOOK_SECRET must be comma-separated webhook signing secrets (whsec_…)")
		}
	}
	if b := c.Stripe.APIBase; b != "" {
		u, err := url.Parse(b)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("GELLHUB_STRIPE_API_BASE must be an http(s) URL")
		}
		if c.Env == Production && u.Scheme != "https" {
			return fmt.Errorf("GELLHUB_STRIPE_API_BASE must be https when GELLHUB_ENV=production")
		}
	}
	return nil
}

// loadAI reads the Messaging AI engine: local by default; openai needs a
// base URL and a model. Settings of the openai engine while the local one
// is chosen are refused, so that a typo in GELLHUB_AI_ENGINE does not
// silently leave the local engine answering. Errors never quote the key.
func (c *Config) loadAI(getenv func(string) string) error {
	c.AI = AI{
		Engine:  strings.ToLower(or(getenv("GELLHUB_AI_ENGINE"), AIEngineLocal)),
		BaseURL: strings.TrimRight(strings.TrimSpace(getenv("GELLHUB_AI_BASE_URL")), "/"),
		APIKey:  strings.TrimSpace(getenv("GELLHUB_AI_API_KEY")),
		Model:   strings.TrimSpace(getenv("GELLHUB_AI_MODEL")),
	}
	switch c.AI.Engine {
	case AIEngineLocal:
		if c.AI.BaseURL != "" || c.AI.APIKey != "" || c.AI.Model != "" {
			return fmt.Errorf("GELLHUB_AI_BASE_URL, GELLHUB_AI_API_KEY and GELLHUB_AI_MODEL configure the openai engine: set GELLHUB_AI_ENGINE=openai, or unset them")
		}
		return nil
	case AIEngineOpenAI:
	default:
		return fmt.Errorf("GELLHUB_AI_ENGINE must be local or openai, not %q", c.AI.Engine)
	}
	u, err := url.Parse(c.AI.BaseURL)
	if c.AI.BaseURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("GELLHUB_AI_BASE_URL must be the http(s) URL of an OpenAI-compatible server (such as https://api.openai.com or http://127.0.0.1:11434) when GELLHUB_AI_ENGINE=openai")
	}
	if c.AI.Model == "" {
		return fmt.Errorf("GELLHUB_AI_MODEL is required when GELLHUB_AI_ENGINE=openai (such as gpt-4o-mini or llama3.1)")
	}
	if strings.ContainsFunc(c.AI.APIKey, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return fmt.Errorf("GELLHUB_AI_API_KEY contains control characters")
	}
	return nil
}

// SecureCookies reports whether cookies get the Secure attribute: always,
// unless the base URL is plain http.
func (c Config) SecureCookies() bool {
	u, err := url.Parse(c.BaseURL)
	return err != nil || !strings.EqualFold(u.Scheme, "http")
}

// Embedded reports whether the program runs on its embedded default
// (SQLite in the data dir) rather than PostgreSQL.
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

func or(v, def string) string {
	if v = strings.TrimSpace(v); v != "" {
		return v
	}
	return def
}

func decodeKey(v string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64")
}
