package testkit_test

import (
	"testing"

	"github.com/gellhub/gellhub/testkit"
)

func TestPartnerStore(t *testing.T) {
	t.Parallel()
	testkit.RunPartnerStoreSuite(t, func(*testing.T) testkit.PartnerStoreUnderTest { return testkit.NewStore() })
}
