package s3blob

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// PresignPut implements ports.BlobStore with a SigV4 presigned PutObject
// URL whose signature covers Content-Length and Content-Type: S3 refuses
// (403) a PUT of any other length or type. size must be positive (a
// Content-Length of 0 cannot be signed) and ttl between 1 s and 7 days.
func (s *Store) PresignPut(ctx context.Context, key string, size int64, contentType string, ttl time.Duration) (ports.PresignedPut, error) {
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
	req, err := s.presigner.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           &key,
		ContentLength: &size,
		ContentType:   &contentType,
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return ports.PresignedPut{}, translate(ctx, "presign put", err)
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		return ports.PresignedPut{}, core.Internal(fmt.Errorf("s3 presign put: parse the URL: %w", err))
	}
	q := u.Query()
	// Never hand out a URL that would take any size or type.
	signed := strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	for _, h := range []string{"content-length", "content-type"} {
		if !slices.Contains(signed, h) {
			return ports.PresignedPut{}, core.Internal(fmt.Errorf("s3 presign put: %s is not signed (signed: %v)", h, signed))
		}
	}
	expiresAt, err := presignExpiry(q)
	if err != nil {
		return ports.PresignedPut{}, core.Internal(fmt.Errorf("s3 presign put: %w", err))
	}
	return ports.PresignedPut{
		URL:       req.URL,
		Headers:   map[string]string{"Content-Type": contentType},
		ExpiresAt: expiresAt,
	}, nil
}

// presignExpiry reads when a presigned URL expires: its signing time
// (X-Amz-Date) plus its lifetime in seconds (X-Amz-Expires).
func presignExpiry(q url.Values) (time.Time, error) {
	signedAt, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return time.Time{}, fmt.Errorf("read X-Amz-Date: %w", err)
	}
	secs, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("read X-Amz-Expires: %w", err)
	}
	return signedAt.Add(time.Duration(secs) * time.Second), nil
}
