package bunstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/bunstore"
	"github.com/gellhub/gellhub/adapters/bunstore/buntest"
	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/testkit"
)

// dialects are the two databases every test here runs on.
var dialects = []struct {
	name string
	open func(t testing.TB) *bunstore.Store
}{
	{"SQLite", buntest.OpenSQLite},
	{"Postgres", buntest.OpenPostgres},
}

// forEachDialect runs test, in parallel, on a fresh store of each dialect.
func forEachDialect(t *testing.T, test func(t *testing.T, s *bunstore.Store)) {
	t.Helper()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			test(t, d.open(t))
		})
	}
}

func TestStoreSuite(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			testkit.RunStoreSuite(t, func(t *testing.T) testkit.StoreUnderTest { return d.open(t) })
		})
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()

	t.Run("empty_url_opens_sqlite_in_a_new_data_dir", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "data", "gellhub")
		s, err := bunstore.Open(t.Context(), "", dir)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		if s.Dialect() != bunstore.DialectSQLite {
			t.Fatalf("Dialect = %q, want sqlite", s.Dialect())
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		st, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o700 {
			t.Fatalf("data dir mode %v, want 0700", st.Mode().Perm())
		}
		if _, err := os.Stat(filepath.Join(dir, "gellhub.db")); err != nil {
			t.Fatalf("database file: %v", err)
		}
	})

	t.Run("empty_url_and_empty_data_dir_is_an_error", func(t *testing.T) {
		t.Parallel()
		if s, err := bunstore.Open(t.Context(), "", ""); err == nil {
			s.Close()
			t.Fatal("Open with neither a URL nor a data dir succeeded")
		}
	})

	t.Run("postgres_and_postgresql_urls_open_postgres", func(t *testing.T) {
		t.Parallel()
		dsn := buntest.PostgresDSN(t)
		for _, url := range []string{dsn, "postgresql://" + strings.TrimPrefix(dsn, "postgres://")} {
			s, err := bunstore.Open(t.Context(), url, t.TempDir())
			if err != nil {
				t.Fatalf("Open(%s…): %v", url[:13], err)
			}
			if s.Dialect() != bunstore.DialectPostgres {
				t.Errorf("Dialect = %q, want postgres", s.Dialect())
			}
			if err := s.Ping(t.Context()); err != nil {
				t.Errorf("Ping: %v", err)
			}
			s.Close()
		}
	})

	t.Run("other_schemes_are_refused_naming_the_accepted_ones", func(t *testing.T) {
		t.Parallel()
		for _, url := range []string{
			"mysql://user:s3cret@db/gellhub",
			"sqlite:///var/lib/gellhub.db",
			"file:gellhub.db",
			"postgres:/missing-slashes",
			"/var/lib/gellhub.db",
		} {
			s, err := bunstore.Open(t.Context(), url, t.TempDir())
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", url)
			}
			msg := err.Error()
			if !strings.Contains(msg, "postgres://") || !strings.Contains(msg, "postgresql://") {
				t.Errorf("Open(%q) error %q does not name the accepted schemes", url, msg)
			}
			if strings.Contains(msg, "s3cret") {
				t.Errorf("Open(%q) error %q repeats the password", url, msg)
			}
		}
	})

	t.Run("unreachable_postgres_is_unavailable", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		s, err := bunstore.OpenPostgres(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5")
		if err == nil {
			s.Close()
			t.Fatal("OpenPostgres on a closed port succeeded")
		}
		if !core.IsKind(err, core.KindUnavailable) {
			t.Fatalf("got %v (kind %s), want unavailable", err, core.ErrorKind(err))
		}
	})

	t.Run("sqlite_path_with_uri_characters", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "a dir?with#odd%25chars&_pragma=x", "my db.sqlite")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		s, err := bunstore.OpenSQLite(t.Context(), path)
		if err != nil {
			t.Fatalf("OpenSQLite: %v", err)
		}
		defer s.Close()
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("the database is not at the given path: %v", err)
		}
	})
}

func TestSQLiteDSN(t *testing.T) {
	t.Parallel()
	got := bunstore.SQLiteDSN("/data/gellhub.db")
	want := "file:/data/gellhub.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	if got != want {
		t.Fatalf("SQLiteDSN = %q, want %q", got, want)
	}
}

// appliedVersions reads schema_migrations.
func appliedVersions(t *testing.T, s *bunstore.Store) []int64 {
	t.Helper()
	rows, err := bunstore.RawDB(s).QueryContext(t.Context(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	var vs []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	starters := []struct {
		name    string
		dialect string
		target  func(t *testing.T) string
		open    func(ctx context.Context, target string) (*bunstore.Store, error)
	}{
		{"SQLite", bunstore.DialectSQLite, func(t *testing.T) string { return buntest.SQLitePath(t) }, bunstore.OpenSQLite},
		{"Postgres", bunstore.DialectPostgres, func(t *testing.T) string { return buntest.PostgresDSN(t) }, bunstore.OpenPostgres},
	}
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			want, err := bunstore.MigrationVersions(st.dialect)
			if err != nil || len(want) == 0 {
				t.Fatalf("MigrationVersions: %v, %v", want, err)
			}

			t.Run("concurrent_starters_apply_each_migration_once", func(t *testing.T) {
				t.Parallel()
				target := st.target(t)
				const n = 4
				stores := make([]*bunstore.Store, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() { stores[i], errs[i] = st.open(t.Context(), target) })
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("starter %d: %v", i, err)
					}
					defer stores[i].Close()
				}
				// The migrations create their tables without IF NOT EXISTS:
				// applying one twice would have failed a starter.
				if got := appliedVersions(t, stores[0]); !slices.Equal(got, want) {
					t.Fatalf("schema_migrations = %v, want %v", got, want)
				}
			})

			t.Run("reopening_keeps_data_and_applies_nothing", func(t *testing.T) {
				t.Parallel()
				target := st.target(t)
				s, err := st.open(t.Context(), target)
				if err != nil {
					t.Fatal(err)
				}
				p := core.Plan{ID: "plan_kept", Line: core.LineDrive, Status: core.PlanActive, Features: []string{"x"}}
				if err := s.CreatePlan(t.Context(), p); err != nil {
					t.Fatal(err)
				}
				s.Close()
				s, err = st.open(t.Context(), target)
				if err != nil {
					t.Fatalf("reopen: %v", err)
				}
				defer s.Close()
				if _, err := s.PlanByID(t.Context(), p.ID); err != nil {
					t.Fatalf("PlanByID after reopening: %v", err)
				}
				if got := appliedVersions(t, s); !slices.Equal(got, want) {
					t.Fatalf("schema_migrations = %v, want %v", got, want)
				}
			})
		})
	}
}

// newAccount returns an account without subscriptions or keys: a
// profile, its studio and its drive.
func newAccount(t *testing.T) core.Account {
	t.Helper()
	now := time.Now()
	id := func(prefix string) string {
		v, err := core.NewID(prefix, now, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	pid := id("prf")
	email := id("e") + "@example.com"
	return core.Account{
		Profile: core.Profile{
			ID: pid, Email: email, EmailNormalized: email, PasswordHash: "h",
			DisplayName: "T", AccountKind: core.AccountDrive, CreatedAt: now, UpdatedAt: now,
		},
		Studio: core.Studio{ID: id("std"), ProfileID: pid, CreatedAt: now},
		Drive:  core.Drive{ID: id("drv"), ProfileID: pid, CreatedAt: now},
	}
}

// createProfile stores newAccount and returns its profile.
func createProfile(t *testing.T, s *bunstore.Store) core.Profile {
	t.Helper()
	a := newAccount(t)
	if err := s.CreateAccount(t.Context(), a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return a.Profile
}

func TestCreateAccount_duplicate_key_digest_is_conflict_and_writes_nothing(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		first := newAccount(t)
		key := core.APIKey{ID: "key_1", ProfileID: first.Profile.ID, Line: core.LineDrive, Digest: core.Digest("k"), CreatedAt: time.Now()}
		first.Keys = []core.APIKey{key}
		if err := s.CreateAccount(t.Context(), first); err != nil {
			t.Fatal(err)
		}
		second := newAccount(t)
		key.ID, key.ProfileID = "key_2", second.Profile.ID
		second.Keys = []core.APIKey{key}
		err := s.CreateAccount(t.Context(), second)
		if e, ok := core.AsError(err); !ok || e.Kind != core.KindConflict || e.Code != "conflict" {
			t.Fatalf("got %v, want a conflict with code \"conflict\"", err)
		}
		if _, err := s.ProfileByID(t.Context(), second.Profile.ID); !core.IsKind(err, core.KindNotFound) {
			t.Fatalf("ProfileByID after a refused account: %v, want not found", err)
		}
	})
}

func TestCanceledContextPassesThrough(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.ProfileByID(ctx, "prf_x"); !errors.Is(err, context.Canceled) {
			t.Errorf("ProfileByID: %v, want context.Canceled", err)
		}
		if err := s.CreateAccount(ctx, newAccount(t)); !errors.Is(err, context.Canceled) {
			t.Errorf("CreateAccount: %v, want context.Canceled", err)
		}
		if _, err := s.ListPlans(ctx, core.PlanFilter{}); !errors.Is(err, context.Canceled) {
			t.Errorf("ListPlans: %v, want context.Canceled", err)
		}
		// The store still works afterwards.
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// commitRefusals install, per dialect, a check that fails at COMMIT (not
// at the INSERT) whenever a profile is inserted.
var commitRefusals = map[string][]string{
	bunstore.DialectPostgres: {
		`CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN RAISE EXCEPTION 'refused at commit'; END $$`,
		`CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON profiles
		 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit()`,
	},
	bunstore.DialectSQLite: {
		`CREATE TABLE commit_parent (id TEXT PRIMARY KEY)`,
		`CREATE TABLE commit_child (parent_id TEXT REFERENCES commit_parent (id) DEFERRABLE INITIALLY DEFERRED)`,
		`CREATE TRIGGER refuse_commit AFTER INSERT ON profiles
		 BEGIN INSERT INTO commit_child (parent_id) VALUES ('missing'); END`,
	},
}

func TestFailedCommitIsReturnedAndWritesNothing(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		for _, q := range commitRefusals[s.Dialect()] {
			if _, err := bunstore.RawDB(s).ExecContext(t.Context(), q); err != nil {
				t.Fatalf("install commit refusal: %v", err)
			}
		}
		a := newAccount(t)
		err := s.CreateAccount(t.Context(), a)
		if err == nil {
			t.Fatal("CreateAccount succeeded although its COMMIT fails")
		}
		if !strings.Contains(err.Error(), "commit") {
			t.Errorf("error %q does not say the commit failed", err)
		}
		if _, err := s.ProfileByID(t.Context(), a.Profile.ID); !core.IsKind(err, core.KindNotFound) {
			t.Fatalf("ProfileByID after a failed commit: %v, want not found", err)
		}
		// The connection is usable again (SQLite keeps a transaction open
		// after a failed COMMIT unless the driver rolls it back).
		if err := s.CreatePlan(t.Context(), core.Plan{ID: "plan_after", Line: core.LineDrive, Status: core.PlanActive}); err != nil {
			t.Fatalf("CreatePlan after a failed commit: %v", err)
		}
	})
}

func TestRotateAPIKey_concurrent_rotations_all_succeed(t *testing.T) {
	t.Parallel()
	// Stricter than the contract suite, which lets a losing rotation fail
	// with a conflict: here the profile row lock serialises them.
	forEachDialect(t, func(t *testing.T, s *bunstore.Store) {
		p := createProfile(t, s)
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				k := core.APIKey{
					ID: fmt.Sprintf("key_%02d", i), ProfileID: p.ID, Line: core.LineClientGallery,
					Digest: core.Digest(fmt.Sprintf("%s-%d", p.ID, i)), CreatedAt: time.Now(),
				}
				errs[i] = s.RotateAPIKey(t.Context(), k, time.Now())
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent rotations failed: %v", err)
		}
		keys, err := s.ActiveAPIKeys(t.Context(), p.ID)
		if err != nil || len(keys) != 1 {
			t.Fatalf("ActiveAPIKeys = %d keys, %v; want exactly 1", len(keys), err)
		}
	})
}
