package bunstore_test

import (
	"testing"

	"github.com/gellhub/gellhub/testkit"
)

func TestBillingStoreSuite(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			testkit.RunBillingStoreSuite(t, func(t *testing.T) testkit.BillingStoreUnderTest { return d.open(t) })
		})
	}
}
