package testkit_test

import (
	"testing"

	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

func TestMemStoreSessions(t *testing.T) {
	t.Parallel()
	testkit.RunSessionStoreSuite(t, func(t *testing.T) ports.SessionStore { return testkit.NewStore() })
}
