package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gellhub/gellhub/adapters/internal/blobarg"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Put implements ports.BlobStore: r is streamed as a multipart upload (one
// PutObject when it is under one part), holding at most about
// (Concurrency + 2) × PartSize bytes in memory. On any failure the
// multipart upload is aborted, so that neither the object nor its parts
// remain. An empty contentType stores application/octet-stream. Objects
// over 10,000 parts (PartSize × 10,000: 78 GiB with 8 MiB parts) are
// core.KindTooLarge whatever maxSize says: raise PartSize to store larger
// ones.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, contentType string, maxSize int64) (ports.BlobInfo, error) {
	if err := checkKey(key); err != nil {
		return ports.BlobInfo{}, err
	}
	if contentType == "" {
		contentType = defaultContentType
	} else if err := checkContentType(contentType); err != nil {
		return ports.BlobInfo{}, err
	}
	if maxSize < 0 {
		return ports.BlobInfo{}, core.Invalid("max_size", "the size limit must not be negative")
	}

	// S3 takes at most 10,000 parts: the part size, which bounds memory,
	// also bounds the object (78 GiB with the default 8 MiB parts).
	body := &blobarg.LimitedReader{R: r, Limit: min(maxSize, s.partSize*maxParts)}

	out, err := s.uploader.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket:      &s.bucket,
		Key:         &key,
		Body:        body,
		ContentType: &contentType,
	})
	if err != nil {
		return ports.BlobInfo{}, s.putFailed(ctx, key, body, err)
	}
	return ports.BlobInfo{
		Key:         key,
		Size:        body.N,
		ContentType: contentType,
		ETag:        quoteETag(aws.ToString(out.ETag)),
		ModTime:     time.Now().UTC(),
	}, nil
}

// putFailed makes sure that a failed Put leaves no multipart upload behind
// and says why it failed: the body was too large, the body's reader failed
// (its error is returned wrapped, with its kind), or S3 did.
func (s *Store) putFailed(ctx context.Context, key string, body *blobarg.LimitedReader, err error) error {
	var mpu transfermanager.MultipartUploadError
	if errors.As(err, &mpu) && mpu.UploadID() != "" {
		// The transfer manager has aborted already; should that abort have
		// failed, this one tries again (a second abort is harmless).
		abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), failTimeout)
		uploadID := mpu.UploadID()
		_, _ = s.client.AbortMultipartUpload(abortCtx, &s3.AbortMultipartUploadInput{
			Bucket: &s.bucket, Key: &key, UploadId: &uploadID,
		})
		cancel()
	}
	switch {
	case body.TooLarge:
		return &core.Error{
			Kind:    core.KindTooLarge,
			Code:    "payload_too_large",
			Message: fmt.Sprintf("the upload is over its limit of %d bytes", body.Limit),
		}
	case body.ReadErr != nil:
		return fmt.Errorf("s3blob put: read the body: %w", body.ReadErr)
	default:
		return translate(ctx, "put object", err)
	}
}

// unsignedUploads is the S3 client the transfer manager uses: its part
// uploads are signed with UNSIGNED-PAYLOAD instead of a SHA-256 of the
// body, which the SDK can only compute up front on a seekable body (and
// which costs a second pass over every byte).
type unsignedUploads struct{ *s3.Client }

var unsignedPayload = s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)

// PutObject sends one object with an unsigned payload.
func (c unsignedUploads) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return c.Client.PutObject(ctx, in, append(slices.Clip(opts), unsignedPayload)...)
}

// UploadPart sends one part with an unsigned payload.
func (c unsignedUploads) UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	return c.Client.UploadPart(ctx, in, append(slices.Clip(opts), unsignedPayload)...)
}
