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

var (
	_ ports.PartnerAppStore = (*Store)(nil)
	_ ports.LinkStore       = (*Store)(nil)
)

// appDay keys an app's counters of one UTC day.
type appDay struct {
	appID string
	day   time.Time // midnight UTC
}

// linkPair keys the one link of a profile and an app.
type linkPair struct{ profileID, appID string }

// utcDay returns midnight UTC of the day t falls on in UTC.
func utcDay(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}

// CreateApp implements ports.PartnerAppStore. Like the SQL stores' foreign
// key, it refuses an app whose owner does not exist, with core.KindNotFound.
func (s *Store) CreateApp(_ context.Context, a core.PartnerApp) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.apps[a.ID]; taken || s.clientIDTaken(a.ClientID, "") {
		return core.Conflict("app_exists", "an app with this id or client id already exists")
	}
	if _, ok := s.profiles[a.ProfileID]; !ok {
		return core.NotFound("profile")
	}
	s.apps[a.ID] = cloneApp(a)
	return nil
}

// clientIDTaken reports whether an app other than exceptID has clientID.
func (s *Store) clientIDTaken(clientID, exceptID string) bool {
	for id, a := range s.apps {
		if id != exceptID && a.ClientID == clientID {
			return true
		}
	}
	return false
}

// AppByID implements ports.PartnerAppStore.
func (s *Store) AppByID(_ context.Context, id string) (core.PartnerApp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[id]
	if !ok {
		return core.PartnerApp{}, core.NotFound("app")
	}
	return cloneApp(a), nil
}

// AppByClientID implements ports.PartnerAppStore.
func (s *Store) AppByClientID(_ context.Context, clientID string) (core.PartnerApp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.apps {
		if a.ClientID == clientID {
			return cloneApp(a), nil
		}
	}
	return core.PartnerApp{}, core.NotFound("app")
}

// AppsByOwner implements ports.PartnerAppStore: oldest first, ties broken
// by id.
func (s *Store) AppsByOwner(_ context.Context, profileID string) ([]core.PartnerApp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []core.PartnerApp
	for _, a := range s.apps {
		if a.ProfileID == profileID {
			out = append(out, cloneApp(a))
		}
	}
	slices.SortFunc(out, func(a, b core.PartnerApp) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// ListApps implements ports.PartnerAppStore. A q.Limit of zero or less
// returns no apps.
func (s *Store) ListApps(_ context.Context, q core.AppQuery) ([]core.PartnerApp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.Limit <= 0 {
		return nil, nil
	}
	var out []core.PartnerApp
	for _, a := range s.apps {
		if (q.Status == "" || a.Status == q.Status) && a.ID > q.After {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b core.PartnerApp) int { return strings.Compare(a.ID, b.ID) })
	out = out[:min(len(out), q.Limit)]
	for i := range out {
		out[i] = cloneApp(out[i])
	}
	return out, nil
}

// UpdateApp implements ports.PartnerAppStore. fn cannot change the id; a
// client id changed to a taken one is core.KindConflict, "app_exists".
func (s *Store) UpdateApp(_ context.Context, id string, fn func(a *core.PartnerApp) error) (core.PartnerApp, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[id]
	if !ok {
		return core.PartnerApp{}, core.NotFound("app")
	}
	a = cloneApp(a)
	if err := fn(&a); err != nil {
		return core.PartnerApp{}, err
	}
	a.ID = id
	if s.clientIDTaken(a.ClientID, id) {
		return core.PartnerApp{}, core.Conflict("app_exists", "an app with this id or client id already exists")
	}
	s.apps[id] = cloneApp(a)
	return a, nil
}

// DeleteApp implements ports.PartnerAppStore as the SQL stores do: the
// app's links are revoked (RevokedAt and UpdatedAt set to at, unless
// already revoked) and detached (AppID ""), so they stay listed by
// LinksByProfile but LinkFor no longer finds them; every active key of
// those links is revoked; the app and its counters are removed.
func (s *Store) DeleteApp(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[id]; !ok {
		return core.NotFound("app")
	}
	for lid, l := range s.links {
		if l.AppID != id {
			continue
		}
		if l.Active() {
			l.RevokedAt, l.UpdatedAt = cloneTime(&at), at
		}
		s.revokeLinkKeys(lid, at)
		delete(s.linkPair, linkPair{l.ProfileID, l.AppID})
		l.AppID = ""
		s.links[lid] = l
	}
	for k := range s.stats {
		if k.appID == id {
			delete(s.stats, k)
		}
	}
	delete(s.apps, id)
	return nil
}

// AddAppStat implements ports.PartnerAppStore. An unknown stat is
// core.KindInvalid (detail "stat"); an unknown app core.KindNotFound, as
// the SQL stores' foreign key makes it.
func (s *Store) AddAppStat(_ context.Context, appID string, day time.Time, stat core.AppStat, n int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := appDay{appID, utcDay(day)}
	st := s.stats[key]
	st.Day = key.day
	switch stat {
	case core.StatStarts:
		st.Starts += n
	case core.StatCompletions:
		st.Completions += n
	case core.StatExchanges:
		st.Exchanges += n
	case core.StatFailedExchanges:
		st.FailedExchanges += n
	default:
		return core.Invalid("stat", "unknown app stat %q", stat)
	}
	if _, ok := s.apps[appID]; !ok {
		return core.NotFound("app")
	}
	s.stats[key] = st
	return nil
}

// AppStats implements ports.PartnerAppStore. from and to are taken as the
// UTC days they fall on, both included.
func (s *Store) AppStats(_ context.Context, appID string, from, to time.Time) ([]core.AppDayStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from, to = utcDay(from), utcDay(to)
	var out []core.AppDayStats
	for k, st := range s.stats {
		if k.appID == appID && !k.day.Before(from) && !k.day.After(to) {
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b core.AppDayStats) int { return a.Day.Compare(b.Day) })
	return out, nil
}

// EnsureLink implements ports.LinkStore. An unknown app or profile is
// core.KindNotFound, as in the SQL stores.
func (s *Store) EnsureLink(_ context.Context, l core.ConnectLink) (core.ConnectLink, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[l.AppID]; !ok {
		return core.ConnectLink{}, core.NotFound("app")
	}
	if _, ok := s.profiles[l.ProfileID]; !ok {
		return core.ConnectLink{}, core.NotFound("profile")
	}
	pair := linkPair{l.ProfileID, l.AppID}
	if id, ok := s.linkPair[pair]; ok {
		cur := s.links[id]
		if !cur.Active() {
			cur.RevokedAt, cur.UpdatedAt = nil, l.UpdatedAt
			s.links[id] = cur
		}
		return cloneLink(cur), nil
	}
	if _, taken := s.links[l.ID]; taken {
		return core.ConnectLink{}, core.Conflict("conflict", "link id already exists")
	}
	l.RevokedAt = nil
	s.links[l.ID] = cloneLink(l)
	s.linkPair[pair] = l.ID
	return cloneLink(l), nil
}

// LinkFor implements ports.LinkStore.
func (s *Store) LinkFor(_ context.Context, profileID, appID string) (core.ConnectLink, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.linkPair[linkPair{profileID, appID}]
	if !ok {
		return core.ConnectLink{}, core.NotFound("link")
	}
	return cloneLink(s.links[id]), nil
}

// LinksByProfile implements ports.LinkStore: oldest first, ties broken by
// id. Links of deleted apps are listed too, revoked, with an empty AppID.
func (s *Store) LinksByProfile(_ context.Context, profileID string) ([]core.ConnectLink, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []core.ConnectLink
	for _, l := range s.links {
		if l.ProfileID == profileID {
			out = append(out, cloneLink(l))
		}
	}
	slices.SortFunc(out, func(a, b core.ConnectLink) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// ReplaceLinkKeys implements ports.LinkStore. keys are stored with LinkID
// set to linkID, whatever they carried. A key id or digest already stored
// is core.KindConflict (the SQL stores' unique constraints), and then
// nothing changes.
func (s *Store) ReplaceLinkKeys(_ context.Context, linkID string, keys []core.APIKey, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[linkID]
	if !ok || !l.Active() {
		return core.NotFound("link")
	}
	ids, digests := map[string]bool{}, map[string]bool{}
	for _, k := range s.keys {
		ids[k.ID], digests[k.Digest] = true, true
	}
	for _, k := range keys {
		if ids[k.ID] || digests[k.Digest] {
			return core.Conflict("conflict", "a key with this id or digest already exists")
		}
		ids[k.ID], digests[k.Digest] = true, true
	}
	s.revokeLinkKeys(linkID, at)
	for _, k := range keys {
		k.LinkID = linkID
		s.keys[k.ID] = cloneKey(k)
	}
	return nil
}

// RevokeLink implements ports.LinkStore. An already revoked link keeps its
// first RevokedAt.
func (s *Store) RevokeLink(_ context.Context, profileID, linkID string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[linkID]
	if !ok || l.ProfileID != profileID {
		return core.NotFound("link")
	}
	if l.Active() {
		l.RevokedAt, l.UpdatedAt = cloneTime(&at), at
		s.links[linkID] = l
	}
	s.revokeLinkKeys(linkID, at)
	return nil
}

// revokeLinkKeys revokes, at at, the link's active keys. s.mu is held.
func (s *Store) revokeLinkKeys(linkID string, at time.Time) {
	for id, k := range s.keys {
		if k.LinkID == linkID && k.Active() {
			k.RevokedAt = cloneTime(&at)
			s.keys[id] = k
		}
	}
}

func cloneApp(a core.PartnerApp) core.PartnerApp {
	a.RedirectURIs = slices.Clone(a.RedirectURIs)
	return a
}

func cloneLink(l core.ConnectLink) core.ConnectLink {
	l.RevokedAt = cloneTime(l.RevokedAt)
	return l
}
