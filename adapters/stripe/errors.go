package stripe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/gellhub/gellhub/core"
)

// fail translates a Stripe call's error by its type and HTTP status: 404
// or resource_missing is core.KindNotFound; 429, 5xx, Stripe's api_error
// and network failures are core.KindUnavailable; context cancellation
// passes through; anything else (a rejected request, a bad key) is
// internal. Messages of Stripe's errors stay in the cause, for logs.
func fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	wrapped := fmt.Errorf("stripe: %s: %w", op, err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return wrapped
	}
	var se *stripego.Error
	if errors.As(err, &se) {
		switch {
		case se.HTTPStatusCode == http.StatusNotFound || se.Code == stripego.ErrorCodeResourceMissing:
			e := core.NotFound(op)
			e.Err = wrapped
			return e
		case se.HTTPStatusCode == http.StatusTooManyRequests || se.HTTPStatusCode >= 500 || se.Type == stripego.ErrorTypeAPI:
			return core.Unavailable("payments", wrapped)
		}
		return core.Internal(wrapped)
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		return core.Unavailable("payments", wrapped)
	}
	return core.Internal(wrapped)
}
