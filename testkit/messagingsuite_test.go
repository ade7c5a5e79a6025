package testkit_test

import (
	"testing"

	"github.com/gellhub/gellhub/testkit"
)

func TestMessagingStore(t *testing.T) {
	t.Parallel()
	testkit.RunMessagingStoreSuite(t, func(*testing.T) testkit.MessagingStoreUnderTest { return testkit.NewStore() })
}
