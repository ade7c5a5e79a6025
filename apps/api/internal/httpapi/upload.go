package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/drive"
	"github.com/gellhub/gellhub/core/gallery"
)

// uploadIdleTimeout is how long a streaming upload may stall: the body as
// a whole may take as long as it needs while bytes keep arriving.
const uploadIdleTimeout = time.Minute

// maxFormField caps each non-file field of a multipart upload.
const maxFormField = 4 << 10

// bodyStream returns the request body as a stream: fasthttp streams bodies
// over the configured limit and has read smaller ones already.
func bodyStream(c *fiber.Ctx) io.Reader {
	if c.Request().IsBodyStream() {
		return c.Context().RequestBodyStream()
	}
	return bytes.NewReader(c.Body())
}

// idleReader extends the connection's read deadline before each read, so
// a long upload is bounded by stalls, not by its total duration.
type idleReader struct {
	r    io.Reader
	conn net.Conn
}

func (ir idleReader) Read(p []byte) (int, error) {
	if ir.conn != nil {
		_ = ir.conn.SetReadDeadline(time.Now().Add(uploadIdleTimeout))
	}
	return ir.r.Read(p)
}

// closeAfter makes the server close the connection after this response:
// an upload refused before its body was read must not leave the rest of
// the body to be parsed as the next request.
func closeAfter(c *fiber.Ctx) {
	c.Set(fiber.HeaderConnection, "close")
	lingerOnClose(c)
}

// multipartFile walks a streaming multipart body: the form fields named in
// fields (each at most 4 KiB) must come before the file part, which is
// returned unread.
func multipartFile(c *fiber.Ctx, fields map[string]*string) (*multipart.Part, error) {
	mt, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEMultipartForm || params["boundary"] == "" {
		return nil, core.Invalid("Content-Type", "send multipart/form-data with a file part named file")
	}
	mr := multipart.NewReader(idleReader{r: bodyStream(c), conn: c.Context().Conn()}, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, core.Invalid("file", "the form has no file part named file")
		}
		if err != nil {
			return nil, core.Invalid("body", "the multipart body is malformed")
		}
		name := part.FormName()
		if name == "file" {
			if part.FileName() == "" {
				return nil, core.Invalid("file", "the file part needs a file name")
			}
			return part, nil
		}
		dst, known := fields[name]
		if !known {
			_, _ = io.Copy(io.Discard, io.LimitReader(part, maxFormField+1))
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
		if err != nil {
			return nil, core.Invalid("body", "the multipart body is malformed")
		}
		if len(b) > maxFormField {
			return nil, core.Invalid(name, "%s is too long", name)
		}
		*dst = string(b)
	}
}

// galleryUpload streams POST /api/upload's file part into object storage
// as it arrives (never whole in memory or on local disk), enforcing the
// quota before and while it streams.
func (s *Server) galleryUpload(c *fiber.Ctx) error {
	var collectionID, clientName string
	return s.streamUpload(c, map[string]*string{"collectionId": &collectionID, "clientName": &clientName},
		func(part *multipart.Part, body io.Reader, length int64) (any, error) {
			f, err := s.Gallery.Upload(c.UserContext(), principal(c), gallery.UploadInput{
				Target:   gallery.UploadTarget{CollectionID: strings.TrimSpace(collectionID), ClientName: clientName},
				FileName: part.FileName(), ContentType: part.Header.Get(fiber.HeaderContentType), Body: body, MaxBytes: length,
			})
			return fileView(f), err
		})
}

// driveUpload streams POST /api/drive/upload's file part as galleryUpload
// does, into the root, a folder, or a partner app's folder.
func (s *Server) driveUpload(c *fiber.Ctx) error {
	var folderID, clientID string
	return s.streamUpload(c, map[string]*string{"folderId": &folderID, "integrationClientId": &clientID},
		func(part *multipart.Part, body io.Reader, length int64) (any, error) {
			app, err := integrationClientID(c, clientID)
			if err != nil {
				return nil, err
			}
			v, err := s.Drive.Upload(c.UserContext(), principal(c), drive.UploadInput{
				Target:   drive.UploadTarget{FolderID: strings.TrimSpace(folderID), IntegrationClientID: app},
				FileName: part.FileName(), ContentType: part.Header.Get(fiber.HeaderContentType), Body: body, MaxBytes: length,
			})
			if err != nil {
				return nil, err
			}
			return driveFileView(v, app != "" || s.underAppFolder(c, v.File.ParentID)), nil
		})
}

// streamUpload runs a proxy upload: a Content-Length is required, an
// upload slot is held, the form fields are read, and store streams the
// file part. Whatever fails before the body is read closes the connection.
func (s *Server) streamUpload(c *fiber.Ctx, fields map[string]*string, store func(part *multipart.Part, body io.Reader, length int64) (any, error)) error {
	length := int64(c.Request().Header.ContentLength())
	if length <= 0 {
		closeAfter(c)
		return core.E(core.KindInvalid, "a Content-Length is required for uploads").WithCode("length_required").WithDetail("Content-Length")
	}
	release, err := s.uploads.acquire(principal(c).ProfileID)
	if err != nil {
		closeAfter(c)
		return err
	}
	defer release()
	part, err := multipartFile(c, fields)
	if err != nil {
		closeAfter(c)
		return err
	}
	body := &trackedReader{r: part}
	out, err := store(part, body, length)
	if err != nil {
		closeAfter(c)
		if body.err != nil && core.ErrorKind(err) == core.KindInternal {
			// The client's body broke off (or stalled): its fault, not ours.
			return core.Invalid("file", "the upload was interrupted before the file ended")
		}
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

// trackedReader remembers the first read error other than EOF, to tell a
// client's broken body from a storage failure.
type trackedReader struct {
	r   io.Reader
	err error
}

func (t *trackedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && t.err == nil {
		t.err = err
	}
	return n, err
}
