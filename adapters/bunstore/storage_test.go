package bunstore_test

import (
	"testing"

	"github.com/gellhub/gellhub/testkit"
)

func TestStorageStoreSuite(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			testkit.RunStorageStoreSuite(t, func(t *testing.T) testkit.StorageStoreUnderTest { return d.open(t) })
		})
	}
}
