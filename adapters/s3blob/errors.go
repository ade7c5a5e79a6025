package s3blob

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/gellhub/gellhub/core"
)

// dependency names object storage in core.Unavailable errors.
const dependency = "object storage"

// statusCoder is implemented by the SDK's response errors: the server
// answered with this HTTP status.
type statusCoder interface{ HTTPStatusCode() int }

// translate turns an SDK error into the ports' error kinds. op names the
// operation for logs; keys never appear in messages.
func translate(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if callerDone(ctx) {
		return fmt.Errorf("s3 %s: %w (%w)", op, callerCause(ctx), err)
	}
	code := apiCode(err)
	status := httpStatus(err)
	switch {
	case code == "NoSuchKey" || code == "NotFound" || (status == http.StatusNotFound && code != "NoSuchBucket"):
		return &core.Error{Kind: core.KindNotFound, Code: "not_found", Message: "object not found", Err: fmt.Errorf("s3 %s: %w", op, err)}
	case code == "InvalidRange" || status == http.StatusRequestedRangeNotSatisfiable:
		e := core.Invalid("range", "the range starts past the end of the object")
		e.Err = fmt.Errorf("s3 %s: %w", op, err)
		return e
	case isUnavailable(err, status):
		return core.Unavailable(dependency, fmt.Errorf("s3 %s: %w", op, err))
	default:
		return core.Internal(fmt.Errorf("s3 %s: %w", op, err))
	}
}

// unavailable is translate for readiness probes: whatever failed, the store
// cannot serve, so the kind is core.KindUnavailable (the caller's own
// cancellation still passes through).
func unavailable(ctx context.Context, op string, err error) error {
	if callerDone(ctx) {
		return fmt.Errorf("s3 %s: %w (%w)", op, callerCause(ctx), err)
	}
	return core.Unavailable(dependency, fmt.Errorf("s3 %s: %w", op, err))
}

// isUnavailable reports whether err says the server cannot serve right now
// (unreachable, timed out, overloaded), as opposed to a bug or a refusal.
func isUnavailable(err error, status int) bool {
	var send *smithyhttp.RequestSendError
	var nerr net.Error
	switch {
	case errors.As(err, &send), errors.As(err, &nerr): // refused, reset, dial timeout, …
		return true
	case errors.Is(err, context.DeadlineExceeded): // the HTTP client's own timeouts
		return true
	case status >= 500:
		return true
	}
	switch apiCode(err) {
	case "SlowDown", "ServiceUnavailable", "RequestTimeout", "InternalError":
		return true
	}
	return false
}

// apiCode returns the S3 error code ("NoSuchKey", …) or "".
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// httpStatus returns the status of the server's answer, or 0 when there was
// none.
func httpStatus(err error) int {
	var sc statusCoder
	if errors.As(err, &sc) {
		return sc.HTTPStatusCode()
	}
	return 0
}

// callerDone reports whether the caller's context is canceled or past its
// deadline.
func callerDone(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

func callerCause(ctx context.Context) error {
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return context.DeadlineExceeded
}
