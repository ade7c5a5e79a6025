// Package plans holds the plan catalog's use cases: the public catalog
// (optionally scoped to a partner app's product line), the lookup that
// registration and checkout use, and admin management.
package plans

import (
	"context"
	"io"
	"math"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// AppScopes tells which product lines a partner app (by client id) may use.
// The Developer Console implements it; until it is wired every client id is
// unknown.
type AppScopes interface {
	// AllowedLines returns the lines of an active app. An unknown or
	// suspended app is KindNotFound.
	AllowedLines(ctx context.Context, clientID string) ([]core.ProductLine, error)
}

// Service runs the plan use cases.
type Service struct {
	store ports.PlanStore
	clock ports.Clock
	rnd   io.Reader
	apps  AppScopes

	mu    sync.Mutex
	cache map[string]cachedPlan // Get's cache, by id
}

// PlanCacheTTL bounds how stale a plan snapshot (Get) may be on an instance
// that did not make the change itself: plans change rarely and every
// authenticated snapshot (billing status, exchange, verify, /api/me) reads
// them.
const PlanCacheTTL = 10 * time.Second

type cachedPlan struct {
	p       core.Plan
	expires time.Time
}

// New returns a plan service. apps may be nil (no partner apps yet).
func New(store ports.PlanStore, clock ports.Clock, rnd io.Reader, apps AppScopes) *Service {
	return &Service{store: store, clock: clock, rnd: rnd, apps: apps}
}

// SetAppScopes wires the partner-app lookup once it exists.
func (s *Service) SetAppScopes(apps AppScopes) { s.apps = apps }

// Seed stores the default catalog's plans that are not stored yet.
func (s *Service) Seed(ctx context.Context) error {
	now := s.clock.Now()
	cat := DefaultCatalog()
	for i := range cat {
		cat[i].Status = core.PlanActive
		cat[i].CreatedAt, cat[i].UpdatedAt = now, now
	}
	return core.Errorf("seed plans", s.store.SeedPlans(ctx, cat))
}

// Query is a public catalog query. Type and ClientID are raw query values.
type Query struct {
	Type     string // "" or a product line
	ClientID string // "" or a partner app's client id
}

// Listing is the public catalog's answer. AllowedProductTypes is set only
// when the query named a client id.
type Listing struct {
	Scoped              bool
	AllowedProductTypes []core.ProductLine
	Plans               []core.Plan
}

const maxClientIDLen = 128

// ListPublic returns the active plans of one line or all lines. With a
// client id, the plans are those of the app's lines, and a Type the app does
// not allow is KindForbidden; an unknown or suspended client is KindNotFound.
func (s *Service) ListPublic(ctx context.Context, q Query) (Listing, error) {
	var lines []core.ProductLine
	if q.Type != "" {
		l, err := core.ParseProductLine("type", q.Type)
		if err != nil {
			return Listing{}, err
		}
		lines = []core.ProductLine{l}
	}
	var out Listing
	if q.ClientID != "" {
		allowed, err := s.allowedLines(ctx, q.ClientID)
		if err != nil {
			return Listing{}, err
		}
		out.Scoped, out.AllowedProductTypes = true, allowed
		if len(lines) == 1 && !slices.Contains(allowed, lines[0]) {
			return Listing{}, core.Forbidden("this app does not offer " + string(lines[0]) + " plans")
		}
		if len(lines) == 0 {
			if len(allowed) == 0 {
				return out, nil // an empty filter would select every line
			}
			lines = allowed
		}
	}
	plans, err := s.store.ListPlans(ctx, core.PlanFilter{Lines: lines})
	if err != nil {
		return Listing{}, core.Errorf("list plans", err)
	}
	out.Plans = plans
	return out, nil
}

// PublicByID returns one active plan. With a client id, a plan of a line the
// app does not allow is KindForbidden.
func (s *Service) PublicByID(ctx context.Context, id, clientID string) (core.Plan, error) {
	if err := checkPlanID("id", id); err != nil {
		return core.Plan{}, err
	}
	var allowed []core.ProductLine
	if clientID != "" {
		var err error
		if allowed, err = s.allowedLines(ctx, clientID); err != nil {
			return core.Plan{}, err
		}
	}
	p, err := s.store.PlanByID(ctx, id)
	if err != nil {
		return core.Plan{}, core.Errorf("plan by id", err)
	}
	if p.Status != core.PlanActive {
		return core.Plan{}, core.NotFound("plan")
	}
	if clientID != "" && !slices.Contains(allowed, p.Line) {
		return core.Plan{}, core.Forbidden("this app does not offer " + string(p.Line) + " plans")
	}
	return p, nil
}

func (s *Service) allowedLines(ctx context.Context, clientID string) ([]core.ProductLine, error) {
	if len(clientID) > maxClientIDLen {
		return nil, core.Invalid("client_id", "client_id must be at most %d characters", maxClientIDLen)
	}
	if s.apps == nil {
		return nil, core.NotFound("client")
	}
	return s.apps.AllowedLines(ctx, clientID)
}

// Choose returns the plan a new subscription of line starts on: the plan
// named by planID, which must be active and of that line (field names the
// input field for errors), or the line's default free plan when planID is
// empty.
func (s *Service) Choose(ctx context.Context, line core.ProductLine, field, planID string) (core.Plan, error) {
	if planID == "" {
		return s.DefaultFree(ctx, line)
	}
	if err := checkPlanID(field, planID); err != nil {
		return core.Plan{}, err
	}
	p, err := s.store.PlanByID(ctx, planID)
	if core.IsKind(err, core.KindNotFound) || (err == nil && p.Status != core.PlanActive) {
		return core.Plan{}, core.Invalid(field, "%s names no available plan", field)
	}
	if err != nil {
		return core.Plan{}, core.Errorf("choose plan", err)
	}
	if p.Line != line {
		return core.Plan{}, core.Invalid(field, "%s is a %s plan; a %s plan is needed here", field, p.Line, line)
	}
	return p, nil
}

// DefaultFree returns the first active price-0 plan of line.
func (s *Service) DefaultFree(ctx context.Context, line core.ProductLine) (core.Plan, error) {
	ps, err := s.store.ListPlans(ctx, core.PlanFilter{Lines: []core.ProductLine{line}})
	if err != nil {
		return core.Plan{}, core.Errorf("default plan", err)
	}
	for _, p := range ps {
		if p.Free() {
			return p, nil
		}
	}
	return core.Plan{}, core.Conflict("no_free_plan", "no free "+string(line)+" plan is published; choose a planId")
}

// Get returns any plan, archived or not, for internal use (snapshots).
// Plans are cached for PlanCacheTTL; this instance's own admin changes
// invalidate the cache at once.
func (s *Service) Get(ctx context.Context, id string) (core.Plan, error) {
	now := s.clock.Now()
	s.mu.Lock()
	c, ok := s.cache[id]
	s.mu.Unlock()
	if ok && now.Before(c.expires) {
		return clonePlan(c.p), nil
	}
	p, err := s.store.PlanByID(ctx, id)
	if err != nil {
		return core.Plan{}, err
	}
	s.mu.Lock()
	if s.cache == nil || len(s.cache) > 10_000 {
		s.cache = map[string]cachedPlan{}
	}
	s.cache[id] = cachedPlan{p: clonePlan(p), expires: now.Add(PlanCacheTTL)}
	s.mu.Unlock()
	return p, nil
}

// forget drops a plan from Get's cache after a change on this instance.
func (s *Service) forget(id string) {
	s.mu.Lock()
	delete(s.cache, id)
	s.mu.Unlock()
}

func clonePlan(p core.Plan) core.Plan {
	p.Features = append([]string(nil), p.Features...)
	return p
}

var planIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func checkPlanID(field, id string) error {
	if id == "" {
		return core.Invalid(field, "%s is required", field)
	}
	if !planIDPattern.MatchString(id) {
		return core.Invalid(field, "%s must be 1-64 letters, digits, '_' or '-'", field)
	}
	return nil
}

// priceToMinor converts a major-unit price with at most two decimals.
func priceToMinor(field string, price float64) (int64, error) {
	if math.IsNaN(price) || math.IsInf(price, 0) || price < 0 || price > 1_000_000 {
		return 0, core.Invalid(field, "%s must be between 0 and 1000000", field)
	}
	cents := math.Round(price * 100)
	if math.Abs(cents-price*100) > 1e-6 {
		return 0, core.Invalid(field, "%s must have at most two decimals", field)
	}
	return int64(cents), nil
}
