// Package s3test starts a real S3 server for tests: versitygw
// (github.com/versity/versitygw) with its posix backend in a temporary
// directory, on a free loopback port.
//
// The binary is GELLHUB_VERSITYGW when set, else <repo>/.bin/versitygw,
// which Start installs at the pinned Version with `go install` when it is
// missing (about two minutes the first time; .ci/services.sh does it before
// CI's tests). Parallel test binaries install it once, under a file lock.
package s3test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gellhub/gellhub/adapters/internal/testproc"
	"github.com/gellhub/gellhub/adapters/s3blob"
	"github.com/gellhub/gellhub/testkit"
)

// Version is the versitygw release the tests run against.
const Version = "v1.8.0"

// Package is what `go install` builds.
const Package = "github.com/versity/versitygw/cmd/versitygw"

// Credentials, region and bucket of the servers Start runs.
const (
	AccessKey = "gellhubtest"
	SecretKey = "gellhubtestsecret"
	Region    = "us-east-1"
	Bucket    = "gellhub-test"
)

// service names the server in testkit.RequireService messages.
const service = "S3 (versitygw)"

// tool is versitygw as the tests install it.
var tool = testproc.Tool{Name: "versitygw", Package: Package, Version: Version, Env: "GELLHUB_VERSITYGW"}

// Start runs a fresh versitygw for t, with an empty bucket Bucket, and
// returns the configuration that reaches it (path-style, plain http). The
// server stops and its files go when t ends. When the server cannot be
// installed or started, the test fails in CI and is skipped elsewhere
// (testkit.RequireService).
func Start(t testing.TB) s3blob.Config {
	t.Helper()
	bin, err := tool.Binary()
	testkit.RequireService(t, service, err)

	dir := t.TempDir()
	client := &http.Client{Timeout: time.Second}
	addr, err := testproc.Start(t, testproc.Server{
		Name: "versitygw",
		Bin:  bin,
		// Global flags come before the backend's command.
		Args: func(addr string) []string {
			return []string{"--port", addr, "--access", AccessKey, "--secret", SecretKey, "--region", Region, "--keep-alive", "--quiet", "posix", dir}
		},
		// Any HTTP answer (403 to an anonymous request) means it serves.
		Ready: func(addr string) bool {
			resp, err := client.Get("http://" + addr + "/")
			if err == nil {
				_ = resp.Body.Close()
			}
			return err == nil
		},
	})
	testkit.RequireService(t, service, err)

	cfg := s3blob.Config{
		Endpoint:  "http://" + addr,
		Region:    Region,
		Bucket:    Bucket,
		AccessKey: AccessKey,
		SecretKey: SecretKey,
		PathStyle: true,
	}
	ctx, cancel := context.WithTimeout(context.Background(), testproc.StartTimeout)
	defer cancel()
	store, err := s3blob.New(ctx, cfg)
	if err == nil {
		err = store.EnsureBucket(ctx)
	}
	testkit.RequireService(t, service, err)
	return cfg
}
