package developer_test

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/developer"
	"github.com/gellhub/gellhub/testkit"
)

func TestUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("renames_and_replaces_redirect_uris", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who := f.owner(t, "dev@example.com")
		c := f.create(t, who, appInput())
		f.clock.Advance(time.Hour)

		a, err := f.svc.Update(ctx, who, c.App.ID, developer.AppPatch{Name: ptr(" Shopline 2 ")})
		require.NoError(t, err)
		require.Equal(t, "Shopline 2", a.Name)
		require.Equal(t, c.App.RedirectURIs, a.RedirectURIs, "nil redirect URIs stay")
		require.Equal(t, start.Add(time.Hour), a.UpdatedAt)
		require.Equal(t, start, a.CreatedAt)

		uris := []string{"https://new.example/cb", "http://127.0.0.1:9000/cb"}
		a, err = f.svc.Update(ctx, who, c.App.ID, developer.AppPatch{RedirectURIs: &uris})
		require.NoError(t, err)
		require.Equal(t, "Shopline 2", a.Name, "a nil name stays")
		require.Equal(t, uris, a.RedirectURIs)
		require.Equal(t, a, f.stored(t, c.App.ID))
		require.Equal(t, c.App.SecretDigest, a.SecretDigest, "the secret is untouched")
		require.Equal(t, c.App.ClientID, a.ClientID)
	})

	invalid := map[string]developer.AppPatch{
		"empty_name":          {Name: ptr("  ")},
		"long_name":           {Name: ptr(strings.Repeat("x", core.MaxNameLen+1))},
		"no_redirect_uris":    {RedirectURIs: &[]string{}},
		"http_redirect_uri":   {RedirectURIs: &[]string{"http://partner.example/cb"}},
		"duplicate_uris":      {RedirectURIs: &[]string{"https://a.example/cb", "https://a.example/cb"}},
		"too_many_uris":       {RedirectURIs: ptr(uris(core.MaxRedirectURIs + 1))},
		"valid_name_bad_uris": {Name: ptr("Fine"), RedirectURIs: &[]string{"https://a.example/#x"}},
		"bad_name_valid_uris": {Name: ptr("\x07"), RedirectURIs: &[]string{"https://a.example/cb"}},
	}
	for name, p := range invalid {
		t.Run("refuses_"+name+"_and_changes_nothing", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			who := f.owner(t, "dev@example.com")
			c := f.create(t, who, appInput())
			_, err := f.svc.Update(ctx, who, c.App.ID, p)
			requireKind(t, err, core.KindInvalid, "invalid_request", "")
			require.Equal(t, c.App, f.stored(t, c.App.ID))
		})
	}

	t.Run("an_unknown_app_is_not_found", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, err := f.svc.Update(ctx, f.owner(t, "dev@example.com"), "app_missing", developer.AppPatch{Name: ptr("x")})
		requireKind(t, err, core.KindNotFound, "not_found", "")
	})
}

func TestDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	f := newFixture(t)
	who := f.owner(t, "dev@example.com")
	c := f.create(t, who, appInput())
	keep := f.create(t, who, appInput())
	require.NoError(t, f.svc.Record(ctx, c.App.ID, core.StatStarts))

	require.NoError(t, f.svc.Delete(ctx, who, c.App.ID))

	_, err := f.svc.Get(ctx, who, c.App.ID)
	requireKind(t, err, core.KindNotFound, "not_found", "")
	_, err = f.svc.AuthenticateClient(ctx, c.App.ClientID, c.ClientSecret)
	requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")
	_, err = f.svc.ActiveApp(ctx, c.App.ClientID)
	requireKind(t, err, core.KindNotFound, "not_found", "")
	requireKind(t, f.svc.Delete(ctx, who, c.App.ID), core.KindNotFound, "not_found", "")

	apps, err := f.svc.List(ctx, who)
	require.NoError(t, err)
	require.Equal(t, []core.PartnerApp{keep.App}, apps)
}

func TestRotateSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	f := newFixture(t)
	who := f.owner(t, "dev@example.com")
	c := f.create(t, who, appInput())
	f.clock.Advance(time.Minute)

	secret, err := f.svc.RotateSecret(ctx, who, c.App.ID)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(secret, core.SecretPrefix))
	require.NotEqual(t, c.ClientSecret, secret)

	t.Run("the_old_secret_fails_at_once", func(t *testing.T) {
		_, err := f.svc.AuthenticateClient(ctx, c.App.ClientID, c.ClientSecret)
		requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")
	})

	t.Run("the_new_secret_works", func(t *testing.T) {
		a, err := f.svc.AuthenticateClient(ctx, c.App.ClientID, secret)
		require.NoError(t, err)
		require.Equal(t, c.App.ID, a.ID)
	})

	t.Run("only_the_digest_and_display_prefix_change", func(t *testing.T) {
		a := f.stored(t, c.App.ID)
		require.Equal(t, core.Digest(secret), a.SecretDigest)
		require.Equal(t, secret[:len(core.SecretPrefix)+6], a.SecretDisplayPrefix)
		require.Equal(t, start.Add(time.Minute), a.UpdatedAt)
		require.Equal(t, c.App.ClientID, a.ClientID, "the client id stays")
		require.Equal(t, c.App.Name, a.Name)
		require.NotContains(t, a.SecretDigest+a.SecretDisplayPrefix+a.Name, secret)
	})
}

func TestAuthenticateClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	f := newFixture(t)
	who := f.owner(t, "dev@example.com")
	c := f.create(t, who, appInput())
	suspended := f.create(t, who, appInput())
	_, err := f.svc.AdminSetStatus(ctx, admin, suspended.App.ID, string(core.AppSuspended))
	require.NoError(t, err)
	other := f.create(t, f.owner(t, "other@example.com"), appInput())

	t.Run("right_credentials_return_the_app", func(t *testing.T) {
		a, err := f.svc.AuthenticateClient(ctx, c.App.ClientID, c.ClientSecret)
		require.NoError(t, err)
		require.Equal(t, c.App, a)
	})

	// Every failure is the same error, so none tells a stranger which part
	// was wrong.
	_, want := f.svc.AuthenticateClient(ctx, "gh_app_unknown", c.ClientSecret)
	requireKind(t, want, core.KindUnauthenticated, "unauthorized", "")
	for name, cred := range map[string][2]string{
		"wrong_secret":            {c.App.ClientID, c.ClientSecret + "x"},
		"another_apps_secret":     {c.App.ClientID, other.ClientSecret},
		"the_secrets_digest":      {c.App.ClientID, c.App.SecretDigest},
		"the_display_prefix":      {c.App.ClientID, c.App.SecretDisplayPrefix},
		"suspended_app":           {suspended.App.ClientID, suspended.ClientSecret},
		"empty_client_id":         {"", c.ClientSecret},
		"empty_secret":            {c.App.ClientID, ""},
		"over_long_client_id":     {c.App.ClientID + strings.Repeat("x", 129), c.ClientSecret},
		"over_long_secret":        {c.App.ClientID, c.ClientSecret + strings.Repeat("x", 129)},
		"secret_with_space":       {c.App.ClientID, " " + c.ClientSecret},
		"client_id_of_other_case": {strings.ToUpper(c.App.ClientID), c.ClientSecret},
	} {
		t.Run(name+"_is_the_same_unauthenticated_error", func(t *testing.T) {
			_, err := f.svc.AuthenticateClient(ctx, cred[0], cred[1])
			require.Equal(t, want, err)
		})
	}
}

func TestActiveApp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	f := newFixture(t)
	who := f.owner(t, "dev@example.com")
	c := f.create(t, who, developer.AppInput{Name: "Chat", ProductType: "messaging", RedirectURIs: []string{"https://chat.example/cb"}})

	a, err := f.svc.ActiveApp(ctx, c.App.ClientID)
	require.NoError(t, err)
	require.Equal(t, c.App, a)
	lines, err := f.svc.AllowedLines(ctx, c.App.ClientID)
	require.NoError(t, err)
	require.Equal(t, []core.ProductLine{core.LineMessaging}, lines)
	a, err = f.svc.ActiveAppByID(ctx, c.App.ID)
	require.NoError(t, err)
	require.Equal(t, c.App, a)

	for _, id := range []string{"", "gh_app_unknown", strings.Repeat("g", 129)} {
		_, err := f.svc.ActiveApp(ctx, id)
		requireKind(t, err, core.KindNotFound, "not_found", "")
		_, err = f.svc.AllowedLines(ctx, id)
		requireKind(t, err, core.KindNotFound, "not_found", "")
	}

	_, err = f.svc.AdminSetStatus(ctx, admin, c.App.ID, "suspended")
	require.NoError(t, err)
	t.Run("a_suspended_app_is_not_found", func(t *testing.T) {
		_, err := f.svc.ActiveApp(ctx, c.App.ClientID)
		requireKind(t, err, core.KindNotFound, "not_found", "")
		_, err = f.svc.AllowedLines(ctx, c.App.ClientID)
		requireKind(t, err, core.KindNotFound, "not_found", "")
		_, err = f.svc.ActiveAppByID(ctx, c.App.ID)
		requireKind(t, err, core.KindNotFound, "not_found", "")
		a, err := f.svc.AppByIDAnyStatus(ctx, c.App.ID)
		require.NoError(t, err, "listings still see it")
		require.Equal(t, core.AppSuspended, a.Status)
	})

	_, err = f.svc.AdminSetStatus(ctx, admin, c.App.ID, "active")
	require.NoError(t, err)
	t.Run("a_reinstated_app_is_found_again", func(t *testing.T) {
		_, err := f.svc.AllowedLines(ctx, c.App.ClientID)
		require.NoError(t, err)
	})
}

func TestAnalytics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	midnight := func(daysAgo int) time.Time {
		return time.Date(2026, 5, 1-daysAgo, 0, 0, 0, 0, time.UTC)
	}
	// record adds n to stat on the day daysAgo (at 23:59, the day's edge).
	record := func(t *testing.T, f fixture, appID string, daysAgo int, stat core.AppStat, n int) {
		t.Helper()
		f.clock.Set(midnight(daysAgo).Add(24*time.Hour - time.Second))
		for range n {
			require.NoError(t, f.svc.Record(ctx, appID, stat))
		}
		f.clock.Set(start)
	}

	t.Run("zero_fills_a_window_of_n_days_ending_today", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who := f.owner(t, "dev@example.com")
		id := f.create(t, who, appInput()).App.ID
		other := f.create(t, who, appInput()).App.ID

		record(t, f, id, 0, core.StatStarts, 3)
		record(t, f, id, 0, core.StatCompletions, 2)
		record(t, f, id, 2, core.StatExchanges, 4)
		record(t, f, id, 6, core.StatFailedExchanges, 1) // the window's first day
		record(t, f, id, 7, core.StatStarts, 100)        // just outside it
		record(t, f, other, 0, core.StatStarts, 50)      // another app

		an, err := f.svc.Analytics(ctx, who, id, 7)
		require.NoError(t, err)
		require.Len(t, an.Days, 7)
		for i, d := range an.Days {
			require.Equal(t, midnight(6-i), d.Day, "day %d", i)
		}
		require.Equal(t, core.AppDayStats{Day: midnight(6), FailedExchanges: 1}, an.Days[0])
		require.Equal(t, core.AppDayStats{Day: midnight(5)}, an.Days[1])
		require.Equal(t, core.AppDayStats{Day: midnight(2), Exchanges: 4}, an.Days[4])
		require.Equal(t, core.AppDayStats{Day: midnight(0), Starts: 3, Completions: 2}, an.Days[6])
		require.Equal(t, core.AppDayStats{Starts: 3, Completions: 2, Exchanges: 4, FailedExchanges: 1}, an.Totals)

		one, err := f.svc.Analytics(ctx, who, id, 1)
		require.NoError(t, err)
		require.Equal(t, []core.AppDayStats{{Day: midnight(0), Starts: 3, Completions: 2}}, one.Days)
		require.Equal(t, core.AppDayStats{Starts: 3, Completions: 2}, one.Totals)
	})

	t.Run("today_follows_the_clock_in_utc", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who := f.owner(t, "dev@example.com")
		id := f.create(t, who, appInput()).App.ID
		f.clock.Set(time.Date(2026, 5, 1, 23, 59, 59, 0, time.UTC))
		require.NoError(t, f.svc.Record(ctx, id, core.StatStarts))
		f.clock.Advance(time.Second)
		require.NoError(t, f.svc.Record(ctx, id, core.StatCompletions))

		an, err := f.svc.Analytics(ctx, who, id, 2)
		require.NoError(t, err)
		require.Equal(t, []core.AppDayStats{
			{Day: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Starts: 1},
			{Day: time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC), Completions: 1},
		}, an.Days)
	})

	t.Run("a_year_is_the_longest_window", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who := f.owner(t, "dev@example.com")
		id := f.create(t, who, appInput()).App.ID
		record(t, f, id, developer.MaxAnalyticsDays-1, core.StatStarts, 1)

		an, err := f.svc.Analytics(ctx, who, id, developer.MaxAnalyticsDays)
		require.NoError(t, err)
		require.Len(t, an.Days, developer.MaxAnalyticsDays)
		require.Equal(t, midnight(developer.MaxAnalyticsDays-1), an.Days[0].Day)
		require.Equal(t, midnight(0), an.Days[len(an.Days)-1].Day)
		require.EqualValues(t, 1, an.Totals.Starts)
	})

	t.Run("days_must_be_between_1_and_365", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who := f.owner(t, "dev@example.com")
		id := f.create(t, who, appInput()).App.ID
		for _, days := range []int{0, -1, developer.MaxAnalyticsDays + 1} {
			_, err := f.svc.Analytics(ctx, who, id, days)
			requireKind(t, err, core.KindInvalid, "invalid_request", "days")
		}
	})

	t.Run("recording_for_an_unknown_app_is_an_error_to_log", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		require.Error(t, f.svc.Record(ctx, "app_missing", core.StatStarts))
	})
}

func TestAdminList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	f := newFixture(t)
	ann, bob := f.owner(t, "ann@example.com"), f.owner(t, "bob@example.com")
	var all, suspended []string
	for i := range 7 {
		who := ann
		if i%2 == 1 {
			who = bob
		}
		id := f.create(t, who, appInput()).App.ID
		all = append(all, id)
		if i%3 == 0 {
			_, err := f.svc.AdminSetStatus(ctx, admin, id, "suspended")
			require.NoError(t, err)
			suspended = append(suspended, id)
		}
	}
	slices.Sort(all)
	slices.Sort(suspended)
	active := slices.DeleteFunc(slices.Clone(all), func(id string) bool { return slices.Contains(suspended, id) })

	// page walks every page of status with limit and returns the ids and
	// the number of pages.
	page := func(t *testing.T, status string, limit int) ([]string, int) {
		t.Helper()
		var ids []string
		after := ""
		for pages := 1; pages <= 100; pages++ {
			apps, more, err := f.svc.AdminList(ctx, admin, status, after, limit)
			require.NoError(t, err)
			require.LessOrEqual(t, len(apps), limit)
			for _, a := range apps {
				ids = append(ids, a.ID)
			}
			if !more {
				return ids, pages
			}
			require.Len(t, apps, limit, "a page followed by another is full")
			after = apps[len(apps)-1].ID
		}
		t.Fatal("paging never ended")
		return nil, 0
	}

	t.Run("pages_through_every_owners_apps_by_id", func(t *testing.T) {
		for limit, pages := range map[int]int{1: 7, 2: 4, 6: 2, 7: 1, 1000: 1} {
			ids, n := page(t, "", limit)
			require.Equal(t, all, ids, "limit %d", limit)
			require.Equal(t, pages, n, "limit %d: no empty last page", limit)
		}
	})

	t.Run("filters_by_status", func(t *testing.T) {
		ids, n := page(t, "suspended", 3) // exactly one full page
		require.Equal(t, suspended, ids)
		require.Equal(t, 1, n)
		ids, _ = page(t, "active", 3)
		require.Equal(t, active, ids)
	})

	t.Run("is_for_staff_only", func(t *testing.T) {
		_, _, err := f.svc.AdminList(ctx, ann, "", "", 10)
		requireKind(t, err, core.KindForbidden, "forbidden", "")
	})

	t.Run("refuses_bad_queries", func(t *testing.T) {
		for _, q := range []struct {
			status, after string
			limit         int
			detail        string
		}{
			{"deleted", "", 10, "status"},
			{"ACTIVE", "", 10, "status"},
			{"", "app/x", 10, "cursor"},
			{"", strings.Repeat("a", core.MaxIDLen+1), 10, "cursor"},
			{"", "", 0, "limit"},
			{"", "", -1, "limit"},
			{"", "", 1001, "limit"},
		} {
			_, _, err := f.svc.AdminList(ctx, admin, q.status, q.after, q.limit)
			requireKind(t, err, core.KindInvalid, "invalid_request", q.detail)
		}
	})
}

func TestAdminSetStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	f := newFixture(t)
	who := f.owner(t, "dev@example.com")
	c := f.create(t, who, appInput())
	f.clock.Advance(time.Hour)

	t.Run("is_for_staff_only", func(t *testing.T) {
		_, err := f.svc.AdminSetStatus(ctx, who, c.App.ID, "suspended")
		requireKind(t, err, core.KindForbidden, "forbidden", "")
		require.Equal(t, core.AppActive, f.stored(t, c.App.ID).Status)
	})

	t.Run("refuses_unknown_statuses_and_apps", func(t *testing.T) {
		for _, st := range []string{"", "deleted", "Suspended"} {
			_, err := f.svc.AdminSetStatus(ctx, admin, c.App.ID, st)
			requireKind(t, err, core.KindInvalid, "invalid_request", "status")
		}
		for _, id := range []string{"app_missing", "", "a/b"} {
			_, err := f.svc.AdminSetStatus(ctx, admin, id, "suspended")
			requireKind(t, err, core.KindNotFound, "not_found", "")
		}
	})

	t.Run("suspends_and_reinstates", func(t *testing.T) {
		a, err := f.svc.AdminSetStatus(ctx, admin, c.App.ID, "suspended")
		require.NoError(t, err)
		require.Equal(t, core.AppSuspended, a.Status)
		require.Equal(t, start.Add(time.Hour), a.UpdatedAt)
		got, err := f.svc.Get(ctx, who, c.App.ID)
		require.NoError(t, err, "the owner still sees a suspended app")
		require.Equal(t, core.AppSuspended, got.Status)
		_, err = f.svc.AuthenticateClient(ctx, c.App.ClientID, c.ClientSecret)
		requireKind(t, err, core.KindUnauthenticated, "unauthorized", "")

		a, err = f.svc.AdminSetStatus(ctx, admin, c.App.ID, "active")
		require.NoError(t, err)
		require.Equal(t, core.AppActive, a.Status)
		_, err = f.svc.AuthenticateClient(ctx, c.App.ClientID, c.ClientSecret)
		require.NoError(t, err, "the same secret works again")
	})
}

// downApps is a store whose lookups fail as a database that is down would
// (failure injection only: everything else is the real in-memory store).
type downApps struct{ *testkit.Store }

var errDown = core.Unavailable("database", errors.New("connection refused"))

func (downApps) AppByClientID(context.Context, string) (core.PartnerApp, error) {
	return core.PartnerApp{}, errDown
}

func (downApps) AppsByOwner(context.Context, string) ([]core.PartnerApp, error) { return nil, errDown }

func (downApps) AppStats(context.Context, string, time.Time, time.Time) ([]core.AppDayStats, error) {
	return nil, errDown
}

func TestFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a_store_that_is_down_is_unavailable_not_bad_credentials", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who := f.owner(t, "dev@example.com")
		c := f.create(t, who, appInput())
		svc := developer.New(downApps{f.store}, f.clock, rand.Reader)

		_, err := svc.AuthenticateClient(ctx, c.App.ClientID, c.ClientSecret)
		requireKind(t, err, core.KindUnavailable, "", "")
		_, err = svc.ActiveApp(ctx, c.App.ClientID)
		requireKind(t, err, core.KindUnavailable, "", "")
		_, err = svc.Create(ctx, who, appInput())
		requireKind(t, err, core.KindUnavailable, "", "")
		_, err = svc.Analytics(ctx, who, c.App.ID, 7)
		requireKind(t, err, core.KindUnavailable, "", "")
	})

	t.Run("failing_randomness_is_internal_and_changes_nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		who := f.owner(t, "dev@example.com")
		c := f.create(t, who, appInput())
		svc := developer.New(f.store, f.clock, iotest.ErrReader(errors.New("no entropy")))

		_, err := svc.Create(ctx, who, appInput())
		requireKind(t, err, core.KindInternal, "internal", "")
		_, err = svc.RotateSecret(ctx, who, c.App.ID)
		requireKind(t, err, core.KindInternal, "internal", "")
		require.Equal(t, c.App, f.stored(t, c.App.ID))
		apps, err := svc.List(ctx, who)
		require.NoError(t, err)
		require.Len(t, apps, 1)
	})
}
