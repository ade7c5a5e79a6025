package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsAreTheEmbeddedDefault(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", c.Addr)
	require.Equal(t, "http://127.0.0.1:8080", c.BaseURL)
	require.Equal(t, "./data", c.DataDir)
	require.True(t, c.Embedded())
	require.False(t, c.SecureCookies())
	require.True(t, c.RateLimits)
	require.Equal(t, Development, c.Env)
	require.Equal(t, 14*24*time.Hour, c.SessionTTL)
	require.Equal(t, 1<<20, c.BodyLimit)
	require.False(t, c.WebhookAllowPrivate, "webhooks reach public addresses only by default")
	require.Equal(t, DefaultJobRescueAfter, c.JobRescueAfter)
}

func TestWebhookSettings(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"GELLHUB_WEBHOOK_ALLOW_PRIVATE": "true", "GELLHUB_JOB_RESCUE_AFTER": "90s"}))
	require.NoError(t, err)
	require.True(t, c.WebhookAllowPrivate)
	require.Equal(t, 90*time.Second, c.JobRescueAfter)
}

func TestEverySetting(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"GELLHUB_ADDR": "0.0.0.0:9000", "GELLHUB_BASE_URL": "https://api.example.com/",
		"GELLHUB_DATA_DIR": "/var/lib/gellhub", "GELLHUB_DATABASE_URL": "postgres://u@db/g",
		"GELLHUB_REDIS_URL": "rediss://cache:6380/1", "GELLHUB_REDIS_PREFIX": "prod:",
		"GELLHUB_ADMIN_EMAILS": " a@example.com, ,B@example.com ", "GELLHUB_ENV": "production",
		"GELLHUB_RATE_LIMITS": "off", "GELLHUB_LOG_LEVEL": "debug",
		"GELLHUB_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7", "GELLHUB_SESSION_TTL": "24h",
		"GELLHUB_BODY_LIMIT_BYTES": "2048",
		"GELLHUB_SIGNING_KEY":      "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"GELLHUB_MAX_FILE_BYTES":   "1048576",
		"GELLHUB_S3_ENDPOINT":      "http://127.0.0.1:7070", "GELLHUB_S3_BUCKET": "media",
		"GELLHUB_S3_ACCESS_KEY": "ak", "GELLHUB_S3_SECRET_KEY": "sk",
		"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_new, whsec_old",
		"GELLHUB_STRIPE_API_BASE": "https://stripe-proxy.example/",
	}))
	require.NoError(t, err)
	require.Equal(t, "https://api.example.com", c.BaseURL, "trailing slash trimmed")
	require.True(t, c.SecureCookies())
	require.False(t, c.Embedded())
	require.Equal(t, []string{"a@example.com", "B@example.com"}, c.AdminEmails)
	require.False(t, c.RateLimits)
	require.Equal(t, []string{"10.0.0.0/8", "192.168.1.7"}, c.TrustedProxies)
	require.Equal(t, 24*time.Hour, c.SessionTTL)
	require.Equal(t, 2048, c.BodyLimit)
	require.Equal(t, "prod:", c.RedisPrefix)
	require.Equal(t, []byte("0123456789abcdef0123456789abcdef"), c.SigningKey)
	require.EqualValues(t, 1<<20, c.MaxFileBytes)
	require.True(t, c.S3.Enabled())
	require.True(t, c.S3.PathStyle, "a custom endpoint defaults to path-style")
	require.Equal(t, "us-east-1", c.S3.Region)
	require.False(t, c.SimulatedPayments())
	require.Equal(t, Stripe{SecretKey: "sk_live_x", WebhookSecrets: []string{"whsec_new", "whsec_old"}, APIBase: "https://stripe-proxy.example"}, c.Stripe)
}

func TestPaymentsAreSimulatedWithoutAStripeKeyOutsideProduction(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.True(t, c.SimulatedPayments())
	c, err = Load(env(map[string]string{"STRIPE_SECRET_KEY": "sk_test_x"}))
	require.NoError(t, err, "development may run without the webhook secret")
	require.False(t, c.SimulatedPayments())
	require.Empty(t, c.Stripe.WebhookSecrets)
	prod := map[string]string{"GELLHUB_ENV": "production", "GELLHUB_BASE_URL": "https://x.example", "GELLHUB_SIGNING_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	_, err = Load(env(prod))
	require.ErrorContains(t, err, "STRIPE_SECRET_KEY is required when GELLHUB_ENV=production")
	prod["STRIPE_SECRET_KEY"] = "sk_live_x"
	_, err = Load(env(prod))
	require.ErrorContains(t, err, "STRIPE_WEBHOOK_SECRET is required")
	prod["STRIPE_WEBHOOK_SECRET"] = "whsec_x"
	_, err = Load(env(prod))
	require.NoError(t, err)
	prod["GELLHUB_STRIPE_API_BASE"] = "http://127.0.0.1:12111"
	_, err = Load(env(prod))
	require.Error(t, err, "a plain-http Stripe in production")
}

func TestBadSettingsAreRefused(t *testing.T) {
	t.Parallel()
	for name, m := range map[string]map[string]string{
		"addr_without_port":                 {"GELLHUB_ADDR": "localhost"},
		"base_url_relative":                 {"GELLHUB_BASE_URL": "/api"},
		"base_url_with_path":                {"GELLHUB_BASE_URL": "https://example.com/gellhub"},
		"production_over_plain_http":        {"GELLHUB_ENV": "production"},
		"unknown_env":                       {"GELLHUB_ENV": "staging"},
		"mysql_database":                    {"GELLHUB_DATABASE_URL": "mysql://x"},
		"redis_url_scheme":                  {"GELLHUB_REDIS_URL": "http://cache"},
		"rate_limits_word":                  {"GELLHUB_RATE_LIMITS": "sometimes"},
		"log_level":                         {"GELLHUB_LOG_LEVEL": "loud"},
		"trusted_proxy":                     {"GELLHUB_TRUSTED_PROXIES": "not-an-ip"},
		"session_ttl_too_short":             {"GELLHUB_SESSION_TTL": "10s"},
		"session_ttl_garbage":               {"GELLHUB_SESSION_TTL": "two weeks"},
		"body_limit_tiny":                   {"GELLHUB_BODY_LIMIT_BYTES": "10"},
		"signing_key_short":                 {"GELLHUB_SIGNING_KEY": "c2hvcnQ="},
		"signing_key_missing_in_production": {"GELLHUB_ENV": "production", "GELLHUB_BASE_URL": "https://x.example"},
		"max_file_bytes_garbage":            {"GELLHUB_MAX_FILE_BYTES": "big"},
		"s3_endpoint_without_bucket":        {"GELLHUB_S3_ENDPOINT": "http://127.0.0.1:7070"},
		"s3_endpoint_not_a_url":             {"GELLHUB_S3_ENDPOINT": "localhost:7070", "GELLHUB_S3_BUCKET": "b"},
		"stripe_key_not_secret":             {"STRIPE_SECRET_KEY": "pk_test_x"},
		"stripe_webhook_without_key":        {"STRIPE_WEBHOOK_SECRET": "whsec_x"},
		"stripe_webhook_secret_garbage":     {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "secret"},
		"stripe_api_base_without_key":       {"GELLHUB_STRIPE_API_BASE": "http://127.0.0.1:12111"},
		"stripe_api_base_not_a_url":         {"STRIPE_SECRET_KEY": "sk_test_x", "GELLHUB_STRIPE_API_BASE": "localhost:12111"},
		"webhook_allow_private_word":        {"GELLHUB_WEBHOOK_ALLOW_PRIVATE": "maybe"},
		"webhook_allow_private_production": {"GELLHUB_WEBHOOK_ALLOW_PRIVATE": "true", "GELLHUB_ENV": "production",
			"GELLHUB_BASE_URL": "https://x.example", "GELLHUB_SIGNING_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
			"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"},
		"job_rescue_after_short":   {"GELLHUB_JOB_RESCUE_AFTER": "5s"},
		"job_rescue_after_garbage": {"GELLHUB_JOB_RESCUE_AFTER": "soon"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(env(m))
			require.Error(t, err)
		})
	}
}

func TestAIEngine(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, AI{Engine: AIEngineLocal}, c.AI)

	c, err = Load(env(map[string]string{
		"GELLHUB_AI_ENGINE": "OpenAI", "GELLHUB_AI_BASE_URL": "http://127.0.0.1:11434/",
		"GELLHUB_AI_API_KEY": "sk-secret-value", "GELLHUB_AI_MODEL": "llama3.1",
	}))
	require.NoError(t, err)
	require.Equal(t, AI{Engine: AIEngineOpenAI, BaseURL: "http://127.0.0.1:11434", APIKey: "sk-secret-value", Model: "llama3.1"}, c.AI)
	require.NotContains(t, c.AI.String(), "sk-secret-value")

	for name, m := range map[string]map[string]string{
		"unknown engine":             {"GELLHUB_AI_ENGINE": "gpt"},
		"openai without url":         {"GELLHUB_AI_ENGINE": "openai", "GELLHUB_AI_MODEL": "m"},
		"openai bad url":             {"GELLHUB_AI_ENGINE": "openai", "GELLHUB_AI_BASE_URL": "ftp://x", "GELLHUB_AI_MODEL": "m"},
		"openai url query":           {"GELLHUB_AI_ENGINE": "openai", "GELLHUB_AI_BASE_URL": "https://x?a=1", "GELLHUB_AI_MODEL": "m"},
		"openai without model":       {"GELLHUB_AI_ENGINE": "openai", "GELLHUB_AI_BASE_URL": "https://api.openai.com"},
		"local with openai settings": {"GELLHUB_AI_BASE_URL": "https://api.openai.com", "GELLHUB_AI_API_KEY": "sk-secret-value"},
		"key with control chars": {"GELLHUB_AI_ENGINE": "openai", "GELLHUB_AI_BASE_URL": "https://api.openai.com",
			"GELLHUB_AI_MODEL": "m", "GELLHUB_AI_API_KEY": "sk-secret\nvalue"},
	} {
		_, err := Load(env(m))
		require.Error(t, err, name)
		require.NotContains(t, err.Error(), "secret", name)
	}
}
