package bunstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gellhub/gellhub/core"
)

// dbErrorClass is what a database error means to the store's callers.
type dbErrorClass int

const (
	classOther       dbErrorClass = iota
	classUnique                   // unique or primary key violation
	classForeignKey               // foreign key violation
	classUnavailable              // the database cannot be reached or is shutting down
)

// PostgreSQL SQLSTATE codes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgTooManyConnections  = "53300"
	pgAdminShutdown       = "57P01"
	pgCrashShutdown       = "57P02"
	pgCannotConnectNow    = "57P03"
	pgConnectionClass     = "08" // connection_exception and its subclasses
)

// classify reads a driver error's code: SQLSTATE on PostgreSQL, the
// extended result code on SQLite, and the connection-level error types of
// database/sql, net and pgconn. It never looks at message text.
func classify(err error) dbErrorClass {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == pgUniqueViolation:
			return classUnique
		case pgErr.Code == pgForeignKeyViolation:
			return classForeignKey
		case pgErr.Code == pgTooManyConnections, pgErr.Code == pgAdminShutdown,
			pgErr.Code == pgCrashShutdown, pgErr.Code == pgCannotConnectNow,
			strings.HasPrefix(pgErr.Code, pgConnectionClass):
			return classUnavailable
		}
		return classOther
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch code := liteErr.Code(); code {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return classUnique
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return classForeignKey
		default:
			switch code & 0xff { // the primary result code
			case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN:
				return classUnavailable
			}
		}
		return classOther
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr),
		errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF):
		return classUnavailable
	}
	return classOther
}

// fail translates err, the failure of operation op, into what the ports
// promise. A *core.Error built by the store is returned as is. Context
// cancellation passes through (wrapped, so errors.Is still sees it, also
// when the driver reported it as an interrupted statement). Unique and
// foreign-key violations become core.KindConflict with the generic code
// "conflict"; methods that promise a specific code check isUnique or
// isForeignKey first. An unreachable database is core.KindUnavailable.
// Anything else is wrapped with op.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ce, ok := err.(*core.Error); ok {
		return ce
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("bunstore: %s: %w", op, err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("bunstore: %s: %w (%w)", op, ctxErr, err)
	}
	wrapped := fmt.Errorf("bunstore: %s: %w", op, err)
	switch classify(err) {
	case classUnique:
		return conflict("conflict", "it already exists", wrapped)
	case classForeignKey:
		return conflict("conflict", "it refers to a missing record or is still referred to", wrapped)
	case classUnavailable:
		return core.Unavailable("database", wrapped)
	}
	return wrapped
}

// conflict builds a core.KindConflict error that keeps its cause for logs.
func conflict(code, message string, cause error) *core.Error {
	e := core.Conflict(code, message)
	e.Err = cause
	return e
}

// notFound returns core.NotFound(what) for sql.ErrNoRows and err otherwise.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return core.NotFound(what)
	}
	return err
}

// constraintName is the constraint that a PostgreSQL error names, "" for
// any other error: SQLite's result codes do not name the constraint (only
// its message text does), so SQLite callers probe the tables instead.
func constraintName(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}

func isUnique(err error) bool     { return classify(err) == classUnique }
func isForeignKey(err error) bool { return classify(err) == classForeignKey }
