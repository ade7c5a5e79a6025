package core

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error. The set is closed: every error that leaves a use
// case is one of these kinds, and apps map each kind to exactly one transport
// status (HTTP status codes live in apps/api, not here).
type Kind int

// The error kinds.
const (
	KindInternal        Kind = iota // a bug or an unexpected failure; details are never shown
	KindInvalid                     // the input breaks a rule; Detail names the field
	KindUnauthenticated             // no credentials, or unknown or wrong ones
	KindForbidden                   // the caller is known but may not do this
	KindNotFound                    // no such thing, or not the caller's
	KindConflict                    // the state forbids it (duplicate, in use, …)
	KindTooLarge                    // the payload is over a size limit
	KindQuotaExceeded               // a plan limit would be exceeded
	KindPaymentRequired             // a subscription or credits are missing
	KindRateLimited                 // too many requests; RetryAfter says when to retry
	KindUnavailable                 // a dependency is down; retrying later may work
)

// String returns the kind's name, for logs.
func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindUnauthenticated:
		return "unauthenticated"
	case KindForbidden:
		return "forbidden"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindTooLarge:
		return "too_large"
	case KindQuotaExceeded:
		return "quota_exceeded"
	case KindPaymentRequired:
		return "payment_required"
	case KindRateLimited:
		return "rate_limited"
	case KindUnavailable:
		return "unavailable"
	default:
		return "internal"
	}
}

// defaultCodes are the contract's error codes for each kind.
var defaultCodes = map[Kind]string{
	KindInternal:        "internal",
	KindInvalid:         "invalid_request",
	KindUnauthenticated: "unauthorized",
	KindForbidden:       "forbidden",
	KindNotFound:        "not_found",
	KindConflict:        "conflict",
	KindTooLarge:        "payload_too_large",
	KindQuotaExceeded:   "quota_exceeded",
	KindPaymentRequired: "payment_required",
	KindRateLimited:     "rate_limited",
	KindUnavailable:     "unavailable",
}

// Error is the error type of the domain. Code is the stable snake_case code
// that clients match on; Message is a human sentence safe to show; Detail is
// an optional snake_case qualifier (for KindInvalid, the offending field).
// Err, when set, is the underlying cause: it is logged, never shown.
type Error struct {
	Kind       Kind
	Code       string
	Message    string
	Detail     string
	RetryAfter time.Duration // for KindRateLimited
	Err        error
}

// Error implements error.
func (e *Error) Error() string {
	s := e.Code
	if s == "" {
		s = defaultCodes[e.Kind]
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E builds an Error of kind with the kind's default code.
func E(kind Kind, message string) *Error {
	return &Error{Kind: kind, Code: defaultCodes[kind], Message: message}
}

// WithCode returns a copy of e with another code.
func (e *Error) WithCode(code string) *Error {
	c := *e
	c.Code = code
	return &c
}

// WithDetail returns a copy of e with a detail.
func (e *Error) WithDetail(detail string) *Error {
	c := *e
	c.Detail = detail
	return &c
}

// Invalid reports bad input: field names the offending field (its JSON name).
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: "invalid_request", Message: fmt.Sprintf(format, args...), Detail: field}
}

// NotFound reports that what was asked for does not exist for this caller.
func NotFound(what string) *Error {
	return &Error{Kind: KindNotFound, Code: "not_found", Message: what + " not found"}
}

// Conflict reports a state conflict with a specific code.
func Conflict(code, message string) *Error {
	return &Error{Kind: KindConflict, Code: code, Message: message}
}

// Unauthenticated reports missing or wrong credentials.
func Unauthenticated(message string) *Error {
	return &Error{Kind: KindUnauthenticated, Code: "unauthorized", Message: message}
}

// Forbidden reports a known caller that may not do this.
func Forbidden(message string) *Error {
	return &Error{Kind: KindForbidden, Code: "forbidden", Message: message}
}

// RateLimited reports a rate limit hit; retry tells when to try again.
func RateLimited(retry time.Duration) *Error {
	return &Error{Kind: KindRateLimited, Code: "rate_limited", Message: "too many requests, retry later", RetryAfter: retry}
}

// Unavailable wraps the failure of a dependency (database, cache, …).
func Unavailable(dependency string, err error) *Error {
	return &Error{Kind: KindUnavailable, Code: "unavailable", Message: dependency + " is unavailable, retry later", Detail: dependency, Err: err}
}

// Internal wraps an unexpected failure. Its message is generic on purpose.
func Internal(err error) *Error {
	return &Error{Kind: KindInternal, Code: "internal", Message: "internal error", Err: err}
}

// Errorf wraps err with an operation name, keeping its kind when it has one.
func Errorf(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}

// ErrorKind returns the kind of err: the kind of the first *Error in its
// chain, or KindInternal when there is none.
func ErrorKind(err error) Kind {
	if e, ok := AsError(err); ok {
		return e.Kind
	}
	return KindInternal
}

// AsError finds the first *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// IsKind reports whether err is of kind k.
func IsKind(err error, k Kind) bool {
	return err != nil && ErrorKind(err) == k
}
