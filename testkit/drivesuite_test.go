package testkit_test

import (
	"testing"

	"github.com/gellhub/gellhub/testkit"
)

func TestDriveStore(t *testing.T) {
	t.Parallel()
	testkit.RunDriveStoreSuite(t, func(*testing.T) testkit.DriveStoreUnderTest { return testkit.NewStore() })
}
