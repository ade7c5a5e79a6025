package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gellhub/gellhub/core"
)

// translate turns a go-redis error into the ports' error kinds. op names the
// operation for logs; notFound names what goredis.Nil means ("" when Nil is
// not expected).
func translate(ctx context.Context, op, notFound string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, goredis.Nil) && notFound != "":
		return core.NotFound(notFound)
	case callerDone(ctx):
		// The caller gave up: say so, whatever the socket reported (go-redis
		// turns the caller's deadline into a socket deadline, which fails
		// as an i/o timeout, possibly before ctx's own timer has fired).
		cause := context.Cause(ctx)
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		return fmt.Errorf("redis %s: %w (%w)", op, cause, err)
	case unavailable(err):
		return core.Unavailable("cache", fmt.Errorf("redis %s: %w", op, err))
	default:
		return core.Internal(fmt.Errorf("redis %s: %w", op, err))
	}
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

// unavailable reports whether err says Redis cannot serve right now, as
// opposed to a bug or a bad command. It matches types and sentinel errors
// only; go-redis's Is*Error helpers match the server's error codes.
func unavailable(err error) bool {
	if _, ok := errors.AsType[net.Error](err); ok { // refused, reset, unreachable, i/o timeout
		return true
	}
	for _, target := range []error{
		goredis.ErrClosed,        // the client was closed (shutdown)
		goredis.ErrPoolTimeout,   // no connection free within PoolTimeout
		goredis.ErrPoolExhausted, // MaxActiveConns reached
		context.DeadlineExceeded, // the client's own dial timeout (the caller's ctx is not done)
		os.ErrDeadlineExceeded,   // a read or write deadline of the client's own
		io.EOF,                   // the server closed the connection
		io.ErrUnexpectedEOF,
		syscall.ECONNREFUSED,
		syscall.ECONNRESET,
		syscall.EPIPE,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return goredis.IsLoadingError(err) ||
		goredis.IsReadOnlyError(err) ||
		goredis.IsClusterDownError(err) ||
		goredis.IsTryAgainError(err) ||
		goredis.IsMasterDownError(err) ||
		goredis.IsMaxClientsError(err) ||
		goredis.IsOOMError(err) ||
		goredis.IsNoReplicasError(err)
}
