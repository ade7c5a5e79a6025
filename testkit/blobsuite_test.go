package testkit_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/testkit"
)

func TestMemBlobStore(t *testing.T) {
	t.Parallel()
	testkit.RunBlobStoreSuite(t, func(t *testing.T) testkit.BlobUnderTest {
		clock := testkit.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		s := testkit.NewBlobStore(clock)
		return testkit.BlobUnderTest{
			Store: s,
			Put: func(t *testing.T, p ports.PresignedPut, contentType string, body []byte) int {
				switch err := s.Upload(p.URL, contentType, body); {
				case err == nil:
					return http.StatusOK
				case core.IsKind(err, core.KindForbidden):
					return http.StatusForbidden
				default:
					t.Logf("Upload: %v", err)
					return http.StatusBadRequest
				}
			},
			Expire: clock.Advance,
		}
	})
}

func TestMemBlobStoreUploadOfAnotherURLIsForbidden(t *testing.T) {
	t.Parallel()
	s := testkit.NewBlobStore(testkit.NewClock(time.Now()))
	for _, u := range []string{"memblob://upload?t=forged", "https://example.com/upload?t=x", "::"} {
		if err := s.Upload(u, "text/plain", []byte("x")); !core.IsKind(err, core.KindForbidden) {
			t.Errorf("Upload(%q): %v (kind %s), want KindForbidden", u, err, core.ErrorKind(err))
		}
	}
}
