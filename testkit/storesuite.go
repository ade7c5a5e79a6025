package testkit

import (
	"context"
	"crypto/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// StoreUnderTest is what RunStoreSuite exercises: a store of accounts and
// of the plan catalog. testkit.Store and the SQL stores implement it.
type StoreUnderTest interface {
	ports.AccountStore
	ports.PlanStore
}

// RunStoreSuite is the contract of ports.AccountStore and ports.PlanStore:
// every adapter of those ports must pass it. open is called once per
// sub-test and must return an empty store, independent of every other one
// it returns (a fresh schema, file or memory store), released in
// t.Cleanup. Sub-tests run in parallel.
//
// The suite follows the ports' doc comments. Beyond them it checks that
// time fields round-trip to the microsecond (compared with Equal, so the
// store may return another location), that a nil and an empty Features
// slice are interchangeable, and that a subscription to an unknown plan is
// refused with core.KindInvalid, as testkit.Store does. SetSubscription is
// checked to take every field but the id from its argument, CreatedAt
// included. RotateAPIKey/leaves_link_keys_alone needs connect links: it
// skips, saying so, a store that is not also a PartnerStoreUnderTest.
func RunStoreSuite(t *testing.T, open func(t *testing.T) StoreUnderTest) {
	t.Helper()
	runSuite(t, slices.Concat(accountCases, planCases), func(t *testing.T) *storeFixture { return newStoreFixture(t, open(t)) })
}

// storeCase is one sub-test of RunStoreSuite: method/name.
type storeCase = suiteCase[*storeFixture]

// storeSuiteTime is when the suite's fixtures happen: nanoseconds and a
// non-UTC zone, so the round-trip checks mean something.
var storeSuiteTime = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("UTC+05:30", 5*3600+1800))

// storeFixture builds valid, unique entities for one sub-test's store.
type storeFixture struct {
	t     *testing.T
	s     StoreUnderTest
	ctx   context.Context
	now   time.Time
	plans map[core.ProductLine]core.Plan // created on first use by f.account
}

func newStoreFixture(t *testing.T, s StoreUnderTest) *storeFixture {
	return &storeFixture{t: t, s: s, ctx: t.Context(), now: storeSuiteTime}
}

// id returns a fresh id with prefix.
func (f *storeFixture) id(prefix string) string {
	f.t.Helper()
	id, err := core.NewID(prefix, f.now, rand.Reader)
	if err != nil {
		f.t.Fatalf("new id: %v", err)
	}
	return id
}

// plan returns an active, complete plan of line with a fresh id; it is not
// stored.
func (f *storeFixture) plan(line core.ProductLine) core.Plan {
	f.t.Helper()
	return core.Plan{
		ID:                   f.id("plan"),
		Line:                 line,
		Name:                 "Plan " + string(line),
		Description:          "A plan for \"" + string(line) + "\" — with quotes, an apostrophe ' and ünïcødé",
		Features:             []string{"10 GB storage", "Priority support", `JSON "quotes" \ and, commas`},
		StorageLimitBytes:    10 << 30,
		MonthlyCredits:       1500,
		PriceMinor:           1299,
		Currency:             "usd",
		BillingPeriod:        core.PeriodMonthly,
		ClientGalleryEnabled: line == core.LineClientGallery,
		StripePriceID:        "price_" + f.id("stripe"),
		Status:               core.PlanActive,
		SortOrder:            3,
		CreatedAt:            f.now,
		UpdatedAt:            f.now.Add(90 * time.Minute),
	}
}

// createPlan stores p with CreatePlan.
func (f *storeFixture) createPlan(p core.Plan) core.Plan {
	f.t.Helper()
	if err := f.s.CreatePlan(f.ctx, p); err != nil {
		f.t.Fatalf("CreatePlan(%s): %v", p.ID, err)
	}
	return p
}

// defaultPlans creates, once, one plan per line for accounts to use.
func (f *storeFixture) defaultPlans() map[core.ProductLine]core.Plan {
	f.t.Helper()
	if f.plans == nil {
		f.plans = map[core.ProductLine]core.Plan{}
		for _, line := range core.ProductLines {
			f.plans[line] = f.createPlan(f.plan(line))
		}
	}
	return f.plans
}

// key returns a fresh active API key of line for profileID; it is not
// stored.
func (f *storeFixture) key(profileID string, line core.ProductLine) core.APIKey {
	f.t.Helper()
	raw, err := core.NewAPIKeySecret(line, rand.Reader)
	if err != nil {
		f.t.Fatalf("new api key: %v", err)
	}
	return core.APIKey{
		ID:            f.id("key"),
		ProfileID:     profileID,
		Line:          line,
		Digest:        core.Digest(raw),
		DisplayPrefix: core.KeyDisplayPrefix(raw),
		CreatedAt:     f.now.Add(time.Second),
	}
}

// email returns a unique address with upper-case letters.
func (f *storeFixture) email() string {
	f.t.Helper()
	return "Ann." + strings.TrimPrefix(f.id("x"), "x_") + "@Example.COM"
}

// account returns a complete account for email (its normalized form is
// lower-cased), not stored: a subscription and an active key for every
// line, the messaging subscription paid with a CurrentPeriodEnd, the
// others free without one.
func (f *storeFixture) account(email string) core.Account {
	f.t.Helper()
	plans := f.defaultPlans()
	pid := f.id("prf")
	a := core.Account{
		Profile: core.Profile{
			ID:              pid,
			Email:           email,
			EmailNormalized: strings.ToLower(email),
			PasswordHash:    "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA",
			DisplayName:     "Ann O'Neil",
			AccountKind:     core.AccountStudio,
			CreatedAt:       f.now,
			UpdatedAt:       f.now.Add(time.Millisecond),
		},
		Studio: core.Studio{ID: f.id("std"), ProfileID: pid, CreatedAt: f.now},
		Drive:  core.Drive{ID: f.id("drv"), ProfileID: pid, CreatedAt: f.now.Add(time.Microsecond)},
	}
	for _, line := range core.ProductLines {
		sub := core.Subscription{
			ID:        f.id("sub"),
			ProfileID: pid,
			Line:      line,
			PlanID:    plans[line].ID,
			Status:    core.StatusActive,
			CreatedAt: f.now,
			UpdatedAt: f.now.Add(time.Hour),
		}
		if line == core.LineMessaging {
			end := f.now.AddDate(0, 1, 0).Add(123 * time.Nanosecond)
			sub.Status = core.StatusPastDue
			sub.StripeCustomerID = "cus_" + f.id("c")
			sub.StripeSubscriptionID = "sub_" + f.id("s")
			sub.CurrentPeriodEnd = &end
		}
		a.Subscriptions = append(a.Subscriptions, sub)
		a.Keys = append(a.Keys, f.key(pid, line))
	}
	return a
}

// createAccount stores a fresh account and returns it.
func (f *storeFixture) createAccount() core.Account {
	f.t.Helper()
	a := f.account(f.email())
	if err := f.s.CreateAccount(f.ctx, a); err != nil {
		f.t.Fatalf("CreateAccount: %v", err)
	}
	return a
}

// storeWantKind fails the test unless err is of kind and, when code is not
// empty, carries code.
func storeWantKind(t *testing.T, err error, kind core.Kind, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want kind %s", kind)
	}
	if got := core.ErrorKind(err); got != kind {
		t.Fatalf("got kind %s (%v), want %s", got, err, kind)
	}
	if code == "" {
		return
	}
	if e, _ := core.AsError(err); e.Code != code {
		t.Fatalf("got code %q (%v), want %q", e.Code, err, code)
	}
}

// storeWantNoErr fails the test when err is not nil.
func storeWantNoErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// storeWantEqual compares got and want after normalize (time fields to UTC
// microseconds, empty slices to nil).
func storeWantEqual[T any](t *testing.T, what string, got, want T, normalize func(T) T) {
	t.Helper()
	if g, w := normalize(got), normalize(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, g, w)
	}
}

func storeNormTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func storeNormTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := storeNormTime(*t)
	return &n
}

func storeNormProfile(p core.Profile) core.Profile {
	p.CreatedAt, p.UpdatedAt = storeNormTime(p.CreatedAt), storeNormTime(p.UpdatedAt)
	return p
}

func storeNormStudio(s core.Studio) core.Studio { s.CreatedAt = storeNormTime(s.CreatedAt); return s }

func storeNormDrive(d core.Drive) core.Drive { d.CreatedAt = storeNormTime(d.CreatedAt); return d }

func storeNormKey(k core.APIKey) core.APIKey {
	k.CreatedAt, k.RevokedAt = storeNormTime(k.CreatedAt), storeNormTimePtr(k.RevokedAt)
	return k
}

// storeNormKeys also sorts by id: the ports promise no order.
func storeNormKeys(ks []core.APIKey) []core.APIKey {
	if len(ks) == 0 {
		return nil
	}
	out := make([]core.APIKey, len(ks))
	for i, k := range ks {
		out[i] = storeNormKey(k)
	}
	slices.SortFunc(out, func(a, b core.APIKey) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func storeNormSub(s core.Subscription) core.Subscription {
	s.CurrentPeriodEnd = storeNormTimePtr(s.CurrentPeriodEnd)
	s.CreatedAt, s.UpdatedAt = storeNormTime(s.CreatedAt), storeNormTime(s.UpdatedAt)
	return s
}

// storeNormSubs also sorts by line: the ports promise no order.
func storeNormSubs(ss []core.Subscription) []core.Subscription {
	if len(ss) == 0 {
		return nil
	}
	out := make([]core.Subscription, len(ss))
	for i, s := range ss {
		out[i] = storeNormSub(s)
	}
	slices.SortFunc(out, func(a, b core.Subscription) int { return strings.Compare(string(a.Line), string(b.Line)) })
	return out
}

func storeNormPlan(p core.Plan) core.Plan {
	if len(p.Features) == 0 {
		p.Features = nil
	}
	p.CreatedAt, p.UpdatedAt = storeNormTime(p.CreatedAt), storeNormTime(p.UpdatedAt)
	return p
}

// storePlanIDs returns the ids of ps, in order.
func storePlanIDs(ps []core.Plan) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}
