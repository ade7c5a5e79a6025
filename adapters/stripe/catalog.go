package stripe

import (
	"context"
	"fmt"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/gellhub/gellhub/core"
)

// ProductID is the id of a plan's Stripe product: Stripe accepts ids
// chosen by the caller, which makes creating it idempotent.
func ProductID(plan core.Plan) string { return "gellhub_" + plan.ID }

// LookupKey names the Stripe price of a plan's amount, currency and
// period. Prices are immutable: a plan whose price changes gets a new
// lookup key and a new price.
func LookupKey(plan core.Plan) string {
	return fmt.Sprintf("gellhub_%s_%d_%s_%s", plan.ID, plan.PriceMinor, plan.Currency, plan.BillingPeriod)
}

// SyncPlanPrice implements ports.Payments. The product is found by its id
// (ProductID) or created, and its name and description kept in step; the
// price is found by its lookup key (LookupKey) among active prices, or
// created with it (idempotency key: the lookup key).
func (s *Payments) SyncPlanPrice(ctx context.Context, plan core.Plan) (string, error) {
	if plan.PriceMinor <= 0 {
		return "", core.Invalid("price", "a free plan has no Stripe price")
	}
	if err := s.syncProduct(ctx, plan); err != nil {
		return "", err
	}
	key := LookupKey(plan)
	interval := stripego.PriceRecurringIntervalMonth
	if plan.BillingPeriod == core.PeriodAnnual {
		interval = stripego.PriceRecurringIntervalYear
	}
	list := &stripego.PriceListParams{LookupKeys: []*string{stripego.String(key)}, Active: stripego.Bool(true)}
	list.Single = true
	list.Context = ctx
	it := s.api.Prices.List(list)
	for it.Next() {
		p := it.Price()
		if p.LookupKey == key && p.UnitAmount == plan.PriceMinor && string(p.Currency) == plan.Currency &&
			p.Recurring != nil && p.Recurring.Interval == interval && p.Product != nil && p.Product.ID == ProductID(plan) {
			return p.ID, nil
		}
	}
	if err := it.Err(); err != nil {
		return "", fail(ctx, "list prices", err)
	}
	params := &stripego.PriceParams{
		Product:           stripego.String(ProductID(plan)),
		UnitAmount:        stripego.Int64(plan.PriceMinor),
		Currency:          stripego.String(plan.Currency),
		Recurring:         &stripego.PriceRecurringParams{Interval: stripego.String(string(interval))},
		LookupKey:         stripego.String(key),
		TransferLookupKey: stripego.Bool(true),
		Nickname:          stripego.String(plan.Name),
	}
	params.AddMetadata(MetaPlanID, plan.ID)
	params.SetIdempotencyKey("gellhub-price-" + key)
	params.Context = ctx
	p, err := s.api.Prices.New(params)
	if err != nil {
		return "", fail(ctx, "create price", err)
	}
	return p.ID, nil
}

func (s *Payments) syncProduct(ctx context.Context, plan core.Plan) error {
	id := ProductID(plan)
	get := &stripego.ProductParams{}
	get.Context = ctx
	prod, err := s.api.Products.Get(id, get)
	err = fail(ctx, "product", err)
	if core.IsKind(err, core.KindNotFound) {
		params := &stripego.ProductParams{ID: stripego.String(id), Name: stripego.String(plan.Name)}
		if plan.Description != "" {
			params.Description = stripego.String(plan.Description)
		}
		params.AddMetadata(MetaPlanID, plan.ID)
		params.AddMetadata(MetaLine, string(plan.Line))
		params.SetIdempotencyKey("gellhub-product-" + id)
		params.Context = ctx
		_, err := s.api.Products.New(params)
		return fail(ctx, "create product", err)
	}
	if err != nil {
		return err
	}
	if prod.Name == plan.Name && prod.Description == plan.Description && prod.Active {
		return nil
	}
	params := &stripego.ProductParams{Name: stripego.String(plan.Name), Active: stripego.Bool(true)}
	if plan.Description != "" {
		params.Description = stripego.String(plan.Description)
	}
	params.Context = ctx
	_, err = s.api.Products.Update(id, params)
	return fail(ctx, "update product", err)
}
