package localblob

import (
	"context"
	"fmt"
	"io"
	"path"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// Head implements ports.BlobStore.
func (s *Store) Head(_ context.Context, key string) (ports.BlobInfo, error) {
	if err := checkKey(key); err != nil {
		return ports.BlobInfo{}, err
	}
	mu := s.lock(key)
	mu.RLock()
	st, err := s.root.Stat(objectPath(key))
	m, ok := s.readMeta(key)
	mu.RUnlock()
	if err == nil && !st.Mode().IsRegular() {
		return ports.BlobInfo{}, core.NotFound("object")
	}
	if err != nil {
		return ports.BlobInfo{}, fsError("head", err)
	}
	return describe(key, st, m, ok), nil
}

// Get implements ports.BlobStore: the part rng selects is read straight
// from the file (an io.SectionReader), which the returned reader closes.
func (s *Store) Get(_ context.Context, key string, rng *ports.ByteRange) (io.ReadCloser, ports.BlobInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, ports.BlobInfo{}, err
	}
	mu := s.lock(key)
	mu.RLock()
	f, st, err := s.openRegular(key)
	m, ok := s.readMeta(key)
	mu.RUnlock()
	if err != nil {
		return nil, ports.BlobInfo{}, fsError("get", err)
	}
	info := describe(key, st, m, ok)
	start, end, err := rangeBounds(rng, info.Size)
	if err != nil {
		_ = f.Close()
		return nil, ports.BlobInfo{}, err
	}
	return readCloser{io.NewSectionReader(f, start, end-start), f}, info, nil
}

// Delete implements ports.BlobStore. It also removes the directories the
// object leaves empty.
func (s *Store) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	mu := s.lock(key)
	mu.Lock()
	err := s.remove(key)
	mu.Unlock()
	if err != nil {
		return err
	}
	// Best effort: a directory that is not empty stays, and a Put that
	// needs one removed here makes it again.
	for dir := path.Dir(key); dir != "."; dir = path.Dir(dir) {
		if s.root.Remove(objectPath(dir)) != nil {
			break
		}
	}
	for dir := path.Dir(key); dir != "."; dir = path.Dir(dir) {
		if s.root.Remove(metaPath(dir)) != nil {
			break
		}
	}
	return nil
}

// remove deletes key's data file and sidecar, if key is an object.
func (s *Store) remove(key string) error {
	st, err := s.root.Lstat(objectPath(key))
	switch {
	case notExist(err):
		// No data: a sidecar alone is the leftover of a torn write.
	case err != nil:
		return core.Internal(fmt.Errorf("localblob delete: %w", err))
	case st.IsDir():
		return nil // a folder of other objects, not an object
	default:
		if err := s.root.Remove(objectPath(key)); err != nil && !notExist(err) {
			return core.Internal(fmt.Errorf("localblob delete: %w", err))
		}
	}
	if st, err := s.root.Lstat(metaPath(key)); err == nil && !st.IsDir() {
		if err := s.root.Remove(metaPath(key)); err != nil && !notExist(err) {
			return core.Internal(fmt.Errorf("localblob delete: sidecar: %w", err))
		}
	}
	return nil
}

// readCloser reads from r and closes c.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }
