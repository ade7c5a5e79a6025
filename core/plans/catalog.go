package plans

import "github.com/gellhub/gellhub/core"

const (
	gib = int64(1) << 30
	tib = int64(1) << 40
)

// DefaultCatalog is the catalog a fresh install seeds: for each product line
// a free plan and a paid plan billed monthly or annually (two months free).
// Ids are fixed so that seeding is idempotent and documentation can name
// them; an admin's later edits and archives are never overwritten.
func DefaultCatalog() []core.Plan {
	return []core.Plan{
		{
			ID: "plan_gallery_free", Line: core.LineClientGallery, Name: "Gallery Free",
			Description:       "Share client galleries with a small studio archive.",
			Features:          []string{"5 GB storage", "Unlimited collections", "Signed client media links"},
			StorageLimitBytes: 5 * gib, PriceMinor: 0, Currency: "usd", BillingPeriod: core.PeriodMonthly,
			ClientGalleryEnabled: true, SortOrder: 10,
		},
		{
			ID: "plan_gallery_pro_monthly", Line: core.LineClientGallery, Name: "Gallery Pro",
			Description:       "For working photographers delivering galleries every week.",
			Features:          []string{"500 GB storage", "Unlimited collections", "Presigned uploads for large files", "Priority support"},
			StorageLimitBytes: 500 * gib, PriceMinor: 1500, Currency: "usd", BillingPeriod: core.PeriodMonthly,
			ClientGalleryEnabled: true, SortOrder: 20,
		},
		{
			ID: "plan_gallery_pro_annual", Line: core.LineClientGallery, Name: "Gallery Pro (annual)",
			Description:       "Gallery Pro billed yearly: two months free.",
			Features:          []string{"500 GB storage", "Unlimited collections", "Presigned uploads for large files", "Priority support"},
			StorageLimitBytes: 500 * gib, PriceMinor: 15000, Currency: "usd", BillingPeriod: core.PeriodAnnual,
			ClientGalleryEnabled: true, SortOrder: 30,
		},
		{
			ID: "plan_drive_free", Line: core.LineDrive, Name: "Drive Free",
			Description:       "Folders, files and a recycle bin for personal use.",
			Features:          []string{"10 GB storage", "30-day recycle bin"},
			StorageLimitBytes: 10 * gib, PriceMinor: 0, Currency: "usd", BillingPeriod: core.PeriodMonthly,
			SortOrder: 10,
		},
		{
			ID: "plan_drive_plus_monthly", Line: core.LineDrive, Name: "Drive Plus",
			Description:       "Room for a team's files and partner-app folders.",
			Features:          []string{"1 TB storage", "30-day recycle bin", "Partner app folders"},
			StorageLimitBytes: 1 * tib, PriceMinor: 999, Currency: "usd", BillingPeriod: core.PeriodMonthly,
			SortOrder: 20,
		},
		{
			ID: "plan_drive_plus_annual", Line: core.LineDrive, Name: "Drive Plus (annual)",
			Description:       "Drive Plus billed yearly: two months free.",
			Features:          []string{"1 TB storage", "30-day recycle bin", "Partner app folders"},
			StorageLimitBytes: 1 * tib, PriceMinor: 9990, Currency: "usd", BillingPeriod: core.PeriodAnnual,
			SortOrder: 30,
		},
		{
			ID: "plan_messaging_free", Line: core.LineMessaging, Name: "Messaging Free",
			Description:    "One website chat widget and AI agent to try the platform.",
			Features:       []string{"100 AI credits per month", "Website chat widget", "Up to 25 agents"},
			MonthlyCredits: 100, PriceMinor: 0, Currency: "usd", BillingPeriod: core.PeriodMonthly,
			SortOrder: 10,
		},
		{
			ID: "plan_messaging_growth_monthly", Line: core.LineMessaging, Name: "Messaging Growth",
			Description:    "AI chat for a busy store, with skills and human handoff.",
			Features:       []string{"5,000 AI credits per month", "Dynamic skills webhooks", "Human handoff webhooks"},
			MonthlyCredits: 5000, PriceMinor: 2900, Currency: "usd", BillingPeriod: core.PeriodMonthly,
			SortOrder: 20,
		},
		{
			ID: "plan_messaging_growth_annual", Line: core.LineMessaging, Name: "Messaging Growth (annual)",
			Description:    "Messaging Growth billed yearly: two months free.",
			Features:       []string{"5,000 AI credits per month", "Dynamic skills webhooks", "Human handoff webhooks"},
			MonthlyCredits: 5000, PriceMinor: 29000, Currency: "usd", BillingPeriod: core.PeriodAnnual,
			SortOrder: 30,
		},
	}
}
