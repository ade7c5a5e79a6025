// Package developer holds the Developer Console's use cases: partner apps
// (create, list, update, delete, rotate the secret, analytics), their
// moderation by staff, client authentication for the connect back channel,
// and the product-line scoping the public plan catalog uses.
package developer

import (
	"context"
	"crypto/subtle"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Limits.
const (
	MaxAppsPerOwner  = 50
	MaxAnalyticsDays = 365
	maxClientIDLen   = 128
	maxSecretLen     = 128
	adminPageMax     = 1000
)

// Service runs the Developer Console use cases.
type Service struct {
	apps  ports.PartnerAppStore
	clock ports.Clock
	rnd   io.Reader
	// dummyDigest is compared against when a client id is unknown, so an
	// unknown client costs the same as a wrong secret.
	dummyDigest string
}

// New returns a Service.
func New(apps ports.PartnerAppStore, clock ports.Clock, rnd io.Reader) *Service {
	return &Service{apps: apps, clock: clock, rnd: rnd, dummyDigest: core.Digest("gh_secret_unknown-client")}
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// AppInput is a new app as the console sends it. Exactly one product line,
// given as ProductType or as a one-element AllowedProductTypes.
type AppInput struct {
	Name                string
	ProductType         string
	AllowedProductTypes []string
	RedirectURIs        []string
}

// AppPatch changes an app's name or redirect URIs; nil fields stay.
type AppPatch struct {
	Name         *string
	RedirectURIs *[]string
}

// CreatedApp is a new app with its client secret, shown this once.
type CreatedApp struct {
	App          core.PartnerApp
	ClientSecret string
}

// Create registers an app owned by the caller.
func (s *Service) Create(ctx context.Context, who core.Principal, in AppInput) (CreatedApp, error) {
	if err := who.RequireSession(); err != nil {
		return CreatedApp{}, err
	}
	name, err := appName(in.Name)
	if err != nil {
		return CreatedApp{}, err
	}
	line, err := parseLine(in.ProductType, in.AllowedProductTypes)
	if err != nil {
		return CreatedApp{}, err
	}
	uris, err := checkRedirectURIs(in.RedirectURIs)
	if err != nil {
		return CreatedApp{}, err
	}
	owned, err := s.apps.AppsByOwner(ctx, who.ProfileID)
	if err != nil {
		return CreatedApp{}, core.Errorf("create app", err)
	}
	if len(owned) >= MaxAppsPerOwner {
		return CreatedApp{}, core.Conflict("too_many_apps", "an account may own at most 50 apps; delete one first")
	}
	now := s.now()
	id, err := core.NewID("app", now, s.rnd)
	if err != nil {
		return CreatedApp{}, core.Internal(err)
	}
	clientID, err := core.NewClientID(s.rnd)
	if err != nil {
		return CreatedApp{}, core.Internal(err)
	}
	secret, display, err := core.NewClientSecret(s.rnd)
	if err != nil {
		return CreatedApp{}, core.Internal(err)
	}
	app := core.PartnerApp{
		ID: id, ProfileID: who.ProfileID, Name: name, Line: line, RedirectURIs: uris,
		ClientID: clientID, SecretDigest: core.Digest(secret), SecretDisplayPrefix: display,
		Status: core.AppActive, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.apps.CreateApp(ctx, app); err != nil {
		return CreatedApp{}, core.Errorf("create app", err)
	}
	return CreatedApp{App: app, ClientSecret: secret}, nil
}

// List returns the caller's apps.
func (s *Service) List(ctx context.Context, who core.Principal) ([]core.PartnerApp, error) {
	if err := who.RequireSession(); err != nil {
		return nil, err
	}
	apps, err := s.apps.AppsByOwner(ctx, who.ProfileID)
	return apps, core.Errorf("list apps", err)
}

// Get returns one of the caller's apps; another owner's app is not found.
func (s *Service) Get(ctx context.Context, who core.Principal, id string) (core.PartnerApp, error) {
	if err := who.RequireSession(); err != nil {
		return core.PartnerApp{}, err
	}
	return s.owned(ctx, who, id)
}

func (s *Service) owned(ctx context.Context, who core.Principal, id string) (core.PartnerApp, error) {
	if err := checkID(id); err != nil {
		return core.PartnerApp{}, err
	}
	a, err := s.apps.AppByID(ctx, id)
	if err != nil {
		return core.PartnerApp{}, core.Errorf("app", err)
	}
	if a.ProfileID != who.ProfileID {
		return core.PartnerApp{}, core.NotFound("app")
	}
	return a, nil
}

// Update renames an app or replaces its redirect URIs.
func (s *Service) Update(ctx context.Context, who core.Principal, id string, p AppPatch) (core.PartnerApp, error) {
	if err := who.RequireSession(); err != nil {
		return core.PartnerApp{}, err
	}
	if _, err := s.owned(ctx, who, id); err != nil {
		return core.PartnerApp{}, err
	}
	var name string
	var uris []string
	var err error
	if p.Name != nil {
		if name, err = appName(*p.Name); err != nil {
			return core.PartnerApp{}, err
		}
	}
	if p.RedirectURIs != nil {
		if uris, err = checkRedirectURIs(*p.RedirectURIs); err != nil {
			return core.PartnerApp{}, err
		}
	}
	now := s.now()
	a, err := s.apps.UpdateApp(ctx, id, func(a *core.PartnerApp) error {
		if a.ProfileID != who.ProfileID {
			return core.NotFound("app")
		}
		if p.Name != nil {
			a.Name = name
		}
		if p.RedirectURIs != nil {
			a.RedirectURIs = uris
		}
		a.UpdatedAt = now
		return nil
	})
	return a, core.Errorf("update app", err)
}

// Delete removes one of the caller's apps; its connect links and the keys
// minted for them are revoked.
func (s *Service) Delete(ctx context.Context, who core.Principal, id string) error {
	if err := who.RequireSession(); err != nil {
		return err
	}
	if _, err := s.owned(ctx, who, id); err != nil {
		return err
	}
	return core.Errorf("delete app", s.apps.DeleteApp(ctx, id, s.now()))
}

// RotateSecret replaces an app's client secret; the old one fails at once.
func (s *Service) RotateSecret(ctx context.Context, who core.Principal, id string) (string, error) {
	if err := who.RequireSession(); err != nil {
		return "", err
	}
	if _, err := s.owned(ctx, who, id); err != nil {
		return "", err
	}
	secret, display, err := core.NewClientSecret(s.rnd)
	if err != nil {
		return "", core.Internal(err)
	}
	now := s.now()
	_, err = s.apps.UpdateApp(ctx, id, func(a *core.PartnerApp) error {
		if a.ProfileID != who.ProfileID {
			return core.NotFound("app")
		}
		a.SecretDigest, a.SecretDisplayPrefix, a.UpdatedAt = core.Digest(secret), display, now
		return nil
	})
	if err != nil {
		return "", core.Errorf("rotate secret", err)
	}
	return secret, nil
}

// Analytics is an app's daily counters over a window, every day present.
type Analytics struct {
	Days   []core.AppDayStats
	Totals core.AppDayStats // Day is zero
}

// Analytics returns the last days days (1–365, today included) of an app's
// counters, zero-filled.
func (s *Service) Analytics(ctx context.Context, who core.Principal, id string, days int) (Analytics, error) {
	if err := who.RequireSession(); err != nil {
		return Analytics{}, err
	}
	if days < 1 || days > MaxAnalyticsDays {
		return Analytics{}, core.Invalid("days", "days must be between 1 and %d", MaxAnalyticsDays)
	}
	if _, err := s.owned(ctx, who, id); err != nil {
		return Analytics{}, err
	}
	to := day(s.now())
	from := to.AddDate(0, 0, -(days - 1))
	rows, err := s.apps.AppStats(ctx, id, from, to)
	if err != nil {
		return Analytics{}, core.Errorf("analytics", err)
	}
	byDay := map[time.Time]core.AppDayStats{}
	for _, r := range rows {
		byDay[day(r.Day)] = r
	}
	var out Analytics
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		r := byDay[d]
		r.Day = d
		out.Days = append(out.Days, r)
		out.Totals.Starts += r.Starts
		out.Totals.Completions += r.Completions
		out.Totals.Exchanges += r.Exchanges
		out.Totals.FailedExchanges += r.FailedExchanges
	}
	return out, nil
}

// Record adds one to an app's counter for today. Analytics must never fail
// a flow: an error is returned for logging only.
func (s *Service) Record(ctx context.Context, appID string, stat core.AppStat) error {
	return s.apps.AddAppStat(ctx, appID, day(s.now()), stat, 1)
}

// AdminList pages through every app for staff; more reports that another
// page follows the last app returned.
func (s *Service) AdminList(ctx context.Context, who core.Principal, status, after string, limit int) (apps []core.PartnerApp, more bool, err error) {
	if err := who.RequireAdmin(); err != nil {
		return nil, false, err
	}
	q := core.AppQuery{After: after, Limit: limit}
	switch st := core.AppStatus(status); st {
	case "", core.AppActive, core.AppSuspended:
		q.Status = st
	default:
		return nil, false, core.Invalid("status", "status must be active or suspended")
	}
	if after != "" {
		if err := checkID(after); err != nil {
			return nil, false, core.Invalid("cursor", "cursor is not valid")
		}
	}
	if q.Limit <= 0 || q.Limit > adminPageMax {
		return nil, false, core.Invalid("limit", "limit must be between 1 and %d", adminPageMax)
	}
	q.Limit++ // one more than asked tells whether another page follows
	apps, err = s.apps.ListApps(ctx, q)
	if err != nil {
		return nil, false, core.Errorf("list apps", err)
	}
	if len(apps) == limit+1 {
		return apps[:limit], true, nil
	}
	return apps, false, nil
}

// AdminSetStatus suspends or reinstates an app.
func (s *Service) AdminSetStatus(ctx context.Context, who core.Principal, id, status string) (core.PartnerApp, error) {
	if err := who.RequireAdmin(); err != nil {
		return core.PartnerApp{}, err
	}
	if err := checkID(id); err != nil {
		return core.PartnerApp{}, err
	}
	st := core.AppStatus(status)
	if st != core.AppActive && st != core.AppSuspended {
		return core.PartnerApp{}, core.Invalid("status", "status must be active or suspended")
	}
	now := s.now()
	a, err := s.apps.UpdateApp(ctx, id, func(a *core.PartnerApp) error {
		a.Status, a.UpdatedAt = st, now
		return nil
	})
	return a, core.Errorf("set app status", err)
}

// AllowedLines implements plans.AppScopes: the lines of an active app. An
// unknown or suspended client is KindNotFound.
func (s *Service) AllowedLines(ctx context.Context, clientID string) ([]core.ProductLine, error) {
	a, err := s.ActiveApp(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return []core.ProductLine{a.Line}, nil
}

// ErrSuspendedClient is ActiveApp's answer for a suspended app: KindNotFound
// like an unknown client, but told apart with errors.Is where the contract
// tells them apart (connect's start: unknown 400, suspended 404).
var ErrSuspendedClient = core.NotFound("client")

// ActiveApp returns the active app with this client id; an unknown or
// suspended client is KindNotFound (a suspended one ErrSuspendedClient).
func (s *Service) ActiveApp(ctx context.Context, clientID string) (core.PartnerApp, error) {
	if clientID == "" || len(clientID) > maxClientIDLen {
		return core.PartnerApp{}, core.NotFound("client")
	}
	a, err := s.apps.AppByClientID(ctx, clientID)
	if core.IsKind(err, core.KindNotFound) {
		return core.PartnerApp{}, core.NotFound("client")
	}
	if err == nil && a.Status != core.AppActive {
		return core.PartnerApp{}, ErrSuspendedClient
	}
	if err != nil {
		return core.PartnerApp{}, core.Errorf("client", err)
	}
	return a, nil
}

// errBadClient answers every unknown client, wrong secret or suspended app
// on the back channel.
var errBadClient = core.Unauthenticated("invalid client_id or client_secret")

// AuthenticateClient checks a partner backend's credentials in constant
// time (the digests are compared with subtle.ConstantTimeCompare, and an
// unknown client id costs the same comparison). A suspended app fails too.
func (s *Service) AuthenticateClient(ctx context.Context, clientID, secret string) (core.PartnerApp, error) {
	if clientID == "" || secret == "" || len(clientID) > maxClientIDLen || len(secret) > maxSecretLen {
		return core.PartnerApp{}, errBadClient
	}
	a, err := s.apps.AppByClientID(ctx, clientID)
	want := s.dummyDigest
	switch {
	case err == nil:
		want = a.SecretDigest
	case !core.IsKind(err, core.KindNotFound):
		return core.PartnerApp{}, core.Errorf("authenticate client", err)
	}
	ok := subtle.ConstantTimeCompare([]byte(core.Digest(secret)), []byte(want)) == 1
	if err != nil || !ok || a.Status != core.AppActive {
		return core.PartnerApp{}, errBadClient
	}
	return a, nil
}

func parseLine(productType string, allowed []string) (core.ProductLine, error) {
	switch {
	case productType != "" && len(allowed) > 0:
		if len(allowed) != 1 || allowed[0] != productType {
			return "", core.Invalid("allowedProductTypes", "allowedProductTypes must name the same single line as productType")
		}
	case productType == "" && len(allowed) == 0:
		return "", core.Invalid("productType", "productType is required (clientGallery, drive or messaging)")
	case productType == "":
		if len(allowed) != 1 {
			return "", core.Invalid("allowedProductTypes", "an app serves exactly one product line")
		}
		productType = allowed[0]
		return core.ParseProductLine("allowedProductTypes", productType)
	}
	return core.ParseProductLine("productType", productType)
}

func checkRedirectURIs(uris []string) ([]string, error) {
	if len(uris) == 0 {
		return nil, core.Invalid("redirectUris", "redirectUris needs at least one URL")
	}
	if len(uris) > core.MaxRedirectURIs {
		return nil, core.Invalid("redirectUris", "redirectUris may list at most %d URLs", core.MaxRedirectURIs)
	}
	out := make([]string, 0, len(uris))
	for _, u := range uris {
		if err := core.CheckRedirectURI("redirectUris", u); err != nil {
			return nil, err
		}
		if slices.Contains(out, u) {
			return nil, core.Invalid("redirectUris", "redirectUris lists %q twice", u)
		}
		out = append(out, u)
	}
	return out, nil
}

func checkID(id string) error {
	if !core.ValidID(id) {
		return core.NotFound("app")
	}
	return nil
}

// day truncates t to midnight UTC.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ActiveAppByID returns an active app by id; a deleted or suspended one is
// KindNotFound.
func (s *Service) ActiveAppByID(ctx context.Context, id string) (core.PartnerApp, error) {
	a, err := s.apps.AppByID(ctx, id)
	if core.IsKind(err, core.KindNotFound) || (err == nil && a.Status != core.AppActive) {
		return core.PartnerApp{}, core.NotFound("app")
	}
	return a, core.Errorf("app", err)
}

// AppByIDAnyStatus returns an app by id whatever its status, for listings.
func (s *Service) AppByIDAnyStatus(ctx context.Context, id string) (core.PartnerApp, error) {
	return s.apps.AppByID(ctx, id)
}

// appName validates an app's name. People see it on gellhub's own sign-in
// pages ("connect it to …"), so it may not pass itself off as gellhub.
func appName(s string) (string, error) {
	name, err := core.CleanText("name", s, core.MaxNameLen, true)
	if err != nil {
		return "", err
	}
	if strings.Contains(strings.ToLower(strings.ReplaceAll(name, " ", "")), "gellhub") {
		return "", core.Invalid("name", "an app's name may not contain gellhub")
	}
	return name, nil
}
