package gallery_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/gallery"
	"github.com/gellhub/gellhub/core/uploads"
	"github.com/gellhub/gellhub/ports"
)

func TestComplete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("idempotent_bytes_counted_once", func(t *testing.T) {
		f := newFixture(t)
		a := f.register(t, "")
		col := f.collection(t, a.key, "Shoot")
		body := bytes.Repeat([]byte("z"), 1000)
		in := uploads.FileInput{FileName: "IMG 1.jpg", ContentType: "image/jpeg", SizeBytes: 1000}
		target := gallery.UploadTarget{CollectionID: col.ID}
		p, err := f.svc.Presign(ctx, a.key, target, in)
		require.NoError(t, err)
		require.Equal(t, core.Usage{ReservedBytes: 1000}, f.usage(t, a))
		require.NoError(t, f.blobs.Upload(p.Put.URL, "image/jpeg", body))

		first, err := f.svc.Complete(ctx, a.key, target, p.StorageKey, in)
		require.NoError(t, err)
		require.Equal(t, "Jane Client", first.ClientName, "the collection's client by default")
		require.Equal(t, "IMG 1.jpg", first.Name)
		require.EqualValues(t, 1000, first.Size)
		require.NotEmpty(t, first.ETag)
		require.Equal(t, core.Usage{UsedBytes: 1000}, f.usage(t, a))

		again, err := f.svc.Complete(ctx, a.key, target, p.StorageKey, in)
		require.NoError(t, err)
		require.Equal(t, first, again)
		// Even with other details, completing the same key returns the record.
		other, err := f.svc.Complete(ctx, a.session, target, p.StorageKey, uploads.FileInput{FileName: "x.jpg", ContentType: "image/png", SizeBytes: 1})
		require.NoError(t, err)
		require.Equal(t, first, other)
		require.Equal(t, core.Usage{UsedBytes: 1000}, f.usage(t, a), "bytes counted once")
	})

	t.Run("concurrent_completes_make_one_record", func(t *testing.T) {
		f := newFixture(t)
		a := f.register(t, "")
		col := f.collection(t, a.key, "Shoot")
		in := uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 10}
		target := gallery.UploadTarget{CollectionID: col.ID}
		p, err := f.svc.Presign(ctx, a.key, target, in)
		require.NoError(t, err)
		require.NoError(t, f.blobs.Upload(p.Put.URL, "image/jpeg", make([]byte, 10)))
		var wg sync.WaitGroup
		ids := make([]string, 10)
		errs := make([]error, 10)
		for i := range ids {
			wg.Go(func() {
				file, err := f.svc.Complete(ctx, a.key, target, p.StorageKey, in)
				ids[i], errs[i] = file.ID, err
			})
		}
		wg.Wait()
		for i := range ids {
			require.NoError(t, errs[i])
			require.Equal(t, ids[0], ids[i])
		}
		require.Equal(t, core.Usage{UsedBytes: 10}, f.usage(t, a))
	})

	t.Run("a_retry_racing_the_first_complete_gets_the_record", func(t *testing.T) {
		// The retry looked the key up just before the first complete
		// committed: by its Check the reservation is settled. It must get
		// the record, not "no open upload" (403).
		f := newFixture(t)
		a := f.register(t, "")
		col := f.collection(t, a.key, "Shoot")
		first := f.upload(t, a.key, col, "a.jpg", make([]byte, 10))
		f.gstore.staleOnce.Store(true)
		again, err := f.svc.Complete(ctx, a.key, gallery.UploadTarget{CollectionID: col.ID}, first.StorageKey,
			uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 10})
		require.NoError(t, err)
		require.Equal(t, first, again)
		require.False(t, f.gstore.staleOnce.Load(), "the stale read happened")
		require.Equal(t, core.Usage{UsedBytes: 10}, f.usage(t, a))
	})

	t.Run("the_record_has_the_stored_type_not_the_declared_one", func(t *testing.T) {
		f := newFixture(t)
		a := f.register(t, "")
		col := f.collection(t, a.key, "Shoot")
		target := gallery.UploadTarget{CollectionID: col.ID}
		p, err := f.svc.Presign(ctx, a.key, target, uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 4})
		require.NoError(t, err)
		require.NoError(t, f.blobs.Upload(p.Put.URL, "image/jpeg", []byte("jpeg")))
		file, err := f.svc.Complete(ctx, a.key, target, p.StorageKey, uploads.FileInput{FileName: "a.html", ContentType: "text/html", SizeBytes: 4})
		require.NoError(t, err)
		require.Equal(t, "image/jpeg", file.ContentType)
		views, err := f.svc.Files(ctx, a.key, col.ID, core.Page{Limit: 10})
		require.NoError(t, err)
		c, err := core.VerifyMediaToken(f.key, views[0].MediaToken, f.clock.Now())
		require.NoError(t, err)
		require.Equal(t, "image/jpeg", c.ContentType)
	})

	t.Run("checks_before_recording", func(t *testing.T) {
		f := newFixture(t)
		a, b := f.register(t, ""), f.register(t, "")
		col := f.collection(t, a.key, "Shoot")
		in := uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 10}
		target := gallery.UploadTarget{CollectionID: col.ID}
		p, err := f.svc.Presign(ctx, a.key, target, in)
		require.NoError(t, err)

		_, err = f.svc.Complete(ctx, a.key, target, "", in)
		requireKind(t, err, core.KindInvalid, "storageKey")
		_, err = f.svc.Complete(ctx, b.key, gallery.UploadTarget{CollectionID: f.collection(t, b.key, "B").ID}, p.StorageKey, in)
		requireKind(t, err, core.KindForbidden, "")
		_, err = f.svc.Complete(ctx, a.key, target, "drive/"+a.id+"/up_x/a.jpg", in)
		requireKind(t, err, core.KindForbidden, "")
		_, err = f.svc.Complete(ctx, a.key, target, p.StorageKey, uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 11})
		requireKind(t, err, core.KindInvalid, "sizeBytes")
		_, err = f.svc.Complete(ctx, a.key, target, p.StorageKey, uploads.FileInput{FileName: "", ContentType: "image/jpeg", SizeBytes: 10})
		requireKind(t, err, core.KindInvalid, "fileName")
		_, err = f.svc.Complete(ctx, a.key, target, p.StorageKey, in)
		requireKind(t, err, core.KindConflict, "object_not_visible_yet_retry_complete")
		require.Equal(t, core.Usage{ReservedBytes: 10}, f.usage(t, a))

		require.NoError(t, f.blobs.Upload(p.Put.URL, "image/jpeg", make([]byte, 10)))
		_, err = f.svc.Complete(ctx, a.key, target, p.StorageKey, in)
		require.NoError(t, err)
		require.Equal(t, core.Usage{UsedBytes: 10}, f.usage(t, a))
	})
}

func TestProxyUpload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("streams_and_counts", func(t *testing.T) {
		f := newFixture(t)
		a := f.register(t, "")
		col := f.collection(t, a.key, "Shoot")
		file, err := f.svc.Upload(ctx, a.key, gallery.UploadInput{
			Target: gallery.UploadTarget{CollectionID: col.ID, ClientName: "Other Client"}, FileName: "C:\\pics\\p.png",
			ContentType: "image/png", Body: strings.NewReader("png!"), MaxBytes: 100,
		})
		require.NoError(t, err)
		require.Equal(t, "p.png", file.Name)
		require.Equal(t, "Other Client", file.ClientName)
		require.Equal(t, "image/png", file.ContentType)
		require.EqualValues(t, 4, file.Size)
		require.Equal(t, core.Usage{UsedBytes: 4}, f.usage(t, a), "the reservation settles to the real size")
	})

	t.Run("over_the_quota_is_refused_and_nothing_counts", func(t *testing.T) {
		f := newFixture(t)
		a := f.register(t, f.smallPlan(t, 100))
		col := f.collection(t, a.key, "Shoot")
		_, err := f.svc.Upload(ctx, a.key, gallery.UploadInput{
			Target: gallery.UploadTarget{CollectionID: col.ID}, FileName: "a.bin", Body: bytes.NewReader(make([]byte, 101)), MaxBytes: 101,
		})
		requireKind(t, err, core.KindQuotaExceeded, "")
		require.Equal(t, core.Usage{}, f.usage(t, a))
	})

	t.Run("a_record_that_cannot_be_written_undoes_the_upload", func(t *testing.T) {
		f := newFixture(t)
		a := f.register(t, "")
		col := f.collection(t, a.key, "Shoot")
		f.gstore.err = core.Unavailable("database", errors.New("connection refused"))
		_, err := f.svc.Upload(ctx, a.key, gallery.UploadInput{
			Target: gallery.UploadTarget{CollectionID: col.ID}, FileName: "a.bin", Body: strings.NewReader("abc"), MaxBytes: 10,
		})
		requireKind(t, err, core.KindUnavailable, "")
		require.Equal(t, core.Usage{}, f.usage(t, a))
		files, err := f.store.CollectionFiles(ctx, a.id, col.ID, core.Page{Limit: 10})
		require.NoError(t, err)
		require.Empty(t, files)
	})
}

func TestFilesAndMedia(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	a := f.register(t, "")
	col := f.collection(t, a.key, "Shoot")
	body := []byte("0123456789abcdefghij")
	file := f.upload(t, a.key, col, "../IMG \"1\".jpg", body)
	require.Equal(t, "IMG _1_.jpg", file.Name)

	views, err := f.svc.Files(ctx, a.key, col.ID, core.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, views, 1)
	v := views[0]
	require.Equal(t, file, v.File)
	require.Equal(t, start.Add(gallery.DefaultMediaTTL), v.Expires)
	require.Equal(t, baseURL+"/api/media?t="+url.QueryEscape(v.MediaToken), v.URL)

	t.Run("tokens_carry_the_files_claims", func(t *testing.T) {
		c, err := core.VerifyMediaToken(f.key, v.MediaToken, f.clock.Now())
		require.NoError(t, err)
		require.Equal(t, file.StorageKey, c.Key)
		require.Equal(t, a.id, c.OwnerID)
		require.Equal(t, file.Name, c.Name)
		require.Equal(t, "image/jpeg", c.ContentType)
		require.True(t, v.Expires.Equal(c.Expires))
	})

	t.Run("open_media_serves_the_bytes_and_ranges", func(t *testing.T) {
		rc, info, c, err := f.svc.OpenMedia(ctx, v.MediaToken, nil)
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		require.Equal(t, body, got)
		require.EqualValues(t, len(body), info.Size)
		require.Equal(t, file.ETag, info.ETag)
		require.Equal(t, file.StorageKey, c.Key)

		rc, _, _, err = f.svc.OpenMedia(ctx, v.MediaToken, &ports.ByteRange{Start: 5, End: 9})
		require.NoError(t, err)
		got, err = io.ReadAll(rc)
		require.NoError(t, err)
		require.Equal(t, body[5:10], got)

		info, _, err = f.svc.StatMedia(ctx, v.MediaToken)
		require.NoError(t, err)
		require.EqualValues(t, len(body), info.Size)
	})

	t.Run("a_session_lists_the_same_files", func(t *testing.T) {
		vs, err := f.svc.Files(ctx, a.session, col.ID, core.Page{Limit: 10})
		require.NoError(t, err)
		require.Len(t, vs, 1)
	})

	sign := func(c core.MediaClaims) string {
		tok, err := core.SignMediaToken(f.key, c)
		require.NoError(t, err)
		return tok
	}
	exp := f.clock.Now().Add(time.Hour)

	t.Run("a_drive_key_in_a_token_is_refused", func(t *testing.T) {
		// A correctly signed token for a Drive object must not open through
		// the gallery's media route, even when the object exists.
		driveKey := "drive/" + a.id + "/up_x/secret.pdf"
		_, err := f.blobs.Put(ctx, driveKey, strings.NewReader("drive bytes"), "application/pdf", 100)
		require.NoError(t, err)
		for _, c := range []core.MediaClaims{
			{Key: driveKey, OwnerID: a.id, Name: "s.pdf", Expires: exp},
			{Key: file.StorageKey, OwnerID: "studio_someone_else", Name: "s.pdf", Expires: exp}, // owner ≠ key's namespace
			{Key: "clientGallery/" + a.id + "/../../drive/" + a.id + "/up_x/secret.pdf", OwnerID: a.id, Expires: exp},
		} {
			_, _, _, err := f.svc.OpenMedia(ctx, sign(c), nil)
			requireKind(t, err, core.KindForbidden, "")
			_, _, err = f.svc.StatMedia(ctx, sign(c))
			requireKind(t, err, core.KindForbidden, "")
		}
	})

	t.Run("forged_or_foreign_key_tokens_are_refused", func(t *testing.T) {
		other := gallery.New(gallery.Config{Store: f.store, Accounts: f.accounts, Uploads: f.uploads, Blobs: f.blobs, Clock: f.clock,
			Random: rand.Reader, SigningKey: bytes.Repeat([]byte{8}, core.MinSigningKeyLen), BaseURL: baseURL})
		_, _, _, err := other.OpenMedia(ctx, v.MediaToken, nil)
		requireKind(t, err, core.KindForbidden, "")
		_, _, _, err = f.svc.OpenMedia(ctx, v.MediaToken+"x", nil)
		requireKind(t, err, core.KindForbidden, "")
	})

	t.Run("a_removed_object_is_not_found", func(t *testing.T) {
		gone := sign(core.MediaClaims{Key: "clientGallery/" + a.id + "/up_gone/a.jpg", OwnerID: a.id, Name: "a.jpg", Expires: exp})
		_, _, _, err := f.svc.OpenMedia(ctx, gone, nil)
		requireKind(t, err, core.KindNotFound, "")
	})

	t.Run("tokens_expire_after_the_media_ttl", func(t *testing.T) {
		f.clock.Advance(gallery.DefaultMediaTTL)
		_, _, _, err := f.svc.OpenMedia(ctx, v.MediaToken, nil)
		requireKind(t, err, core.KindForbidden, "")
		_, _, err = f.svc.StatMedia(ctx, v.MediaToken)
		requireKind(t, err, core.KindForbidden, "")
		// A fresh listing hands out fresh links.
		vs, err := f.svc.Files(ctx, a.key, col.ID, core.Page{Limit: 10})
		require.NoError(t, err)
		_, _, _, err = f.svc.OpenMedia(ctx, vs[0].MediaToken, nil)
		require.NoError(t, err)
	})
}

func TestStorage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("used_bytes_and_the_plans_limit", func(t *testing.T) {
		f := newFixture(t)
		a := f.register(t, "")
		used, limit, err := f.svc.Storage(ctx, a.key)
		require.NoError(t, err)
		require.Zero(t, used)
		require.EqualValues(t, 5<<30, limit, "the free plan's 5 GB")
		col := f.collection(t, a.key, "Shoot")
		f.upload(t, a.key, col, "a.jpg", make([]byte, 321))
		// An open reservation is not "used".
		_, err = f.svc.Presign(ctx, a.key, gallery.UploadTarget{CollectionID: col.ID}, uploads.FileInput{FileName: "b.jpg", ContentType: "image/jpeg", SizeBytes: 1000})
		require.NoError(t, err)
		used, _, err = f.svc.Storage(ctx, a.session)
		require.NoError(t, err)
		require.EqualValues(t, 321, used)
	})

	t.Run("a_custom_plans_limit", func(t *testing.T) {
		f := newFixture(t)
		a := f.register(t, f.smallPlan(t, 1000))
		_, limit, err := f.svc.Storage(ctx, a.key)
		require.NoError(t, err)
		require.EqualValues(t, 1000, limit)
		col := f.collection(t, a.key, "Shoot")
		target := gallery.UploadTarget{CollectionID: col.ID}
		_, err = f.svc.Presign(ctx, a.key, target, uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 1001})
		requireKind(t, err, core.KindQuotaExceeded, "")
		f.upload(t, a.key, col, "a.jpg", make([]byte, 1000))
		_, err = f.svc.Presign(ctx, a.key, target, uploads.FileInput{FileName: "b.jpg", ContentType: "image/jpeg", SizeBytes: 1})
		requireKind(t, err, core.KindQuotaExceeded, "")
	})

	t.Run("unpaid_plan_reads_storage_but_cannot_upload", func(t *testing.T) {
		f := newFixture(t)
		a := f.register(t, "plan_gallery_pro_monthly") // subscription incomplete
		used, limit, err := f.svc.Storage(ctx, a.key)
		require.NoError(t, err, "reading usage needs no payment")
		require.Zero(t, used)
		require.EqualValues(t, 500<<30, limit, "the limit of the plan chosen")

		// Reads and organizing work; storing bytes waits for the payment.
		col := f.collection(t, a.key, "Shoot")
		_, err = f.svc.Collections(ctx, a.key, core.Page{Limit: 10})
		require.NoError(t, err)
		target := gallery.UploadTarget{CollectionID: col.ID}
		in := uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 3}
		_, err = f.svc.Presign(ctx, a.key, target, in)
		requireKind(t, err, core.KindPaymentRequired, "")
		_, err = f.svc.Upload(ctx, a.key, gallery.UploadInput{Target: target, FileName: "a.jpg", Body: strings.NewReader("abc"), MaxBytes: 3})
		requireKind(t, err, core.KindPaymentRequired, "")
		_, err = f.svc.Complete(ctx, a.key, target, "clientGallery/"+a.id+"/up_x/a.jpg", in)
		requireKind(t, err, core.KindPaymentRequired, "")
		require.Equal(t, core.Usage{}, f.usage(t, a))
	})
}
