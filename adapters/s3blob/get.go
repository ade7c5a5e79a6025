package s3blob

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Head implements ports.BlobStore.
func (s *Store) Head(ctx context.Context, key string) (ports.BlobInfo, error) {
	if err := checkKey(key); err != nil {
		return ports.BlobInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return ports.BlobInfo{}, translate(ctx, "head object", err)
	}
	return ports.BlobInfo{
		Key:         key,
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType),
		ETag:        quoteETag(aws.ToString(out.ETag)),
		ModTime:     aws.ToTime(out.LastModified),
	}, nil
}

// Get implements ports.BlobStore. A range's end past the object's end is
// cut to the end, as HTTP does.
func (s *Store) Get(ctx context.Context, key string, rng *ports.ByteRange) (io.ReadCloser, ports.BlobInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, ports.BlobInfo{}, err
	}
	if err := checkRange(rng); err != nil {
		return nil, ports.BlobInfo{}, err
	}
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &key}
	if rng != nil {
		in.Range = aws.String(rangeHeader(*rng))
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, ports.BlobInfo{}, translate(ctx, "get object", err)
	}
	info := ports.BlobInfo{
		Key:         key,
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType),
		ETag:        quoteETag(aws.ToString(out.ETag)),
		ModTime:     aws.ToTime(out.LastModified),
	}
	if rng == nil {
		return out.Body, info, nil
	}
	if total, ok := contentRangeTotal(aws.ToString(out.ContentRange)); ok {
		info.Size = total
		return out.Body, info, nil
	}
	// The server ignored the Range header and sent the whole object (HTTP
	// allows it): cut the range out here.
	if rng.Start >= info.Size {
		_ = out.Body.Close()
		return nil, ports.BlobInfo{}, core.Invalid("range", "the range starts past the end of the object")
	}
	if _, err := io.CopyN(io.Discard, out.Body, rng.Start); err != nil {
		_ = out.Body.Close()
		return nil, ports.BlobInfo{}, translate(ctx, "get object", err)
	}
	n := info.Size - rng.Start
	if rng.End >= 0 && rng.End < info.Size {
		n = rng.End - rng.Start + 1
	}
	return readCloser{io.LimitReader(out.Body, n), out.Body}, info, nil
}

// Delete implements ports.BlobStore.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key})
	if err = translate(ctx, "delete object", err); err != nil && !core.IsKind(err, core.KindNotFound) {
		return err
	}
	return nil
}

// rangeHeader renders rng as an HTTP Range header value.
func rangeHeader(rng ports.ByteRange) string {
	if rng.End < 0 {
		return fmt.Sprintf("bytes=%d-", rng.Start)
	}
	return fmt.Sprintf("bytes=%d-%d", rng.Start, rng.End)
}

// contentRangeTotal returns the complete length in a Content-Range header
// value ("bytes 0-9/123" → 123).
func contentRangeTotal(v string) (int64, bool) {
	_, total, ok := strings.Cut(v, "/")
	if !ok || !strings.HasPrefix(v, "bytes ") {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil && n >= 0
}

// quoteETag returns etag quoted as HTTP sends it (some servers drop the
// quotes).
func quoteETag(etag string) string {
	if etag == "" || strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, `W/"`) {
		return etag
	}
	return `"` + etag + `"`
}

// readCloser reads from r and closes c.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }
