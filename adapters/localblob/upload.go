package localblob

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// tokenDomain separates upload tokens from anything else signed with the
// same secret.
const tokenDomain = "gellhub/localblob/upload/v1\n"

// uploadClaim is what an upload token grants: one PUT of Size bytes of
// ContentType under Key until Exp.
type uploadClaim struct {
	Key         string `json:"k"`
	Size        int64  `json:"s"`
	ContentType string `json:"t"`
	Exp         int64  `json:"e"` // Unix milliseconds
}

// PresignPut implements ports.BlobStore: the URL is
// {baseURL}/api/blob/upload?t=<token>, served by the API's PUT route
// through AcceptUpload. The token is stateless (no record is kept): the
// claim, base64url, a dot, and its HMAC-SHA256, base64url.
func (s *Store) PresignPut(_ context.Context, key string, size int64, contentType string, ttl time.Duration) (ports.PresignedPut, error) {
	if err := checkKey(key); err != nil {
		return ports.PresignedPut{}, err
	}
	if size <= 0 {
		return ports.PresignedPut{}, core.Invalid("size", "the size must be positive")
	}
	if err := checkContentType(contentType); err != nil {
		return ports.PresignedPut{}, err
	}
	if ttl < time.Second || ttl > maxPresignTTL {
		return ports.PresignedPut{}, core.Invalid("ttl", "the URL's lifetime must be between 1 second and 7 days")
	}
	exp := s.clock.Now().Add(ttl).Truncate(time.Millisecond)
	token, err := s.sign(uploadClaim{Key: key, Size: size, ContentType: contentType, Exp: exp.UnixMilli()})
	if err != nil {
		return ports.PresignedPut{}, core.Internal(fmt.Errorf("localblob presign: %w", err))
	}
	return ports.PresignedPut{
		URL:       s.baseURL + UploadPath + "?t=" + url.QueryEscape(token),
		Headers:   map[string]string{"Content-Type": contentType},
		ExpiresAt: exp,
	}, nil
}

// AcceptUpload performs the PUT of a presigned URL: token is its t query
// parameter, contentLength and contentType the request's headers
// (contentLength -1 when absent) and body the request's body. It is
// refused with core.KindForbidden when the token is forged or expired or
// when the headers differ from what it grants (as S3 refuses a PUT that
// does not match its signature), and with core.KindInvalid when the body
// is shorter or longer than its Content-Length or that is missing. A
// refused upload stores nothing and leaves any previous object in place.
func (s *Store) AcceptUpload(ctx context.Context, token string, contentLength int64, contentType string, body io.Reader) (ports.BlobInfo, error) {
	c, err := s.verify(token)
	if err != nil {
		return ports.BlobInfo{}, err
	}
	switch {
	case s.clock.Now().After(time.UnixMilli(c.Exp)):
		return ports.BlobInfo{}, core.Forbidden("the upload URL has expired")
	case contentType != c.ContentType:
		return ports.BlobInfo{}, core.Forbidden("the upload URL was signed for another Content-Type")
	case contentLength < 0:
		return ports.BlobInfo{}, core.Invalid("content_length", "the upload needs a Content-Length")
	case contentLength != c.Size:
		return ports.BlobInfo{}, core.Forbidden("the upload URL was signed for another Content-Length")
	}
	return s.write(ctx, c.Key, body, c.ContentType, c.Size, true)
}

// sign encodes c as a token.
func (s *Store) sign(c uploadClaim) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p)), nil
}

// verify checks a token's signature (in constant time) and decodes its
// claim; any flaw is core.KindForbidden, saying no more.
func (s *Store) verify(token string) (uploadClaim, error) {
	forged := core.Forbidden("the upload URL is not valid")
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return uploadClaim{}, forged
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(p)) {
		return uploadClaim{}, forged
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	var c uploadClaim
	if err != nil || json.Unmarshal(payload, &c) != nil || checkKey(c.Key) != nil || c.Size <= 0 {
		return uploadClaim{}, forged
	}
	return c, nil
}

func (s *Store) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(tokenDomain))
	m.Write([]byte(payload))
	return m.Sum(nil)
}
