package bunstore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/gellhub/gellhub/adapters/bunstore"
	"github.com/gellhub/gellhub/adapters/bunstore/buntest"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/testkit"
)

func TestPartnerStoreSuite(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			testkit.RunPartnerStoreSuite(t, func(t *testing.T) testkit.PartnerStoreUnderTest { return d.open(t) })
		})
	}
}

// TestMigration0002UpgradesA0001Database applies 0002_partner_apps to a
// database that 0001 created and that holds keys: the keys become own keys
// and the new partial index takes over from the old one.
func TestMigration0002UpgradesA0001Database(t *testing.T) {
	t.Parallel()
	type target struct {
		dialect, driver, dsn string
		open                 func(ctx context.Context) (*bunstore.Store, error)
	}
	for _, tc := range []struct {
		name   string
		target func(t *testing.T) target
	}{
		{"SQLite", func(t *testing.T) target {
			path := buntest.SQLitePath(t)
			return target{bunstore.DialectSQLite, sqliteshim.ShimName, bunstore.SQLiteDSN(path),
				func(ctx context.Context) (*bunstore.Store, error) { return bunstore.OpenSQLite(ctx, path) }}
		}},
		{"Postgres", func(t *testing.T) target {
			dsn := buntest.PostgresDSN(t)
			return target{bunstore.DialectPostgres, "pgx", dsn,
				func(ctx context.Context) (*bunstore.Store, error) { return bunstore.OpenPostgres(ctx, dsn) }}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := tc.target(t)
			db, err := sql.Open(tg.driver, tg.dsn)
			if err != nil {
				t.Fatal(err)
			}
			initSQL, err := os.ReadFile(filepath.Join("migrations", tg.dialect, "0001_init.sql"))
			if err != nil {
				t.Fatal(err)
			}
			ts := "TIMESTAMPTZ"
			if tg.dialect == bunstore.DialectSQLite {
				ts = "TIMESTAMP"
			}
			now := time.Now().UTC().Format("2006-01-02 15:04:05.999999-07:00")
			for _, q := range []string{
				string(initSQL),
				"CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, applied_at " + ts + " NOT NULL)",
				"INSERT INTO schema_migrations (version, applied_at) VALUES (1, '" + now + "')",
				"INSERT INTO profiles VALUES ('prf_1', 'a@x', 'a@x', 'h', 'A', 'drive', '" + now + "', '" + now + "')",
				"INSERT INTO api_keys VALUES ('key_1', 'prf_1', 'drive', 'd1', 'drv_1', '" + now + "', '" + now + "')",
				"INSERT INTO api_keys VALUES ('key_2', 'prf_1', 'drive', 'd2', 'drv_2', '" + now + "', NULL)",
			} {
				if _, err := db.ExecContext(t.Context(), q); err != nil {
					t.Fatalf("set up a 0001 database: %v", err)
				}
			}
			db.Close()

			s, err := tg.open(t.Context())
			if err != nil {
				t.Fatalf("open and migrate: %v", err)
			}
			defer s.Close()
			keys, err := s.ActiveAPIKeys(t.Context(), "prf_1")
			if err != nil || len(keys) != 1 || keys[0].ID != "key_2" || keys[0].LinkID != "" {
				t.Fatalf("ActiveAPIKeys after the upgrade = %+v, %v; want own key key_2", keys, err)
			}
			app := core.PartnerApp{ID: "app_1", ProfileID: "prf_1", Name: "A", Line: core.LineDrive, ClientID: "gh_app_1", Status: core.AppActive}
			if err := s.CreateApp(t.Context(), app); err != nil {
				t.Fatal(err)
			}
			link, err := s.EnsureLink(t.Context(), core.ConnectLink{ID: "link_1", ProfileID: "prf_1", AppID: app.ID})
			if err != nil {
				t.Fatal(err)
			}
			linkKey := core.APIKey{ID: "key_3", ProfileID: "prf_1", Line: core.LineDrive, Digest: "d3"}
			if err := s.ReplaceLinkKeys(t.Context(), link.ID, []core.APIKey{linkKey}, time.Now()); err != nil {
				t.Fatalf("a link key next to the active own key of its line: %v", err)
			}
			rotated := core.APIKey{ID: "key_4", ProfileID: "prf_1", Line: core.LineDrive, Digest: "d4"}
			if err := s.RotateAPIKey(t.Context(), rotated, time.Now()); err != nil {
				t.Fatal(err)
			}
			keys, err = s.ActiveAPIKeys(t.Context(), "prf_1")
			if err != nil || len(keys) != 2 || keys[0].ID != "key_3" || keys[1].ID != "key_4" {
				t.Fatalf("ActiveAPIKeys = %+v, %v; want the link key and the rotated own key", keys, err)
			}
			// The old index is gone; the new one still refuses two active own keys.
			_, err = bunstore.RawDB(s).ExecContext(t.Context(),
				"INSERT INTO api_keys (id, profile_id, line, digest, display_prefix, created_at) VALUES ('key_5', 'prf_1', 'drive', 'd5', 'x', '"+now+"')")
			if !core.IsKind(bunstore.Translate(s, t.Context(), "insert", err), core.KindConflict) {
				t.Fatalf("a second active own key: %v, want a unique violation", err)
			}
		})
	}
}
