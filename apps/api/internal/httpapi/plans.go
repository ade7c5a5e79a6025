package httpapi

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/plans"
)

// publicPlanJSON is a plan as the public catalog shows it.
type publicPlanJSON struct {
	ID                   string   `json:"id"`
	PlanType             string   `json:"planType"`
	Name                 string   `json:"name"`
	Description          string   `json:"description"`
	Features             []string `json:"features"`
	StorageLimitBytes    int64    `json:"storageLimitBytes"`
	MonthlyCredits       *int64   `json:"monthlyCredits,omitempty"`
	Price                float64  `json:"price"`
	Currency             string   `json:"currency"`
	BillingPeriod        string   `json:"billingPeriod"`
	ClientGalleryEnabled bool     `json:"clientGalleryEnabled"`
}

// adminPlanJSON is a plan with what only staff see.
type adminPlanJSON struct {
	ID                   string    `json:"id"`
	PlanType             string    `json:"planType"`
	Name                 string    `json:"name"`
	Description          string    `json:"description"`
	Features             []string  `json:"features"`
	StorageLimitBytes    int64     `json:"storageLimitBytes"`
	MonthlyCredits       int64     `json:"monthlyCredits"`
	Price                float64   `json:"price"`
	Currency             string    `json:"currency"`
	BillingPeriod        string    `json:"billingPeriod"`
	ClientGalleryEnabled bool      `json:"clientGalleryEnabled"`
	StripePriceID        string    `json:"stripePriceId"`
	Status               string    `json:"status"`
	SortOrder            int       `json:"sortOrder"`
	CreatedAt            time.Time `json:"createdAt"`
	UpdatedAt            time.Time `json:"updatedAt"`
}

func publicPlan(p core.Plan) publicPlanJSON {
	out := publicPlanJSON{
		ID: p.ID, PlanType: string(p.Line), Name: p.Name, Description: p.Description,
		Features: p.Features, StorageLimitBytes: p.StorageLimitBytes, Price: p.Price(),
		Currency: p.Currency, BillingPeriod: string(p.BillingPeriod), ClientGalleryEnabled: p.ClientGalleryEnabled,
	}
	if out.Features == nil {
		out.Features = []string{}
	}
	if p.Line == core.LineMessaging {
		mc := p.MonthlyCredits
		out.MonthlyCredits = &mc
	}
	return out
}

func adminPlan(p core.Plan) adminPlanJSON {
	pub := publicPlan(p)
	return adminPlanJSON{
		ID: pub.ID, PlanType: pub.PlanType, Name: pub.Name, Description: pub.Description, Features: pub.Features,
		StorageLimitBytes: pub.StorageLimitBytes, MonthlyCredits: p.MonthlyCredits, Price: pub.Price,
		Currency: pub.Currency, BillingPeriod: pub.BillingPeriod, ClientGalleryEnabled: pub.ClientGalleryEnabled,
		StripePriceID: p.StripePriceID, Status: string(p.Status), SortOrder: p.SortOrder,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

const maxQueryLen = 256

func (s *Server) publicPlans(c *fiber.Ctx) error {
	typ, err := query(c, "type", maxQueryLen)
	if err != nil {
		return err
	}
	clientID, err := query(c, "client_id", maxQueryLen)
	if err != nil {
		return err
	}
	l, err := s.Plans.ListPublic(c.UserContext(), plans.Query{Type: typ, ClientID: clientID})
	if err != nil {
		return err
	}
	out := make([]publicPlanJSON, 0, len(l.Plans))
	for _, p := range l.Plans {
		out = append(out, publicPlan(p))
	}
	if l.Scoped {
		allowed := make([]string, 0, len(l.AllowedProductTypes))
		for _, a := range l.AllowedProductTypes {
			allowed = append(allowed, string(a))
		}
		return c.JSON(fiber.Map{"allowedProductTypes": allowed, "plans": out})
	}
	return c.JSON(out)
}

func (s *Server) publicPlanByID(c *fiber.Ctx) error {
	id, err := query(c, "id", maxQueryLen)
	if err != nil {
		return err
	}
	clientID, err := query(c, "client_id", maxQueryLen)
	if err != nil {
		return err
	}
	p, err := s.Plans.PublicByID(c.UserContext(), id, clientID)
	if err != nil {
		return err
	}
	return c.JSON(publicPlan(p))
}

func (s *Server) adminListPlans(c *fiber.Ctx) error {
	ps, err := s.Plans.AdminList(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	out := make([]adminPlanJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, adminPlan(p))
	}
	return c.JSON(out)
}

type createPlanRequest struct {
	ID                   string   `json:"id"`
	PlanType             string   `json:"planType"`
	Name                 string   `json:"name"`
	Description          string   `json:"description"`
	Features             []string `json:"features"`
	StorageLimitBytes    int64    `json:"storageLimitBytes"`
	MonthlyCredits       int64    `json:"monthlyCredits"`
	Price                *float64 `json:"price"`
	Currency             string   `json:"currency"`
	BillingPeriod        string   `json:"billingPeriod"`
	ClientGalleryEnabled bool     `json:"clientGalleryEnabled"`
	StripePriceID        string   `json:"stripePriceId"`
	SortOrder            int      `json:"sortOrder"`
}

func (s *Server) adminCreatePlan(c *fiber.Ctx) error {
	if err := principal(c).RequireAdmin(); err != nil {
		return err // before reading the body: non-staff learn nothing
	}
	var req createPlanRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.PlanType == "" {
		return core.Invalid("planType", "planType is required")
	}
	if req.Price == nil {
		return core.Invalid("price", "price is required (0 for a free plan)")
	}
	p, err := s.Plans.AdminCreate(c.UserContext(), principal(c), plans.PlanInput{
		ID: req.ID, PlanType: req.PlanType, Name: req.Name, Description: req.Description,
		Features: req.Features, StorageLimitBytes: req.StorageLimitBytes, MonthlyCredits: req.MonthlyCredits,
		Price: *req.Price, Currency: req.Currency, BillingPeriod: req.BillingPeriod,
		ClientGalleryEnabled: req.ClientGalleryEnabled, StripePriceID: req.StripePriceID, SortOrder: req.SortOrder,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(adminPlan(p))
}

type updatePlanRequest struct {
	PlanType             *string   `json:"planType"`
	Name                 *string   `json:"name"`
	Description          *string   `json:"description"`
	Features             *[]string `json:"features"`
	StorageLimitBytes    *int64    `json:"storageLimitBytes"`
	MonthlyCredits       *int64    `json:"monthlyCredits"`
	Price                *float64  `json:"price"`
	Currency             *string   `json:"currency"`
	BillingPeriod        *string   `json:"billingPeriod"`
	ClientGalleryEnabled *bool     `json:"clientGalleryEnabled"`
	StripePriceID        *string   `json:"stripePriceId"`
	SortOrder            *int      `json:"sortOrder"`
	Status               *string   `json:"status"`
}

func (s *Server) adminUpdatePlan(c *fiber.Ctx) error {
	if err := principal(c).RequireAdmin(); err != nil {
		return err
	}
	var req updatePlanRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.PlanType != nil {
		return core.Invalid("planType", "a plan's planType cannot change; create a new plan instead")
	}
	p, err := s.Plans.AdminUpdate(c.UserContext(), principal(c), c.Params("id"), plans.PlanPatch{
		Name: req.Name, Description: req.Description, Features: req.Features,
		StorageLimitBytes: req.StorageLimitBytes, MonthlyCredits: req.MonthlyCredits, Price: req.Price,
		Currency: req.Currency, BillingPeriod: req.BillingPeriod, ClientGalleryEnabled: req.ClientGalleryEnabled,
		StripePriceID: req.StripePriceID, SortOrder: req.SortOrder, Status: req.Status,
	})
	if err != nil {
		return err
	}
	return c.JSON(adminPlan(p))
}

func (s *Server) adminDeletePlan(c *fiber.Ctx) error {
	if err := s.Plans.AdminDelete(c.UserContext(), principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
