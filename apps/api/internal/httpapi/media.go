package httpapi

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// parseRange reads a single "bytes=a-b", "bytes=a-" or "bytes=-n" range.
// ok is false when the header is absent or not a single byte range (the
// whole object is then served, as RFC 9110 allows).
func parseRange(h string, size int64) (r ports.ByteRange, ok bool, unsatisfiable bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return ports.ByteRange{}, false, false
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return ports.ByteRange{}, false, false
	}
	if a == "" { // suffix: the last n bytes
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return ports.ByteRange{}, false, n == 0 && err == nil
		}
		if n > size {
			n = size
		}
		return ports.ByteRange{Start: size - n, End: size - 1}, size > 0, size == 0
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 {
		return ports.ByteRange{}, false, false
	}
	if start >= size {
		return ports.ByteRange{}, false, true
	}
	end := size - 1
	if b != "" {
		e, err := strconv.ParseInt(b, 10, 64)
		if err != nil || e < start {
			return ports.ByteRange{}, false, false
		}
		if e < end {
			end = e
		}
	}
	return ports.ByteRange{Start: start, End: end}, true, false
}

// passiveTypes are the media types served inline: they cannot run script
// in the API's origin. Everything else (HTML, SVG, XML, scripts…) is served
// as an attachment, under a sandboxing CSP all the same.
var passiveTypes = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true, "image/avif": true,
	"image/heic": true, "image/heif": true, "image/bmp": true, "image/tiff": true,
	"video/mp4": true, "video/webm": true, "video/quicktime": true, "audio/mpeg": true, "audio/mp4": true,
	"audio/ogg": true, "audio/wav": true, "audio/webm": true, "text/plain": true,
}

// isPassive reports whether ct may be shown inline.
func isPassive(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && passiveTypes[mt]
}

// contentDisposition is a disposition safe for any file name: an ASCII
// fallback plus the RFC 5987 UTF-8 form.
func contentDisposition(kind, name string) string {
	ascii := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\' || ch == ';' {
			ch = '_'
		}
		ascii = append(ascii, ch)
	}
	return fmt.Sprintf(`%s; filename="%s"; filename*=UTF-8''%s`, kind, ascii, strings.ReplaceAll(url.QueryEscape(name), "+", "%20"))
}

// etagMatches implements If-None-Match (weak comparison, "*" and lists).
func etagMatches(header, etag string) bool {
	if header == "" || etag == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// mediaStore is what a media route opens: the gallery's or the drive's.
type mediaStore interface {
	StatMedia(ctx context.Context, token string) (ports.BlobInfo, core.MediaClaims, error)
	OpenMedia(ctx context.Context, token string, rng *ports.ByteRange) (io.ReadCloser, ports.BlobInfo, core.MediaClaims, error)
}

// serveMedia streams what a media token grants: Content-Type, Length,
// ETag, Accept-Ranges, a single Range as 206 with Content-Range, and 304
// for a matching If-None-Match. The token travels in the query, which the
// access log never records.
func (s *Server) serveMedia(c *fiber.Ctx, m mediaStore) error {
	token, err := query(c, "t", 4096)
	if err != nil {
		return err
	}
	if token == "" {
		return core.Invalid("t", "t (the media token) is required")
	}
	// A plain download opens the object once (its info comes with it); a
	// conditional or ranged request, or HEAD, needs the info first.
	var rc io.ReadCloser
	var info ports.BlobInfo
	var claims core.MediaClaims
	head := c.Method() == fiber.MethodHead
	if head || c.Get(fiber.HeaderRange) != "" || c.Get(fiber.HeaderIfNoneMatch) != "" {
		info, claims, err = m.StatMedia(c.UserContext(), token)
	} else {
		rc, info, claims, err = m.OpenMedia(c.UserContext(), token, nil)
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	c.Set(fiber.HeaderETag, info.ETag)
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	c.Set("X-Content-Type-Options", "nosniff")
	// Uploaded bytes are the uploader's: never let them act in this origin
	// (which serves the sign-in pages and cookie routes).
	c.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'")
	c.Set("Cross-Origin-Resource-Policy", "cross-origin") // galleries embed media on other sites
	disposition := "attachment"
	if isPassive(info.ContentType) {
		disposition = "inline"
	}
	c.Set(fiber.HeaderContentDisposition, contentDisposition(disposition, claims.Name))
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), info.ETag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	ct := info.ContentType
	if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
		ct = "application/octet-stream"
	}
	var rng *ports.ByteRange
	status := fiber.StatusOK
	if h := c.Get(fiber.HeaderRange); h != "" && (c.Get(fiber.HeaderIfRange) == "" || c.Get(fiber.HeaderIfRange) == info.ETag) {
		r, ok, unsatisfiable := parseRange(h, info.Size)
		if unsatisfiable {
			c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes */%d", info.Size))
			return core.E(core.KindInvalid, "the requested range is outside the file").WithCode("range_not_satisfiable").WithDetail("Range")
		}
		if ok {
			rng, status = &r, fiber.StatusPartialContent
		}
	}
	if rc == nil && !head {
		if rc, _, _, err = m.OpenMedia(c.UserContext(), token, rng); err != nil {
			return err
		}
	}
	length := info.Size
	if rng != nil {
		length = rng.End - rng.Start + 1
		c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes %d-%d/%d", rng.Start, rng.End, info.Size))
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, ct)
	if head {
		c.Response().Header.SetContentLength(int(length))
		return nil
	}
	// fasthttp copies a body stream into the connection's 4 KiB bufio.Writer
	// unless the body writes itself out: largeCopy does, in 256 KiB writes
	// that go straight to the socket. fasthttp closes it when done.
	c.Context().SetBodyStream(largeCopy{ReadCloser: rc, conn: c.Context().Conn()}, int(length))
	return nil
}

// mediaWriteIdle is how long a download may stall: a large file may take
// as long as it needs (the server's WriteTimeout would cut it) while the
// client keeps reading.
const mediaWriteIdle = time.Minute

// mediaBuffer is the copy size of media downloads.
const mediaBuffer = 256 << 10

var mediaBuffers = sync.Pool{New: func() any { b := make([]byte, mediaBuffer); return &b }}

// largeCopy is a body that writes itself out with a large buffer, moving
// the connection's write deadline forward before each write.
type largeCopy struct {
	io.ReadCloser
	conn net.Conn
}

// WriteTo implements io.WriterTo. The wrappers hide ReadFrom/WriteTo so
// that io.CopyBuffer really uses the buffer.
func (l largeCopy) WriteTo(w io.Writer) (int64, error) {
	buf := mediaBuffers.Get().(*[]byte)
	defer mediaBuffers.Put(buf)
	return io.CopyBuffer(idleWriter{w: w, conn: l.conn}, struct{ io.Reader }{l.ReadCloser}, *buf)
}

// idleWriter extends the connection's write deadline before each write.
type idleWriter struct {
	w    io.Writer
	conn net.Conn
}

func (iw idleWriter) Write(p []byte) (int, error) {
	if iw.conn != nil {
		_ = iw.conn.SetWriteDeadline(time.Now().Add(mediaWriteIdle))
	}
	return iw.w.Write(p)
}

func (s *Server) galleryMedia(c *fiber.Ctx) error { return s.serveMedia(c, s.Gallery) }
