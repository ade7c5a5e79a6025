package developer_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/developer"
	"github.com/gellhub/gellhub/testkit"
)

// start is the first of a month, so a week's analytics window reaches back
// into the previous one.
var start = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// fixture is a developer.Service on the in-memory store and a fake clock.
type fixture struct {
	store *testkit.Store
	clock *testkit.Clock
	svc   *developer.Service
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	f := fixture{store: testkit.NewStore(), clock: testkit.NewClock(start)}
	f.svc = developer.New(f.store, f.clock, rand.Reader)
	return f
}

// owner stores a profile for email (apps need an existing owner) and
// returns its browser-session principal.
func (f fixture) owner(t *testing.T, email string) core.Principal {
	t.Helper()
	id, err := core.NewID("prof", f.clock.Now(), rand.Reader)
	require.NoError(t, err)
	now := f.clock.Now()
	require.NoError(t, f.store.CreateAccount(context.Background(), core.Account{
		Profile: core.Profile{ID: id, Email: email, EmailNormalized: strings.ToLower(email), DisplayName: "Dev", AccountKind: core.AccountStudio, CreatedAt: now, UpdatedAt: now},
		Studio:  core.Studio{ID: "studio_" + id, ProfileID: id, CreatedAt: now},
		Drive:   core.Drive{ID: "drive_" + id, ProfileID: id, CreatedAt: now},
	}))
	return core.Principal{ProfileID: id, Email: email, Via: core.AuthSession}
}

// admin is platform staff on a session (admin routes need no stored profile).
var admin = core.Principal{ProfileID: "prof_staff", Email: "staff@gellhub.test", IsAdmin: true, Via: core.AuthSession}

// viaKey is who as if authenticated with an API key instead of a session.
func viaKey(who core.Principal) core.Principal {
	who.Via, who.Line, who.KeyID = core.AuthAPIKey, core.LineDrive, "key_1"
	return who
}

// appInput is a valid drive app with one redirect URI.
func appInput() developer.AppInput {
	return developer.AppInput{Name: "Shopline", ProductType: "drive", RedirectURIs: []string{"https://partner.example/cb"}}
}

// create creates in for who and fails the test on error.
func (f fixture) create(t *testing.T, who core.Principal, in developer.AppInput) developer.CreatedApp {
	t.Helper()
	c, err := f.svc.Create(context.Background(), who, in)
	require.NoError(t, err)
	return c
}

// stored reads an app straight from the store.
func (f fixture) stored(t *testing.T, id string) core.PartnerApp {
	t.Helper()
	a, err := f.store.AppByID(context.Background(), id)
	require.NoError(t, err)
	return a
}

// requireKind asserts err is a *core.Error of kind with code (when code is
// not empty) and detail (when detail is not empty), and returns it.
func requireKind(t *testing.T, err error, kind core.Kind, code, detail string) *core.Error {
	t.Helper()
	require.Error(t, err)
	e, ok := core.AsError(err)
	require.True(t, ok, "want a *core.Error, got %T: %v", err, err)
	require.Equal(t, kind, e.Kind, "error: %v", err)
	if code != "" {
		require.Equal(t, code, e.Code, "error: %v", err)
	}
	if detail != "" {
		require.Equal(t, detail, e.Detail, "error: %v", err)
	}
	return e
}

func ptr[T any](v T) *T { return &v }

func TestCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("returns_the_app_and_its_secret_once", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who := f.owner(t, "dev@example.com")
		in := appInput()
		in.Name = "  Shopline  "
		in.RedirectURIs = []string{"https://partner.example/cb", "http://localhost:3000/cb"}

		c := f.create(t, who, in)
		a := c.App
		require.True(t, strings.HasPrefix(a.ID, "app_"), a.ID)
		require.Equal(t, who.ProfileID, a.ProfileID)
		require.Equal(t, "Shopline", a.Name, "the name is trimmed")
		require.Equal(t, core.LineDrive, a.Line)
		require.Equal(t, in.RedirectURIs, a.RedirectURIs)
		require.Equal(t, core.AppActive, a.Status)
		require.Equal(t, start, a.CreatedAt)
		require.Equal(t, start, a.UpdatedAt)

		require.True(t, strings.HasPrefix(a.ClientID, core.ClientIDPrefix), a.ClientID)
		require.Len(t, a.ClientID, len(core.ClientIDPrefix)+24)
		require.True(t, strings.HasPrefix(c.ClientSecret, core.SecretPrefix), "secret has its prefix")
		require.GreaterOrEqual(t, len(c.ClientSecret)-len(core.SecretPrefix), 43, "256 bits in base62")
		require.Equal(t, c.ClientSecret[:len(core.SecretPrefix)+6], a.SecretDisplayPrefix)
		require.Equal(t, core.Digest(c.ClientSecret), a.SecretDigest)

		got, err := f.svc.Get(ctx, who, a.ID)
		require.NoError(t, err)
		require.Equal(t, a, got)
	})

	t.Run("stores_the_secret_only_as_its_digest", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who := f.owner(t, "dev@example.com")
		c := f.create(t, who, appInput())

		require.Equal(t, core.Digest(c.ClientSecret), f.stored(t, c.App.ID).SecretDigest)
		// Every byte the store holds, unexported maps included.
		dump := fmt.Sprintf("%+v", f.store)
		body := strings.TrimPrefix(c.ClientSecret, core.SecretPrefix)
		require.NotContains(t, dump, c.ClientSecret)
		require.NotContains(t, dump, body)
		require.Contains(t, dump, core.Digest(c.ClientSecret), "the dump does show the stored apps")
	})

	t.Run("accepts_allowed_product_types_instead_of_product_type", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who := f.owner(t, "dev@example.com")
		for _, in := range []developer.AppInput{
			{Name: "A", AllowedProductTypes: []string{"messaging"}, RedirectURIs: []string{"https://a.example/cb"}},
			{Name: "B", ProductType: "messaging", AllowedProductTypes: []string{"messaging"}, RedirectURIs: []string{"https://b.example/cb"}},
		} {
			require.Equal(t, core.LineMessaging, f.create(t, who, in).App.Line, in.Name)
		}
	})

	t.Run("each_client_id_and_secret_is_fresh", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who := f.owner(t, "dev@example.com")
		a, b := f.create(t, who, appInput()), f.create(t, who, appInput())
		require.NotEqual(t, a.App.ID, b.App.ID)
		require.NotEqual(t, a.App.ClientID, b.App.ClientID)
		require.NotEqual(t, a.ClientSecret, b.ClientSecret)
	})

	invalid := []struct {
		name, detail string
		edit         func(in *developer.AppInput)
	}{
		{"name_is_required", "name", func(in *developer.AppInput) { in.Name = " \t " }},
		{"name_is_capped", "name", func(in *developer.AppInput) { in.Name = strings.Repeat("n", core.MaxNameLen+1) }},
		{"name_has_no_control_characters", "name", func(in *developer.AppInput) { in.Name = "Shop\x00line" }},
		{"name_has_no_bidi_overrides", "name", func(in *developer.AppInput) { in.Name = "Shop\u202eline" }},
		{"product_type_is_required", "productType", func(in *developer.AppInput) { in.ProductType = "" }},
		{"product_type_must_be_a_line", "productType", func(in *developer.AppInput) { in.ProductType = "gallery" }},
		{"allowed_product_types_must_match_product_type", "allowedProductTypes", func(in *developer.AppInput) {
			in.AllowedProductTypes = []string{"messaging"}
		}},
		{"allowed_product_types_with_product_type_name_one_line", "allowedProductTypes", func(in *developer.AppInput) {
			in.AllowedProductTypes = []string{"drive", "drive"}
		}},
		{"allowed_product_types_alone_name_one_line", "allowedProductTypes", func(in *developer.AppInput) {
			in.ProductType, in.AllowedProductTypes = "", []string{"drive", "messaging"}
		}},
		{"allowed_product_types_must_be_lines", "allowedProductTypes", func(in *developer.AppInput) {
			in.ProductType, in.AllowedProductTypes = "", []string{"email"}
		}},
		{"redirect_uris_are_required", "redirectUris", func(in *developer.AppInput) { in.RedirectURIs = nil }},
		{"redirect_uris_are_capped_at_10", "redirectUris", func(in *developer.AppInput) { in.RedirectURIs = uris(core.MaxRedirectURIs + 1) }},
		{"redirect_uris_have_no_duplicates", "redirectUris", func(in *developer.AppInput) {
			in.RedirectURIs = []string{"https://a.example/cb", "https://b.example/cb", "https://a.example/cb"}
		}},
		{"every_redirect_uri_is_checked", "redirectUris", func(in *developer.AppInput) {
			in.RedirectURIs = []string{"https://a.example/cb", "http://b.example/cb"}
		}},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			who := f.owner(t, "dev@example.com")
			in := appInput()
			tt.edit(&in)
			_, err := f.svc.Create(ctx, who, in)
			requireKind(t, err, core.KindInvalid, "invalid_request", tt.detail)
			apps, err := f.store.AppsByOwner(ctx, who.ProfileID)
			require.NoError(t, err)
			require.Empty(t, apps, "nothing is stored")
		})
	}

	t.Run("ten_redirect_uris_are_allowed", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		in := appInput()
		in.RedirectURIs = uris(core.MaxRedirectURIs)
		require.Len(t, f.create(t, f.owner(t, "dev@example.com"), in).App.RedirectURIs, core.MaxRedirectURIs)
	})

	t.Run("the_51st_app_is_too_many", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who := f.owner(t, "dev@example.com")
		var first developer.CreatedApp
		for i := range developer.MaxAppsPerOwner {
			c := f.create(t, who, appInput())
			if i == 0 {
				first = c
			}
		}
		_, err := f.svc.Create(ctx, who, appInput())
		requireKind(t, err, core.KindConflict, "too_many_apps", "")

		other := f.owner(t, "other@example.com")
		f.create(t, other, appInput()) // the cap is per owner

		require.NoError(t, f.svc.Delete(ctx, who, first.App.ID))
		f.create(t, who, appInput()) // room again
	})

	t.Run("an_api_key_is_forbidden", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, err := f.svc.Create(ctx, viaKey(f.owner(t, "dev@example.com")), appInput())
		requireKind(t, err, core.KindForbidden, "forbidden", "")
	})
}

// uris returns n distinct valid redirect URIs.
func uris(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("https://partner.example/cb/%d", i)
	}
	return out
}

func TestCreate_redirect_uri_rules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	valid := []string{
		"https://partner.example/cb",
		"https://partner.example:8443/oauth/cb?tenant=42&x=y",
		"https://partner.example/cb?",
		"https://partner.example",
		"http://localhost/cb",
		"http://localhost:3000/cb",
		"http://127.0.0.1/cb",
		"http://127.0.0.1:8080/cb?dev=1",
		"https://localhost/cb",
		"https://xn--bcher-kva.example/cb",
		"https://partner.example/" + strings.Repeat("a", core.MaxURLLen-len("https://partner.example/")),
	}
	for _, u := range valid {
		t.Run("accepts/"+u[:min(len(u), 60)], func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			in := appInput()
			in.RedirectURIs = []string{u}
			require.Equal(t, []string{u}, f.create(t, f.owner(t, "dev@example.com"), in).App.RedirectURIs, "stored as given")
		})
	}

	invalid := map[string]string{
		"empty":                      "",
		"http_elsewhere":             "http://partner.example/cb",
		"http_localhost_lookalike":   "http://localhost.evil.example/cb",
		"http_other_loopback":        "http://127.0.0.2/cb",
		"http_ipv6_loopback":         "http://[::1]:3000/cb",
		"http_localhost_as_userinfo": "http://localhost@evil.example/cb",
		"fragment":                   "https://partner.example/cb#top",
		"empty_fragment":             "https://partner.example/cb#",
		"userinfo":                   "https://user@partner.example/cb",
		"user_and_password":          "https://user:pw@partner.example/cb",
		"relative_path":              "/cb",
		"scheme_relative":            "//partner.example/cb",
		"no_scheme":                  "partner.example/cb",
		"no_host":                    "https:///cb",
		"opaque":                     "https:partner.example/cb",
		"javascript":                 "javascript:alert(1)",
		"custom_scheme":              "myapp://callback",
		"ftp":                        "ftp://partner.example/cb",
		"space":                      "https://partner.example/a b",
		"tab":                        "https://partner.example/a\tb",
		"newline":                    "https://partner.example/cb\n",
		"too_long":                   "https://partner.example/" + strings.Repeat("a", core.MaxURLLen),
	}
	for name, u := range invalid {
		t.Run("refuses/"+name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			in := appInput()
			in.RedirectURIs = []string{u}
			_, err := f.svc.Create(ctx, f.owner(t, "dev@example.com"), in)
			requireKind(t, err, core.KindInvalid, "invalid_request", "redirectUris")
			require.Error(t, core.CheckRedirectURI("redirectUris", u), "the core rule agrees")
		})
	}
}

func TestPartnerApp_AllowsRedirect(t *testing.T) {
	t.Parallel()

	const registered = "https://partner.example:8443/cb?tenant=42"
	app := core.PartnerApp{RedirectURIs: []string{"http://localhost:3000/cb", registered}}
	require.True(t, app.AllowsRedirect(registered))
	require.True(t, app.AllowsRedirect("http://localhost:3000/cb"))

	for name, u := range map[string]string{
		"empty":                 "",
		"scheme_case":           "HTTPS://partner.example:8443/cb?tenant=42",
		"host_case":             "https://Partner.example:8443/cb?tenant=42",
		"path_case":             "https://partner.example:8443/CB?tenant=42",
		"trailing_slash":        "https://partner.example:8443/cb/?tenant=42",
		"no_query":              "https://partner.example:8443/cb",
		"other_query":           "https://partner.example:8443/cb?tenant=43",
		"extra_query":           "https://partner.example:8443/cb?tenant=42&x=1",
		"empty_extra_query":     "https://partner.example:8443/cb?tenant=42&",
		"no_port":               "https://partner.example/cb?tenant=42",
		"other_port":            "https://partner.example:443/cb?tenant=42",
		"localhost_other_port":  "http://localhost:3001/cb",
		"localhost_as_loopback": "http://127.0.0.1:3000/cb",
		"userinfo":              "https://me@partner.example:8443/cb?tenant=42",
		"fragment":              registered + "#x",
		"escaped_path":          "https://partner.example:8443/%63b?tenant=42",
		"prefix":                "https://partner.example:8443/c",
		"longer_path":           "https://partner.example:8443/cb/evil?tenant=42",
		"leading_space":         " " + registered,
	} {
		require.False(t, app.AllowsRedirect(u), "%s: %q", name, u)
	}
	require.False(t, core.PartnerApp{}.AllowsRedirect(""), "an app without URIs allows none")
}

func TestOwnerScoping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	f := newFixture(t)
	ann, bob := f.owner(t, "ann@example.com"), f.owner(t, "bob@example.com")
	annApp := f.create(t, ann, appInput())
	bobApp := f.create(t, bob, appInput())
	id := annApp.App.ID

	t.Run("list_shows_only_the_callers_apps", func(t *testing.T) {
		apps, err := f.svc.List(ctx, bob)
		require.NoError(t, err)
		require.Len(t, apps, 1)
		require.Equal(t, bobApp.App.ID, apps[0].ID)
	})

	t.Run("another_owners_app_is_not_found", func(t *testing.T) {
		_, err := f.svc.Get(ctx, bob, id)
		requireKind(t, err, core.KindNotFound, "not_found", "")
		_, err = f.svc.Update(ctx, bob, id, developer.AppPatch{Name: ptr("Stolen")})
		requireKind(t, err, core.KindNotFound, "not_found", "")
		_, err = f.svc.RotateSecret(ctx, bob, id)
		requireKind(t, err, core.KindNotFound, "not_found", "")
		_, err = f.svc.Analytics(ctx, bob, id, 30)
		requireKind(t, err, core.KindNotFound, "not_found", "")
		requireKind(t, f.svc.Delete(ctx, bob, id), core.KindNotFound, "not_found", "")

		require.Equal(t, annApp.App, f.stored(t, id), "nothing changed")
		_, err = f.svc.AuthenticateClient(ctx, annApp.App.ClientID, annApp.ClientSecret)
		require.NoError(t, err, "the owner's secret still works")
	})

	t.Run("looks_exactly_like_a_missing_app", func(t *testing.T) {
		// What a client sees of an error is its *core.Error.
		_, err := f.svc.Get(ctx, bob, id)
		stranger := requireKind(t, err, core.KindNotFound, "", "")
		_, err = f.svc.Get(ctx, bob, "app_01jzzzzzzzzzzzzzzzzzzzzzzz")
		missing := requireKind(t, err, core.KindNotFound, "", "")
		require.Equal(t, *missing, *stranger)
	})

	t.Run("malformed_ids_are_not_found", func(t *testing.T) {
		for _, bad := range []string{"", "app/../x", "app?x", "app#x", "app%20x", "app x", strings.Repeat("a", core.MaxIDLen+1)} {
			_, err := f.svc.Get(ctx, ann, bad)
			requireKind(t, err, core.KindNotFound, "not_found", "")
		}
	})
}

func TestSessionOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	f := newFixture(t)
	who := f.owner(t, "dev@example.com")
	id := f.create(t, who, appInput()).App.ID
	key := viaKey(who)

	_, err := f.svc.List(ctx, key)
	requireKind(t, err, core.KindForbidden, "forbidden", "")
	_, err = f.svc.Get(ctx, key, id)
	requireKind(t, err, core.KindForbidden, "forbidden", "")
	_, err = f.svc.Update(ctx, key, id, developer.AppPatch{Name: ptr("x")})
	requireKind(t, err, core.KindForbidden, "forbidden", "")
	_, err = f.svc.RotateSecret(ctx, key, id)
	requireKind(t, err, core.KindForbidden, "forbidden", "")
	_, err = f.svc.Analytics(ctx, key, id, 7)
	requireKind(t, err, core.KindForbidden, "forbidden", "")
	requireKind(t, f.svc.Delete(ctx, key, id), core.KindForbidden, "forbidden", "")
	_, _, err = f.svc.AdminList(ctx, viaKey(admin), "", "", 10)
	requireKind(t, err, core.KindForbidden, "forbidden", "")
	_, err = f.svc.AdminSetStatus(ctx, viaKey(admin), id, "suspended")
	requireKind(t, err, core.KindForbidden, "forbidden", "")

	require.Equal(t, core.AppActive, f.stored(t, id).Status)
}
