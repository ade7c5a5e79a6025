package core_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

func TestRedirectURIMustNotCarryCodeOrState(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"https://partner.example/cb?code=1",
		"https://partner.example/cb?x=1&state=abc",
		"https://partner.example/cb?state",
	} {
		err := core.CheckRedirectURI("redirectUris", u)
		require.True(t, core.IsKind(err, core.KindInvalid), u)
	}
	require.NoError(t, core.CheckRedirectURI("redirectUris", "https://partner.example/cb?tenant=42&codec=x"))
}
