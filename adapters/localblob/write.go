package localblob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/gellhub/gellhub/adapters/internal/blobarg"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// copyBufferSize is the memory one upload holds, whatever its size.
const copyBufferSize = 128 << 10

// placeAttempts bounds the retries of a rename whose directory a
// concurrent Delete removed (it prunes empty directories).
const placeAttempts = 4

// Put implements ports.BlobStore: r is copied into a temporary file
// through a 128 KiB buffer and hashed on the way (the ETag is the quoted
// hex of the first 16 bytes of its SHA-256); past maxSize, or when r
// fails, the temporary file is removed and nothing changes. An empty
// contentType stores application/octet-stream.
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
	return s.write(ctx, key, r, contentType, maxSize, false)
}

// write stores r under key, atomically. With exact, r must hold exactly
// size bytes (else core.KindInvalid, detail "body"); without, at most size
// (else core.KindTooLarge).
func (s *Store) write(ctx context.Context, key string, r io.Reader, contentType string, size int64, exact bool) (ports.BlobInfo, error) {
	f, tmpName, err := s.createTemp()
	if err != nil {
		return ports.BlobInfo{}, core.Internal(fmt.Errorf("localblob put: %w", err))
	}
	closed, placed := false, false
	defer func() {
		if !closed {
			_ = f.Close()
		}
		if !placed {
			_ = s.root.Remove(tmpName)
		}
	}()

	h := sha256.New()
	body := &blobarg.LimitedReader{Ctx: ctx, R: r, Limit: size}
	n, err := io.CopyBuffer(io.MultiWriter(f, h), body, make([]byte, copyBufferSize))
	switch {
	case body.TooLarge && exact:
		return ports.BlobInfo{}, core.Invalid("body", "the body is longer than its Content-Length")
	case body.TooLarge:
		return ports.BlobInfo{}, &core.Error{
			Kind:    core.KindTooLarge,
			Code:    "payload_too_large",
			Message: fmt.Sprintf("the upload is over its limit of %d bytes", size),
		}
	case body.ReadErr != nil && exact:
		// A presigned PUT whose client broke off: its fault, a 400.
		e := core.Invalid("body", "the upload body broke off before its Content-Length")
		e.Err = body.ReadErr
		return ports.BlobInfo{}, e
	case body.ReadErr != nil:
		return ports.BlobInfo{}, fmt.Errorf("localblob put: read the body: %w", body.ReadErr)
	case err != nil:
		return ports.BlobInfo{}, core.Internal(fmt.Errorf("localblob put: write: %w", err))
	case exact && n != size:
		return ports.BlobInfo{}, core.Invalid("body", "the body is shorter than its Content-Length")
	}
	if err := f.Sync(); err != nil {
		return ports.BlobInfo{}, core.Internal(fmt.Errorf("localblob put: sync: %w", err))
	}
	st, err := f.Stat()
	if err != nil {
		return ports.BlobInfo{}, core.Internal(fmt.Errorf("localblob put: %w", err))
	}
	closed = true
	if err := f.Close(); err != nil {
		return ports.BlobInfo{}, core.Internal(fmt.Errorf("localblob put: close: %w", err))
	}

	m := blobMeta{
		Size:        n,
		ContentType: contentType,
		ETag:        `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`,
		MTime:       st.ModTime().UnixNano(),
	}
	if err := s.commit(key, tmpName, m); err != nil {
		return ports.BlobInfo{}, err
	}
	placed = true
	return ports.BlobInfo{Key: key, Size: n, ContentType: contentType, ETag: m.ETag, ModTime: st.ModTime()}, nil
}

// commit writes m's sidecar and renames it and the data file dataTmp into
// place, sidecar first, under key's lock; then it syncs their directories.
func (s *Store) commit(key, dataTmp string, m blobMeta) error {
	metaTmp, err := s.writeTemp(m)
	if err != nil {
		return core.Internal(fmt.Errorf("localblob put: sidecar: %w", err))
	}
	mu := s.lock(key)
	mu.Lock()
	metaPlaced := false
	for attempt := 1; ; attempt++ {
		err = s.place(key, metaTmp, dataTmp, &metaPlaced)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == placeAttempts {
			break
		}
	}
	mu.Unlock()
	if err != nil {
		if !metaPlaced {
			_ = s.root.Remove(metaTmp)
		}
		return err
	}
	for _, dir := range []string{filepath.Dir(objectPath(key)), filepath.Dir(metaPath(key))} {
		if err := s.syncDir(dir); err != nil {
			return core.Internal(fmt.Errorf("localblob put: sync directory: %w", err))
		}
	}
	return nil
}

// place makes key's directories and renames the temporary files into
// place (the sidecar only when *metaPlaced is false; it sets it). A missing
// directory (removed by a concurrent Delete) is fs.ErrNotExist, for commit
// to retry.
func (s *Store) place(key, metaTmp, dataTmp string, metaPlaced *bool) error {
	for _, dir := range []string{filepath.Dir(objectPath(key)), filepath.Dir(metaPath(key))} {
		if err := s.root.MkdirAll(dir, 0o750); err != nil {
			if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
				return keyConflict(err)
			}
			return core.Internal(fmt.Errorf("localblob put: %w", err))
		}
	}
	if st, err := s.root.Lstat(objectPath(key)); err == nil && st.IsDir() {
		return keyConflict(fmt.Errorf("%s is a directory", objectPath(key)))
	}
	if !*metaPlaced {
		if err := s.root.Rename(metaTmp, metaPath(key)); err != nil {
			return renameError(err)
		}
		*metaPlaced = true
	}
	if err := s.root.Rename(dataTmp, objectPath(key)); err != nil {
		return renameError(err)
	}
	return nil
}

func renameError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return err // retried
	case errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, fs.ErrExist):
		return keyConflict(err)
	default:
		return core.Internal(fmt.Errorf("localblob put: rename: %w", err))
	}
}

func keyConflict(err error) error {
	e := core.Conflict("blob_key_conflict", "the object key is a folder of other objects, or one of its folders is an object")
	e.Err = err
	return e
}

// writeTemp writes m as JSON to a new synced temporary file.
func (s *Store) writeTemp(m blobMeta) (string, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	f, name, err := s.createTemp()
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		_ = s.root.Remove(name)
		return "", err
	}
	return name, nil
}

// syncDir fsyncs a directory, so that a rename in it survives a crash.
func (s *Store) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) { // file systems that cannot sync a directory
		err = nil
	}
	return errors.Join(err, d.Close())
}

// openRegular opens key's data file for reading; a directory or anything
// but a regular file is not an object.
func (s *Store) openRegular(key string) (*os.File, fs.FileInfo, error) {
	f, err := s.root.Open(objectPath(key))
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return f, st, nil
}
