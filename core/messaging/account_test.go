package messaging_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
)

func TestAccount(t *testing.T) {
	t.Parallel()

	t.Run("session_only", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		_, err := f.svc.Account(f.ctx, u.key)
		wantKind(t, err, core.KindForbidden, "")
	})

	t.Run("without_a_subscription_shows_zeros_and_grants_nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		a, err := f.svc.Account(f.ctx, u.session)
		require.NoError(t, err)
		require.Equal(t, messaging.Account{}, a)
	})

	t.Run("the_plans_monthly_credits_are_granted_once_a_month", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		f.subscribe(t, u, "plan_messaging_free", core.StatusActive) // 100 a month
		for range 3 {
			a, err := f.svc.Account(f.ctx, u.session)
			require.NoError(t, err)
			require.EqualValues(t, 100, a.Credits)
		}
		f.clock.Advance(31 * 24 * time.Hour)
		a, err := f.svc.Account(f.ctx, u.session)
		require.NoError(t, err)
		require.EqualValues(t, 200, a.Credits, "unused credits carry over")
		entries, err := f.store.CreditEntries(f.ctx, u.profileID, 10)
		require.NoError(t, err)
		require.Len(t, entries, 2)
		require.Equal(t, messaging.MonthlyGrantKey("plan_messaging_free", start), entries[0].Key)
		require.Equal(t, core.CreditMonthlyGrant, entries[0].Reason)
	})

	t.Run("an_unpaid_paid_plan_grants_nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		f.subscribe(t, u, "plan_messaging_growth_monthly", core.StatusIncomplete)
		a, err := f.svc.Account(f.ctx, u.session)
		require.NoError(t, err)
		require.Zero(t, a.Credits)
	})

	t.Run("counts_inbound_and_outbound_and_shows_the_masked_key", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 5)
		for range 2 {
			_, err := f.svc.Chat(f.ctx, u.key, messaging.ChatInput{ConversationRef: "r", Messages: userMsg("hello")})
			require.NoError(t, err)
		}
		raw, err := f.svc.RotateKey(f.ctx, u.session)
		require.NoError(t, err)
		a, err := f.svc.Account(f.ctx, u.session)
		require.NoError(t, err)
		require.Equal(t, messaging.Account{
			Credits: 3, InboundCount: 2, OutboundCount: 2, HasAPIKey: true, MaskedAPIKey: core.KeyDisplayPrefix(raw) + "…",
		}, a)
		require.True(t, strings.HasPrefix(a.MaskedAPIKey, "msg_"))
	})
}

func TestRotateKey(t *testing.T) {
	t.Parallel()

	t.Run("needs_an_eligible_messaging_plan", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u := f.register(t)
		_, err := f.svc.RotateKey(f.ctx, u.session)
		wantKind(t, err, core.KindPaymentRequired, "subscription_required")
		f.subscribe(t, u, "plan_messaging_growth_monthly", core.StatusIncomplete)
		_, err = f.svc.RotateKey(f.ctx, u.session)
		wantKind(t, err, core.KindPaymentRequired, "subscription_required")
		f.subscribe(t, u, "plan_messaging_growth_monthly", core.StatusPastDue)
		_, err = f.svc.RotateKey(f.ctx, u.session)
		require.NoError(t, err)
	})

	t.Run("session_only", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		_, err := f.svc.RotateKey(f.ctx, u.key)
		wantKind(t, err, core.KindForbidden, "")
	})

	t.Run("shows_the_full_key_once_and_revokes_the_old_one", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		u, _ := f.merchant(t, 0)
		first, err := f.svc.RotateKey(f.ctx, u.session)
		require.NoError(t, err)
		line, ok := core.ParseAPIKey(first)
		require.True(t, ok)
		require.Equal(t, core.LineMessaging, line)
		k, err := f.store.APIKeyByDigest(f.ctx, core.Digest(first))
		require.NoError(t, err)
		require.Equal(t, u.profileID, k.ProfileID)

		second, err := f.svc.RotateKey(f.ctx, u.session)
		require.NoError(t, err)
		require.NotEqual(t, first, second)
		_, err = f.store.APIKeyByDigest(f.ctx, core.Digest(first))
		wantKind(t, err, core.KindNotFound, "")
		_, err = f.store.APIKeyByDigest(f.ctx, core.Digest(second))
		require.NoError(t, err)
		// The other lines' keys are untouched.
		keys, err := f.store.ActiveAPIKeys(f.ctx, u.profileID)
		require.NoError(t, err)
		lines := map[core.ProductLine]int{}
		for _, k := range keys {
			lines[k.Line]++
		}
		require.Equal(t, map[core.ProductLine]int{core.LineClientGallery: 1, core.LineDrive: 1, core.LineMessaging: 1}, lines)
	})
}
