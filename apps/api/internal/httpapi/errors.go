package httpapi

import (
	"errors"
	"log/slog"
	"math"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
)

// errorBody is the contract's error body.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Detail  string `json:"detail,omitempty"`
}

// statusOf is the one table from error kinds to HTTP statuses.
var statusOf = map[core.Kind]int{
	core.KindInternal:        fiber.StatusInternalServerError,
	core.KindInvalid:         fiber.StatusBadRequest,
	core.KindUnauthenticated: fiber.StatusUnauthorized,
	core.KindForbidden:       fiber.StatusForbidden,
	core.KindNotFound:        fiber.StatusNotFound,
	core.KindConflict:        fiber.StatusConflict,
	core.KindTooLarge:        fiber.StatusRequestEntityTooLarge,
	core.KindQuotaExceeded:   fiber.StatusRequestEntityTooLarge,
	core.KindPaymentRequired: fiber.StatusPaymentRequired,
	core.KindRateLimited:     fiber.StatusTooManyRequests,
	core.KindUnavailable:     fiber.StatusServiceUnavailable,
}

// fiberErrors maps the framework's own errors (unknown route, body over the
// limit, …) to the contract's kinds.
var fiberErrors = map[int]*core.Error{
	fiber.StatusNotFound:              core.E(core.KindNotFound, "no such route"),
	fiber.StatusMethodNotAllowed:      core.E(core.KindNotFound, "no such route").WithCode("method_not_allowed"),
	fiber.StatusRequestEntityTooLarge: core.E(core.KindTooLarge, "the request body is too large"),
	fiber.StatusBadRequest:            core.E(core.KindInvalid, "the request is malformed").WithDetail("request"),
	fiber.StatusRequestHeaderFieldsTooLarge: core.E(core.KindInvalid, "the request headers are too large").
		WithDetail("headers"),
	fiber.StatusRequestTimeout:     core.E(core.KindInvalid, "the request took too long to arrive").WithDetail("request"),
	fiber.StatusServiceUnavailable: core.E(core.KindUnavailable, "the server is busy, retry later"),
}

// errorHandler is Fiber's ErrorHandler: handlers just return errors, and
// this maps each to its status and body. Only internal and unavailable
// errors are logged, with the request id; their causes never reach clients.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var e *core.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &e):
	case errors.As(err, &fe):
		if m, ok := fiberErrors[fe.Code]; ok {
			e = m
		} else if fe.Code >= 400 && fe.Code < 500 {
			e = core.E(core.KindInvalid, "the request is malformed").WithDetail("request")
		} else {
			e = core.Internal(err)
		}
	default:
		e = core.Internal(err)
	}
	status := statusOf[e.Kind]
	if e.Code == "range_not_satisfiable" {
		status = fiber.StatusRequestedRangeNotSatisfiable
	}
	if fe != nil && fe.Code == fiber.StatusMethodNotAllowed {
		status = fiber.StatusMethodNotAllowed
	}
	switch e.Kind {
	case core.KindInternal:
		s.log.Error("internal error", slog.String("request_id", requestID(c)), slog.Any("err", err))
		e = core.Internal(nil)
	case core.KindUnavailable:
		s.log.Warn("dependency unavailable", slog.String("request_id", requestID(c)), slog.Any("err", err))
	case core.KindRateLimited:
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Max(1, math.Ceil(e.RetryAfter.Seconds())))))
	}
	return c.Status(status).JSON(errorBody{Error: e.Code, Message: e.Message, Detail: e.Detail})
}
