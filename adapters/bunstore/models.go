package bunstore

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/core"
)

// The Bun models: one set for both dialects, mapped to the tables of
// migrations/*/0001_init.sql and 0002_partner_apps.sql. They stay unexported; core types cross the
// package boundary. Times are written in UTC (Bun formats them with
// microseconds, truncating) and read back in UTC.

type profileRow struct {
	bun.BaseModel `bun:"table:profiles"`

	ID              string    `bun:"id,pk"`
	Email           string    `bun:"email"`
	EmailNormalized string    `bun:"email_normalized"`
	PasswordHash    string    `bun:"password_hash"`
	DisplayName     string    `bun:"display_name"`
	AccountKind     string    `bun:"account_kind"`
	CreatedAt       time.Time `bun:"created_at"`
	UpdatedAt       time.Time `bun:"updated_at"`
}

func newProfileRow(p core.Profile) profileRow {
	return profileRow{
		ID:              p.ID,
		Email:           p.Email,
		EmailNormalized: p.EmailNormalized,
		PasswordHash:    p.PasswordHash,
		DisplayName:     p.DisplayName,
		AccountKind:     string(p.AccountKind),
		CreatedAt:       p.CreatedAt.UTC(),
		UpdatedAt:       p.UpdatedAt.UTC(),
	}
}

func (r profileRow) core() core.Profile {
	return core.Profile{
		ID:              r.ID,
		Email:           r.Email,
		EmailNormalized: r.EmailNormalized,
		PasswordHash:    r.PasswordHash,
		DisplayName:     r.DisplayName,
		AccountKind:     core.AccountKind(r.AccountKind),
		CreatedAt:       r.CreatedAt.UTC(),
		UpdatedAt:       r.UpdatedAt.UTC(),
	}
}

type studioRow struct {
	bun.BaseModel `bun:"table:studios"`

	ID        string    `bun:"id,pk"`
	ProfileID string    `bun:"profile_id"`
	CreatedAt time.Time `bun:"created_at"`
}

type driveRow struct {
	bun.BaseModel `bun:"table:drives"`

	ID        string    `bun:"id,pk"`
	ProfileID string    `bun:"profile_id"`
	CreatedAt time.Time `bun:"created_at"`
}

type subscriptionRow struct {
	bun.BaseModel `bun:"table:subscriptions"`

	ID                   string     `bun:"id,pk"`
	ProfileID            string     `bun:"profile_id"`
	Line                 string     `bun:"line"`
	PlanID               string     `bun:"plan_id"`
	Status               string     `bun:"status"`
	StripeCustomerID     string     `bun:"stripe_customer_id"`
	StripeSubscriptionID string     `bun:"stripe_subscription_id"`
	CurrentPeriodEnd     *time.Time `bun:"current_period_end"`
	CreatedAt            time.Time  `bun:"created_at"`
	UpdatedAt            time.Time  `bun:"updated_at"`
}

func newSubscriptionRow(s core.Subscription) subscriptionRow {
	return subscriptionRow{
		ID:                   s.ID,
		ProfileID:            s.ProfileID,
		Line:                 string(s.Line),
		PlanID:               s.PlanID,
		Status:               string(s.Status),
		StripeCustomerID:     s.StripeCustomerID,
		StripeSubscriptionID: s.StripeSubscriptionID,
		CurrentPeriodEnd:     utcPtr(s.CurrentPeriodEnd),
		CreatedAt:            s.CreatedAt.UTC(),
		UpdatedAt:            s.UpdatedAt.UTC(),
	}
}

func (r subscriptionRow) core() core.Subscription {
	return core.Subscription{
		ID:                   r.ID,
		ProfileID:            r.ProfileID,
		Line:                 core.ProductLine(r.Line),
		PlanID:               r.PlanID,
		Status:               core.SubscriptionStatus(r.Status),
		StripeCustomerID:     r.StripeCustomerID,
		StripeSubscriptionID: r.StripeSubscriptionID,
		CurrentPeriodEnd:     utcPtr(r.CurrentPeriodEnd),
		CreatedAt:            r.CreatedAt.UTC(),
		UpdatedAt:            r.UpdatedAt.UTC(),
	}
}

type apiKeyRow struct {
	bun.BaseModel `bun:"table:api_keys"`

	ID            string     `bun:"id,pk"`
	ProfileID     string     `bun:"profile_id"`
	Line          string     `bun:"line"`
	Digest        string     `bun:"digest"`
	DisplayPrefix string     `bun:"display_prefix"`
	LinkID        string     `bun:"link_id,nullzero"` // NULL for the profile's own keys
	CreatedAt     time.Time  `bun:"created_at"`
	RevokedAt     *time.Time `bun:"revoked_at"`
}

func newAPIKeyRow(k core.APIKey) apiKeyRow {
	return apiKeyRow{
		ID:            k.ID,
		ProfileID:     k.ProfileID,
		Line:          string(k.Line),
		Digest:        k.Digest,
		DisplayPrefix: k.DisplayPrefix,
		LinkID:        k.LinkID,
		CreatedAt:     k.CreatedAt.UTC(),
		RevokedAt:     utcPtr(k.RevokedAt),
	}
}

func (r apiKeyRow) core() core.APIKey {
	return core.APIKey{
		ID:            r.ID,
		ProfileID:     r.ProfileID,
		Line:          core.ProductLine(r.Line),
		Digest:        r.Digest,
		DisplayPrefix: r.DisplayPrefix,
		LinkID:        r.LinkID,
		CreatedAt:     r.CreatedAt.UTC(),
		RevokedAt:     utcPtr(r.RevokedAt),
	}
}

type planRow struct {
	bun.BaseModel `bun:"table:plans"`

	ID                   string    `bun:"id,pk"`
	Line                 string    `bun:"line"`
	Name                 string    `bun:"name"`
	Description          string    `bun:"description"`
	Features             string    `bun:"features"` // JSON array of strings
	StorageLimitBytes    int64     `bun:"storage_limit_bytes"`
	MonthlyCredits       int64     `bun:"monthly_credits"`
	PriceMinor           int64     `bun:"price_minor"`
	Currency             string    `bun:"currency"`
	BillingPeriod        string    `bun:"billing_period"`
	ClientGalleryEnabled bool      `bun:"client_gallery_enabled"`
	StripePriceID        string    `bun:"stripe_price_id"`
	Status               string    `bun:"status"`
	SortOrder            int64     `bun:"sort_order"`
	CreatedAt            time.Time `bun:"created_at"`
	UpdatedAt            time.Time `bun:"updated_at"`
}

func newPlanRow(p core.Plan) (planRow, error) {
	features := p.Features
	if features == nil {
		features = []string{}
	}
	b, err := json.Marshal(features)
	if err != nil {
		return planRow{}, fmt.Errorf("encode features: %w", err)
	}
	return planRow{
		ID:                   p.ID,
		Line:                 string(p.Line),
		Name:                 p.Name,
		Description:          p.Description,
		Features:             string(b),
		StorageLimitBytes:    p.StorageLimitBytes,
		MonthlyCredits:       p.MonthlyCredits,
		PriceMinor:           p.PriceMinor,
		Currency:             p.Currency,
		BillingPeriod:        string(p.BillingPeriod),
		ClientGalleryEnabled: p.ClientGalleryEnabled,
		StripePriceID:        p.StripePriceID,
		Status:               string(p.Status),
		SortOrder:            int64(p.SortOrder),
		CreatedAt:            p.CreatedAt.UTC(),
		UpdatedAt:            p.UpdatedAt.UTC(),
	}, nil
}

func (r planRow) core() (core.Plan, error) {
	features := []string{}
	if err := json.Unmarshal([]byte(r.Features), &features); err != nil {
		return core.Plan{}, fmt.Errorf("decode features of plan %s: %w", r.ID, err)
	}
	return core.Plan{
		ID:                   r.ID,
		Line:                 core.ProductLine(r.Line),
		Name:                 r.Name,
		Description:          r.Description,
		Features:             features,
		StorageLimitBytes:    r.StorageLimitBytes,
		MonthlyCredits:       r.MonthlyCredits,
		PriceMinor:           r.PriceMinor,
		Currency:             r.Currency,
		BillingPeriod:        core.BillingPeriod(r.BillingPeriod),
		ClientGalleryEnabled: r.ClientGalleryEnabled,
		StripePriceID:        r.StripePriceID,
		Status:               core.PlanStatus(r.Status),
		SortOrder:            int(r.SortOrder),
		CreatedAt:            r.CreatedAt.UTC(),
		UpdatedAt:            r.UpdatedAt.UTC(),
	}, nil
}

type sessionRow struct {
	bun.BaseModel `bun:"table:sessions"`

	TokenDigest string    `bun:"token_digest,pk"`
	ProfileID   string    `bun:"profile_id"`
	CreatedAt   time.Time `bun:"created_at"`
	ExpiresAt   time.Time `bun:"expires_at"`
}

func (r sessionRow) core() core.Session {
	return core.Session{
		TokenDigest: r.TokenDigest,
		ProfileID:   r.ProfileID,
		CreatedAt:   r.CreatedAt.UTC(),
		ExpiresAt:   r.ExpiresAt.UTC(),
	}
}

type partnerAppRow struct {
	bun.BaseModel `bun:"table:partner_apps"`

	ID                  string    `bun:"id,pk"`
	ProfileID           string    `bun:"profile_id"`
	Name                string    `bun:"name"`
	Line                string    `bun:"line"`
	RedirectURIs        string    `bun:"redirect_uris"` // JSON array of strings
	ClientID            string    `bun:"client_id"`
	SecretDigest        string    `bun:"secret_digest"`
	SecretDisplayPrefix string    `bun:"secret_display_prefix"`
	Status              string    `bun:"status"`
	CreatedAt           time.Time `bun:"created_at"`
	UpdatedAt           time.Time `bun:"updated_at"`
}

func newPartnerAppRow(a core.PartnerApp) (partnerAppRow, error) {
	uris := a.RedirectURIs
	if uris == nil {
		uris = []string{}
	}
	b, err := json.Marshal(uris)
	if err != nil {
		return partnerAppRow{}, fmt.Errorf("encode redirect uris: %w", err)
	}
	return partnerAppRow{
		ID:                  a.ID,
		ProfileID:           a.ProfileID,
		Name:                a.Name,
		Line:                string(a.Line),
		RedirectURIs:        string(b),
		ClientID:            a.ClientID,
		SecretDigest:        a.SecretDigest,
		SecretDisplayPrefix: a.SecretDisplayPrefix,
		Status:              string(a.Status),
		CreatedAt:           a.CreatedAt.UTC(),
		UpdatedAt:           a.UpdatedAt.UTC(),
	}, nil
}

func (r partnerAppRow) core() (core.PartnerApp, error) {
	uris := []string{}
	if err := json.Unmarshal([]byte(r.RedirectURIs), &uris); err != nil {
		return core.PartnerApp{}, fmt.Errorf("decode redirect uris of app %s: %w", r.ID, err)
	}
	return core.PartnerApp{
		ID:                  r.ID,
		ProfileID:           r.ProfileID,
		Name:                r.Name,
		Line:                core.ProductLine(r.Line),
		RedirectURIs:        uris,
		ClientID:            r.ClientID,
		SecretDigest:        r.SecretDigest,
		SecretDisplayPrefix: r.SecretDisplayPrefix,
		Status:              core.AppStatus(r.Status),
		CreatedAt:           r.CreatedAt.UTC(),
		UpdatedAt:           r.UpdatedAt.UTC(),
	}, nil
}

func partnerApps(rows []partnerAppRow) ([]core.PartnerApp, error) {
	out := make([]core.PartnerApp, len(rows))
	for i, r := range rows {
		a, err := r.core()
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

type connectLinkRow struct {
	bun.BaseModel `bun:"table:connect_links"`

	ID        string     `bun:"id,pk"`
	ProfileID string     `bun:"profile_id"`
	AppID     string     `bun:"app_id,nullzero"` // NULL once the app is deleted
	CreatedAt time.Time  `bun:"created_at"`
	UpdatedAt time.Time  `bun:"updated_at"`
	RevokedAt *time.Time `bun:"revoked_at"`
}

func newConnectLinkRow(l core.ConnectLink) connectLinkRow {
	return connectLinkRow{
		ID:        l.ID,
		ProfileID: l.ProfileID,
		AppID:     l.AppID,
		CreatedAt: l.CreatedAt.UTC(),
		UpdatedAt: l.UpdatedAt.UTC(),
		RevokedAt: utcPtr(l.RevokedAt),
	}
}

func (r connectLinkRow) core() core.ConnectLink {
	return core.ConnectLink{
		ID:        r.ID,
		ProfileID: r.ProfileID,
		AppID:     r.AppID,
		CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
		RevokedAt: utcPtr(r.RevokedAt),
	}
}

type appDailyStatsRow struct {
	bun.BaseModel `bun:"table:app_daily_stats"`

	AppID           string `bun:"app_id,pk"`
	Day             sqlDay `bun:"day,pk"`
	Starts          int64  `bun:"starts"`
	Completions     int64  `bun:"completions"`
	Exchanges       int64  `bun:"exchanges"`
	FailedExchanges int64  `bun:"failed_exchanges"`
}

func (r appDailyStatsRow) core() core.AppDayStats {
	return core.AppDayStats{
		Day:             r.Day.t,
		Starts:          r.Starts,
		Completions:     r.Completions,
		Exchanges:       r.Exchanges,
		FailedExchanges: r.FailedExchanges,
	}
}

// statColumns maps each counter to its app_daily_stats column.
var statColumns = map[core.AppStat]string{
	core.StatStarts:          "starts",
	core.StatCompletions:     "completions",
	core.StatExchanges:       "exchanges",
	core.StatFailedExchanges: "failed_exchanges",
}

// dayLayout is how days are written: 'YYYY-MM-DD'.
const dayLayout = "2006-01-02"

// sqlDay is a UTC calendar day: a DATE on PostgreSQL, 'YYYY-MM-DD' text on
// SQLite. It is written as 'YYYY-MM-DD' in both and read back as midnight
// UTC.
type sqlDay struct{ t time.Time }

// newSQLDay returns the UTC day that t falls on.
func newSQLDay(t time.Time) sqlDay {
	u := t.UTC()
	return sqlDay{time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)}
}

// Value implements driver.Valuer.
func (d sqlDay) Value() (driver.Value, error) { return d.t.UTC().Format(dayLayout), nil }

// Scan implements sql.Scanner: PostgreSQL's driver returns a DATE as a
// time.Time (midnight UTC), SQLite's as text.
func (d *sqlDay) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		d.t = time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC)
		return nil
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	}
	return fmt.Errorf("scan day: unsupported type %T", src)
}

func (d *sqlDay) parse(s string) error {
	if len(s) < len(dayLayout) {
		return fmt.Errorf("scan day: %q is not a date", s)
	}
	t, err := time.Parse(dayLayout, s[:len(dayLayout)])
	if err != nil {
		return fmt.Errorf("scan day: %w", err)
	}
	d.t = t
	return nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
