package testkit

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

var _ ports.WebhookStore = (*Store)(nil)

// webhookState is the part of Store that holds outgoing webhook
// deliveries. It is guarded by Store.mu.
type webhookState struct {
	deliveries map[string]core.WebhookDelivery  // id → delivery, without its attempts
	attempts   map[string][]core.WebhookAttempt // delivery id → attempts, oldest first
	// enqueue queues the deliveries of a turn (SetEnqueuer); nil until set.
	enqueue func(ids []string)
}

func newWebhookState() webhookState {
	return webhookState{deliveries: map[string]core.WebhookDelivery{}, attempts: map[string][]core.WebhookAttempt{}}
}

// add stores d, which has no attempts.
func (w *webhookState) add(d core.WebhookDelivery) {
	d.Body, d.Attempts = slices.Clone(d.Body), nil
	w.deliveries[d.ID] = d
}

// SetEnqueuer sets the function RecordTurn gives the ids of a turn's
// webhook deliveries to, after the turn is applied and outside the
// store's lock (a MemQueue's Enqueue, or a recorder in tests). Memory has
// no transactions: the turn and the enqueue are two steps, and enqueue
// cannot refuse. A turn with deliveries and no enqueuer set is refused.
func (s *Store) SetEnqueuer(enqueue func(ids []string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messaging.webhooks.enqueue = enqueue
}

// skillsLocked returns profileID's skills configuration in p and its
// status: zero values when it has none. s.mu is held.
func (s *Store) skillsLocked(profileID string, p *msgProfile) (core.SkillsConfig, core.SkillsStatus) {
	if p.skills == nil {
		return core.SkillsConfig{}, core.SkillsStatus{}
	}
	st := s.messaging.skillsStatus[profileID]
	st.RecentErrors = slices.Clone(st.RecentErrors)
	return p.skills.Clone(), st
}

func (p *msgProfile) handoffConfig() core.HandoffConfig {
	if p.handoff == nil {
		return core.HandoffConfig{}
	}
	return *p.handoff
}

// SkillsConfig implements ports.MessagingStore.
func (s *Store) SkillsConfig(_ context.Context, profileID string) (core.SkillsConfig, core.SkillsStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.profiles[profileID]; !ok {
		return core.SkillsConfig{}, core.SkillsStatus{}, core.NotFound("profile")
	}
	c, st := s.skillsLocked(profileID, s.msgProfile(profileID))
	return c, st, nil
}

// HandoffConfig implements ports.MessagingStore.
func (s *Store) HandoffConfig(_ context.Context, profileID string) (core.HandoffConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.profiles[profileID]; !ok {
		return core.HandoffConfig{}, core.NotFound("profile")
	}
	return s.msgProfile(profileID).handoffConfig(), nil
}

// RecordSkillCall implements ports.MessagingStore.
func (s *Store) RecordSkillCall(_ context.Context, profileID string, at time.Time, failure *core.SkillCallError) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.profiles[profileID]; !ok {
		return core.NotFound("profile")
	}
	if s.msgProfile(profileID).skills == nil {
		return nil
	}
	st := s.messaging.skillsStatus[profileID]
	st.LastCallAt = at
	if failure == nil {
		st.LastSuccessAt = at
	} else {
		// A new slice: the old one may be shared with a reader's copy.
		errs := make([]core.SkillCallError, 0, core.MaxSkillErrors)
		errs = append(errs, *failure)
		st.RecentErrors = append(errs, st.RecentErrors[:min(len(st.RecentErrors), core.MaxSkillErrors-1)]...)
	}
	s.messaging.skillsStatus[profileID] = st
	return nil
}

// Delivery implements ports.WebhookStore.
func (s *Store) Delivery(_ context.Context, id string) (core.WebhookDelivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.messaging.webhooks.deliveries[id]
	if !ok {
		return core.WebhookDelivery{}, core.NotFound("delivery")
	}
	d.Body = slices.Clone(d.Body)
	return d, nil
}

// RecordAttempt implements ports.WebhookStore. The attempt belongs to d
// (a.DeliveryID is d.ID when empty; another id is core.KindInvalid).
func (s *Store) RecordAttempt(_ context.Context, d core.WebhookDelivery, a core.WebhookAttempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.DeliveryID == "" {
		a.DeliveryID = d.ID
	}
	if a.DeliveryID != d.ID {
		return core.Invalid("deliveryId", "the attempt is not the delivery's")
	}
	w := &s.messaging.webhooks
	cur, ok := w.deliveries[d.ID]
	if !ok {
		return core.NotFound("delivery")
	}
	if slices.ContainsFunc(w.attempts[d.ID], func(o core.WebhookAttempt) bool { return o.N == a.N }) {
		return core.Conflict("attempt_recorded", "this attempt of the delivery is recorded already")
	}
	cur.State, cur.AttemptCount, cur.NextAttemptAt = d.State, d.AttemptCount, d.NextAttemptAt
	cur.DeliveredAt, cur.UpdatedAt = d.DeliveredAt, d.UpdatedAt
	w.deliveries[d.ID] = cur
	// Never append in place: a listing may share the slice.
	attempts := append(slices.Clip(w.attempts[d.ID]), a)
	slices.SortFunc(attempts, func(x, y core.WebhookAttempt) int { return cmp.Compare(x.N, y.N) })
	w.attempts[d.ID] = attempts
	return nil
}

// Deliveries implements ports.WebhookStore. An After that is not one of
// the profile's deliveries is core.KindInvalid.
func (s *Store) Deliveries(_ context.Context, profileID string, q ports.DeliveryQuery) ([]core.WebhookDelivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.Limit <= 0 {
		return nil, nil
	}
	w := &s.messaging.webhooks
	newestFirst := func(a, b core.WebhookDelivery) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
	}
	var after *core.WebhookDelivery
	if q.After != "" {
		a, ok := w.deliveries[q.After]
		if !ok || a.ProfileID != profileID {
			return nil, core.Invalid("after", "not a delivery of this profile")
		}
		after = &a
	}
	var out []core.WebhookDelivery
	for _, d := range w.deliveries {
		if d.ProfileID != profileID || (q.Event != "" && d.Event != q.Event) || (after != nil && newestFirst(d, *after) <= 0) {
			continue
		}
		out = append(out, d)
	}
	slices.SortFunc(out, newestFirst)
	out = out[:min(len(out), q.Limit)]
	for i := range out {
		out[i].Body = slices.Clone(out[i].Body)
		out[i].Attempts = slices.Clone(w.attempts[out[i].ID])
	}
	return out, nil
}

// PurgeDeliveries implements ports.WebhookStore.
func (s *Store) PurgeDeliveries(_ context.Context, before time.Time, limit int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit <= 0 {
		return 0, nil
	}
	w := &s.messaging.webhooks
	var old []core.WebhookDelivery
	for _, d := range w.deliveries {
		if d.State != core.DeliveryPending && d.UpdatedAt.Before(before) {
			old = append(old, d)
		}
	}
	slices.SortFunc(old, func(a, b core.WebhookDelivery) int {
		return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), strings.Compare(a.ID, b.ID))
	})
	old = old[:min(len(old), limit)]
	for _, d := range old {
		delete(w.deliveries, d.ID)
		delete(w.attempts, d.ID)
	}
	return len(old), nil
}

// StalledDeliveries implements ports.WebhookStore.
func (s *Store) StalledDeliveries(_ context.Context, before time.Time, after string, limit int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit <= 0 {
		return nil, nil
	}
	w := &s.messaging.webhooks
	order := func(a, b core.WebhookDelivery) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), strings.Compare(a.ID, b.ID))
	}
	// A pending delivery without a NextAttemptAt is not due (the SQL
	// stores' NULL compares as nothing).
	pending := func(d core.WebhookDelivery) bool { return d.State == core.DeliveryPending && !d.NextAttemptAt.IsZero() }
	var cursor *core.WebhookDelivery
	if after != "" {
		c, ok := w.deliveries[after]
		if !ok || !pending(c) {
			return nil, nil
		}
		cursor = &c
	}
	var due []core.WebhookDelivery
	for _, d := range w.deliveries {
		if pending(d) && d.NextAttemptAt.Before(before) && (cursor == nil || order(d, *cursor) > 0) {
			due = append(due, d)
		}
	}
	slices.SortFunc(due, order)
	due = due[:min(len(due), limit)]
	if len(due) == 0 {
		return nil, nil
	}
	ids := make([]string, len(due))
	for i, d := range due {
		ids[i] = d.ID
	}
	return ids, nil
}
