package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPublicPlans(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})

		t.Run("by_type_lists_the_seeded_catalog", func(t *testing.T) {
			for _, typ := range []string{"clientGallery", "drive", "messaging"} {
				r := s.do("GET", "/api/public/plans?type="+typ, nil)
				require.Equal(t, http.StatusOK, r.status)
				ps := r.list(t)
				require.GreaterOrEqual(t, len(ps), 3, typ)
				var free, monthly, annual bool
				for _, p := range ps {
					require.Equal(t, typ, p["planType"])
					for _, f := range []string{"id", "planType", "name", "description", "features", "storageLimitBytes", "price", "billingPeriod", "clientGalleryEnabled"} {
						require.Contains(t, p, f)
					}
					require.NotContains(t, p, "stripePriceId")
					require.NotContains(t, p, "status")
					price := p["price"].(float64)
					free = free || price == 0
					monthly = monthly || (price > 0 && p["billingPeriod"] == "monthly")
					annual = annual || (price > 0 && p["billingPeriod"] == "annual")
					if typ == "messaging" {
						require.Greater(t, p["monthlyCredits"].(float64), float64(0))
					} else {
						require.NotContains(t, p, "monthlyCredits")
					}
				}
				require.True(t, free && monthly && annual, "%s: free, paid monthly and paid annual", typ)
			}
		})
		t.Run("without_type_lists_every_line", func(t *testing.T) {
			ps := s.do("GET", "/api/public/plans", nil).list(t)
			lines := map[any]bool{}
			for _, p := range ps {
				lines[p["planType"]] = true
			}
			require.Len(t, lines, 3)
		})
		t.Run("unknown_type_is_400", func(t *testing.T) {
			s.do("GET", "/api/public/plans?type=video", nil).requireError(t, http.StatusBadRequest, "invalid_request", "type")
		})
		t.Run("unknown_client_id_is_404", func(t *testing.T) {
			s.do("GET", "/api/public/plans?client_id=gh_app_unknown", nil).requireError(t, http.StatusNotFound, "not_found", "")
			s.do("GET", "/api/public/plans/by-id?id=plan_drive_free&client_id=gh_app_unknown", nil).requireError(t, http.StatusNotFound, "not_found", "")
		})
		t.Run("over_long_query_is_400", func(t *testing.T) {
			s.do("GET", "/api/public/plans?client_id="+strings.Repeat("x", 300), nil).requireError(t, http.StatusBadRequest, "invalid_request", "client_id")
		})
		t.Run("by_id", func(t *testing.T) {
			r := s.do("GET", "/api/public/plans/by-id?id=plan_drive_plus_annual", nil)
			require.Equal(t, http.StatusOK, r.status)
			p := r.json(t)
			require.Equal(t, "plan_drive_plus_annual", p["id"])
			require.Equal(t, 99.9, p["price"])
			require.Equal(t, "annual", p["billingPeriod"])
			s.do("GET", "/api/public/plans/by-id?id=plan_missing", nil).requireError(t, http.StatusNotFound, "not_found", "")
			s.do("GET", "/api/public/plans/by-id", nil).requireError(t, http.StatusBadRequest, "invalid_request", "id")
			s.do("GET", "/api/public/plans/by-id?id=%3Cscript%3E", nil).requireError(t, http.StatusBadRequest, "invalid_request", "id")
		})
	})
}

func TestAdminPlans(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		adminEmail := uniqueEmail("staff")
		s := newTestServer(t, backend, options{admins: []string{adminEmail}})
		admin := s.register(adminEmail)
		user := s.register(uniqueEmail("user"))
		sess := withSession(admin.session)

		t.Run("non_admin_is_403_and_anonymous_is_401", func(t *testing.T) {
			s.do("GET", "/api/admin/plans", nil, withSession(user.session)).requireError(t, http.StatusForbidden, "forbidden", "")
			s.do("POST", "/api/admin/plans", map[string]any{"planType": "drive"}, withSession(user.session)).requireError(t, http.StatusForbidden, "forbidden", "")
			s.do("PATCH", "/api/admin/plans/plan_drive_free", map[string]any{"name": "x"}, withSession(user.session)).requireError(t, http.StatusForbidden, "forbidden", "")
			s.do("DELETE", "/api/admin/plans/plan_drive_free", nil, withSession(user.session)).requireError(t, http.StatusForbidden, "forbidden", "")
			s.do("GET", "/api/admin/plans", nil).requireError(t, http.StatusUnauthorized, "unauthorized", "")
		})

		var created map[string]any
		t.Run("create_lists_and_shows_publicly", func(t *testing.T) {
			r := s.do("POST", "/api/admin/plans", map[string]any{
				"planType": "drive", "name": "Drive Team", "description": "For teams", "features": []string{"5 TB"},
				"storageLimitBytes": 5 << 40, "price": 49.5, "billingPeriod": "monthly", "sortOrder": 40,
			}, sess)
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			created = r.json(t)
			require.True(t, strings.HasPrefix(created["id"].(string), "plan_"))
			require.Equal(t, "active", created["status"])
			require.Equal(t, 49.5, created["price"])
			require.Equal(t, "usd", created["currency"])

			all := s.do("GET", "/api/admin/plans", nil, sess).list(t)
			require.GreaterOrEqual(t, len(all), 10)
			pub := s.do("GET", "/api/public/plans/by-id?id="+created["id"].(string), nil)
			require.Equal(t, http.StatusOK, pub.status)
		})

		t.Run("create_with_bad_input_is_400", func(t *testing.T) {
			cases := []struct {
				body   map[string]any
				detail string
			}{
				{map[string]any{"name": "x", "price": 1}, "planType"},
				{map[string]any{"planType": "video", "name": "x", "price": 1}, "planType"},
				{map[string]any{"planType": "drive", "name": "x"}, "price"},
				{map[string]any{"planType": "drive", "price": 1}, "name"},
				{map[string]any{"planType": "drive", "name": "x", "price": -1}, "price"},
				{map[string]any{"planType": "drive", "name": "x", "price": 1.234}, "price"},
				{map[string]any{"planType": "drive", "name": "x", "price": "1"}, "price"},
				{map[string]any{"planType": "drive", "name": "x", "price": 1, "monthlyCredits": 10}, "monthlyCredits"},
				{map[string]any{"planType": "drive", "name": "x", "price": 1, "billingPeriod": "weekly"}, "billingPeriod"},
				{map[string]any{"planType": "drive", "name": "x", "price": 1, "currency": "US Dollars"}, "currency"},
				{map[string]any{"planType": "drive", "name": strings.Repeat("x", 121), "price": 1}, "name"},
				{map[string]any{"planType": "drive", "name": "x", "price": 1, "storageLimitBytes": -5}, "storageLimitBytes"},
				{map[string]any{"planType": "drive", "name": "x", "price": 1, "id": "plan_drive_free"}, ""},
			}
			for _, tc := range cases {
				r := s.do("POST", "/api/admin/plans", tc.body, sess)
				if tc.detail == "" {
					r.requireError(t, http.StatusConflict, "plan_exists", "")
					continue
				}
				r.requireError(t, http.StatusBadRequest, "invalid_request", tc.detail)
			}
		})

		t.Run("patch_updates_and_archive_hides_from_public", func(t *testing.T) {
			id := created["id"].(string)
			r := s.do("PATCH", "/api/admin/plans/"+id, map[string]any{"name": "Drive Team+", "price": 59}, sess)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			require.Equal(t, "Drive Team+", r.json(t)["name"])
			require.EqualValues(t, 59, r.json(t)["price"])

			r = s.do("PATCH", "/api/admin/plans/"+id, map[string]any{"status": "archived"}, sess)
			require.Equal(t, http.StatusOK, r.status)
			s.do("GET", "/api/public/plans/by-id?id="+id, nil).requireError(t, http.StatusNotFound, "not_found", "")
			for _, p := range s.do("GET", "/api/public/plans?type=drive", nil).list(t) {
				require.NotEqual(t, id, p["id"])
			}
			// An archived plan cannot be chosen at registration.
			s.do("POST", "/api/register", map[string]any{
				"email": uniqueEmail("arch"), "password": "long enough pw", "displayName": "A", "accountType": "drive", "planId": id,
			}).requireError(t, http.StatusBadRequest, "invalid_request", "planId")

			s.do("PATCH", "/api/admin/plans/"+id, map[string]any{"status": "deleted"}, sess).requireError(t, http.StatusBadRequest, "invalid_request", "status")
			s.do("PATCH", "/api/admin/plans/"+id, map[string]any{"planType": "drive"}, sess).requireError(t, http.StatusBadRequest, "invalid_request", "planType")
			s.do("PATCH", "/api/admin/plans/plan_unknown", map[string]any{"name": "x"}, sess).requireError(t, http.StatusNotFound, "not_found", "")
		})

		t.Run("a_plan_in_use_cannot_be_deleted_or_repriced", func(t *testing.T) {
			r := s.do("POST", "/api/admin/plans", map[string]any{"planType": "clientGallery", "name": "Gallery Max", "price": 30}, sess)
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			id := r.json(t)["id"].(string)
			reg := s.do("POST", "/api/register", map[string]any{
				"email": uniqueEmail("max"), "password": "long enough pw", "displayName": "M", "accountType": "studio", "planId": id,
			})
			require.Equal(t, http.StatusCreated, reg.status, "body: %s", reg.body)
			s.do("DELETE", "/api/admin/plans/"+id, nil, sess).requireError(t, http.StatusConflict, "plan_in_use", "")
			s.do("PATCH", "/api/admin/plans/"+id, map[string]any{"price": 3}, sess).requireError(t, http.StatusConflict, "plan_in_use", "")
			// Renaming is fine.
			require.Equal(t, http.StatusOK, s.do("PATCH", "/api/admin/plans/"+id, map[string]any{"description": "Still sold"}, sess).status)
		})

		t.Run("catalog_plans_are_archived_not_deleted", func(t *testing.T) {
			s.do("DELETE", "/api/admin/plans/plan_messaging_growth_annual", nil, sess).requireError(t, http.StatusConflict, "catalog_plan", "")
		})

		t.Run("the_last_free_plan_of_a_line_stays", func(t *testing.T) {
			s.do("PATCH", "/api/admin/plans/plan_gallery_free", map[string]any{"status": "archived"}, sess).
				requireError(t, http.StatusConflict, "last_free_plan", "")
			require.Equal(t, http.StatusOK, s.do("GET", "/api/public/plans/by-id?id=plan_gallery_free", nil).status)
		})

		t.Run("an_unused_plan_is_deleted", func(t *testing.T) {
			id := created["id"].(string)
			require.Equal(t, http.StatusNoContent, s.do("DELETE", "/api/admin/plans/"+id, nil, sess).status)
			s.do("DELETE", "/api/admin/plans/"+id, nil, sess).requireError(t, http.StatusNotFound, "not_found", "")
		})
	})
}
