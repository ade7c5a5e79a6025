package messaging

import (
	"context"

	"github.com/gellhub/gellhub/core"
)

// Account is the dashboard's view of a messaging account.
type Account struct {
	Credits       int64
	InboundCount  int64
	OutboundCount int64
	HasAPIKey     bool
	MaskedAPIKey  string // "msg_AbCd1234…" (the stored display prefix); "" without a key
}

// Account returns the caller's credits, counters and key display (browser
// session only). It needs no subscription; an eligible one has its
// credits of the month granted first.
func (s *Service) Account(ctx context.Context, who core.Principal) (Account, error) {
	if err := who.RequireSession(); err != nil {
		return Account{}, err
	}
	snap, ok, err := s.cfg.Accounts.Subscription(ctx, who.ProfileID, core.LineMessaging)
	if err != nil {
		return Account{}, err
	}
	if ok && snap.Eligible {
		if err := s.grantMonthly(ctx, who.ProfileID, snap.Plan); err != nil {
			return Account{}, err
		}
	}
	u, err := s.cfg.Store.MessagingUsage(ctx, who.ProfileID)
	if err != nil {
		return Account{}, core.Errorf("messaging usage", err)
	}
	out := Account{Credits: u.Credits, InboundCount: u.InboundCount, OutboundCount: u.OutboundCount}
	key, found, err := s.messagingKey(ctx, who.ProfileID)
	if err != nil {
		return Account{}, err
	}
	if found {
		out.HasAPIKey, out.MaskedAPIKey = true, core.MaskKey(key.DisplayPrefix)
	}
	return out, nil
}

// messagingKey finds the profile's active msg_ key: its own key first,
// else one minted for a connect link.
func (s *Service) messagingKey(ctx context.Context, profileID string) (core.APIKey, bool, error) {
	keys, err := s.cfg.Keys.ActiveAPIKeys(ctx, profileID)
	if err != nil {
		return core.APIKey{}, false, core.Errorf("api keys", err)
	}
	var linked *core.APIKey
	for i, k := range keys {
		if k.Line != core.LineMessaging {
			continue
		}
		if k.LinkID == "" {
			return k, true, nil
		}
		if linked == nil {
			linked = &keys[i]
		}
	}
	if linked != nil {
		return *linked, true, nil
	}
	return core.APIKey{}, false, nil
}

// RotateKey creates the caller's msg_ key, or replaces it (the old one
// stops working at once), and returns it this once. Browser session only;
// an eligible Messaging plan is required (402 subscription_required).
// Keys minted for connect links are left alone.
func (s *Service) RotateKey(ctx context.Context, who core.Principal) (string, error) {
	if err := who.RequireSession(); err != nil {
		return "", err
	}
	if _, err := s.subscribed(ctx, who.ProfileID); err != nil {
		return "", err
	}
	raw, key, err := s.cfg.Accounts.MintKey(who.ProfileID, core.LineMessaging, "")
	if err != nil {
		return "", err
	}
	if err := s.cfg.Keys.RotateAPIKey(ctx, key, s.now()); err != nil {
		return "", core.Errorf("rotate messaging key", err)
	}
	return raw, nil
}
