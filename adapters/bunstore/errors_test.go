package bunstore_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gellhub/gellhub/adapters/bunstore"
	"github.com/gellhub/gellhub/core"
)

func TestErrorTranslation(t *testing.T) {
	t.Parallel()
	s := new(bunstore.Store) // translation reads no field of the store
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	t.Run("store_errors_are_returned_as_is", func(t *testing.T) {
		t.Parallel()
		nf := core.NotFound("plan")
		if got := bunstore.Translate(s, context.Background(), "op", nf); got != error(nf) {
			t.Fatalf("got %v, want the same *core.Error", got)
		}
		if got := bunstore.Translate(s, context.Background(), "op", nil); got != nil {
			t.Fatalf("nil became %v", got)
		}
	})

	t.Run("context_cancellation_passes_through", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			ctx  context.Context
			err  error
			want error
		}{
			{context.Background(), fmt.Errorf("driver: %w", context.Canceled), context.Canceled},
			{context.Background(), context.DeadlineExceeded, context.DeadlineExceeded},
			// A driver that reports an interrupted statement instead.
			{canceled, errors.New("interrupted (9)"), context.Canceled},
		} {
			got := bunstore.Translate(s, tc.ctx, "op", tc.err)
			if !errors.Is(got, tc.want) || core.ErrorKind(got) != core.KindInternal {
				t.Errorf("%v → %v, want %v passed through", tc.err, got, tc.want)
			}
		}
	})

	for _, tc := range []struct {
		name string
		err  error
		kind core.Kind
		code string
	}{
		{"pg_unique_violation_is_conflict", &pgconn.PgError{Code: "23505"}, core.KindConflict, "conflict"},
		{"pg_foreign_key_violation_is_conflict", &pgconn.PgError{Code: "23503"}, core.KindConflict, "conflict"},
		{"pg_admin_shutdown_is_unavailable", &pgconn.PgError{Code: "57P01"}, core.KindUnavailable, "unavailable"},
		{"pg_cannot_connect_now_is_unavailable", &pgconn.PgError{Code: "57P03"}, core.KindUnavailable, "unavailable"},
		{"pg_connection_failure_is_unavailable", &pgconn.PgError{Code: "08006"}, core.KindUnavailable, "unavailable"},
		{"pg_too_many_connections_is_unavailable", &pgconn.PgError{Code: "53300"}, core.KindUnavailable, "unavailable"},
		{"pg_undefined_table_is_internal", &pgconn.PgError{Code: "42P01"}, core.KindInternal, ""},
		{"refused_connection_is_unavailable", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, core.KindUnavailable, "unavailable"},
		{"bad_conn_is_unavailable", fmt.Errorf("x: %w", driver.ErrBadConn), core.KindUnavailable, "unavailable"},
		{"cut_connection_is_unavailable", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), core.KindUnavailable, "unavailable"},
		{"other_errors_are_internal", errors.New("boom"), core.KindInternal, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := bunstore.Translate(s, context.Background(), "do thing", fmt.Errorf("wrapped: %w", tc.err))
			if k := core.ErrorKind(got); k != tc.kind {
				t.Fatalf("kind %s (%v), want %s", k, got, tc.kind)
			}
			if tc.code != "" {
				if e, _ := core.AsError(got); e.Code != tc.code {
					t.Fatalf("code %q, want %q", e.Code, tc.code)
				}
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("%v does not keep its cause %v", got, tc.err)
			}
			if !strings.Contains(got.Error(), "bunstore: do thing") {
				t.Errorf("%q does not name the operation", got)
			}
		})
	}
}
