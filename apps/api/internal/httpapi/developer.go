package httpapi

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/developer"
)

// appJSON is a partner app without its secret.
type appJSON struct {
	ID                  string    `json:"id"`
	ClientID            string    `json:"clientId"`
	Name                string    `json:"name"`
	ProductType         string    `json:"productType"`
	AllowedProductTypes []string  `json:"allowedProductTypes"`
	RedirectURIs        []string  `json:"redirectUris"`
	Status              string    `json:"status"`
	CreatedAt           time.Time `json:"createdAt"`
	UpdatedAt           time.Time `json:"updatedAt"`
}

// createdAppJSON adds the client secret, shown on create only.
type createdAppJSON struct {
	appJSON
	ClientSecret string `json:"clientSecret"`
}

// adminAppJSON adds the owner for staff.
type adminAppJSON struct {
	appJSON
	OwnerProfileID string `json:"ownerProfileId"`
}

func appView(a core.PartnerApp) appJSON {
	uris := a.RedirectURIs
	if uris == nil {
		uris = []string{}
	}
	return appJSON{
		ID: a.ID, ClientID: a.ClientID, Name: a.Name, ProductType: string(a.Line),
		AllowedProductTypes: []string{string(a.Line)}, RedirectURIs: uris, Status: string(a.Status),
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}
}

type createAppRequest struct {
	Name                string   `json:"name"`
	ProductType         string   `json:"productType"`
	AllowedProductTypes []string `json:"allowedProductTypes"`
	RedirectURIs        []string `json:"redirectUris"`
}

func (s *Server) createApp(c *fiber.Ctx) error {
	var req createAppRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := s.Developer.Create(c.UserContext(), principal(c), developer.AppInput{
		Name: req.Name, ProductType: req.ProductType, AllowedProductTypes: req.AllowedProductTypes, RedirectURIs: req.RedirectURIs,
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(createdAppJSON{appJSON: appView(r.App), ClientSecret: r.ClientSecret})
}

func (s *Server) listApps(c *fiber.Ctx) error {
	apps, err := s.Developer.List(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	out := make([]appJSON, 0, len(apps))
	for _, a := range apps {
		out = append(out, appView(a))
	}
	return c.JSON(out)
}

func (s *Server) getApp(c *fiber.Ctx) error {
	a, err := s.Developer.Get(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(appView(a))
}

type updateAppRequest struct {
	Name                *string   `json:"name"`
	RedirectURIs        *[]string `json:"redirectUris"`
	ProductType         *string   `json:"productType"`
	AllowedProductTypes *[]string `json:"allowedProductTypes"`
}

func (s *Server) updateApp(c *fiber.Ctx) error {
	var req updateAppRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ProductType != nil || req.AllowedProductTypes != nil {
		return core.Invalid("productType", "an app's product line cannot change; create another app")
	}
	a, err := s.Developer.Update(c.UserContext(), principal(c), c.Params("id"), developer.AppPatch{Name: req.Name, RedirectURIs: req.RedirectURIs})
	if err != nil {
		return err
	}
	return c.JSON(appView(a))
}

func (s *Server) deleteApp(c *fiber.Ctx) error {
	if err := s.Developer.Delete(c.UserContext(), principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) rotateAppSecret(c *fiber.Ctx) error {
	secret, err := s.Developer.RotateSecret(c.UserContext(), principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"clientSecret": secret})
}

type dayJSON struct {
	Date            string `json:"date"`
	Starts          int64  `json:"starts"`
	Completions     int64  `json:"completions"`
	Exchanges       int64  `json:"exchanges"`
	FailedExchanges int64  `json:"failedExchanges"`
}

type totalsJSON struct {
	Starts          int64 `json:"starts"`
	Completions     int64 `json:"completions"`
	Exchanges       int64 `json:"exchanges"`
	FailedExchanges int64 `json:"failedExchanges"`
}

func (s *Server) appAnalytics(c *fiber.Ctx) error {
	days := 30
	if v, err := query(c, "days", 8); err != nil {
		return err
	} else if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return core.Invalid("days", "days must be a whole number between 1 and %d", developer.MaxAnalyticsDays)
		}
		days = n
	}
	a, err := s.Developer.Analytics(c.UserContext(), principal(c), c.Params("id"), days)
	if err != nil {
		return err
	}
	out := struct {
		Days   []dayJSON  `json:"days"`
		Totals totalsJSON `json:"totals"`
	}{Days: make([]dayJSON, 0, len(a.Days))}
	for _, d := range a.Days {
		out.Days = append(out.Days, dayJSON{Date: d.Day.Format(time.DateOnly), Starts: d.Starts, Completions: d.Completions, Exchanges: d.Exchanges, FailedExchanges: d.FailedExchanges})
	}
	out.Totals = totalsJSON{Starts: a.Totals.Starts, Completions: a.Totals.Completions, Exchanges: a.Totals.Exchanges, FailedExchanges: a.Totals.FailedExchanges}
	return c.JSON(out)
}

func (s *Server) adminListApps(c *fiber.Ctx) error {
	if err := principal(c).RequireAdmin(); err != nil {
		return err
	}
	status, err := query(c, "status", 16)
	if err != nil {
		return err
	}
	cursor, err := query(c, "cursor", maxQueryLen)
	if err != nil {
		return err
	}
	limit := 100
	if v, err := query(c, "limit", 8); err != nil {
		return err
	} else if v != "" {
		if limit, err = strconv.Atoi(v); err != nil {
			return core.Invalid("limit", "limit must be a whole number between 1 and 1000")
		}
	}
	apps, more, err := s.Developer.AdminList(c.UserContext(), principal(c), status, cursor, limit)
	if err != nil {
		return err
	}
	out := struct {
		Apps       []adminAppJSON `json:"apps"`
		NextCursor *string        `json:"nextCursor"`
	}{Apps: make([]adminAppJSON, 0, len(apps))}
	for _, a := range apps {
		out.Apps = append(out.Apps, adminAppJSON{appJSON: appView(a), OwnerProfileID: a.ProfileID})
	}
	if more {
		next := apps[len(apps)-1].ID
		out.NextCursor = &next
	}
	return c.JSON(out)
}

type appStatusRequest struct {
	Status string `json:"status"`
}

func (s *Server) adminSetAppStatus(c *fiber.Ctx) error {
	if err := principal(c).RequireAdmin(); err != nil {
		return err
	}
	var req appStatusRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	a, err := s.Developer.AdminSetStatus(c.UserContext(), principal(c), c.Params("id"), req.Status)
	if err != nil {
		return err
	}
	return c.JSON(adminAppJSON{appJSON: appView(a), OwnerProfileID: a.ProfileID})
}
