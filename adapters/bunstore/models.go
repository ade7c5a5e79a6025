package bunstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/gellhub/gellhub/core"
)

// The Bun models: one set for both dialects, mapped to the tables of
// migrations/*/0001_init.sql. They stay unexported; core types cross the
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

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
