package core

import "time"

// BillingPeriod is how often a plan is billed.
type BillingPeriod string

// The billing periods.
const (
	PeriodMonthly BillingPeriod = "monthly"
	PeriodAnnual  BillingPeriod = "annual"
)

// PlanStatus says whether a plan can still be chosen.
type PlanStatus string

// The plan statuses. An archived plan is hidden from the public catalog and
// cannot be chosen, but keeps serving the subscriptions that use it.
const (
	PlanActive   PlanStatus = "active"
	PlanArchived PlanStatus = "archived"
)

// Plan is a published package of one product line.
type Plan struct {
	ID                   string
	Line                 ProductLine // the guide's planType
	Name                 string
	Description          string
	Features             []string
	StorageLimitBytes    int64
	MonthlyCredits       int64 // messaging plans: AI credits granted each month
	PriceMinor           int64 // in the currency's minor unit (cents)
	Currency             string
	BillingPeriod        BillingPeriod
	ClientGalleryEnabled bool
	StripePriceID        string
	Status               PlanStatus
	SortOrder            int
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// Free reports whether the plan costs nothing.
func (p Plan) Free() bool { return p.PriceMinor <= 0 }

// Price returns the price in the currency's major unit, as the API shows it.
func (p Plan) Price() float64 { return float64(p.PriceMinor) / 100 }

// PlanFilter selects plans. The zero value selects every active plan.
type PlanFilter struct {
	Lines           []ProductLine // empty: every line
	IncludeArchived bool
}

// Match reports whether p is selected by f.
func (f PlanFilter) Match(p Plan) bool {
	if !f.IncludeArchived && p.Status != PlanActive {
		return false
	}
	if len(f.Lines) == 0 {
		return true
	}
	for _, l := range f.Lines {
		if p.Line == l {
			return true
		}
	}
	return false
}
