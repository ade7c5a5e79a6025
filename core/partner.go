package core

import (
	"io"
	"net/url"
	"strings"
	"time"
)

// AppStatus is a partner app's moderation status.
type AppStatus string

// The app statuses. A suspended app cannot start connect, exchange codes,
// verify links or scope plans.
const (
	AppActive    AppStatus = "active"
	AppSuspended AppStatus = "suspended"
)

// Limits on partner apps.
const (
	MaxRedirectURIs  = 10
	ClientIDPrefix   = "gh_app_"
	SecretPrefix     = "gh_secret_"
	clientIDBodyLen  = 24
	secretBodyBytes  = 32 // 256 bits
	secretDisplayLen = 6
)

// PartnerApp is an integration registered in the Developer Console. It
// belongs to one product line. Its client secret is stored only as a digest.
type PartnerApp struct {
	ID                  string
	ProfileID           string // the owner
	Name                string
	Line                ProductLine
	RedirectURIs        []string
	ClientID            string
	SecretDigest        string // hex SHA-256 of the client secret
	SecretDisplayPrefix string // "gh_secret_AbCdEf"
	Status              AppStatus
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// AllowsRedirect reports whether u is exactly one of the registered URIs:
// byte-for-byte, no normalisation (case, trailing slash, query, port and
// userinfo all count).
func (a PartnerApp) AllowsRedirect(u string) bool {
	for _, r := range a.RedirectURIs {
		if r == u {
			return true
		}
	}
	return false
}

// NewClientID returns a fresh public client id, "gh_app_" + 24 base62 chars.
func NewClientID(rnd io.Reader) (string, error) {
	tok, err := RandomToken(rnd, 18)
	if err != nil {
		return "", err
	}
	for len(tok) < clientIDBodyLen {
		tok = "0" + tok
	}
	return ClientIDPrefix + tok[:clientIDBodyLen], nil
}

// NewClientSecret returns a fresh client secret (256 bits) and its display
// prefix. The secret is shown once and stored as Digest(secret).
func NewClientSecret(rnd io.Reader) (secret, display string, err error) {
	tok, err := RandomToken(rnd, secretBodyBytes)
	if err != nil {
		return "", "", err
	}
	secret = SecretPrefix + tok
	return secret, secret[:len(SecretPrefix)+secretDisplayLen], nil
}

// CheckRedirectURI validates a redirect URI for registration: absolute
// https, or http only for localhost and 127.0.0.1; no fragment; no userinfo;
// at most MaxURLLen bytes.
func CheckRedirectURI(field, s string) error {
	if s == "" {
		return Invalid(field, "%s must not be empty", field)
	}
	if len(s) > MaxURLLen {
		return Invalid(field, "%s must be at most %d characters", field, MaxURLLen)
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return Invalid(field, "%s must be an absolute URL", field)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return Invalid(field, "%s must not have a fragment", field)
	}
	if u.User != nil {
		return Invalid(field, "%s must not carry a user or password", field)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if h := u.Hostname(); h != "localhost" && h != "127.0.0.1" {
			return Invalid(field, "%s must be https (http only for localhost and 127.0.0.1)", field)
		}
	default:
		return Invalid(field, "%s must be https (http only for localhost and 127.0.0.1)", field)
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return Invalid(field, "%s must be printable ASCII without spaces (percent-encode anything else)", field)
		}
	}
	// gellhub appends code and state: a URI that already carries them would
	// hand the partner two of each.
	if q := u.Query(); q.Has("code") || q.Has("state") {
		return Invalid(field, "%s must not carry code or state parameters: gellhub adds them", field)
	}
	return nil
}

// ConnectLink records that a profile completed embedded connect with an app.
// Keys minted at exchange belong to the link; revoking it revokes them.
type ConnectLink struct {
	ID        string
	ProfileID string
	AppID     string
	CreatedAt time.Time
	UpdatedAt time.Time
	RevokedAt *time.Time
}

// Active reports whether the link still stands.
func (l ConnectLink) Active() bool { return l.RevokedAt == nil }

// AppStat names one of a partner app's daily counters.
type AppStat string

// The counters shown in the Developer Console's analytics.
const (
	StatStarts          AppStat = "starts"          // connect flows started
	StatCompletions     AppStat = "completions"     // codes issued
	StatExchanges       AppStat = "exchanges"       // codes redeemed
	StatFailedExchanges AppStat = "failedExchanges" // exchanges refused
)

// AppDayStats is one app's counters for one UTC day.
type AppDayStats struct {
	Day             time.Time // midnight UTC
	Starts          int64
	Completions     int64
	Exchanges       int64
	FailedExchanges int64
}

// ConnectGrant is what a one-time connect code stands for. The code itself
// is never stored: only its digest keys the grant.
type ConnectGrant struct {
	AppID     string
	ProfileID string
	LinkID    string
	State     string
	Line      ProductLine
	PlanID    string
	IssuedAt  time.Time
}

// AppQuery pages through every partner app (staff moderation). Apps come
// ordered by id; After is the last id of the previous page.
type AppQuery struct {
	Status AppStatus // "" for any
	After  string
	Limit  int
}
