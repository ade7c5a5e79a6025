package core

// AuthMethod says how a caller proved who they are.
type AuthMethod string

// The authentication methods.
const (
	AuthSession AuthMethod = "session" // browser session cookie
	AuthAPIKey  AuthMethod = "apiKey"  // x-api-key of one product line
)

// Principal is an authenticated caller, as the use cases see it.
type Principal struct {
	ProfileID string
	Email     string
	IsAdmin   bool
	Via       AuthMethod
	Line      ProductLine // the key's line when Via is AuthAPIKey
	KeyID     string      // the key's id when Via is AuthAPIKey
}

// RequireSession fails unless the caller came with a browser session.
func (p Principal) RequireSession() error {
	if p.Via != AuthSession {
		return Forbidden("this route needs a browser session, not an API key")
	}
	return nil
}

// RequireAdmin fails unless the caller is platform staff on a session.
func (p Principal) RequireAdmin() error {
	if err := p.RequireSession(); err != nil {
		return err
	}
	if !p.IsAdmin {
		return Forbidden("this route is for platform staff")
	}
	return nil
}
