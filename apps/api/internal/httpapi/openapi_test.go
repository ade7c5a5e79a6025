package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gellhub/gellhub/ports"
)

// The OpenAPI document (docs/openapi.yaml) must describe exactly the routes
// New registers: these tests fail when a route is added, removed or renamed
// on one side only, and when the document is not well formed enough for
// partners' generators (operations without a summary or without success and
// error responses, dangling $refs).

// openAPIMethods are the OpenAPI path item keys that are operations.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIFiberParam matches a Fiber path parameter (":id", ":id?").
var openAPIFiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)\??`)

// openAPITemplateParam matches an OpenAPI path template parameter ("{id}").
var openAPITemplateParam = regexp.MustCompile(`\{([^}/]+)\}`)

// openAPILocalUploads stands in for the embedded default's local object
// storage, so that New also registers PUT /api/blob/upload.
type openAPILocalUploads struct{}

func (openAPILocalUploads) AcceptUpload(context.Context, string, int64, string, io.Reader) (ports.BlobInfo, error) {
	return ports.BlobInfo{}, nil
}

// openAPIServedOperations lists the "METHOD /path" of every route New registers,
// in OpenAPI's path template syntax, without the HEAD routes Fiber adds for
// each GET and without middleware. The app is the embedded default's (with
// LocalUploads), which serves every route an S3 deployment does and more.
func openAPIServedOperations(t *testing.T) map[string]bool {
	t.Helper()
	app := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), BodyLimit: 1 << 20, LocalUploads: openAPILocalUploads{}})
	out := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "USE" {
			continue
		}
		out[r.Method+" "+openAPIFiberParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	if len(out) == 0 {
		t.Fatal("the app serves no routes: GetRoutes found nothing")
	}
	return out
}

// openAPIDoc is docs/openapi.yaml decoded into plain maps, slices and
// scalars, with every mapping key a string.
type openAPIDoc struct {
	path string
	root map[string]any
}

// loadOpenAPI finds docs/openapi.yaml at the module root (the first
// directory above the test's own that holds go.mod) and decodes it.
func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory: cannot locate docs/openapi.yaml")
		}
		dir = parent
	}
	path := filepath.Join(dir, "docs", "openapi.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the OpenAPI document: %v", err)
	}
	var v any
	if err := yaml.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s is not valid YAML: %v", path, err)
	}
	root, ok := openAPINormalizeYAML(v).(map[string]any)
	if !ok {
		t.Fatalf("%s: the top level is not a mapping", path)
	}
	if s, _ := root["openapi"].(string); !strings.HasPrefix(s, "3.1") {
		t.Errorf("%s: openapi is %q, want 3.1.x", path, root["openapi"])
	}
	return openAPIDoc{path: path, root: root}
}

// openAPINormalizeYAML turns every mapping into map[string]any, whatever the type
// of its keys (response codes such as 200 decode as ints when unquoted).
func openAPINormalizeYAML(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = openAPINormalizeYAML(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = openAPINormalizeYAML(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = openAPINormalizeYAML(e)
		}
		return x
	default:
		return v
	}
}

// openAPIOperation is one documented operation.
type openAPIOperation struct {
	key  string // "METHOD /path"
	path string
	op   map[string]any
	item map[string]any // its path item, for path-level parameters
}

// operations lists the document's operations.
func (d openAPIDoc) operations(t *testing.T) []openAPIOperation {
	t.Helper()
	paths, ok := d.root["paths"].(map[string]any)
	if !ok {
		t.Fatalf("%s: no paths mapping", d.path)
	}
	var out []openAPIOperation
	for p, v := range paths {
		item, ok := v.(map[string]any)
		if !ok {
			t.Errorf("paths[%q] is not a mapping", p)
			continue
		}
		for _, m := range openAPIMethods {
			ov, found := item[m]
			if !found {
				continue
			}
			op, ok := ov.(map[string]any)
			if !ok {
				t.Errorf("%s %s: the operation is not a mapping", strings.ToUpper(m), p)
				continue
			}
			out = append(out, openAPIOperation{key: strings.ToUpper(m) + " " + p, path: p, op: op, item: item})
		}
	}
	slices.SortFunc(out, func(a, b openAPIOperation) int { return strings.Compare(a.key, b.key) })
	return out
}

// resolve follows a local JSON pointer ("#/components/schemas/Error").
func (d openAPIDoc) resolve(ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("only local references (#/…) are allowed")
	}
	var cur any = d.root
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q is not inside a mapping", tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("no %q", tok)
		}
	}
	return cur, nil
}

// deref resolves v while it is a {$ref: …} object; unresolvable refs are
// left as they are (TestOpenAPIRefsResolve reports them).
func (d openAPIDoc) deref(v any) any {
	for range 32 {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v
		}
		next, err := d.resolve(ref)
		if err != nil {
			return v
		}
		v = next
	}
	return v
}

func openAPISortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestOpenAPIDocumentsServedRoutes(t *testing.T) {
	served := openAPIServedOperations(t)
	doc := loadOpenAPI(t)
	documented := map[string]bool{}
	for _, o := range doc.operations(t) {
		documented[o.key] = true
	}
	var undocumented, unserved []string
	for _, k := range openAPISortedKeys(served) {
		if !documented[k] {
			undocumented = append(undocumented, k)
		}
	}
	for _, k := range openAPISortedKeys(documented) {
		if !served[k] {
			unserved = append(unserved, k)
		}
	}
	if len(undocumented) > 0 {
		t.Errorf("served by New but missing from %s:\n  %s", doc.path, strings.Join(undocumented, "\n  "))
	}
	if len(unserved) > 0 {
		t.Errorf("documented in %s but not served by New:\n  %s", doc.path, strings.Join(unserved, "\n  "))
	}
}

func TestOpenAPIOperationsWellFormed(t *testing.T) {
	doc := loadOpenAPI(t)
	schemes, _ := doc.deref(doc.root["components"]).(map[string]any)
	schemes, _ = schemes["securitySchemes"].(map[string]any)
	for _, o := range doc.operations(t) {
		if s, _ := o.op["summary"].(string); strings.TrimSpace(s) == "" {
			t.Errorf("%s: no summary", o.key)
		}
		responses, ok := o.op["responses"].(map[string]any)
		if !ok || len(responses) == 0 {
			t.Errorf("%s: no responses", o.key)
			continue
		}
		var has2xx, has4xx bool
		for code := range responses {
			// A redirect route's success is its 302.
			has2xx = has2xx || strings.HasPrefix(code, "2") || code == "302" || code == "303"
			has4xx = has4xx || strings.HasPrefix(code, "4")
		}
		if !has2xx {
			t.Errorf("%s: no 2xx (or redirect) response", o.key)
		}
		if !has4xx {
			t.Errorf("%s: no 4xx response", o.key)
		}

		// Every {param} of the path template is declared as a path parameter.
		declared := map[string]bool{}
		for _, src := range []any{o.item["parameters"], o.op["parameters"]} {
			list, _ := src.([]any)
			for _, p := range list {
				pm, _ := doc.deref(p).(map[string]any)
				if pm["in"] == "path" {
					name, _ := pm["name"].(string)
					declared[name] = true
				}
			}
		}
		for _, m := range openAPITemplateParam.FindAllStringSubmatch(o.path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %q is not declared", o.key, m[1])
			}
		}

		// Security requirements name declared schemes.
		reqs, _ := o.op["security"].([]any)
		for _, r := range reqs {
			rm, _ := r.(map[string]any)
			for name := range rm {
				if _, ok := schemes[name]; !ok {
					t.Errorf("%s: security scheme %q is not in components.securitySchemes", o.key, name)
				}
			}
		}
	}
}

func TestOpenAPIRefsResolve(t *testing.T) {
	doc := loadOpenAPI(t)
	count := 0
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "$ref" {
					count++
					ref, ok := e.(string)
					if !ok {
						t.Errorf("%s: $ref is not a string", where)
						continue
					}
					if _, err := doc.resolve(ref); err != nil {
						t.Errorf("%s: $ref %q does not resolve: %v", where, ref, err)
					}
					continue
				}
				walk(where+"/"+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s/%d", where, i), e)
			}
		}
	}
	walk("#", doc.root)
	if count == 0 {
		t.Errorf("%s has no $ref at all: the shared Error schema is not referenced", doc.path)
	}
}
