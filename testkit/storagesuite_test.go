package testkit_test

import (
	"testing"

	"github.com/gellhub/gellhub/testkit"
)

func TestStorageStore(t *testing.T) {
	t.Parallel()
	testkit.RunStorageStoreSuite(t, func(*testing.T) testkit.StorageStoreUnderTest { return testkit.NewStore() })
}
