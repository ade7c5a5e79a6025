package httpapi

import (
	"context"
	"io"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/ports"
)

// LocalUploads accepts the presigned PUTs of the embedded default's local
// object storage (adapters/localblob).
type LocalUploads interface {
	AcceptUpload(ctx context.Context, token string, contentLength int64, contentType string, body io.Reader) (ports.BlobInfo, error)
}

// localBlobUpload is PUT /api/blob/upload?t=…: the embedded default's
// stand-in for an S3 presigned PUT. The token fixes the key, the exact
// length and type, and the expiry; the body streams to disk.
func (s *Server) localBlobUpload(c *fiber.Ctx) error {
	token, err := query(c, "t", 4096)
	if err != nil {
		closeAfter(c)
		return err
	}
	length := int64(c.Request().Header.ContentLength())
	info, err := s.LocalUploads.AcceptUpload(c.UserContext(), token, length, c.Get(fiber.HeaderContentType),
		idleReader{r: bodyStream(c), conn: c.Context().Conn()})
	if err != nil {
		closeAfter(c)
		return err
	}
	c.Set(fiber.HeaderETag, info.ETag)
	return c.SendStatus(fiber.StatusOK)
}
