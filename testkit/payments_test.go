package testkit_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

var paymentsEpoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func paymentsParams() ports.CheckoutParams {
	return ports.CheckoutParams{
		ProfileID:  "prf_1",
		Email:      "buyer@example.com",
		Line:       core.LineClientGallery,
		Plan:       core.Plan{ID: "plan_pro", Line: core.LineClientGallery, PriceMinor: 1900, Currency: "usd"},
		SuccessURL: "https://gellhub.example/return?session_id={CHECKOUT_SESSION_ID}",
		CancelURL:  "https://gellhub.example/cancel",
		Reference:  "flow_1",
	}
}

func paymentsOpen(t *testing.T, p *testkit.Payments) core.CheckoutSession {
	t.Helper()
	cs, err := p.CreateCheckoutSession(context.Background(), paymentsParams())
	if err != nil {
		t.Fatalf("CreateCheckoutSession: %v", err)
	}
	return cs
}

func paymentsWantSession(t *testing.T, p *testkit.Payments, want core.CheckoutSession) {
	t.Helper()
	got, err := p.CheckoutSession(context.Background(), want.ID)
	if err != nil {
		t.Fatalf("CheckoutSession(%s): %v", want.ID, err)
	}
	if got != want {
		t.Fatalf("CheckoutSession(%s) = %+v, want %+v", want.ID, got, want)
	}
}

func TestPayments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("create_opens_an_unpaid_session", func(t *testing.T) {
		t.Parallel()
		p := testkit.NewPayments(testkit.NewClock(paymentsEpoch))
		cs := paymentsOpen(t, p)
		if !strings.HasPrefix(cs.ID, "cs_test_") || len(cs.ID) <= len("cs_test_") {
			t.Errorf("ID = %q, want cs_test_ and a random part", cs.ID)
		}
		want := core.CheckoutSession{
			ID:        cs.ID,
			URL:       "https://checkout.example/pay/" + cs.ID,
			Status:    core.CheckoutOpen,
			ProfileID: "prf_1",
			PlanID:    "plan_pro",
			Reference: "flow_1",
		}
		if cs != want {
			t.Fatalf("CreateCheckoutSession = %+v, want %+v", cs, want)
		}
		paymentsWantSession(t, p, want)
		params, err := p.Params(cs.ID)
		if err != nil {
			t.Fatalf("Params: %v", err)
		}
		if params.Email != "buyer@example.com" || params.Plan.ID != "plan_pro" || params.SuccessURL != paymentsParams().SuccessURL {
			t.Fatalf("Params = %+v, want what the session was created with", params)
		}
	})

	t.Run("ids_are_unique", func(t *testing.T) {
		t.Parallel()
		p := testkit.NewPayments(testkit.NewClock(paymentsEpoch))
		a, b := paymentsOpen(t, p), paymentsOpen(t, p)
		if a.ID == b.ID {
			t.Fatalf("two sessions share the id %s", a.ID)
		}
	})

	t.Run("unknown_session_is_not_found", func(t *testing.T) {
		t.Parallel()
		p := testkit.NewPayments(testkit.NewClock(paymentsEpoch))
		_, err := p.CheckoutSession(ctx, "cs_test_nope")
		paymentsWantKind(t, "CheckoutSession of an unknown id", err, core.KindNotFound)
		_, err = p.Params("cs_test_nope")
		paymentsWantKind(t, "Params of an unknown id", err, core.KindNotFound)
		paymentsWantKind(t, "Complete of an unknown id", p.Complete("cs_test_nope"), core.KindNotFound)
		paymentsWantKind(t, "Expire of an unknown id", p.Expire("cs_test_nope"), core.KindNotFound)
	})

	t.Run("complete_pays_the_session", func(t *testing.T) {
		t.Parallel()
		p := testkit.NewPayments(testkit.NewClock(paymentsEpoch))
		cs := paymentsOpen(t, p)
		if err := p.Complete(cs.ID); err != nil {
			t.Fatalf("Complete: %v", err)
		}
		got, err := p.CheckoutSession(ctx, cs.ID)
		if err != nil {
			t.Fatalf("CheckoutSession: %v", err)
		}
		if got.Status != core.CheckoutComplete || !got.Paid ||
			!strings.HasPrefix(got.CustomerID, "cus_test_") || !strings.HasPrefix(got.SubscriptionID, "sub_test_") {
			t.Fatalf("after Complete: %+v, want complete, paid, with cus_test_ and sub_test_ ids", got)
		}
		want := got
		want.Status, want.Paid, want.CustomerID, want.SubscriptionID = cs.Status, cs.Paid, "", ""
		if want != cs {
			t.Fatalf("Complete changed more than the payment: %+v, was %+v", got, cs)
		}
		err = p.Complete(cs.ID)
		paymentsWantKind(t, "second Complete", err, core.KindConflict)
		err = p.Expire(cs.ID)
		paymentsWantKind(t, "Expire of a complete session", err, core.KindConflict)
		paymentsWantSession(t, p, got)
	})

	t.Run("expire_closes_an_open_session", func(t *testing.T) {
		t.Parallel()
		p := testkit.NewPayments(testkit.NewClock(paymentsEpoch))
		cs := paymentsOpen(t, p)
		if err := p.Expire(cs.ID); err != nil {
			t.Fatalf("Expire: %v", err)
		}
		want := cs
		want.Status = core.CheckoutExpired
		paymentsWantSession(t, p, want)
		paymentsWantKind(t, "Complete of an expired session", p.Complete(cs.ID), core.KindConflict)
		paymentsWantSession(t, p, want)
	})

	t.Run("open_sessions_expire_after_their_lifetime", func(t *testing.T) {
		t.Parallel()
		clock := testkit.NewClock(paymentsEpoch)
		p := testkit.NewPayments(clock)
		open, paid := paymentsOpen(t, p), paymentsOpen(t, p)
		if err := p.Complete(paid.ID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(testkit.CheckoutLifetime - time.Nanosecond)
		paymentsWantSession(t, p, open)
		clock.Advance(time.Nanosecond)
		expired := open
		expired.Status = core.CheckoutExpired
		paymentsWantSession(t, p, expired)
		paymentsWantKind(t, "Complete after the lifetime", p.Complete(open.ID), core.KindConflict)
		if got, _ := p.CheckoutSession(ctx, paid.ID); got.Status != core.CheckoutComplete {
			t.Fatalf("a paid session after the lifetime: %+v, want it still complete", got)
		}
	})

	t.Run("sessions_lists_oldest_first", func(t *testing.T) {
		t.Parallel()
		p := testkit.NewPayments(testkit.NewClock(paymentsEpoch))
		if got := p.Sessions(); len(got) != 0 {
			t.Fatalf("Sessions of a new provider = %+v, want none", got)
		}
		a, b, c := paymentsOpen(t, p), paymentsOpen(t, p), paymentsOpen(t, p)
		if err := p.Complete(b.ID); err != nil {
			t.Fatal(err)
		}
		got := p.Sessions()
		if len(got) != 3 || got[0].ID != a.ID || got[1].ID != b.ID || got[2].ID != c.ID {
			t.Fatalf("Sessions = %+v, want %s, %s, %s", got, a.ID, b.ID, c.ID)
		}
		if !got[1].Paid {
			t.Fatalf("Sessions shows the completed session as %+v", got[1])
		}
	})

	t.Run("fail_is_returned_and_nothing_recorded", func(t *testing.T) {
		t.Parallel()
		p := testkit.NewPayments(testkit.NewClock(paymentsEpoch))
		down := core.Unavailable("payments", errors.New("stripe is down"))
		p.Fail = down
		if cs, err := p.CreateCheckoutSession(ctx, paymentsParams()); !errors.Is(err, down) {
			t.Fatalf("CreateCheckoutSession with Fail set = %+v, %v; want %v", cs, err, down)
		}
		if got := p.Sessions(); len(got) != 0 {
			t.Fatalf("Sessions after a failed create = %+v, want none", got)
		}
		p.Fail = nil
		paymentsOpen(t, p)
	})

	t.Run("concurrent_use_is_safe", func(t *testing.T) {
		t.Parallel()
		p := testkit.NewPayments(testkit.NewClock(paymentsEpoch))
		const workers = 20
		var wg sync.WaitGroup
		errs := make(chan error, 3*workers)
		for range workers {
			wg.Go(func() {
				cs, err := p.CreateCheckoutSession(ctx, paymentsParams())
				if err != nil {
					errs <- err
					return
				}
				if err := p.Complete(cs.ID); err != nil {
					errs <- err
				}
				if _, err := p.CheckoutSession(ctx, cs.ID); err != nil {
					errs <- err
				}
				_ = p.Sessions()
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		got := p.Sessions()
		ids := map[string]bool{}
		for _, cs := range got {
			if !cs.Paid {
				t.Errorf("session %s not paid", cs.ID)
			}
			ids[cs.ID] = true
		}
		if len(got) != workers || len(ids) != workers {
			t.Fatalf("%d sessions (%d distinct ids) after %d concurrent creates, want %d", len(got), len(ids), workers, workers)
		}
	})
}

func paymentsWantKind(t *testing.T, what string, err error, k core.Kind) {
	t.Helper()
	if !core.IsKind(err, k) {
		t.Fatalf("%s: %v (kind %s), want kind %s", what, err, core.ErrorKind(err), k)
	}
}
