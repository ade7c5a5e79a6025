package testkit_test

import (
	"testing"

	"github.com/gellhub/gellhub/testkit"
)

func TestMessagingStore(t *testing.T) {
	t.Parallel()
	testkit.RunMessagingStoreSuite(t, func(*testing.T) testkit.MessagingStoreUnderTest { return testkit.NewStore() })
}

func TestWebhookStore(t *testing.T) {
	t.Parallel()
	testkit.RunWebhookStoreSuite(t, func(_ *testing.T, enq *testkit.EnqueueRecorder) testkit.WebhookSuiteStore {
		s := testkit.NewStore()
		s.SetEnqueuer(enq.Enqueue)
		return testkit.WebhookSuiteStore{WebhookStoreUnderTest: s}
	})
}
