package core_test

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

func TestKind(t *testing.T) {
	t.Parallel()

	tests := []struct {
		kind core.Kind
		name string
		code string
	}{
		{core.KindInternal, "internal", "internal"},
		{core.KindInvalid, "invalid", "invalid_request"},
		{core.KindUnauthenticated, "unauthenticated", "unauthorized"},
		{core.KindForbidden, "forbidden", "forbidden"},
		{core.KindNotFound, "not_found", "not_found"},
		{core.KindConflict, "conflict", "conflict"},
		{core.KindTooLarge, "too_large", "payload_too_large"},
		{core.KindQuotaExceeded, "quota_exceeded", "quota_exceeded"},
		{core.KindPaymentRequired, "payment_required", "payment_required"},
		{core.KindRateLimited, "rate_limited", "rate_limited"},
		{core.KindUnavailable, "unavailable", "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"_has_code_"+tt.code, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.name, tt.kind.String())
			e := core.E(tt.kind, "something happened")
			require.Equal(t, tt.kind, e.Kind)
			require.Equal(t, tt.code, e.Code)
			require.Equal(t, "something happened", e.Message)
			require.Equal(t, tt.code+": something happened", e.Error())
		})
	}

	t.Run("unknown_kind_reads_as_internal", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "internal", core.Kind(99).String())
	})
}

func TestConstructors(t *testing.T) {
	t.Parallel()

	cause := errors.New("connection refused")
	tests := []struct {
		name    string
		err     *core.Error
		kind    core.Kind
		code    string
		message string
		detail  string
	}{
		{"invalid_names_the_field_in_detail", core.Invalid("email", "%s is required", "email"), core.KindInvalid, "invalid_request", "email is required", "email"},
		{"not_found_says_what", core.NotFound("plan"), core.KindNotFound, "not_found", "plan not found", ""},
		{"conflict_keeps_its_code", core.Conflict("email_taken", "taken"), core.KindConflict, "email_taken", "taken", ""},
		{"unauthenticated_is_unauthorized", core.Unauthenticated("sign in"), core.KindUnauthenticated, "unauthorized", "sign in", ""},
		{"forbidden", core.Forbidden("no"), core.KindForbidden, "forbidden", "no", ""},
		{"rate_limited", core.RateLimited(time.Minute), core.KindRateLimited, "rate_limited", "too many requests, retry later", ""},
		{"unavailable_names_the_dependency", core.Unavailable("database", cause), core.KindUnavailable, "unavailable", "database is unavailable, retry later", "database"},
		{"internal_message_is_generic", core.Internal(cause), core.KindInternal, "internal", "internal error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.kind, tt.err.Kind)
			require.Equal(t, tt.code, tt.err.Code)
			require.Equal(t, tt.message, tt.err.Message)
			require.Equal(t, tt.detail, tt.err.Detail)
		})
	}

	t.Run("rate_limited_carries_retry_after", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, 90*time.Second, core.RateLimited(90*time.Second).RetryAfter)
	})
	t.Run("internal_does_not_show_its_cause_in_the_message", func(t *testing.T) {
		t.Parallel()
		e := core.Internal(errors.New("pq: password authentication failed"))
		require.NotContains(t, e.Message, "pq")
	})
}

func TestErrorString(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		err  *core.Error
		want string
	}{
		{"code_and_message", core.Conflict("email_taken", "taken"), "email_taken: taken"},
		{"detail_in_parentheses", core.Invalid("email", "bad"), "invalid_request: bad (email)"},
		{"cause_last", core.Unavailable("redis", io.ErrUnexpectedEOF), "unavailable: redis is unavailable, retry later (redis): unexpected EOF"},
		{"empty_code_falls_back_to_the_kind", &core.Error{Kind: core.KindForbidden, Message: "no"}, "forbidden: no"},
		{"bare_kind", &core.Error{Kind: core.KindNotFound}, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.err.Error())
		})
	}
}

func TestWithCodeAndDetail(t *testing.T) {
	t.Parallel()

	t.Run("with_code_returns_a_copy", func(t *testing.T) {
		t.Parallel()
		base := core.E(core.KindPaymentRequired, "subscribe first")
		e := base.WithCode("subscription_required")
		require.Equal(t, "subscription_required", e.Code)
		require.Equal(t, core.KindPaymentRequired, e.Kind)
		require.Equal(t, "payment_required", base.Code, "the original must not change")
	})
	t.Run("with_detail_returns_a_copy", func(t *testing.T) {
		t.Parallel()
		base := core.Conflict("upload_incomplete_or_mismatch", "not there")
		e := base.WithDetail("object_not_visible_yet_retry_complete")
		require.Equal(t, "object_not_visible_yet_retry_complete", e.Detail)
		require.Equal(t, "upload_incomplete_or_mismatch", e.Code)
		require.Empty(t, base.Detail, "the original must not change")
	})
}

func TestUnwrapAndAs(t *testing.T) {
	t.Parallel()

	sentinel := errors.New("disk full")

	t.Run("unwrap_returns_the_cause", func(t *testing.T) {
		t.Parallel()
		e := core.Internal(sentinel)
		require.Same(t, sentinel, e.Unwrap())
		require.ErrorIs(t, e, sentinel)
		require.Nil(t, core.NotFound("x").Unwrap())
	})
	t.Run("as_finds_the_error_through_wrapping", func(t *testing.T) {
		t.Parallel()
		inner := core.NotFound("plan")
		err := fmt.Errorf("outer: %w", core.Errorf("op", inner))
		var target *core.Error
		require.ErrorAs(t, err, &target)
		require.Same(t, inner, target)

		got, ok := core.AsError(err)
		require.True(t, ok)
		require.Same(t, inner, got)
	})
	t.Run("as_error_of_a_plain_error_is_false", func(t *testing.T) {
		t.Parallel()
		got, ok := core.AsError(sentinel)
		require.False(t, ok)
		require.Nil(t, got)
	})
	t.Run("errorf_keeps_the_kind_and_prefixes_the_op", func(t *testing.T) {
		t.Parallel()
		err := core.Errorf("create account", core.Conflict("email_taken", "taken"))
		require.Equal(t, core.KindConflict, core.ErrorKind(err))
		require.True(t, core.IsKind(err, core.KindConflict))
		require.Equal(t, "create account: email_taken: taken", err.Error())
	})
	t.Run("errorf_of_nil_is_nil", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, core.Errorf("op", nil))
	})
	t.Run("plain_error_is_internal", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, core.KindInternal, core.ErrorKind(sentinel))
		require.True(t, core.IsKind(sentinel, core.KindInternal))
	})
	t.Run("nil_is_of_no_kind", func(t *testing.T) {
		t.Parallel()
		for _, k := range []core.Kind{core.KindInternal, core.KindInvalid, core.KindNotFound} {
			require.False(t, core.IsKind(nil, k))
		}
	})
	t.Run("first_error_in_the_chain_wins", func(t *testing.T) {
		t.Parallel()
		err := core.Errorf("op", &core.Error{Kind: core.KindUnavailable, Code: "unavailable", Err: core.NotFound("row")})
		require.Equal(t, core.KindUnavailable, core.ErrorKind(err))
	})
}
