package httpapi

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/messaging"
)

// Dynamic skills: GET/PUT /api/messaging/v1/skills (the msg_ key) and
// their dashboard twin /api/messaging/skills-config (a session). The
// webhook's secret is write-only: answers say only whether one is set.

// skillJSON is one keyword-triggered skill.
type skillJSON struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Keywords []string `json:"keywords"`
}

// skillCallErrorJSON is one failed call of the skills webhook.
type skillCallErrorJSON struct {
	At    time.Time `json:"at"`
	Skill string    `json:"skill"`
	Error string    `json:"error"`
}

// skillsStatusJSON is what the recent calls of the webhook did.
type skillsStatusJSON struct {
	LastCallAt    *time.Time           `json:"lastCallAt"`    // null: never called
	LastSuccessAt *time.Time           `json:"lastSuccessAt"` // null: never answered validly
	RecentErrors  []skillCallErrorJSON `json:"recentErrors"`  // newest first; [] for none
}

// skillsJSON is a profile's skills configuration, without its secret.
type skillsJSON struct {
	SkillsEnabled          bool             `json:"skillsEnabled"`
	SkillsWebhookURL       string           `json:"skillsWebhookUrl"`
	SkillsWebhookSecretSet bool             `json:"skillsWebhookSecretSet"`
	Skills                 []skillJSON      `json:"skills"`
	SkillsStatus           skillsStatusJSON `json:"skillsStatus"`
	UpdatedAt              *time.Time       `json:"updatedAt"` // null: never configured
}

// skillsRequest replaces the configuration. skillsEnabled,
// skillsWebhookUrl and skills are required (a PUT that forgot one would
// otherwise wipe it); skillsWebhookSecret absent (or null) keeps the
// secret, "" removes it.
type skillsRequest struct {
	SkillsEnabled       *bool        `json:"skillsEnabled"`
	SkillsWebhookURL    *string      `json:"skillsWebhookUrl"`
	SkillsWebhookSecret *string      `json:"skillsWebhookSecret"`
	Skills              *[]skillJSON `json:"skills"`
}

// timeOrNil is t, or nil (JSON null) when it is zero.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func skillsView(v messaging.SkillsView) skillsJSON {
	out := skillsJSON{
		SkillsEnabled: v.Enabled, SkillsWebhookURL: v.WebhookURL, SkillsWebhookSecretSet: v.SecretSet,
		Skills: make([]skillJSON, len(v.Skills)), UpdatedAt: timeOrNil(v.UpdatedAt),
		SkillsStatus: skillsStatusJSON{
			LastCallAt: timeOrNil(v.Status.LastCallAt), LastSuccessAt: timeOrNil(v.Status.LastSuccessAt),
			RecentErrors: make([]skillCallErrorJSON, len(v.Status.RecentErrors)),
		},
	}
	for i, sk := range v.Skills {
		kw := sk.Keywords
		if kw == nil {
			kw = []string{}
		}
		out.Skills[i] = skillJSON{Key: sk.Key, Label: sk.Label, Keywords: kw}
	}
	for i, e := range v.Status.RecentErrors {
		out.SkillsStatus.RecentErrors[i] = skillCallErrorJSON{At: e.At, Skill: e.Skill, Error: e.Error}
	}
	return out
}

func (s *Server) messagingSkills(c *fiber.Ctx) error {
	v, err := s.Messaging.Skills(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(skillsView(v))
}

func (s *Server) messagingPutSkills(c *fiber.Ctx) error {
	var req skillsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	switch {
	case req.SkillsEnabled == nil:
		return core.Invalid("skillsEnabled", "skillsEnabled is required (true or false)")
	case req.SkillsWebhookURL == nil:
		return core.Invalid("skillsWebhookUrl", `skillsWebhookUrl is required ("" for none)`)
	case req.Skills == nil:
		return core.Invalid("skills", "skills is required ([] for none)")
	}
	in := messaging.SkillsInput{
		Enabled: *req.SkillsEnabled, WebhookURL: *req.SkillsWebhookURL, Secret: req.SkillsWebhookSecret,
		Skills: make([]core.Skill, len(*req.Skills)),
	}
	for i, sk := range *req.Skills {
		in.Skills[i] = core.Skill{Key: sk.Key, Label: sk.Label, Keywords: sk.Keywords}
	}
	v, err := s.Messaging.PutSkills(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(skillsView(v))
}
