package testkit

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Store is an in-memory implementation of every store port. It is safe for
// concurrent use, copies values in and out, and passes the same contract
// suite as the SQL adapters.
type Store struct {
	mu       sync.Mutex
	profiles map[string]core.Profile
	byEmail  map[string]string // normalized email → profile id
	studios  map[string]core.Studio
	drives   map[string]core.Drive
	subs     map[string]core.Subscription // id → subscription
	keys     map[string]core.APIKey       // id → key
	plans    map[string]core.Plan
	sessions map[string]core.Session

	// Partner apps and connect links (memstore_partner.go).
	apps     map[string]core.PartnerApp
	stats    map[appDay]core.AppDayStats
	links    map[string]core.ConnectLink // id → link
	linkPair map[linkPair]string         // (profile, app) → link id; detached links are not in it

	// Storage quotas and the Client Gallery (memstore_storage.go).
	storage storageState

	// Drive trees and pending object deletions (memstore_drive.go).
	drive driveState

	// Billing customers and the payment event inbox (memstore_billing.go).
	billing billingStoreState

	// Messaging agents, credits, conversations and embeds (memstore_messaging.go).
	messaging messagingState
}

var (
	_ ports.AccountStore   = (*Store)(nil)
	_ ports.PlanStore      = (*Store)(nil)
	_ ports.SessionStore   = (*Store)(nil)
	_ ports.SessionPurger  = (*Store)(nil)
	_ ports.Pinger         = (*Store)(nil)
	_ ports.DriveStore     = (*Store)(nil)
	_ ports.MessagingStore = (*Store)(nil)
)

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{
		profiles:  map[string]core.Profile{},
		byEmail:   map[string]string{},
		studios:   map[string]core.Studio{},
		drives:    map[string]core.Drive{},
		subs:      map[string]core.Subscription{},
		keys:      map[string]core.APIKey{},
		plans:     map[string]core.Plan{},
		sessions:  map[string]core.Session{},
		apps:      map[string]core.PartnerApp{},
		stats:     map[appDay]core.AppDayStats{},
		links:     map[string]core.ConnectLink{},
		linkPair:  map[linkPair]string{},
		storage:   newStorageState(),
		drive:     newDriveState(),
		billing:   newBillingStoreState(),
		messaging: newMessagingState(),
	}
}

// Ping implements ports.Pinger.
func (s *Store) Ping(context.Context) error { return nil }

// CreateAccount implements ports.AccountStore.
func (s *Store) CreateAccount(_ context.Context, a core.Account) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.byEmail[a.Profile.EmailNormalized]; taken {
		return core.Conflict("email_taken", "an account with this email already exists")
	}
	if _, dup := s.profiles[a.Profile.ID]; dup {
		return core.Conflict("conflict", "profile id already exists")
	}
	for _, sub := range a.Subscriptions {
		if _, ok := s.plans[sub.PlanID]; !ok {
			return core.Invalid("planId", "unknown plan %q", sub.PlanID)
		}
	}
	s.profiles[a.Profile.ID] = a.Profile
	s.byEmail[a.Profile.EmailNormalized] = a.Profile.ID
	s.studios[a.Profile.ID] = a.Studio
	s.drives[a.Profile.ID] = a.Drive
	for _, sub := range a.Subscriptions {
		s.subs[sub.ID] = cloneSub(sub)
	}
	for _, k := range a.Keys {
		s.keys[k.ID] = cloneKey(k)
	}
	return nil
}

// ProfileByID implements ports.AccountStore.
func (s *Store) ProfileByID(_ context.Context, id string) (core.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.profiles[id]
	if !ok {
		return core.Profile{}, core.NotFound("profile")
	}
	return p, nil
}

// ProfileByEmail implements ports.AccountStore.
func (s *Store) ProfileByEmail(_ context.Context, normalized string) (core.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byEmail[normalized]
	if !ok {
		return core.Profile{}, core.NotFound("profile")
	}
	return s.profiles[id], nil
}

// StudioByProfile implements ports.AccountStore.
func (s *Store) StudioByProfile(_ context.Context, profileID string) (core.Studio, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.studios[profileID]
	if !ok {
		return core.Studio{}, core.NotFound("studio")
	}
	return st, nil
}

// DriveByProfile implements ports.AccountStore.
func (s *Store) DriveByProfile(_ context.Context, profileID string) (core.Drive, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.drives[profileID]
	if !ok {
		return core.Drive{}, core.NotFound("drive")
	}
	return d, nil
}

// Subscriptions implements ports.AccountStore.
func (s *Store) Subscriptions(_ context.Context, profileID string) ([]core.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []core.Subscription
	for _, sub := range s.subs {
		if sub.ProfileID == profileID {
			out = append(out, cloneSub(sub))
		}
	}
	return out, nil
}

// SetSubscription implements ports.AccountStore. A stored subscription of
// the line keeps its id and takes every other field from sub.
func (s *Store) SetSubscription(_ context.Context, sub core.Subscription) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.profiles[sub.ProfileID]; !ok {
		return core.NotFound("profile")
	}
	if _, ok := s.plans[sub.PlanID]; !ok {
		return core.Invalid("planId", "unknown plan %q", sub.PlanID)
	}
	for _, old := range s.subs {
		if old.ProfileID == sub.ProfileID && old.Line == sub.Line {
			sub.ID = old.ID
			s.subs[sub.ID] = cloneSub(sub)
			return nil
		}
	}
	if _, taken := s.subs[sub.ID]; taken {
		return core.Conflict("conflict", "subscription id already exists")
	}
	s.subs[sub.ID] = cloneSub(sub)
	return nil
}

// APIKeyByDigest implements ports.AccountStore.
func (s *Store) APIKeyByDigest(_ context.Context, digest string) (core.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if k.Digest == digest && k.Active() {
			return cloneKey(k), nil
		}
	}
	return core.APIKey{}, core.NotFound("api key")
}

// ActiveAPIKeys implements ports.AccountStore.
func (s *Store) ActiveAPIKeys(_ context.Context, profileID string) ([]core.APIKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []core.APIKey
	for _, k := range s.keys {
		if k.ProfileID == profileID && k.Active() {
			out = append(out, cloneKey(k))
		}
	}
	slices.SortFunc(out, func(a, b core.APIKey) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// RotateAPIKey implements ports.AccountStore: only own keys (LinkID "")
// are revoked.
func (s *Store) RotateAPIKey(_ context.Context, key core.APIKey, revokedAt time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.profiles[key.ProfileID]; !ok {
		return core.NotFound("profile")
	}
	for id, k := range s.keys {
		if k.ProfileID == key.ProfileID && k.Line == key.Line && k.LinkID == "" && k.Active() {
			t := revokedAt
			k.RevokedAt = &t
			s.keys[id] = k
		}
	}
	s.keys[key.ID] = cloneKey(key)
	return nil
}

// SeedPlans implements ports.PlanStore.
func (s *Store) SeedPlans(_ context.Context, plans []core.Plan) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range plans {
		if _, ok := s.plans[p.ID]; !ok {
			s.plans[p.ID] = clonePlan(p)
		}
	}
	return nil
}

// CreatePlan implements ports.PlanStore.
func (s *Store) CreatePlan(_ context.Context, p core.Plan) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.plans[p.ID]; ok {
		return core.Conflict("plan_exists", "a plan with this id already exists")
	}
	s.plans[p.ID] = clonePlan(p)
	return nil
}

// PlanByID implements ports.PlanStore.
func (s *Store) PlanByID(_ context.Context, id string) (core.Plan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.plans[id]
	if !ok {
		return core.Plan{}, core.NotFound("plan")
	}
	return clonePlan(p), nil
}

// ListPlans implements ports.PlanStore.
func (s *Store) ListPlans(_ context.Context, f core.PlanFilter) ([]core.Plan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []core.Plan
	for _, p := range s.plans {
		if f.Match(p) {
			out = append(out, clonePlan(p))
		}
	}
	SortPlans(out)
	return out, nil
}

// SortPlans orders plans as ports.PlanStore.ListPlans promises.
func SortPlans(ps []core.Plan) {
	rank := func(l core.ProductLine) int { return slices.Index(core.ProductLines, l) }
	slices.SortFunc(ps, func(a, b core.Plan) int {
		if c := rank(a.Line) - rank(b.Line); c != 0 {
			return c
		}
		if c := a.SortOrder - b.SortOrder; c != 0 {
			return c
		}
		if a.PriceMinor != b.PriceMinor {
			if a.PriceMinor < b.PriceMinor {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// UpdatePlan implements ports.PlanStore.
func (s *Store) UpdatePlan(_ context.Context, id string, fn func(p *core.Plan, inUse bool) error) (core.Plan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.plans[id]
	if !ok {
		return core.Plan{}, core.NotFound("plan")
	}
	p = clonePlan(p)
	if err := fn(&p, s.planInUse(id)); err != nil {
		return core.Plan{}, err
	}
	p.ID = id
	s.plans[id] = clonePlan(p)
	return p, nil
}

// DeletePlan implements ports.PlanStore.
func (s *Store) DeletePlan(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.plans[id]; !ok {
		return core.NotFound("plan")
	}
	if s.planInUse(id) {
		return core.Conflict("plan_in_use", "the plan has subscriptions; archive it instead")
	}
	delete(s.plans, id)
	return nil
}

func (s *Store) planInUse(id string) bool {
	for _, sub := range s.subs {
		if sub.PlanID == id {
			return true
		}
	}
	return false
}

// CreateSession implements ports.SessionStore. Like the SQL stores' foreign
// key, it refuses a session whose profile does not exist with
// core.KindConflict (code "conflict"), and then leaves any session stored
// under the same digest as it was.
func (s *Store) CreateSession(_ context.Context, sess core.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.profiles[sess.ProfileID]; !ok {
		return core.Conflict("conflict", "the session's profile does not exist")
	}
	s.sessions[sess.TokenDigest] = sess
	return nil
}

// SessionByDigest implements ports.SessionStore.
func (s *Store) SessionByDigest(_ context.Context, digest string, now time.Time) (core.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[digest]
	if !ok || !now.Before(sess.ExpiresAt) {
		return core.Session{}, core.NotFound("session")
	}
	return sess, nil
}

// DeleteSession implements ports.SessionStore.
func (s *Store) DeleteSession(_ context.Context, digest string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, digest)
	return nil
}

// PurgeExpiredSessions implements ports.SessionPurger.
func (s *Store) PurgeExpiredSessions(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for d, sess := range s.sessions {
		if !now.Before(sess.ExpiresAt) {
			delete(s.sessions, d)
			n++
		}
	}
	return n, nil
}

func clonePlan(p core.Plan) core.Plan {
	p.Features = slices.Clone(p.Features)
	return p
}

func cloneKey(k core.APIKey) core.APIKey {
	k.RevokedAt = cloneTime(k.RevokedAt)
	return k
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func cloneSub(s core.Subscription) core.Subscription {
	if s.CurrentPeriodEnd != nil {
		t := *s.CurrentPeriodEnd
		s.CurrentPeriodEnd = &t
	}
	return s
}
