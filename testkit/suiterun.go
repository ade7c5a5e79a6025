package testkit

import (
	"slices"
	"testing"
)

// suiteCase is one sub-test of a contract suite: method/name, run on a
// fresh fixture of type F.
type suiteCase[F any] struct {
	method string
	name   string
	test   func(t *testing.T, f F)
}

// runSuite groups cases by method (in order of first appearance) and runs
// each case in parallel on its own fixture.
func runSuite[F any](t *testing.T, cases []suiteCase[F], fixture func(t *testing.T) F) {
	t.Helper()
	var methods []string
	for _, c := range cases {
		if !slices.Contains(methods, c.method) {
			methods = append(methods, c.method)
		}
	}
	for _, m := range methods {
		t.Run(m, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				if c.method != m {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.test(t, fixture(t))
				})
			}
		})
	}
}
