package testkit_test

import (
	"testing"

	"github.com/gellhub/gellhub/testkit"
)

func TestStore(t *testing.T) {
	t.Parallel()
	testkit.RunStoreSuite(t, func(*testing.T) testkit.StoreUnderTest { return testkit.NewStore() })
}
