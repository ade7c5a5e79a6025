package testkit_test

import (
	"testing"

	"github.com/gellhub/gellhub/testkit"
)

func TestBillingStore(t *testing.T) {
	t.Parallel()
	testkit.RunBillingStoreSuite(t, func(*testing.T) testkit.BillingStoreUnderTest { return testkit.NewStore() })
}
