package accounts

import (
	"context"
	"time"

	"github.com/gellhub/gellhub/core"
)

// LoginInput is a login request.
type LoginInput struct {
	Email    string
	Password string
	ClientIP string
}

// LoggedIn is a successful login: the profile and a new session token.
type LoggedIn struct {
	Profile        core.Profile
	SessionToken   string
	SessionExpires time.Time
}

// errBadCredentials is the one answer to every failed login, so that it does
// not reveal whether the email exists.
var errBadCredentials = core.Unauthenticated("invalid email or password")

// Login checks an email and password and opens a session. Wrong email and
// wrong password are the same KindUnauthenticated error and take the same
// time. Too many attempts per IP or per email are KindRateLimited.
func (s *Service) Login(ctx context.Context, in LoginInput) (LoggedIn, error) {
	_, normalized, err := core.NormalizeEmail("email", in.Email)
	if err != nil {
		return LoggedIn{}, err
	}
	if in.Password == "" {
		return LoggedIn{}, core.Invalid("password", "password is required")
	}
	if len(in.Password) > core.MaxPasswordLen {
		return LoggedIn{}, core.Invalid("password", "password must be at most %d bytes", core.MaxPasswordLen)
	}
	if err := s.limit(ctx, "login:ip:"+in.ClientIP, LoginPerIP); err != nil {
		return LoggedIn{}, err
	}
	emailKey := core.Digest(normalized)
	if err := s.limit(ctx, "login:email-ip:"+emailKey+":"+in.ClientIP, LoginPerEmailIP); err != nil {
		return LoggedIn{}, err
	}
	if err := s.limit(ctx, "login:email:"+emailKey, LoginPerEmail); err != nil {
		return LoggedIn{}, err
	}
	p, err := s.cfg.Accounts.ProfileByEmail(ctx, normalized)
	if core.IsKind(err, core.KindNotFound) {
		// Same cost, and the same answer under load, as a real check.
		if _, herr := s.cfg.Hasher.Verify(s.dummyHash, in.Password); herr != nil {
			return LoggedIn{}, hasherError(herr)
		}
		return LoggedIn{}, errBadCredentials
	}
	if err != nil {
		return LoggedIn{}, core.Errorf("login", err)
	}
	ok, err := s.cfg.Hasher.Verify(p.PasswordHash, in.Password)
	if err != nil {
		return LoggedIn{}, hasherError(err)
	}
	if !ok {
		return LoggedIn{}, errBadCredentials
	}
	token, expires, err := s.newSession(ctx, p.ID)
	if err != nil {
		return LoggedIn{}, err
	}
	return LoggedIn{Profile: p, SessionToken: token, SessionExpires: expires}, nil
}

// Logout revokes the session of token. An unknown or expired token is not
// an error: the session is gone either way.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" || len(token) > maxTokenLen {
		return nil
	}
	return core.Errorf("logout", s.cfg.Sessions.DeleteSession(ctx, core.Digest(token)))
}

// errNoSession answers every missing, unknown or expired session.
var errNoSession = core.Unauthenticated("sign in first: no valid session")

// SessionPrincipal authenticates a browser session token.
func (s *Service) SessionPrincipal(ctx context.Context, token string) (core.Principal, error) {
	if token == "" || len(token) > maxTokenLen {
		return core.Principal{}, errNoSession
	}
	sess, err := s.cfg.Sessions.SessionByDigest(ctx, core.Digest(token), s.now())
	if core.IsKind(err, core.KindNotFound) {
		return core.Principal{}, errNoSession
	}
	if err != nil {
		return core.Principal{}, core.Errorf("session", err)
	}
	p, err := s.cfg.Accounts.ProfileByID(ctx, sess.ProfileID)
	if core.IsKind(err, core.KindNotFound) {
		return core.Principal{}, errNoSession
	}
	if err != nil {
		return core.Principal{}, core.Errorf("session profile", err)
	}
	return core.Principal{ProfileID: p.ID, Email: p.Email, IsAdmin: s.IsAdmin(p.Email), Via: core.AuthSession}, nil
}

// errBadKey answers every malformed, unknown or revoked API key.
var errBadKey = core.Unauthenticated("missing, unknown or revoked API key")

// KeyPrincipal authenticates a raw API key. Malformed keys (wrong prefix,
// length or checksum) are refused without a store lookup; known keys are
// found by their SHA-256 digest.
func (s *Service) KeyPrincipal(ctx context.Context, raw string) (core.Principal, error) {
	if raw == "" || len(raw) > maxTokenLen {
		return core.Principal{}, errBadKey
	}
	if _, ok := core.ParseAPIKey(raw); !ok {
		return core.Principal{}, errBadKey
	}
	k, err := s.cfg.Accounts.APIKeyByDigest(ctx, core.Digest(raw))
	if core.IsKind(err, core.KindNotFound) {
		return core.Principal{}, errBadKey
	}
	if err != nil {
		return core.Principal{}, core.Errorf("api key", err)
	}
	p, err := s.cfg.Accounts.ProfileByID(ctx, k.ProfileID)
	if core.IsKind(err, core.KindNotFound) {
		return core.Principal{}, errBadKey
	}
	if err != nil {
		return core.Principal{}, core.Errorf("api key profile", err)
	}
	return core.Principal{ProfileID: p.ID, Email: p.Email, Via: core.AuthAPIKey, Line: k.Line, KeyID: k.ID}, nil
}

// hasherError keeps a busy hasher's KindUnavailable (503, retry) and turns
// anything else (a malformed stored hash) into an internal error.
func hasherError(err error) error {
	if core.IsKind(err, core.KindUnavailable) {
		return err
	}
	return core.Internal(err)
}
