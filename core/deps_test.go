package core_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// forbiddenDeps are the import paths that must never reach core or ports:
// frameworks, drivers and SDKs belong to adapters and apps. A dependency
// matches when it equals an entry or lies under it ("net/http/httptest").
var forbiddenDeps = []string{
	"github.com/gofiber",
	"github.com/uptrace/bun",
	"github.com/redis/go-redis",
	"github.com/go-redis",
	"github.com/aws/aws-sdk-go",
	"github.com/aws/aws-sdk-go-v2",
	"github.com/stripe/stripe-go",
	"github.com/riverqueue",
	"github.com/jackc/pgx",
	"modernc.org/sqlite",
	"database/sql",
	"net/http",
}

// ownForbidden are the module's own folders that core and ports must not
// import: the hexagon's inside knows nothing of its outside.
var ownForbidden = []string{"adapters", "apps", "testkit"}

// TestDependencyRule keeps core and ports free of adapters, apps, test
// helpers and infrastructure libraries: they import the standard library
// (minus database/sql and net/http) and each other only.
func TestDependencyRule(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("SKIP dependency rule: it runs `go list -deps`, which -short leaves out (never skipped in CI)")
	}
	t.Parallel()

	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the dependency rule needs the go command on PATH")
	root, module := moduleRoot(t, goBin)

	// One line per dependency: its path, then the paths it imports.
	cmd := exec.Command(goBin, "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./core/...", "./ports/...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list -deps failed: %s", stderr.String())

	importers := map[string][]string{} // dependency → packages that import it
	var deps []string
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		deps = append(deps, f[0])
		for _, imp := range f[1:] {
			importers[imp] = append(importers[imp], f[0])
		}
	}
	require.Contains(t, deps, module+"/core", "go list must list core itself")

	// Report where the graph enters forbidden ground: a forbidden package
	// imported by an allowed one (not net/http's own internals).
	var bad []string
	for _, dep := range deps {
		reason := forbidden(dep, module)
		if reason == "" {
			continue
		}
		var by []string
		for _, imp := range importers[dep] {
			if forbidden(imp, module) == "" {
				by = append(by, imp)
			}
		}
		if len(by) > 0 {
			bad = append(bad, fmt.Sprintf("%s (%s) imported by %s", dep, reason, strings.Join(by, ", ")))
		}
	}
	if len(bad) > 0 {
		t.Fatalf("core and ports must import only the standard library (minus database/sql and net/http) and each other:\n\t%s",
			strings.Join(bad, "\n\t"))
	}
}

// forbidden says why dep may not be a dependency of core or ports, or "".
func forbidden(dep, module string) string {
	for _, f := range forbiddenDeps {
		if dep == f || strings.HasPrefix(dep, f+"/") {
			return "matches " + f
		}
	}
	for _, dir := range ownForbidden {
		p := module + "/" + dir
		if dep == p || strings.HasPrefix(dep, p+"/") {
			return "the module's own /" + dir + "/"
		}
	}
	return ""
}

// moduleRoot returns the directory of the main module's go.mod and the
// module path, as the go command reports them from the test's directory.
func moduleRoot(t *testing.T, goBin string) (dir, module string) {
	t.Helper()
	out, err := exec.Command(goBin, "env", "GOMOD").Output()
	require.NoError(t, err, "go env GOMOD")
	gomod := strings.TrimSpace(string(out))
	require.NotEmpty(t, gomod, "not inside a module")
	require.NotEqual(t, "/dev/null", gomod, "not inside a module")

	out, err = exec.Command(goBin, "list", "-m").Output()
	require.NoError(t, err, "go list -m")
	return filepath.Dir(gomod), strings.TrimSpace(string(out))
}

func TestForbiddenMatcher(t *testing.T) {
	t.Parallel()

	const mod = "github.com/gellhub/gellhub"
	tests := []struct {
		dep  string
		want bool
	}{
		{"net/http", true},
		{"net/http/httptest", true},
		{"net/url", false},
		{"net/mail", false},
		{"database/sql", true},
		{"database/sql/driver", true},
		{"github.com/gofiber/fiber/v2", true},
		{"github.com/uptrace/bun/dialect/pgdialect", true},
		{"github.com/redis/go-redis/v9", true},
		{"github.com/go-redis/redis_rate/v10", true},
		{"github.com/aws/aws-sdk-go-v2/service/s3", true},
		{"github.com/stripe/stripe-go/v82", true},
		{"github.com/riverqueue/river", true},
		{"github.com/jackc/pgx/v5", true},
		{"modernc.org/sqlite", true},
		{mod + "/adapters/argon2id", true},
		{mod + "/apps/api", true},
		{mod + "/testkit", true},
		{mod + "/core", false},
		{mod + "/core/accounts", false},
		{mod + "/ports", false},
		{"golang.org/x/crypto/argon2", false},
	}
	for _, tt := range tests {
		t.Run(tt.dep, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, forbidden(tt.dep, mod) != "")
		})
	}
}
