// Package s3blob implements ports.BlobStore on S3-compatible object storage
// (AWS S3, Wasabi, MinIO, SeaweedFS, versitygw) with aws-sdk-go-v2.
//
// Third-party servers: since early 2025 the SDK adds CRC32 checksums (as
// aws-chunked trailers) to every upload and validates response checksums by
// default, which several S3-compatible servers reject or mangle. The client
// and the transfer manager (which has its own setting) are both set to
// compute and validate checksums only when an operation requires it
// (aws.RequestChecksumCalculationWhenRequired and
// aws.ResponseChecksumValidationWhenRequired).
//
// Streamed uploads (Put) go through feature/s3/transfermanager as a
// multipart upload. Memory per Put in flight is bounded by about
// (Concurrency + 2) × PartSize: Concurrency + 1 part buffers in the transfer
// manager's pool plus the first part, read before the upload starts to tell
// a small object (one PutObject) from a large one. With the defaults
// (DefaultPartSize 8 MiB × DefaultConcurrency 4) that is 48 MiB, whatever
// the object's size. The part bodies are sent with an UNSIGNED-PAYLOAD
// signature (v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware): the
// SDK cannot hash a streamed body up front over plain http, and on https
// TLS already protects the bytes.
//
// Errors are translated by type and S3 error code, never by message text:
// NotFound/NoSuchKey (or a 404) is core.KindNotFound; InvalidRange (416) is
// core.KindInvalid with detail "range"; a server that cannot be reached,
// times out or answers 5xx is core.KindUnavailable ("object storage"); the
// caller's own cancellation passes through, errors.Is-comparable with
// context.Canceled or context.DeadlineExceeded; anything else is internal.
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/gellhub/gellhub/ports"
)

// Defaults for the streamed uploads of Put.
const (
	// DefaultPartSize is the size of one part of a multipart upload, and
	// the size under which Put sends one PutObject instead.
	DefaultPartSize int64 = 8 << 20
	// DefaultConcurrency is the number of parts of one Put uploaded at once.
	DefaultConcurrency = 4
	// MinPartSize is the smallest part S3 accepts (except the last one).
	MinPartSize int64 = 5 << 20
	// DefaultRegion is used when Config.Region is empty.
	DefaultRegion = "us-east-1"
)

// Client-side timeouts and retries. A dial that does not connect within
// dialTimeout fails (the server is down or unreachable); each request is
// tried maxAttempts times with at most maxBackoff between tries, so an
// unreachable server costs a call about 2 s before core.KindUnavailable.
const (
	dialTimeout = 5 * time.Second
	maxAttempts = 3
	maxBackoff  = time.Second
	// failTimeout bounds the AbortMultipartUpload sent after a failed Put,
	// on a fresh context so that it runs even when the caller's is done.
	failTimeout = 30 * time.Second
	// maxParts is S3's limit on the parts of one multipart upload.
	maxParts = 10000
)

// Config says where the objects live.
type Config struct {
	// Endpoint is the server's base URL (https://s3.wasabisys.com,
	// http://127.0.0.1:7070, …); empty means AWS.
	Endpoint string
	// Region is the bucket's region (DefaultRegion when empty).
	Region string
	// Bucket holds the objects.
	Bucket string
	// AccessKey and SecretKey are static credentials. When both are empty
	// the SDK's default chain (environment, shared files, instance role)
	// is used, for deployments on AWS.
	AccessKey string
	SecretKey string
	// PathStyle addresses the bucket as endpoint/bucket/key rather than
	// bucket.endpoint/key: needed by MinIO, SeaweedFS, versitygw and most
	// servers reached by IP address.
	PathStyle bool
	// PartSize is the part size of Put's multipart uploads (DefaultPartSize
	// when 0; at least MinPartSize). With Concurrency it bounds the memory
	// of one Put, and, S3 taking at most 10,000 parts, the largest object
	// Put stores (PartSize × 10,000).
	PartSize int64
	// Concurrency is the number of parts of one Put in flight
	// (DefaultConcurrency when 0).
	Concurrency int
}

// Store implements ports.BlobStore on one S3 bucket. It is safe for
// concurrent use.
type Store struct {
	client      *s3.Client
	presigner   *s3.PresignClient
	uploader    *transfermanager.Client
	bucket      string
	region      string
	partSize    int64
	concurrency int
}

var (
	_ ports.BlobStore = (*Store)(nil)
	_ ports.Pinger    = (*Store)(nil)
)

// New returns a store for cfg's bucket. It does not contact the server (see
// Ping and EnsureBucket); ctx is used only to load the default credential
// chain when cfg has no static keys.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3blob: Config.Bucket is required")
	}
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		return nil, errors.New("s3blob: set both Config.AccessKey and Config.SecretKey, or neither")
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.PartSize < MinPartSize {
		return nil, fmt.Errorf("s3blob: Config.PartSize %d is under S3's minimum part size %d", cfg.PartSize, MinPartSize)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Concurrency < 1 {
		return nil, fmt.Errorf("s3blob: Config.Concurrency %d must be positive", cfg.Concurrency)
	}

	var creds aws.CredentialsProvider
	if cfg.AccessKey != "" {
		creds = credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")
	} else {
		awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(cfg.Region))
		if err != nil {
			return nil, fmt.Errorf("s3blob: load the default AWS credentials: %w", err)
		}
		creds = awsCfg.Credentials
	}

	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout }).
		WithTransportOptions(func(tr *http.Transport) {
			// Every part of every Put in flight holds a connection.
			tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, 4*cfg.Concurrency)
		})

	client := s3.New(s3.Options{
		Region:       cfg.Region,
		Credentials:  creds,
		UsePathStyle: cfg.PathStyle,
		BaseEndpoint: nonEmpty(cfg.Endpoint),
		HTTPClient:   httpClient,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.MaxBackoff = maxBackoff
			// No client-side retry quota: under a burst of failures it
			// turns every later call into a "retry quota exceeded" error.
			o.RateLimiter = ratelimit.None
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})

	s := &Store{
		client:      client,
		presigner:   s3.NewPresignClient(client),
		bucket:      cfg.Bucket,
		region:      cfg.Region,
		partSize:    cfg.PartSize,
		concurrency: cfg.Concurrency,
	}
	s.uploader = transfermanager.New(unsignedUploads{client}, func(o *transfermanager.Options) {
		o.PartSizeBytes = cfg.PartSize
		// Equal to the part size, so that the first read holds one part.
		o.MultipartUploadThreshold = cfg.PartSize
		o.Concurrency = cfg.Concurrency
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.FailTimeout = failTimeout
	})
	return s, nil
}

// Bucket returns the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// Ping implements ports.Pinger: it checks that the bucket exists and that
// the credentials may use it (HeadBucket). Any failure is
// core.KindUnavailable, so that readiness fails.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket})
	if err != nil {
		return unavailable(ctx, "ping", err)
	}
	return nil
}

// EnsureBucket creates the bucket when it does not exist yet, for tests and
// development servers; production buckets are provisioned beforehand.
func (s *Store) EnsureBucket(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}); err == nil {
		return nil
	}
	in := &s3.CreateBucketInput{Bucket: &s.bucket}
	if s.region != DefaultRegion { // us-east-1 refuses its own name as a constraint
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(s.region),
		}
	}
	_, err := s.client.CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	if err == nil || errors.As(err, &owned) {
		return nil
	}
	return translate(ctx, "create bucket", err)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
