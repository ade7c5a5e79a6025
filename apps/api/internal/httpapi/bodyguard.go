package httpapi

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

// maxDrain is how much of a request body that its handler left unread is
// read and discarded to keep the connection alive; past it the connection
// is closed instead (as net/http does).
const maxDrain = 256 << 10

// guardBody keeps a request body that the handler did not read to its end
// from being parsed as the next request on a keep-alive connection. With
// StreamRequestBody, fasthttp reads only the first 8 KiB of a body before
// the handler runs and continues reading the connection after it at
// whatever byte the handler stopped: an early 401 or 404 on a request
// with a larger body would otherwise turn the rest of that body into
// requests (request smuggling behind a proxy that reuses connections).
// What is left is drained when small, or the connection is closed.
func (s *Server) guardBody(c *fiber.Ctx) error {
	err := c.Next()
	if !c.Request().IsBodyStream() || c.Response().Header.ConnectionClose() {
		return err
	}
	if c.Request().Header.ContentLength() < 0 {
		// Chunked: reading on after its end would consume the next
		// request, and whether the handler got there is unknown.
		closeAfter(c)
		return err
	}
	if n, derr := io.CopyN(io.Discard, c.Context().RequestBodyStream(), maxDrain+1); !errors.Is(derr, io.EOF) || n > maxDrain {
		closeAfter(c)
	}
	return err
}

// Lingering close: how long, and how much, a connection closed with part
// of a request body unread keeps reading (and discarding) after its
// response, before it is closed.
const (
	lingerTimeout  = 500 * time.Millisecond
	lingerMaxBytes = 64 << 20
)

// LingeringListener wraps the API's listener so that a connection closed
// because a request was refused before its body was read (closeAfter) is
// closed the way net/http closes it: the response is followed by a FIN,
// and what the client still sends is read and dropped for a moment. A
// plain close with unread data makes the kernel reset the connection,
// and a client still uploading then often loses the response (a 413
// quota_exceeded or a 404 for a bad collectionId turns into "connection
// reset by peer").
func LingeringListener(ln net.Listener) net.Listener { return lingerListener{ln} }

type lingerListener struct{ net.Listener }

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &lingerConn{Conn: c}, nil
}

// lingerConn is a connection that lingers on Close when asked to.
type lingerConn struct {
	net.Conn
	linger atomic.Bool
	once   sync.Once
	err    error
}

// Close implements net.Conn; fasthttp may call it twice.
func (c *lingerConn) Close() error {
	c.once.Do(func() {
		if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok && c.linger.Load() && cw.CloseWrite() == nil {
			_ = c.Conn.SetReadDeadline(time.Now().Add(lingerTimeout))
			_, _ = io.CopyN(io.Discard, c.Conn, lingerMaxBytes)
		}
		c.err = c.Conn.Close()
	})
	return c.err
}

// lingerOnClose asks the request's connection to linger when it closes.
func lingerOnClose(c *fiber.Ctx) {
	if lc, ok := c.Context().Conn().(*lingerConn); ok {
		lc.linger.Store(true)
	}
}
