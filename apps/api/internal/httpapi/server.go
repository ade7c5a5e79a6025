// Package httpapi is gellhub's HTTP API on Fiber: thin handlers that decode
// a request, call one use case and encode its answer. Wire types live here,
// apart from the domain's, so the JSON partners rely on changes only when
// this package says so.
package httpapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/accounts"
	"github.com/gellhub/gellhub/core/billing"
	"github.com/gellhub/gellhub/core/connect"
	"github.com/gellhub/gellhub/core/developer"
	"github.com/gellhub/gellhub/core/drive"
	"github.com/gellhub/gellhub/core/gallery"
	"github.com/gellhub/gellhub/core/messaging"
	"github.com/gellhub/gellhub/core/plans"
	"github.com/gellhub/gellhub/ports"
)

// Check is a named readiness probe for /readyz.
type Check struct {
	Name   string
	Pinger ports.Pinger
}

// Deps is what the HTTP layer needs.
type Deps struct {
	Log       *slog.Logger
	Accounts  *accounts.Service
	Plans     *plans.Service
	Developer *developer.Service
	Connect   *connect.Service
	Gallery   *gallery.Service
	Drive     *drive.Service
	// Billing serves checkout, the portal, invoices, Stripe's webhook and
	// the embedded default's simulated payment pages; nil answers 503.
	Billing *billing.Service
	// Messaging serves the Messaging API and the website widget's public
	// routes; nil answers 503.
	Messaging *messaging.Service
	// LocalUploads serves the presigned PUTs of the embedded default's
	// local object storage (PUT /api/blob/upload); nil with S3.
	LocalUploads   LocalUploads
	Checks         []Check
	BaseURL        string
	SecureCookies  bool
	BodyLimit      int
	TrustedProxies []string
	// ReadTimeout bounds reading a request's headers and JSON body
	// (default 30 s); streaming uploads are bounded by stalls instead.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response (default 30 s); media
	// downloads are bounded by stalls instead.
	WriteTimeout time.Duration
	// MaxUploads caps proxy uploads in flight on this instance (default
	// 16), and MaxUploadsPerAccount those of one account (default 4):
	// each holds up to ~48 MiB of part buffers on S3.
	MaxUploads           int
	MaxUploadsPerAccount int
}

// Server holds the handlers' dependencies.
type Server struct {
	Deps
	log     *slog.Logger
	trusted trustedProxies
	uploads *uploadSlots
}

// SessionCookie is the name of the browser session cookie. Over https it
// is __Host-gellhub_session, which a sibling subdomain cannot set.
const SessionCookie = "gellhub_session"

func (s *Server) sessionCookieName() string {
	if s.SecureCookies {
		return "__Host-" + SessionCookie
	}
	return SessionCookie
}

func (s *Server) sessionToken(c *fiber.Ctx) string { return c.Cookies(s.sessionCookieName()) }

// New builds the Fiber app with every route.
func New(d Deps) *fiber.App {
	if d.ReadTimeout <= 0 {
		d.ReadTimeout = 30 * time.Second
	}
	if d.WriteTimeout <= 0 {
		d.WriteTimeout = 30 * time.Second
	}
	if d.MaxUploads <= 0 {
		d.MaxUploads = 16
	}
	if d.MaxUploadsPerAccount <= 0 {
		d.MaxUploadsPerAccount = 4
	}
	s := &Server{Deps: d, log: d.Log, trusted: parseTrusted(d.TrustedProxies), uploads: newUploadSlots(d.MaxUploads, d.MaxUploadsPerAccount)}
	cfg := fiber.Config{
		AppName:      "gellhub",
		ErrorHandler: s.errorHandler,
		BodyLimit:    d.BodyLimit,
		// Bodies over BodyLimit are streamed to the handler instead of
		// refused (uploads); JSON routes enforce the limit themselves
		// (decodeJSON), and multipart is never pre-parsed into memory.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ReadTimeout:                  d.ReadTimeout,
		WriteTimeout:                 d.WriteTimeout,
		IdleTimeout:                  120 * time.Second,
		DisableStartupMessage:        true,
		CaseSensitive:                true,
		// Params, queries, headers and cookies are copied out of fasthttp's
		// reusable buffers: values reach map keys, caches and goroutines
		// (an in-memory store keyed by a c.Params string got corrupted).
		Immutable: true,
	}
	app := fiber.New(cfg)
	app.Use(s.guardBody, s.requestID, s.accessLog, s.recoverPanics, s.crossOriginProtection)

	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)

	api := app.Group("/api")
	api.Post("/register", s.register)
	api.Post("/login", s.login)
	api.Post("/logout", s.logout)
	api.Get("/me", s.session, s.me)
	api.Post("/keys/rotate", s.session, s.rotateKey)

	api.Get("/public/plans", s.publicPlans)
	api.Get("/public/plans/by-id", s.publicPlanByID)

	api.Get("/admin/plans", s.session, s.adminListPlans)
	api.Post("/admin/plans", s.session, s.adminCreatePlan)
	api.Patch("/admin/plans/:id", s.session, s.adminUpdatePlan)
	api.Delete("/admin/plans/:id", s.session, s.adminDeletePlan)

	api.Get("/billing/status", s.apiKey, s.billingStatus)
	api.Post("/billing/checkout-session", s.keyOrSession, s.billingCheckout)
	api.Post("/billing/portal", s.keyOrSession, s.billingPortal)
	api.Get("/billing/invoices", s.keyOrSession, s.billingInvoices)
	api.Post("/webhooks/stripe", s.stripeWebhook)
	api.Post("/admin/plans/sync-stripe", s.session, s.adminSyncPlans)
	app.Get("/billing/local/checkout/:id", s.localCheckoutPage)
	app.Post("/billing/local/checkout/:id", s.localCheckoutSubmit)
	app.Get("/billing/local/portal/:id", s.localPortalPage)
	app.Post("/billing/local/portal/:id", s.localPortalSubmit)

	api.Get("/collections", s.keyOrSession, s.listCollections)
	api.Post("/collections", s.keyOrSession, s.createCollection)
	api.Get("/collections/:id/files", s.keyOrSession, s.collectionFiles)
	api.Get("/categories", s.keyOrSession, s.listCategories)
	api.Post("/categories", s.keyOrSession, s.createCategory)
	api.Post("/upload", s.keyOrSession, s.galleryUpload)
	api.Post("/upload/presign", s.keyOrSession, s.presignUpload)
	api.Post("/upload/complete", s.keyOrSession, s.completeUpload)
	api.Get("/studio/storage", s.keyOrSession, s.studioStorage)
	api.Get("/media", s.galleryMedia)

	api.Get("/drive", s.keyOrSession, s.driveList)
	api.Post("/drive", s.keyOrSession, s.driveCreateFolder)
	api.Post("/drive/upload", s.keyOrSession, s.driveUpload)
	api.Post("/drive/upload/presign", s.keyOrSession, s.drivePresign)
	api.Post("/drive/upload/complete", s.keyOrSession, s.driveComplete)
	api.Get("/drive/items/:id", s.keyOrSession, s.driveItem)
	api.Patch("/drive/items/:id", s.keyOrSession, s.driveUpdateItem)
	api.Delete("/drive/items/:id", s.keyOrSession, s.driveTrashItem)
	api.Get("/drive/trash", s.keyOrSession, s.driveTrash)
	api.Post("/drive/trash", s.keyOrSession, s.driveRestore)
	api.Delete("/drive/trash", s.keyOrSession, s.driveDeleteForever)
	api.Get("/drive/storage", s.keyOrSession, s.driveStorage)
	api.Get("/drive/media", s.driveMedia)
	if d.LocalUploads != nil {
		api.Put("/blob/upload", s.localBlobUpload)
		api.Options("/blob/upload", s.localBlobPreflight)
	}

	mo := s.messagingOn
	api.Get("/messaging/account", mo, s.session, s.messagingAccount)
	api.Post("/messaging/api-key", mo, s.session, s.messagingRotateKey)
	api.Get("/messaging/embed-config", mo, s.session, s.messagingEmbed)
	api.Put("/messaging/embed-config", mo, s.session, s.messagingPutEmbed)
	api.Get("/messaging/skills-config", mo, s.session, s.messagingSkills)
	api.Put("/messaging/skills-config", mo, s.session, s.messagingPutSkills)
	api.Get("/messaging/v1/bot", mo, s.apiKey, s.messagingBot)
	api.Post("/messaging/v1/chat", mo, s.apiKey, s.messagingChat)
	api.Get("/messaging/v1/agents", mo, s.apiKey, s.messagingAgents)
	api.Post("/messaging/v1/agents", mo, s.apiKey, s.messagingCreateAgent)
	api.Get("/messaging/v1/agents/:id", mo, s.apiKey, s.messagingAgent)
	api.Patch("/messaging/v1/agents/:id", mo, s.apiKey, s.messagingUpdateAgent)
	api.Delete("/messaging/v1/agents/:id", mo, s.apiKey, s.messagingDeleteAgent)
	api.Get("/messaging/v1/agents/:id/sources", mo, s.apiKey, s.messagingSources)
	api.Post("/messaging/v1/agents/:id/sources", mo, s.apiKey, s.messagingAddSource)
	api.Delete("/messaging/v1/agents/:id/sources/:sourceId", mo, s.apiKey, s.messagingDeleteSource)
	api.Get("/messaging/v1/embed", mo, s.apiKey, s.messagingEmbed)
	api.Put("/messaging/v1/embed", mo, s.apiKey, s.messagingPutEmbed)
	api.Get("/messaging/v1/skills", mo, s.apiKey, s.messagingSkills)
	api.Put("/messaging/v1/skills", mo, s.apiKey, s.messagingPutSkills)
	api.Get("/messaging/v1/handoff", mo, s.apiKey, s.messagingHandoff)
	api.Put("/messaging/v1/handoff", mo, s.apiKey, s.messagingPutHandoff)
	api.Get("/messaging/v1/handoff/deliveries", mo, s.apiKey, s.messagingDeliveries)
	api.Get("/messaging/v1/conversations/:id", mo, s.apiKey, s.messagingConversation)
	api.Post("/messaging/v1/conversations/:id/handback", mo, s.apiKey, s.messagingHandBack)
	api.Get("/messaging/embed/v1/config", mo, s.embedPublicConfig)
	api.Options("/messaging/embed/v1/config", s.embedPreflight)
	api.Post("/messaging/embed/v1/chat", mo, s.embedPublicChat)
	api.Options("/messaging/embed/v1/chat", s.embedPreflight)

	api.Post("/developer/apps", s.session, s.createApp)
	api.Get("/developer/apps", s.session, s.listApps)
	api.Get("/developer/apps/:id", s.session, s.getApp)
	api.Patch("/developer/apps/:id", s.session, s.updateApp)
	api.Delete("/developer/apps/:id", s.session, s.deleteApp)
	api.Post("/developer/apps/:id/rotate-secret", s.session, s.rotateAppSecret)
	api.Get("/developer/apps/:id/analytics", s.session, s.appAnalytics)
	api.Get("/admin/partner-apps", s.session, s.adminListApps)
	api.Patch("/admin/partner-apps/:id", s.session, s.adminSetAppStatus)

	api.Get("/integrations/connect/start", s.connectStart)
	api.Get("/integrations/connect/context", s.connectContext)
	api.Post("/integrations/connect/finalize", s.session, s.connectFinalize)
	api.Post("/integrations/connect/exchange", s.connectExchange)
	api.Post("/integrations/connect/verify", s.connectVerify)
	api.Get("/integrations/links", s.session, s.listLinks)
	api.Delete("/integrations/links/:id", s.session, s.revokeLink)
	app.Get("/integrations/connect/stripe-return", s.connectStripeReturn)

	app.Get("/register", s.registerPage)
	app.Get("/login", s.loginPage)
	app.Get(widgetScriptPath, s.widgetScript)
	app.Get("/chat/:embedId", s.chatPage)
	return app
}

// messagingOn answers 503 when the server runs without Messaging.
func (s *Server) messagingOn(c *fiber.Ctx) error {
	if s.Messaging == nil {
		return core.Unavailable("messaging", nil)
	}
	return c.Next()
}

// readyTimeout bounds each readiness probe.
const readyTimeout = 2 * time.Second

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	checks := map[string]string{}
	var down []string
	for _, ch := range s.Checks {
		ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
		err := ch.Pinger.Ping(ctx)
		cancel()
		if err != nil {
			checks[ch.Name] = "down"
			down = append(down, ch.Name)
			s.log.Warn("readiness check failed", "request_id", requestID(c), "check", ch.Name, "err", err)
			continue
		}
		checks[ch.Name] = "ok"
	}
	if len(down) > 0 {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{
			"error": "unavailable", "message": "not ready: " + joinNames(down), "detail": down[0], "checks": checks,
		})
	}
	return c.JSON(fiber.Map{"status": "ok", "checks": checks})
}

func joinNames(ns []string) string {
	out := ""
	for i, n := range ns {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}
