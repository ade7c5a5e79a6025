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
	allowBrowserUploads(c)
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

// allowBrowserUploads lets a page of any origin PUT to a presigned URL, as
// an S3 bucket with a permissive CORS rule does: the signed token is the
// whole credential (no cookie is read), so the origin adds nothing.
func allowBrowserUploads(c *fiber.Ctx) {
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	c.Set(fiber.HeaderAccessControlExposeHeaders, fiber.HeaderETag)
}

// localBlobPreflight answers the CORS preflight of a browser's PUT.
func (s *Server) localBlobPreflight(c *fiber.Ctx) error {
	allowBrowserUploads(c)
	c.Set(fiber.HeaderAccessControlAllowMethods, fiber.MethodPut)
	c.Set(fiber.HeaderAccessControlAllowHeaders, fiber.HeaderContentType)
	c.Set(fiber.HeaderAccessControlMaxAge, "3600")
	return c.SendStatus(fiber.StatusNoContent)
}
