// Package localblob implements ports.BlobStore on a local directory: the
// embedded default, when no object storage is configured.
//
// Layout under the store's directory (all of it reached through an
// os.Root, so that no key, symlink or race can lead outside it):
//
//	objects/<key>   the bytes, exactly as uploaded
//	meta/<key>      a small JSON sidecar: size, content type, ETag, mtime
//	tmp/            uploads in progress (removed when they fail; leftovers
//	                of a crash are removed by New after an hour)
//
// Writes are atomic: the bytes go to a temporary file in tmp/ (same file
// system), are fsynced, then renamed into place, sidecar first, under a
// per-key lock; a failed or refused upload never shows. The sidecar
// records the data file's size and mtime, so a torn pair (a crash between
// the two renames) is noticed and answered with a generic type and an ETag
// derived from size and mtime. A key cannot be both an object and a
// "folder" of other objects ("a" and "a/b"): the second is a
// core.KindConflict, as on any file system (and on versitygw's posix
// backend).
//
// Presigned PUTs are served by the API itself: PresignPut returns
// {baseURL}/api/blob/upload?t=<token>, a stateless token (HMAC-SHA256 with
// the store's secret over key, size, content type and expiry), and the
// API's PUT route hands the request to AcceptUpload, which enforces all
// four exactly.
package localblob

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Sub-directories of the store's directory.
const (
	objectsDir = "objects"
	metaDir    = "meta"
	tmpDir     = "tmp"
)

// UploadPath is the API route that serves presigned PUTs (query t=token).
const UploadPath = "/api/blob/upload"

// MinSecretLen is the shortest HMAC secret New accepts.
const MinSecretLen = 32

// staleTemp is the age past which New removes a temporary file: an upload
// that old was interrupted by a crash.
const staleTemp = time.Hour

// dependency names the store in core.Unavailable errors.
const dependency = "object storage"

// Store implements ports.BlobStore on a directory. It is safe for
// concurrent use within one process; two processes must not share a
// directory.
type Store struct {
	root    *os.Root
	baseURL string
	secret  []byte
	clock   ports.Clock
	locks   [64]sync.RWMutex // by key hash: renames vs. reads of one key
}

var (
	_ ports.BlobStore = (*Store)(nil)
	_ ports.Pinger    = (*Store)(nil)
)

// New opens (creating it if needed) the store in dir. baseURL is the
// API's public origin (https://gellhub.example.com), under which the
// presigned upload URLs are served; secret (at least MinSecretLen bytes)
// signs them; clock tells when they expire.
func New(dir, baseURL string, secret []byte, clock ports.Clock) (*Store, error) {
	if dir == "" {
		return nil, errors.New("localblob: the directory is required")
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("localblob: base URL %q must be an absolute http(s) URL without query", baseURL)
	}
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("localblob: the secret must be at least %d bytes", MinSecretLen)
	}
	if clock == nil {
		return nil, errors.New("localblob: a clock is required")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("localblob: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("localblob: %w", err)
	}
	for _, sub := range []string{objectsDir, metaDir, tmpDir} {
		if err := root.MkdirAll(sub, 0o750); err != nil {
			_ = root.Close()
			return nil, fmt.Errorf("localblob: %w", err)
		}
	}
	s := &Store{root: root, baseURL: strings.TrimRight(baseURL, "/"), secret: append([]byte(nil), secret...), clock: clock}
	s.removeStaleTemps()
	return s, nil
}

// Close releases the directory.
func (s *Store) Close() error { return s.root.Close() }

// Ping implements ports.Pinger: it checks that the directory is writable.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, name, err := s.createTemp()
	if err == nil {
		_, err = f.Write([]byte("ping"))
		err = errors.Join(err, f.Close(), s.root.Remove(name))
	}
	if err != nil {
		return core.Unavailable(dependency, fmt.Errorf("localblob ping: %w", err))
	}
	return nil
}

// removeStaleTemps removes what crashed uploads left in tmp/.
func (s *Store) removeStaleTemps() {
	entries, err := fs.ReadDir(s.root.FS(), tmpDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
			_ = s.root.Remove(path.Join(tmpDir, e.Name()))
		}
	}
}

// createTemp creates a new file in tmp/.
func (s *Store) createTemp() (*os.File, string, error) {
	name := path.Join(tmpDir, rand.Text()+".part")
	f, err := s.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	return f, name, err
}

// lock returns the lock of key's stripe.
func (s *Store) lock(key string) *sync.RWMutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return &s.locks[h.Sum32()%uint32(len(s.locks))]
}

// objectPath and metaPath are where key's bytes and sidecar live, relative
// to the root (key has passed checkKey).
func objectPath(key string) string { return filepath.Join(objectsDir, filepath.FromSlash(key)) }
func metaPath(key string) string   { return filepath.Join(metaDir, filepath.FromSlash(key)) }

// blobMeta is the JSON sidecar of an object.
type blobMeta struct {
	Size        int64  `json:"size"`
	ContentType string `json:"contentType"`
	ETag        string `json:"etag"`
	MTime       int64  `json:"mtime"` // the data file's, in Unix nanoseconds
}

// readMeta reads key's sidecar; ok is false when it is missing or
// unreadable.
func (s *Store) readMeta(key string) (m blobMeta, ok bool) {
	data, err := s.root.ReadFile(metaPath(key))
	if err != nil || json.Unmarshal(data, &m) != nil {
		return blobMeta{}, false
	}
	return m, true
}

// describe builds key's info from its data file and sidecar. A sidecar
// that does not describe that very file (missing, or torn from it by a
// crash) gives a generic type and an ETag of the size and mtime.
func describe(key string, st fs.FileInfo, m blobMeta, ok bool) ports.BlobInfo {
	info := ports.BlobInfo{Key: key, Size: st.Size(), ModTime: st.ModTime()}
	if ok && m.Size == st.Size() && m.MTime == st.ModTime().UnixNano() {
		info.ContentType, info.ETag = m.ContentType, m.ETag
	} else {
		info.ContentType = defaultContentType
		info.ETag = fmt.Sprintf(`"%x-%x"`, st.Size(), st.ModTime().UnixNano())
	}
	return info
}

// notExist reports whether err says a path is not there: missing, or a
// parent of it is a file.
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// fsError translates a file-system error of op: a missing path is
// core.KindNotFound, anything else internal.
func fsError(op string, err error) error {
	if notExist(err) {
		return &core.Error{Kind: core.KindNotFound, Code: "not_found", Message: "object not found", Err: fmt.Errorf("localblob %s: %w", op, err)}
	}
	return core.Internal(fmt.Errorf("localblob %s: %w", op, err))
}
