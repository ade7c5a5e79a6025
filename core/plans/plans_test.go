package plans_test

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/adapters/argon2id"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/testkit"
)

var start = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

var (
	admin    = core.Principal{ProfileID: "prof_admin", Email: "staff@gellhub.test", IsAdmin: true, Via: core.AuthSession}
	nonAdmin = core.Principal{ProfileID: "prof_user", Email: "ann@example.com", Via: core.AuthSession}
	keyAdmin = core.Principal{ProfileID: "prof_admin", Email: "staff@gellhub.test", IsAdmin: true, Via: core.AuthAPIKey, Line: core.LineDrive, KeyID: "key_1"}
)

// fakeApps is a real, map-based plans.AppScopes: client id → allowed lines.
// A client id that is not in the map is unknown (or suspended).
type fakeApps map[string][]core.ProductLine

func (a fakeApps) AllowedLines(_ context.Context, clientID string) ([]core.ProductLine, error) {
	lines, ok := a[clientID]
	if !ok {
		return nil, core.NotFound("client")
	}
	return slices.Clone(lines), nil
}

type fixture struct {
	store *testkit.Store
	clock *testkit.Clock
	svc   *plans.Service
}

// newFixture returns a plan service on an in-memory store with the default
// catalog seeded. apps may be nil.
func newFixture(t *testing.T, apps plans.AppScopes) fixture {
	t.Helper()
	f := fixture{store: testkit.NewStore(), clock: testkit.NewClock(start)}
	f.svc = plans.New(f.store, f.clock, rand.Reader, apps)
	require.NoError(t, f.svc.Seed(context.Background()))
	return f
}

// useplan makes planID in use by registering an account on it.
func (f fixture) useplan(t *testing.T, planID string) {
	t.Helper()
	p, err := f.svc.Get(context.Background(), planID)
	require.NoError(t, err)
	accountType := "studio"
	if p.Line == core.LineDrive {
		accountType = "drive"
	}
	accts, err := accounts.New(accounts.Config{
		Accounts: f.store, Sessions: f.store, Plans: f.svc,
		Hasher: argon2id.New(argon2id.TestParams), Clock: f.clock, Random: rand.Reader,
	})
	require.NoError(t, err)
	_, err = accts.Register(context.Background(), accounts.RegisterInput{
		Email: strings.ToLower(rand.Text()) + "@example.com", Password: "correct horse",
		DisplayName: "User", AccountType: accountType, PlanID: planID,
	})
	require.NoError(t, err)
}

// archive archives planID through the admin use case.
func (f fixture) archive(t *testing.T, planID string) {
	t.Helper()
	_, err := f.svc.AdminUpdate(context.Background(), admin, planID, plans.PlanPatch{Status: ptr(string(core.PlanArchived))})
	require.NoError(t, err)
}

func ptr[T any](v T) *T { return &v }

func ids(ps []core.Plan) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

// requireKind asserts err is a *core.Error of kind with code (when code is
// not empty) and detail (when detail is not empty).
func requireKind(t *testing.T, err error, kind core.Kind, code, detail string) {
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
}

var (
	galleryIDs   = []string{"plan_gallery_free", "plan_gallery_pro_monthly", "plan_gallery_pro_annual"}
	driveIDs     = []string{"plan_drive_free", "plan_drive_plus_monthly", "plan_drive_plus_annual"}
	messagingIDs = []string{"plan_messaging_free", "plan_messaging_growth_monthly", "plan_messaging_growth_annual"}
	allIDs       = slices.Concat(galleryIDs, driveIDs, messagingIDs)
)

func TestSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("seeds_a_free_a_monthly_and_an_annual_plan_per_line", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		for _, line := range core.ProductLines {
			got, err := f.svc.ListPublic(ctx, plans.Query{Type: string(line)})
			require.NoError(t, err)
			var free, monthly, annual int
			for _, p := range got.Plans {
				require.Equal(t, line, p.Line)
				require.Equal(t, core.PlanActive, p.Status)
				require.Equal(t, "usd", p.Currency)
				require.Equal(t, start, p.CreatedAt)
				if line == core.LineMessaging {
					require.Positive(t, p.MonthlyCredits, p.ID)
				} else {
					require.Positive(t, p.StorageLimitBytes, p.ID)
					require.Zero(t, p.MonthlyCredits, p.ID)
				}
				switch {
				case p.Free():
					free++
				case p.BillingPeriod == core.PeriodMonthly:
					monthly++
				case p.BillingPeriod == core.PeriodAnnual:
					annual++
				}
			}
			require.Equal(t, 1, free, line)
			require.GreaterOrEqual(t, monthly, 1, line)
			require.GreaterOrEqual(t, annual, 1, line)
		}
	})

	t.Run("is_idempotent", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		before, err := f.svc.AdminList(ctx, admin)
		require.NoError(t, err)
		f.clock.Advance(time.Hour)
		require.NoError(t, f.svc.Seed(ctx))
		require.NoError(t, f.svc.Seed(ctx))
		after, err := f.svc.AdminList(ctx, admin)
		require.NoError(t, err)
		require.Equal(t, before, after)
		require.Len(t, after, len(plans.DefaultCatalog()))
	})

	t.Run("does_not_overwrite_an_admin_edit", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.svc.AdminUpdate(ctx, admin, "plan_gallery_pro_monthly", plans.PlanPatch{Name: ptr("Gallery Pro 2026"), Price: ptr(19.0)})
		require.NoError(t, err)
		f.archive(t, "plan_drive_plus_annual")

		require.NoError(t, f.svc.Seed(ctx))

		p, err := f.svc.Get(ctx, "plan_gallery_pro_monthly")
		require.NoError(t, err)
		require.Equal(t, "Gallery Pro 2026", p.Name)
		require.EqualValues(t, 1900, p.PriceMinor)
		p, err = f.svc.Get(ctx, "plan_drive_plus_annual")
		require.NoError(t, err)
		require.Equal(t, core.PlanArchived, p.Status)
	})

	t.Run("restores_a_lost_default_plan", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		require.NoError(t, f.store.DeletePlan(ctx, "plan_drive_plus_annual"))
		require.NoError(t, f.svc.Seed(ctx))
		_, err := f.svc.Get(ctx, "plan_drive_plus_annual")
		require.NoError(t, err)
	})
}

func TestListPublic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	apps := fakeApps{
		"gh_app_drive":    {core.LineDrive},
		"gh_app_two":      {core.LineClientGallery, core.LineMessaging},
		"gh_app_no_lines": {},
	}

	tests := []struct {
		name    string
		apps    plans.AppScopes
		query   plans.Query
		want    []string
		scoped  bool
		allowed []core.ProductLine
	}{
		{name: "all_types_in_line_order", query: plans.Query{}, want: allIDs},
		{name: "type_clientGallery", query: plans.Query{Type: "clientGallery"}, want: galleryIDs},
		{name: "type_drive", query: plans.Query{Type: "drive"}, want: driveIDs},
		{name: "type_messaging", query: plans.Query{Type: "messaging"}, want: messagingIDs},
		{
			name: "client_without_type_lists_the_app_lines", apps: apps, query: plans.Query{ClientID: "gh_app_two"},
			want: slices.Concat(galleryIDs, messagingIDs), scoped: true, allowed: []core.ProductLine{core.LineClientGallery, core.LineMessaging},
		},
		{
			name: "client_with_an_allowed_type", apps: apps, query: plans.Query{ClientID: "gh_app_two", Type: "messaging"},
			want: messagingIDs, scoped: true, allowed: []core.ProductLine{core.LineClientGallery, core.LineMessaging},
		},
		{
			name: "client_of_one_line", apps: apps, query: plans.Query{ClientID: "gh_app_drive"},
			want: driveIDs, scoped: true, allowed: []core.ProductLine{core.LineDrive},
		},
		{
			name: "client_that_allows_no_line_lists_no_plans", apps: apps, query: plans.Query{ClientID: "gh_app_no_lines"},
			want: []string{}, scoped: true, allowed: []core.ProductLine{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.apps)
			got, err := f.svc.ListPublic(ctx, tt.query)
			require.NoError(t, err)
			require.Equal(t, tt.want, ids(got.Plans))
			require.Equal(t, tt.scoped, got.Scoped)
			if tt.scoped {
				require.Equal(t, tt.allowed, got.AllowedProductTypes)
			} else {
				require.Nil(t, got.AllowedProductTypes)
			}
		})
	}

	errs := []struct {
		name   string
		apps   plans.AppScopes
		query  plans.Query
		kind   core.Kind
		detail string
	}{
		{"unknown_type_is_invalid_type", nil, plans.Query{Type: "photos"}, core.KindInvalid, "type"},
		{"type_is_case_sensitive", nil, plans.Query{Type: "Drive"}, core.KindInvalid, "type"},
		{"client_id_without_app_scopes_is_not_found", nil, plans.Query{ClientID: "gh_app_drive"}, core.KindNotFound, ""},
		{"unknown_client_is_not_found", apps, plans.Query{ClientID: "gh_app_missing"}, core.KindNotFound, ""},
		{"over_long_client_id_is_invalid", apps, plans.Query{ClientID: strings.Repeat("x", 129)}, core.KindInvalid, "client_id"},
		{"type_the_app_does_not_allow_is_forbidden", apps, plans.Query{ClientID: "gh_app_drive", Type: "messaging"}, core.KindForbidden, ""},
		{"unknown_type_with_client_is_invalid", apps, plans.Query{ClientID: "gh_app_drive", Type: "x"}, core.KindInvalid, "type"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.apps)
			got, err := f.svc.ListPublic(ctx, tt.query)
			requireKind(t, err, tt.kind, "", tt.detail)
			require.Empty(t, got.Plans)
		})
	}

	t.Run("archived_plans_are_hidden", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, apps)
		f.archive(t, "plan_drive_plus_monthly")
		for _, q := range []plans.Query{{}, {Type: "drive"}, {ClientID: "gh_app_drive"}} {
			got, err := f.svc.ListPublic(ctx, q)
			require.NoError(t, err)
			require.NotContains(t, ids(got.Plans), "plan_drive_plus_monthly", "query %+v", q)
			require.Contains(t, ids(got.Plans), "plan_drive_free", "query %+v", q)
		}
	})

	t.Run("app_scopes_wired_later_take_effect", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.svc.ListPublic(ctx, plans.Query{ClientID: "gh_app_drive"})
		requireKind(t, err, core.KindNotFound, "", "")
		f.svc.SetAppScopes(apps)
		got, err := f.svc.ListPublic(ctx, plans.Query{ClientID: "gh_app_drive"})
		require.NoError(t, err)
		require.Equal(t, driveIDs, ids(got.Plans))
	})
}

func TestPublicByID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	apps := fakeApps{"gh_app_drive": {core.LineDrive}}

	t.Run("returns_an_active_plan", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, apps)
		for _, client := range []string{"", "gh_app_drive"} {
			p, err := f.svc.PublicByID(ctx, "plan_drive_plus_monthly", client)
			require.NoError(t, err)
			require.Equal(t, "plan_drive_plus_monthly", p.ID)
			require.Equal(t, core.LineDrive, p.Line)
			require.EqualValues(t, 999, p.PriceMinor)
			require.InDelta(t, 9.99, p.Price(), 1e-9)
		}
	})

	tests := []struct {
		name   string
		apps   plans.AppScopes
		id     string
		client string
		kind   core.Kind
		detail string
	}{
		{"missing_id_is_invalid", apps, "", "", core.KindInvalid, "id"},
		{"malformed_id_is_invalid", apps, "plan/../x", "", core.KindInvalid, "id"},
		{"over_long_id_is_invalid", apps, strings.Repeat("p", 65), "", core.KindInvalid, "id"},
		{"unknown_id_is_not_found", apps, "plan_nope", "", core.KindNotFound, ""},
		{"archived_plan_is_not_found", apps, "plan_gallery_pro_annual", "", core.KindNotFound, ""},
		{"plan_of_a_line_the_app_does_not_allow_is_forbidden", apps, "plan_gallery_free", "gh_app_drive", core.KindForbidden, ""},
		{"unknown_client_is_not_found", apps, "plan_drive_free", "gh_app_missing", core.KindNotFound, ""},
		{"client_without_app_scopes_is_not_found", nil, "plan_drive_free", "gh_app_drive", core.KindNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.apps)
			f.archive(t, "plan_gallery_pro_annual")
			_, err := f.svc.PublicByID(ctx, tt.id, tt.client)
			requireKind(t, err, tt.kind, "", tt.detail)
		})
	}
}

func TestChoose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("empty_plan_id_is_the_line_default_free_plan", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		for line, want := range map[core.ProductLine]string{
			core.LineClientGallery: "plan_gallery_free", core.LineDrive: "plan_drive_free", core.LineMessaging: "plan_messaging_free",
		} {
			p, err := f.svc.Choose(ctx, line, "planId", "")
			require.NoError(t, err)
			require.Equal(t, want, p.ID)
			require.True(t, p.Free())
		}
	})

	t.Run("named_plan_of_the_line", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		p, err := f.svc.Choose(ctx, core.LineClientGallery, "planId", "plan_gallery_pro_annual")
		require.NoError(t, err)
		require.Equal(t, "plan_gallery_pro_annual", p.ID)
		require.Equal(t, core.PeriodAnnual, p.BillingPeriod)
	})

	tests := []struct {
		name   string
		line   core.ProductLine
		planID string
	}{
		{"plan_of_the_other_line_is_invalid", core.LineClientGallery, "plan_drive_free"},
		{"unknown_plan_is_invalid", core.LineDrive, "plan_nope"},
		{"archived_plan_is_invalid", core.LineDrive, "plan_drive_plus_annual"},
		{"malformed_plan_id_is_invalid", core.LineDrive, "drive plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.archive(t, "plan_drive_plus_annual")
			_, err := f.svc.Choose(ctx, tt.line, "plan", tt.planID)
			requireKind(t, err, core.KindInvalid, "invalid_request", "plan")
		})
	}
}

func TestDefaultFree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("first_active_free_plan_of_the_line", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		p, err := f.svc.DefaultFree(ctx, core.LineDrive)
		require.NoError(t, err)
		require.Equal(t, "plan_drive_free", p.ID)
	})

	t.Run("another_free_plan_takes_over_when_the_default_is_archived", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.svc.AdminCreate(ctx, admin, plans.PlanInput{ID: "plan_drive_starter", PlanType: "drive", Name: "Drive Starter", SortOrder: 15})
		require.NoError(t, err)
		f.archive(t, "plan_drive_free")
		p, err := f.svc.DefaultFree(ctx, core.LineDrive)
		require.NoError(t, err)
		require.Equal(t, "plan_drive_starter", p.ID)
	})

	t.Run("no_free_plan_is_conflict_no_free_plan", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		f.archive(t, "plan_messaging_free")
		_, err := f.svc.DefaultFree(ctx, core.LineMessaging)
		requireKind(t, err, core.KindConflict, "no_free_plan", "")
	})
}
