package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/uploads"
)

// uploadPresigned presigns, PUTs and completes content; it returns the
// file record.
func (s *testServer) uploadPresigned(key reqOpt, colID, name, contentType string, content []byte) map[string]any {
	s.t.Helper()
	pre := s.presign(key, colID, name, contentType, len(content))
	require.Equal(s.t, http.StatusOK, s.putPresigned(pre["uploadUrl"].(string), pre["headers"].(map[string]any), content))
	r := s.do("POST", "/api/upload/complete", completeBody(colID, name, contentType, len(content), pre), key)
	require.Equal(s.t, http.StatusCreated, r.status, "body: %s", r.body)
	return r.json(s.t)
}

// usedBytes reads GET /api/studio/storage.
func (s *testServer) usedBytes(key reqOpt) float64 {
	s.t.Helper()
	r := s.do("GET", "/api/studio/storage", nil, key)
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	return r.json(s.t)["usedBytes"].(float64)
}

// registerOnTinyPlan creates a free Client Gallery plan of limit bytes
// through the admin API and registers an account on it.
func (s *testServer) registerOnTinyPlan(adminSession string, limit int64) account {
	s.t.Helper()
	r := s.do("POST", "/api/admin/plans", map[string]any{
		"planType": "clientGallery", "name": "Tiny", "storageLimitBytes": limit, "price": 0, "clientGalleryEnabled": true,
	}, withSession(adminSession))
	require.Equal(s.t, http.StatusCreated, r.status, "body: %s", r.body)
	planID := r.json(s.t)["id"].(string)
	email := uniqueEmail("tiny")
	reg := s.do("POST", "/api/register", map[string]any{
		"email": email, "password": "correct horse battery", "displayName": "Tiny Studio", "accountType": "studio", "planId": planID,
	})
	require.Equal(s.t, http.StatusCreated, reg.status, "body: %s", reg.body)
	m := reg.json(s.t)
	require.Equal(s.t, false, m["requiresPayment"])
	return account{profileID: m["profileId"].(string), email: email, apiKey: m["apiKey"].(string), driveKey: m["driveApiKey"].(string), session: reg.cookie.Value}
}

func TestGalleryComplete(t *testing.T) {
	for _, gb := range galleryBackends {
		t.Run(gb.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, gb.backend, gb.o)
			a := s.register(uniqueEmail("complete"))
			other := s.register(uniqueEmail("other"))
			key := withKey(a.apiKey)
			colID := s.createCollection(key, "Shoot")
			content := bytes.Repeat([]byte("gellhub "), 512)
			n := len(content)

			t.Run("complete_before_the_put_is_409_retryable_then_succeeds", func(t *testing.T) {
				pre := s.presign(key, colID, "early.jpg", "image/jpeg", n)
				body := completeBody(colID, "early.jpg", "image/jpeg", n, pre)
				for range 2 { // the guide retries: each attempt is the same 409
					s.do("POST", "/api/upload/complete", body, key).
						requireError(t, http.StatusConflict, "upload_incomplete_or_mismatch", "object_not_visible_yet_retry_complete")
				}
				require.Equal(t, http.StatusOK, s.putPresigned(pre["uploadUrl"].(string), pre["headers"].(map[string]any), content))
				r := s.do("POST", "/api/upload/complete", body, key)
				require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
				f := r.json(t)
				require.EqualValues(t, n, f["sizeBytes"])
				require.Equal(t, pre["storageKey"], f["storageKey"])
				require.Equal(t, colID, f["collectionId"])
				require.Equal(t, "early.jpg", f["fileName"])
			})

			t.Run("declared_size_mismatch_is_400_sizeBytes", func(t *testing.T) {
				pre := s.presign(key, colID, "size.jpg", "image/jpeg", n)
				require.Equal(t, http.StatusOK, s.putPresigned(pre["uploadUrl"].(string), pre["headers"].(map[string]any), content))
				s.do("POST", "/api/upload/complete", completeBody(colID, "size.jpg", "image/jpeg", n+1, pre), key).
					requireError(t, http.StatusBadRequest, "upload_incomplete_or_mismatch", "sizeBytes")
				s.do("POST", "/api/upload/complete", completeBody(colID, "size.jpg", "image/jpeg", n-1, pre), key).
					requireError(t, http.StatusBadRequest, "upload_incomplete_or_mismatch", "sizeBytes")
				r := s.do("POST", "/api/upload/complete", completeBody(colID, "size.jpg", "image/jpeg", n, pre), key)
				require.Equal(t, http.StatusCreated, r.status, "the right size still completes: %s", r.body)
			})

			t.Run("a_put_of_another_length_is_refused_by_the_storage", func(t *testing.T) {
				pre := s.presign(key, colID, "len.jpg", "image/jpeg", n)
				require.NotEqual(t, http.StatusOK, s.putPresigned(pre["uploadUrl"].(string), pre["headers"].(map[string]any), append(bytes.Clone(content), 'x')))
				require.NotEqual(t, http.StatusOK, s.putPresigned(pre["uploadUrl"].(string), map[string]any{"Content-Type": "text/html"}, content))
				s.do("POST", "/api/upload/complete", completeBody(colID, "len.jpg", "image/jpeg", n, pre), key).
					requireError(t, http.StatusConflict, "upload_incomplete_or_mismatch", "object_not_visible_yet_retry_complete")
			})

			t.Run("an_object_of_the_wrong_size_is_removed_and_released", func(t *testing.T) {
				before := s.usedBytes(key)
				pre := s.presign(key, colID, "wrong.jpg", "image/jpeg", n)
				sk := pre["storageKey"].(string)
				// Storage that let a wrong length through (or a bug): simulated
				// by writing the object directly.
				_, err := s.blobs.Put(context.Background(), sk, bytes.NewReader(content[:n-1]), "image/jpeg", int64(n))
				require.NoError(t, err)
				body := completeBody(colID, "wrong.jpg", "image/jpeg", n, pre)
				s.do("POST", "/api/upload/complete", body, key).
					requireError(t, http.StatusBadRequest, "upload_incomplete_or_mismatch", "size_mismatch")
				_, err = s.blobs.Head(context.Background(), sk)
				require.True(t, core.IsKind(err, core.KindNotFound), "the object is removed: %v", err)
				s.do("POST", "/api/upload/complete", body, key).requireError(t, http.StatusForbidden, "forbidden", "")
				require.Equal(t, before, s.usedBytes(key))
				_, err = s.quota.ReservationByKey(context.Background(), s.studioOf(a), sk)
				require.True(t, core.IsKind(err, core.KindNotFound), "the reservation is released: %v", err)
			})

			t.Run("foreign_or_unknown_keys_are_403", func(t *testing.T) {
				pre := s.presign(key, colID, "mine.jpg", "image/jpeg", n)
				require.Equal(t, http.StatusOK, s.putPresigned(pre["uploadUrl"].(string), pre["headers"].(map[string]any), content))
				body := completeBody(colID, "mine.jpg", "image/jpeg", n, pre)
				otherCol := s.createCollection(withKey(other.apiKey), "Theirs")
				theirs := completeBody(otherCol, "mine.jpg", "image/jpeg", n, pre)
				s.do("POST", "/api/upload/complete", theirs, withKey(other.apiKey)).requireError(t, http.StatusForbidden, "forbidden", "")
				s.do("POST", "/api/upload/complete", body, withKey(a.driveKey)).requireError(t, http.StatusForbidden, "forbidden", "")
				for _, sk := range []string{
					"clientGallery/" + s.studioOf(a) + "/up_never/mine.jpg",
					"drive/" + s.studioOf(a) + "/up_x/mine.jpg",
					"clientGallery/" + s.studioOf(a) + "/../" + s.studioOf(other) + "/x",
					strings.Repeat("k", 3000),
				} {
					b := completeBody(colID, "mine.jpg", "image/jpeg", n, map[string]any{"storageKey": sk})
					s.do("POST", "/api/upload/complete", b, key).requireError(t, http.StatusForbidden, "forbidden", "")
				}
				r := s.do("POST", "/api/upload/complete", body, key)
				require.Equal(t, http.StatusCreated, r.status, "the owner completes it: %s", r.body)
			})

			t.Run("an_expired_reservation_is_403", func(t *testing.T) {
				pre := s.presign(key, colID, "late.jpg", "image/jpeg", n)
				require.Equal(t, http.StatusOK, s.putPresigned(pre["uploadUrl"].(string), pre["headers"].(map[string]any), content))
				s.clock.Advance(uploads.DefaultReservationTTL - time.Minute)
				s.do("POST", "/api/upload/complete", completeBody(colID, "late.jpg", "image/jpeg", n, pre), key).
					requireError(t, http.StatusForbidden, "forbidden", "")
				s.clock.Advance(time.Minute)
				released, err := s.uploads.ExpireReservations(context.Background())
				require.NoError(t, err)
				require.GreaterOrEqual(t, released, 1)
				_, err = s.blobs.Head(context.Background(), pre["storageKey"].(string))
				require.True(t, core.IsKind(err, core.KindNotFound), "the expiry job removed the object: %v", err)
			})

			t.Run("concurrent_completes_return_one_record_counted_once", func(t *testing.T) {
				before := s.usedBytes(key)
				pre := s.presign(key, colID, "race.jpg", "image/jpeg", n)
				require.Equal(t, http.StatusOK, s.putPresigned(pre["uploadUrl"].(string), pre["headers"].(map[string]any), content))
				body := completeBody(colID, "race.jpg", "image/jpeg", n, pre)
				const racers = 8
				var wg sync.WaitGroup
				replies := make([]reply, racers)
				for i := range racers {
					wg.Go(func() { replies[i] = s.do("POST", "/api/upload/complete", body, key) })
				}
				wg.Wait()
				var id any
				for _, r := range replies {
					require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
					if id == nil {
						id = r.json(t)["id"]
					}
					require.Equal(t, id, r.json(t)["id"])
				}
				require.Equal(t, before+float64(n), s.usedBytes(key), "bytes counted once")
			})
		})
	}
}

func TestGalleryQuota(t *testing.T) {
	for _, gb := range galleryBackends {
		t.Run(gb.name, func(t *testing.T) {
			t.Parallel()
			adminEmail := uniqueEmail("staff")
			o := gb.o
			o.admins = []string{adminEmail}
			s := newTestServer(t, gb.backend, o)
			admin := s.register(adminEmail)
			a := s.registerOnTinyPlan(admin.session, 4096)
			key := withKey(a.apiKey)
			colID := s.createCollection(key, "Shoot")

			st := s.do("GET", "/api/studio/storage", nil, key).json(t)
			require.EqualValues(t, 4096, st["limitBytes"])
			require.EqualValues(t, 0, st["usedBytes"])

			t.Run("presign_over_the_quota_is_413", func(t *testing.T) {
				s.do("POST", "/api/upload/presign", presignBody(colID, "big.jpg", "image/jpeg", 4097), key).
					requireError(t, http.StatusRequestEntityTooLarge, "quota_exceeded", "")
				held := s.presign(key, colID, "held.jpg", "image/jpeg", 3000)
				// Open reservations count: 1097 left.
				s.do("POST", "/api/upload/presign", presignBody(colID, "more.jpg", "image/jpeg", 1097), key).
					requireError(t, http.StatusRequestEntityTooLarge, "quota_exceeded", "")
				// Expiry gives the bytes back.
				s.clock.Advance(uploads.DefaultReservationTTL)
				_, err := s.uploads.ExpireReservations(context.Background())
				require.NoError(t, err)
				_, err = s.quota.ReservationByKey(context.Background(), s.studioOf(a), held["storageKey"].(string))
				require.True(t, core.IsKind(err, core.KindNotFound))
				s.presign(key, colID, "fits.jpg", "image/jpeg", 4096)
				s.clock.Advance(uploads.DefaultReservationTTL)
				_, err = s.uploads.ExpireReservations(context.Background())
				require.NoError(t, err)
			})

			t.Run("proxy_upload_over_the_quota_is_413_and_counts_nothing", func(t *testing.T) {
				r := s.proxyUpload(key, colID, "huge.bin", bytes.Repeat([]byte("q"), 5000))
				r.requireError(t, http.StatusRequestEntityTooLarge, "quota_exceeded", "")
				require.Equal(t, "close", r.header.Get("Connection"))
				require.Zero(t, s.usedBytes(key))
				u, err := s.quota.Usage(context.Background(), s.studioOf(a))
				require.NoError(t, err)
				require.Equal(t, core.Usage{}, u, "nothing reserved either")
				files := s.do("GET", "/api/collections/"+colID+"/files", nil, key)
				require.Empty(t, files.list(t))
			})

			t.Run("uploads_fill_the_quota_exactly", func(t *testing.T) {
				r := s.proxyUpload(key, colID, "small.bin", bytes.Repeat([]byte("s"), 1000))
				require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
				s.uploadPresigned(key, colID, "rest.jpg", "image/jpeg", bytes.Repeat([]byte("r"), 2096))
				// The last 1000 bytes by proxy: the request is longer than
				// what is left (its multipart framing), the file is not.
				r = s.proxyUpload(key, colID, "last.bin", bytes.Repeat([]byte("l"), 1000))
				require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
				require.EqualValues(t, 4096, s.usedBytes(key))
				s.do("POST", "/api/upload/presign", presignBody(colID, "one.jpg", "image/jpeg", 1), key).
					requireError(t, http.StatusRequestEntityTooLarge, "quota_exceeded", "")
				s.proxyUpload(key, colID, "one.bin", []byte("1")).requireError(t, http.StatusRequestEntityTooLarge, "quota_exceeded", "")
				require.EqualValues(t, 4096, s.usedBytes(key))
			})
		})
	}
}
