package platform

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/gellhub/gellhub/adapters/localblob"
	"github.com/gellhub/gellhub/adapters/s3blob"
	"github.com/gellhub/gellhub/apps/internal/config"
)

// openBlobs selects object storage: S3 when a bucket is configured, else
// files under the data dir, uploaded through the API's own signed URLs.
func (p *Platform) openBlobs(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	key, err := signingKey(cfg, log)
	if err != nil {
		return err
	}
	p.signingKey = key
	if cfg.S3.Enabled() {
		st, err := s3blob.New(ctx, s3blob.Config{
			Endpoint: cfg.S3.Endpoint, Region: cfg.S3.Region, Bucket: cfg.S3.Bucket,
			AccessKey: cfg.S3.AccessKey, SecretKey: cfg.S3.SecretKey, PathStyle: cfg.S3.PathStyle,
		})
		if err != nil {
			return fmt.Errorf("open object storage: %w", err)
		}
		p.Blobs = st
		p.Checks = append(p.Checks, Check{"object storage", st})
		log.Info("object storage ready", "backend", "s3", "bucket", cfg.S3.Bucket)
		return nil
	}
	dir := filepath.Join(cfg.DataDir, "blobs")
	st, err := localblob.New(dir, cfg.BaseURL, key, p.Clock)
	if err != nil {
		return fmt.Errorf("open local object storage: %w", err)
	}
	p.closers = append(p.closers, st.Close)
	p.Blobs, p.Local = st, st
	p.Checks = append(p.Checks, Check{"object storage", st})
	log.Info("object storage ready", "backend", "local", "dir", dir)
	return nil
}

// signingKey is GELLHUB_SIGNING_KEY, or a random key created once in the
// data dir (a single instance's default).
func signingKey(cfg config.Config, log *slog.Logger) ([]byte, error) {
	if len(cfg.SigningKey) > 0 {
		return cfg.SigningKey, nil
	}
	path := filepath.Join(cfg.DataDir, "signing.key")
	if b, err := os.ReadFile(path); err == nil {
		if key, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b))); derr == nil && len(key) >= 32 {
			return key, nil
		}
		return nil, fmt.Errorf("%s is not a base64 key of at least 32 bytes", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process made it first
		return signingKey(cfg, log)
	}
	if err != nil {
		return nil, fmt.Errorf("create signing key: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("write signing key: %w", werr)
	}
	log.Warn("generated a signing key for media links in the data dir; set GELLHUB_SIGNING_KEY to share one between instances", "path", path)
	return key, nil
}
