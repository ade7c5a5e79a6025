package plans_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/plans"
)

func TestAdminAccess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	for _, who := range []struct {
		name string
		p    core.Principal
	}{
		{"non_admin_session", nonAdmin},
		{"admin_email_on_an_api_key", keyAdmin},
		{"anonymous", core.Principal{}},
	} {
		t.Run(who.name+"_is_forbidden", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			_, err := f.svc.AdminList(ctx, who.p)
			requireKind(t, err, core.KindForbidden, "forbidden", "")
			_, err = f.svc.AdminCreate(ctx, who.p, plans.PlanInput{PlanType: "drive", Name: "Sneaky", Price: 0})
			requireKind(t, err, core.KindForbidden, "forbidden", "")
			_, err = f.svc.AdminUpdate(ctx, who.p, "plan_drive_free", plans.PlanPatch{Price: ptr(0.5)})
			requireKind(t, err, core.KindForbidden, "forbidden", "")
			err = f.svc.AdminDelete(ctx, who.p, "plan_drive_plus_annual")
			requireKind(t, err, core.KindForbidden, "forbidden", "")

			all, err := f.svc.AdminList(ctx, admin)
			require.NoError(t, err)
			require.Equal(t, allIDs, ids(all), "nothing changed")
			free, err := f.svc.Get(ctx, "plan_drive_free")
			require.NoError(t, err)
			require.Zero(t, free.PriceMinor)
		})
	}
}

func TestAdminList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("includes_archived_plans", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		f.archive(t, "plan_messaging_growth_annual")
		all, err := f.svc.AdminList(ctx, admin)
		require.NoError(t, err)
		require.Equal(t, allIDs, ids(all))
		require.Equal(t, core.PlanArchived, all[len(all)-1].Status)
	})
}

func TestAdminCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("generates_an_id_and_applies_defaults", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		f.clock.Advance(time.Minute)
		p, err := f.svc.AdminCreate(ctx, admin, plans.PlanInput{
			PlanType: "clientGallery", Name: "  Gallery Studio  ", Description: "For agencies.",
			Features: []string{" 2 TB storage ", "Team seats"}, StorageLimitBytes: 2 << 40,
			Price: 49.99, ClientGalleryEnabled: true, SortOrder: 40,
		})
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(p.ID, "plan_"), p.ID)
		require.Len(t, p.ID, len("plan_")+26)
		require.Equal(t, core.LineClientGallery, p.Line)
		require.Equal(t, "Gallery Studio", p.Name)
		require.Equal(t, []string{"2 TB storage", "Team seats"}, p.Features)
		require.EqualValues(t, 4999, p.PriceMinor)
		require.Equal(t, "usd", p.Currency)
		require.Equal(t, core.PeriodMonthly, p.BillingPeriod)
		require.Equal(t, core.PlanActive, p.Status)
		require.Equal(t, start.Add(time.Minute), p.CreatedAt)

		stored, err := f.svc.PublicByID(ctx, p.ID, "")
		require.NoError(t, err)
		require.Equal(t, p, stored)
		listed, err := f.svc.ListPublic(ctx, plans.Query{Type: "clientGallery"})
		require.NoError(t, err)
		require.Equal(t, append(slices.Clone(galleryIDs), p.ID), ids(listed.Plans))
	})

	t.Run("two_generated_ids_differ", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		a, err := f.svc.AdminCreate(ctx, admin, plans.PlanInput{PlanType: "drive", Name: "A"})
		require.NoError(t, err)
		b, err := f.svc.AdminCreate(ctx, admin, plans.PlanInput{PlanType: "drive", Name: "B"})
		require.NoError(t, err)
		require.NotEqual(t, a.ID, b.ID)
	})

	t.Run("keeps_a_given_id_and_messaging_credits", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		p, err := f.svc.AdminCreate(ctx, admin, plans.PlanInput{
			ID: "plan_messaging_scale", PlanType: "messaging", Name: "Messaging Scale",
			MonthlyCredits: 50_000, Price: 990, Currency: "eur", BillingPeriod: "annual",
		})
		require.NoError(t, err)
		require.Equal(t, "plan_messaging_scale", p.ID)
		require.EqualValues(t, 50_000, p.MonthlyCredits)
		require.EqualValues(t, 99_000, p.PriceMinor)
		require.Equal(t, "eur", p.Currency)
		require.Equal(t, core.PeriodAnnual, p.BillingPeriod)
	})

	t.Run("taken_id_is_conflict", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.svc.AdminCreate(ctx, admin, plans.PlanInput{ID: "plan_drive_free", PlanType: "drive", Name: "Again"})
		requireKind(t, err, core.KindConflict, "", "")
		p, err := f.svc.Get(ctx, "plan_drive_free")
		require.NoError(t, err)
		require.Equal(t, "Drive Free", p.Name, "the existing plan is untouched")
	})

	valid := plans.PlanInput{PlanType: "drive", Name: "Drive Max", Price: 20}
	with := func(edit func(*plans.PlanInput)) plans.PlanInput {
		in := valid
		edit(&in)
		return in
	}
	tests := []struct {
		name   string
		in     plans.PlanInput
		detail string
	}{
		{"unknown_plan_type", with(func(in *plans.PlanInput) { in.PlanType = "photos" }), "planType"},
		{"missing_plan_type", with(func(in *plans.PlanInput) { in.PlanType = "" }), "planType"},
		{"malformed_id", with(func(in *plans.PlanInput) { in.ID = "plan drive" }), "id"},
		{"missing_name", with(func(in *plans.PlanInput) { in.Name = "  " }), "name"},
		{"name_too_long", with(func(in *plans.PlanInput) { in.Name = strings.Repeat("n", core.MaxNameLen+1) }), "name"},
		{"description_too_long", with(func(in *plans.PlanInput) { in.Description = strings.Repeat("d", core.MaxDescriptionLen+1) }), "description"},
		{"negative_price", with(func(in *plans.PlanInput) { in.Price = -1 }), "price"},
		{"price_with_3_decimals", with(func(in *plans.PlanInput) { in.Price = 9.999 }), "price"},
		{"price_nan", with(func(in *plans.PlanInput) { in.Price = math.NaN() }), "price"},
		{"price_infinite", with(func(in *plans.PlanInput) { in.Price = math.Inf(1) }), "price"},
		{"price_over_a_million", with(func(in *plans.PlanInput) { in.Price = 1_000_000.01 }), "price"},
		{"monthly_credits_on_a_non_messaging_plan", with(func(in *plans.PlanInput) { in.MonthlyCredits = 100 }), "monthlyCredits"},
		{"negative_storage", with(func(in *plans.PlanInput) { in.StorageLimitBytes = -1 }), "storageLimitBytes"},
		{"upper_case_currency", with(func(in *plans.PlanInput) { in.Currency = "USD" }), "currency"},
		{"currency_not_three_letters", with(func(in *plans.PlanInput) { in.Currency = "dollar" }), "currency"},
		{"unknown_billing_period", with(func(in *plans.PlanInput) { in.BillingPeriod = "weekly" }), "billingPeriod"},
		{"too_many_features", with(func(in *plans.PlanInput) { in.Features = make([]string, core.MaxFeatures+1) }), "features"},
		{"empty_feature", with(func(in *plans.PlanInput) { in.Features = []string{"ok", ""} }), "features"},
		{"feature_too_long", with(func(in *plans.PlanInput) { in.Features = []string{strings.Repeat("f", core.MaxFeatureLen+1)} }), "features"},
		{"feature_with_control_character", with(func(in *plans.PlanInput) { in.Features = []string{"bell\a"} }), "features"},
		{"sort_order_out_of_range", with(func(in *plans.PlanInput) { in.SortOrder = 1_000_001 }), "sortOrder"},
		{"stripe_price_id_too_long", with(func(in *plans.PlanInput) { in.StripePriceID = strings.Repeat("p", 256) }), "stripePriceId"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"_is_invalid_"+tt.detail, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			_, err := f.svc.AdminCreate(ctx, admin, tt.in)
			requireKind(t, err, core.KindInvalid, "invalid_request", tt.detail)
			all, err := f.svc.AdminList(ctx, admin)
			require.NoError(t, err)
			require.Equal(t, allIDs, ids(all), "nothing is stored")
		})
	}
}

func TestAdminUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("patch_changes_only_the_given_fields", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		before, err := f.svc.Get(ctx, "plan_gallery_pro_monthly")
		require.NoError(t, err)
		f.clock.Advance(time.Hour)

		got, err := f.svc.AdminUpdate(ctx, admin, "plan_gallery_pro_monthly", plans.PlanPatch{
			Name: ptr("Gallery Pro+"), Features: ptr([]string{"1 TB storage"}), StorageLimitBytes: ptr(int64(1 << 40)), Price: ptr(17.5),
		})
		require.NoError(t, err)

		want := before
		want.Name, want.Features, want.StorageLimitBytes, want.PriceMinor = "Gallery Pro+", []string{"1 TB storage"}, 1<<40, 1750
		want.UpdatedAt = start.Add(time.Hour)
		require.Equal(t, want, got)
		stored, err := f.svc.Get(ctx, "plan_gallery_pro_monthly")
		require.NoError(t, err)
		require.Equal(t, want, stored)
	})

	t.Run("empty_patch_changes_nothing_but_the_time", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		before, err := f.svc.Get(ctx, "plan_drive_free")
		require.NoError(t, err)
		got, err := f.svc.AdminUpdate(ctx, admin, "plan_drive_free", plans.PlanPatch{})
		require.NoError(t, err)
		require.Equal(t, before, got)
	})

	t.Run("invalid_field_changes_nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		before, err := f.svc.Get(ctx, "plan_drive_plus_monthly")
		require.NoError(t, err)
		_, err = f.svc.AdminUpdate(ctx, admin, "plan_drive_plus_monthly", plans.PlanPatch{Name: ptr("Renamed"), MonthlyCredits: ptr(int64(10))})
		requireKind(t, err, core.KindInvalid, "invalid_request", "monthlyCredits")
		after, err := f.svc.Get(ctx, "plan_drive_plus_monthly")
		require.NoError(t, err)
		require.Equal(t, before, after)
	})

	t.Run("unknown_status_is_invalid_status", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.svc.AdminUpdate(ctx, admin, "plan_drive_free", plans.PlanPatch{Status: ptr("deleted")})
		requireKind(t, err, core.KindInvalid, "invalid_request", "status")
	})

	t.Run("unknown_plan_is_not_found", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.svc.AdminUpdate(ctx, admin, "plan_nope", plans.PlanPatch{Name: ptr("x")})
		requireKind(t, err, core.KindNotFound, "", "")
	})

	t.Run("malformed_id_is_invalid_id", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.svc.AdminUpdate(ctx, admin, "", plans.PlanPatch{Name: ptr("x")})
		requireKind(t, err, core.KindInvalid, "invalid_request", "id")
	})

	inUse := []struct {
		name  string
		patch plans.PlanPatch
	}{
		{"price", plans.PlanPatch{Price: ptr(25.0)}},
		{"currency", plans.PlanPatch{Currency: ptr("eur")}},
		{"billing_period", plans.PlanPatch{BillingPeriod: ptr("annual")}},
	}
	for _, tt := range inUse {
		t.Run(tt.name+"_change_while_in_use_is_conflict_plan_in_use", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.useplan(t, "plan_gallery_pro_monthly")
			before, err := f.svc.Get(ctx, "plan_gallery_pro_monthly")
			require.NoError(t, err)

			_, err = f.svc.AdminUpdate(ctx, admin, "plan_gallery_pro_monthly", tt.patch)
			requireKind(t, err, core.KindConflict, "plan_in_use", "")
			after, err := f.svc.Get(ctx, "plan_gallery_pro_monthly")
			require.NoError(t, err)
			require.Equal(t, before, after)
		})
	}

	t.Run("plan_in_use_keeps_its_price_but_may_change_the_rest", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		f.useplan(t, "plan_gallery_pro_monthly")
		got, err := f.svc.AdminUpdate(ctx, admin, "plan_gallery_pro_monthly", plans.PlanPatch{
			Price: ptr(15.0), Currency: ptr("usd"), BillingPeriod: ptr("monthly"), Name: ptr("Gallery Pro (legacy)"),
		})
		require.NoError(t, err)
		require.Equal(t, "Gallery Pro (legacy)", got.Name)
		require.EqualValues(t, 1500, got.PriceMinor)
	})

	t.Run("price_of_an_unused_plan_may_change", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		got, err := f.svc.AdminUpdate(ctx, admin, "plan_gallery_pro_monthly", plans.PlanPatch{Price: ptr(25.0), Currency: ptr("eur")})
		require.NoError(t, err)
		require.EqualValues(t, 2500, got.PriceMinor)
		require.Equal(t, "eur", got.Currency)
	})
}

func TestAdminArchive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("archived_plan_leaves_the_catalog_but_serves_its_subscriptions", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		f.useplan(t, "plan_drive_plus_monthly")
		f.archive(t, "plan_drive_plus_monthly")

		listed, err := f.svc.ListPublic(ctx, plans.Query{Type: "drive"})
		require.NoError(t, err)
		require.NotContains(t, ids(listed.Plans), "plan_drive_plus_monthly")
		_, err = f.svc.PublicByID(ctx, "plan_drive_plus_monthly", "")
		requireKind(t, err, core.KindNotFound, "", "")
		_, err = f.svc.Choose(ctx, core.LineDrive, "planId", "plan_drive_plus_monthly")
		requireKind(t, err, core.KindInvalid, "", "planId")

		p, err := f.svc.Get(ctx, "plan_drive_plus_monthly")
		require.NoError(t, err, "subscriptions still resolve their plan")
		require.Equal(t, core.PlanArchived, p.Status)
	})

	t.Run("unarchived_plan_is_listed_again", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		f.archive(t, "plan_drive_plus_monthly")
		_, err := f.svc.AdminUpdate(ctx, admin, "plan_drive_plus_monthly", plans.PlanPatch{Status: ptr("active")})
		require.NoError(t, err)
		listed, err := f.svc.ListPublic(ctx, plans.Query{Type: "drive"})
		require.NoError(t, err)
		require.Equal(t, driveIDs, ids(listed.Plans))
	})
}

func TestAdminDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	custom := func(t *testing.T, f fixture, price float64) string {
		t.Helper()
		p, err := f.svc.AdminCreate(ctx, admin, plans.PlanInput{PlanType: "drive", Name: "Drive Team", Price: price})
		require.NoError(t, err)
		return p.ID
	}

	t.Run("unused_plan_is_gone", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		id := custom(t, f, 49)
		require.NoError(t, f.svc.AdminDelete(ctx, admin, id))
		_, err := f.svc.Get(ctx, id)
		requireKind(t, err, core.KindNotFound, "", "")
		all, err := f.svc.AdminList(ctx, admin)
		require.NoError(t, err)
		require.NotContains(t, ids(all), id)
	})

	t.Run("used_plan_is_conflict_plan_in_use", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		id := custom(t, f, 49)
		f.useplan(t, id)
		err := f.svc.AdminDelete(ctx, admin, id)
		requireKind(t, err, core.KindConflict, "plan_in_use", "")
		_, err = f.svc.Get(ctx, id)
		require.NoError(t, err, "the plan is still there")
	})

	t.Run("catalog_plan_is_archived_not_deleted", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		// Seeding at the next start would bring a deleted catalog plan back.
		err := f.svc.AdminDelete(ctx, admin, "plan_messaging_growth_annual")
		requireKind(t, err, core.KindConflict, "catalog_plan", "")
		_, err = f.svc.Get(ctx, "plan_messaging_growth_annual")
		require.NoError(t, err)
	})

	t.Run("unknown_plan_is_not_found", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		err := f.svc.AdminDelete(ctx, admin, "plan_nope")
		requireKind(t, err, core.KindNotFound, "", "")
	})

	t.Run("malformed_id_is_invalid_id", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		err := f.svc.AdminDelete(ctx, admin, "../plan")
		requireKind(t, err, core.KindInvalid, "invalid_request", "id")
	})
}

func TestAdminKeepsAFreePlanPerLine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	archived, price := "archived", 5.0

	t.Run("archiving_the_last_free_plan_is_conflict_and_changes_nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.svc.AdminUpdate(ctx, admin, "plan_drive_free", plans.PlanPatch{Status: &archived})
		requireKind(t, err, core.KindConflict, "last_free_plan", "")
		p, err := f.svc.DefaultFree(ctx, core.LineDrive)
		require.NoError(t, err)
		require.Equal(t, "plan_drive_free", p.ID)
	})
	t.Run("pricing_the_last_free_plan_is_conflict", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.svc.AdminUpdate(ctx, admin, "plan_gallery_free", plans.PlanPatch{Price: &price})
		requireKind(t, err, core.KindConflict, "last_free_plan", "")
		p, err := f.svc.Get(ctx, "plan_gallery_free")
		require.NoError(t, err)
		require.True(t, p.Free())
	})
	t.Run("another_free_plan_lets_it_go", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.svc.AdminCreate(ctx, admin, plans.PlanInput{PlanType: "drive", Name: "Drive Starter", Price: 0})
		require.NoError(t, err)
		_, err = f.svc.AdminUpdate(ctx, admin, "plan_drive_free", plans.PlanPatch{Status: &archived})
		require.NoError(t, err)
	})
	t.Run("messaging_needs_no_free_plan", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		_, err := f.svc.AdminUpdate(ctx, admin, "plan_messaging_free", plans.PlanPatch{Status: &archived})
		require.NoError(t, err)
	})
}
