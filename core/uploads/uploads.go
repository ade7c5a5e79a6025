// Package uploads is the upload protocol both product lines share: presign
// (validate, reserve quota, hand out a PUT URL), the checks of complete
// (ownership, the object's presence and exact size), proxy uploads that
// stream into object storage, and the expiry of reservations never
// completed. What a completed upload becomes (a gallery file, a drive file)
// is the caller's.
package uploads

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Defaults.
const (
	DefaultMaxFileBytes   = int64(5) << 30 // S3's single-PUT limit
	DefaultPresignTTL     = time.Hour
	DefaultReservationTTL = 2 * time.Hour  // presign TTL plus time to call complete
	StreamReservationTTL  = 24 * time.Hour // a proxy upload in flight
	expirePageSize        = 500
	completeMargin        = time.Minute
)

// Config wires a Service; zero durations and sizes take the defaults.
type Config struct {
	Blobs          ports.BlobStore
	Quota          ports.QuotaStore
	Clock          ports.Clock
	Random         io.Reader
	MaxFileBytes   int64
	PresignTTL     time.Duration
	ReservationTTL time.Duration
}

// Service runs the upload protocol.
type Service struct{ cfg Config }

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	if cfg.PresignTTL <= 0 {
		cfg.PresignTTL = DefaultPresignTTL
	}
	if cfg.ReservationTTL <= 0 {
		cfg.ReservationTTL = DefaultReservationTTL
	}
	return &Service{cfg: cfg}
}

// MaxFileBytes is the per-file limit.
func (s *Service) MaxFileBytes() int64 { return s.cfg.MaxFileBytes }

// Owner is whose quota an upload counts against.
type Owner struct {
	ID    string           // studio or drive id
	Line  core.ProductLine // its product line
	Limit int64            // the plan's storage limit, bytes
}

// keyPrefix namespaces an owner's objects: "<line>/<owner id>/".
func (o Owner) keyPrefix() string { return string(o.Line) + "/" + o.ID + "/" }

// Owns reports whether key was issued to o.
func (o Owner) Owns(key string) bool {
	return strings.HasPrefix(key, o.keyPrefix()) && !strings.Contains(key, "..") &&
		!strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' })
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC().Truncate(time.Microsecond) }

// newKey returns a fresh storage key for a sanitized file name.
func (s *Service) newKey(o Owner, name string) (string, error) {
	id, err := core.NewID("up", s.now(), s.cfg.Random)
	if err != nil {
		return "", core.Internal(err)
	}
	return o.keyPrefix() + id + "/" + name, nil
}

// FileInput is a file as the client describes it.
type FileInput struct {
	FileName    string
	ContentType string
	SizeBytes   int64
}

// CheckFile validates a described file and returns its sanitized name.
func (s *Service) CheckFile(in FileInput) (string, error) {
	if strings.TrimSpace(in.FileName) == "" {
		return "", core.Invalid("fileName", "fileName is required")
	}
	if len(in.FileName) > 1024 {
		return "", core.Invalid("fileName", "fileName must be at most 1024 bytes")
	}
	if err := core.CheckContentType("contentType", in.ContentType); err != nil {
		return "", err
	}
	if in.SizeBytes <= 0 {
		return "", core.Invalid("sizeBytes", "sizeBytes must be greater than 0")
	}
	if in.SizeBytes > s.cfg.MaxFileBytes {
		return "", core.E(core.KindTooLarge, "the file is larger than the per-file limit").WithDetail("sizeBytes")
	}
	return core.SanitizeFileName(in.FileName), nil
}

// Presigned is an upload the client may now PUT.
type Presigned struct {
	StorageKey string
	Put        ports.PresignedPut
}

// Presign validates the file, reserves its bytes against the owner's quota
// (KindQuotaExceeded when they do not fit) and returns a PUT URL valid for
// at most an hour.
func (s *Service) Presign(ctx context.Context, o Owner, in FileInput) (Presigned, error) {
	name, err := s.CheckFile(in)
	if err != nil {
		return Presigned{}, err
	}
	key, err := s.newKey(o, name)
	if err != nil {
		return Presigned{}, err
	}
	r, err := s.reserve(ctx, o, key, in.SizeBytes, s.cfg.ReservationTTL)
	if err != nil {
		return Presigned{}, err
	}
	put, err := s.cfg.Blobs.PresignPut(ctx, key, in.SizeBytes, in.ContentType, s.cfg.PresignTTL)
	if err != nil {
		s.release(ctx, r)
		return Presigned{}, core.Errorf("presign", err)
	}
	return Presigned{StorageKey: key, Put: put}, nil
}

func (s *Service) reserve(ctx context.Context, o Owner, key string, n int64, ttl time.Duration) (core.Reservation, error) {
	now := s.now()
	id, err := core.NewID("res", now, s.cfg.Random)
	if err != nil {
		return core.Reservation{}, core.Internal(err)
	}
	r := core.Reservation{ID: id, OwnerID: o.ID, StorageKey: key, Bytes: n, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.cfg.Quota.Reserve(ctx, r, o.Limit); err != nil {
		if core.IsKind(err, core.KindQuotaExceeded) {
			return core.Reservation{}, errQuota
		}
		return core.Reservation{}, core.Errorf("reserve", err)
	}
	return r, nil
}

var errQuota = &core.Error{Kind: core.KindQuotaExceeded, Code: "quota_exceeded", Message: "the upload does not fit in the storage left on your plan"}

// release gives a reservation back; a failure is left to the expiry job.
func (s *Service) release(ctx context.Context, r core.Reservation) {
	_ = s.cfg.Quota.Release(context.WithoutCancel(ctx), r.OwnerID, r.ID)
}

// errMismatch is the guide's error for an object missing or of the wrong
// size at complete.
func errMismatch(status core.Kind, detail, msg string) *core.Error {
	return &core.Error{Kind: status, Code: "upload_incomplete_or_mismatch", Message: msg, Detail: detail}
}

// Check runs complete's checks for a key the owner has not completed yet:
// it was presigned for this owner (else KindForbidden), the declared size
// is the reserved one, and the object is there with exactly that size.
// An object not visible yet is KindConflict with detail
// "object_not_visible_yet_retry_complete" (retry); a wrong size is
// KindInvalid, and the object and its reservation are removed.
func (s *Service) Check(ctx context.Context, o Owner, key string, declared int64) (core.Reservation, ports.BlobInfo, error) {
	if key == "" {
		return core.Reservation{}, ports.BlobInfo{}, core.Invalid("storageKey", "storageKey is required")
	}
	if len(key) > 2048 || !o.Owns(key) {
		return core.Reservation{}, ports.BlobInfo{}, core.Forbidden("this storageKey was not presigned for this account")
	}
	r, err := s.cfg.Quota.ReservationByKey(ctx, o.ID, key)
	if core.IsKind(err, core.KindNotFound) {
		return core.Reservation{}, ports.BlobInfo{}, core.Forbidden("no open upload for this storageKey: it expired or was never presigned; presign again")
	}
	if err != nil {
		return core.Reservation{}, ports.BlobInfo{}, core.Errorf("complete", err)
	}
	// The expiry job removes what expires: stop completing a minute before,
	// so the two never race over one object.
	if !s.now().Before(r.ExpiresAt.Add(-completeMargin)) {
		return core.Reservation{}, ports.BlobInfo{}, core.Forbidden("this upload expired; presign again")
	}
	if declared != r.Bytes {
		return core.Reservation{}, ports.BlobInfo{}, errMismatch(core.KindInvalid, "sizeBytes", "sizeBytes differs from the presigned size")
	}
	info, err := s.cfg.Blobs.Head(ctx, key)
	if core.IsKind(err, core.KindNotFound) {
		return core.Reservation{}, ports.BlobInfo{}, errMismatch(core.KindConflict, "object_not_visible_yet_retry_complete", "the uploaded object is not visible yet; retry complete in a moment")
	}
	if err != nil {
		return core.Reservation{}, ports.BlobInfo{}, core.Errorf("complete: head", err)
	}
	if info.Size != r.Bytes {
		_ = s.cfg.Blobs.Delete(context.WithoutCancel(ctx), key)
		s.release(ctx, r)
		return core.Reservation{}, ports.BlobInfo{}, errMismatch(core.KindInvalid, "size_mismatch", "the uploaded object's size differs from the presigned size; it was removed, presign again")
	}
	return r, info, nil
}

// Streamed is a proxy upload stored in object storage, not yet recorded.
type Streamed struct {
	Reservation core.Reservation // holds at most bytes; settle it
	Info        ports.BlobInfo
	Name        string
}

// Stream stores body as it arrives. It reserves max bytes (the request's
// length bounds the file's), or what the quota has left when that is
// less; a file past the per-file limit or max aborts (KindTooLarge), one
// past the quota's end aborts with KindQuotaExceeded, so a file that fits
// exactly is accepted whatever the request's framing. On any failure
// nothing stays stored or reserved.
func (s *Service) Stream(ctx context.Context, o Owner, fileName, contentType string, body io.Reader, max int64) (Streamed, error) {
	if max > s.cfg.MaxFileBytes {
		max = s.cfg.MaxFileBytes
	}
	if strings.TrimSpace(fileName) == "" {
		return Streamed{}, core.Invalid("file", "the file part needs a file name")
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	if err := core.CheckContentType("file", contentType); err != nil {
		return Streamed{}, err
	}
	name := core.SanitizeFileName(fileName)
	key, err := s.newKey(o, name)
	if err != nil {
		return Streamed{}, err
	}
	// Reserve what the request may carry, or only what the quota has left
	// when that is less: the stream is then cut at the quota's end (413
	// quota_exceeded) rather than refused up front for its framing.
	hold := max
	u, err := s.cfg.Quota.Usage(ctx, o.ID)
	if err != nil {
		return Streamed{}, core.Errorf("usage", err)
	}
	left := o.Limit - u.UsedBytes - u.ReservedBytes
	if left <= 0 {
		return Streamed{}, errQuota
	}
	quotaBound := left < hold
	if quotaBound {
		hold = left
	}
	r, err := s.reserve(ctx, o, key, hold, StreamReservationTTL)
	if err != nil {
		return Streamed{}, err
	}
	info, err := s.cfg.Blobs.Put(ctx, key, body, contentType, hold)
	if err != nil {
		_ = s.cfg.Blobs.Delete(context.WithoutCancel(ctx), key)
		s.release(ctx, r)
		if core.IsKind(err, core.KindTooLarge) {
			if quotaBound {
				return Streamed{}, errQuota
			}
			return Streamed{}, core.E(core.KindTooLarge, "the file is larger than allowed").WithDetail("file")
		}
		return Streamed{}, core.Errorf("upload", err)
	}
	if info.Size == 0 {
		_ = s.cfg.Blobs.Delete(context.WithoutCancel(ctx), key)
		s.release(ctx, r)
		return Streamed{}, core.Invalid("file", "the file is empty")
	}
	return Streamed{Reservation: r, Info: info, Name: name}, nil
}

// Abandon undoes a Stream whose record could not be written.
func (s *Service) Abandon(ctx context.Context, st Streamed) {
	_ = s.cfg.Blobs.Delete(context.WithoutCancel(ctx), st.Info.Key)
	s.release(ctx, st.Reservation)
}

// ExpireReservations removes the objects of reservations expired at now
// and gives their bytes back; it returns how many it released.
func (s *Service) ExpireReservations(ctx context.Context) (int, error) {
	rs, err := s.cfg.Quota.ExpiredReservations(ctx, s.now(), expirePageSize)
	if err != nil {
		return 0, core.Errorf("expired reservations", err)
	}
	// One object that keeps failing must not hold back the others: skip
	// it (it is tried again next run) and report every failure.
	n := 0
	var errs []error
	for _, r := range rs {
		if err := s.cfg.Blobs.Delete(ctx, r.StorageKey); err != nil {
			errs = append(errs, core.Errorf("expire reservation "+r.ID+": delete object", err))
			continue
		}
		if err := s.cfg.Quota.Release(ctx, r.OwnerID, r.ID); err != nil {
			errs = append(errs, core.Errorf("expire reservation "+r.ID, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// Usage returns an owner's storage.
func (s *Service) Usage(ctx context.Context, o Owner) (core.Usage, error) {
	u, err := s.cfg.Quota.Usage(ctx, o.ID)
	return u, core.Errorf("usage", err)
}
