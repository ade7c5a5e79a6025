package drive_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/drive"
	"github.com/gellhub/gellhub/core/uploads"
)

// TestConcurrentChanges checks that the rules hold when changes of one
// drive race: they are checked inside the store's transaction.
func TestConcurrentChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("crossed_moves_never_make_a_cycle", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		for i := range 20 {
			a := f.folder(t, u.key, fmt.Sprint("a", i), "")
			b := f.folder(t, u.key, fmt.Sprint("b", i), "")
			var wg sync.WaitGroup
			var errA, errB error
			wg.Go(func() { _, errA = f.svc.Update(ctx, u.key, folderKind, a.ID, drive.Patch{Move: true, Target: b.ID}) })
			wg.Go(func() {
				_, errB = f.svc.Update(ctx, u.session, folderKind, b.ID, drive.Patch{Move: true, Target: a.ID})
			})
			wg.Wait()
			require.True(t, (errA == nil) != (errB == nil), "exactly one move wins: %v, %v", errA, errB)
			if errA != nil {
				requireKind(t, errA, core.KindInvalid, "targetFolderId")
			} else {
				requireKind(t, errB, core.KindInvalid, "targetFolderId")
			}
			for _, id := range []string{a.ID, b.ID} {
				path, err := f.store.Path(ctx, u.driveID, id)
				require.NoError(t, err)
				require.Equal(t, "", path[len(path)-1].ParentID)
			}
		}
	})

	t.Run("racing_creates_of_one_name_make_one_folder", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		errs := make([]error, 10)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { _, errs[i] = f.svc.CreateFolder(ctx, u.key, "Same", "") })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				requireCode(t, err, core.KindConflict, "name_taken")
			}
		}
		require.Equal(t, 1, ok)
	})

	t.Run("racing_uploads_of_one_name_get_numbers", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		names := make([]string, 10)
		var wg sync.WaitGroup
		for i := range names {
			wg.Go(func() {
				v, err := f.uploadTo(u.key, drive.UploadTarget{}, "same.jpg", []byte("0123456789"))
				if err == nil {
					names[i] = v.File.Name
				}
			})
		}
		wg.Wait()
		want := []string{"same.jpg"}
		for n := 1; n < 10; n++ {
			want = append(want, fmt.Sprintf("same (%d).jpg", n))
		}
		require.ElementsMatch(t, want, names)
		require.Equal(t, core.Usage{UsedBytes: 100}, f.usage(t, u))
	})

	t.Run("racing_completes_of_one_key_make_one_file", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		in := uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 10}
		p, err := f.svc.Presign(ctx, u.key, drive.UploadTarget{}, in)
		require.NoError(t, err)
		require.NoError(t, f.blobs.Upload(p.Put.URL, "image/jpeg", make([]byte, 10)))
		ids := make([]string, 10)
		errs := make([]error, 10)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				v, err := f.svc.Complete(ctx, u.key, drive.UploadTarget{}, p.StorageKey, in)
				ids[i], errs[i] = v.File.ID, err
			})
		}
		wg.Wait()
		for i := range ids {
			require.NoError(t, errs[i])
			require.Equal(t, ids[0], ids[i])
		}
		require.Equal(t, core.Usage{UsedBytes: 10}, f.usage(t, u))
	})
}

func TestCompleteChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 10}

	t.Run("presign_validates_the_file", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		for _, bad := range []uploads.FileInput{
			{FileName: "", ContentType: "image/jpeg", SizeBytes: 1},
			{FileName: "a.jpg", ContentType: "not a type", SizeBytes: 1},
			{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 0},
		} {
			_, err := f.svc.Presign(ctx, u.key, drive.UploadTarget{}, bad)
			requireKind(t, err, core.KindInvalid, "")
		}
		require.Equal(t, core.Usage{}, f.usage(t, u))
	})

	t.Run("an_object_not_there_yet_or_of_another_size", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		p, err := f.svc.Presign(ctx, u.key, drive.UploadTarget{}, in)
		require.NoError(t, err)
		_, err = f.svc.Complete(ctx, u.key, drive.UploadTarget{}, p.StorageKey, in)
		e := requireKind(t, err, core.KindConflict, "object_not_visible_yet_retry_complete")
		require.Equal(t, "upload_incomplete_or_mismatch", e.Code)
		other := in
		other.SizeBytes = 11
		_, err = f.svc.Complete(ctx, u.key, drive.UploadTarget{}, p.StorageKey, other)
		requireKind(t, err, core.KindInvalid, "sizeBytes")
		other.FileName = ""
		_, err = f.svc.Complete(ctx, u.key, drive.UploadTarget{}, p.StorageKey, other)
		requireKind(t, err, core.KindInvalid, "fileName")
		require.NoError(t, f.blobs.Upload(p.Put.URL, "image/jpeg", make([]byte, 10)))
		v, err := f.svc.Complete(ctx, u.key, drive.UploadTarget{}, p.StorageKey, in)
		require.NoError(t, err, "the retry completes")
		require.Equal(t, core.Usage{UsedBytes: 10}, f.usage(t, u))
		_, files := f.listAll(t, u.key, drive.ListQuery{})
		require.Equal(t, []string{v.File.ID}, []string{files[0].File.ID})
	})

	t.Run("a_retry_racing_the_first_complete_gets_the_record", func(t *testing.T) {
		f := newFixture(t)
		u := f.register(t, "")
		first := f.presigned(t, u.key, drive.UploadTarget{}, "a.jpg", make([]byte, 10))
		f.dstore.staleOnce.Store(true)
		again, err := f.svc.Complete(ctx, u.key, drive.UploadTarget{}, first.File.StorageKey, in)
		require.NoError(t, err)
		require.Equal(t, first.File, again.File)
		require.False(t, f.dstore.staleOnce.Load(), "the stale read happened")
		require.Equal(t, core.Usage{UsedBytes: 10}, f.usage(t, u))
	})
}

// TestWorkerPages runs the purge and the object deletions over more than
// one of their pages.
func TestWorkerPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	u := f.register(t, "")
	const n = 520
	var keys []string
	for i := range n {
		file := f.upload(t, u.key, "", fmt.Sprintf("f%03d.jpg", i), []byte("x"))
		f.trash(t, u.key, fileKind, file.ID)
		keys = append(keys, file.StorageKey)
	}
	f.clock.Advance(core.TrashRetention)
	purged, err := f.svc.PurgeTrash(ctx)
	require.NoError(t, err)
	require.Equal(t, n, purged)
	require.Equal(t, core.Usage{}, f.usage(t, u))
	deleted, err := f.svc.DeleteObjects(ctx)
	require.NoError(t, err)
	require.Equal(t, n, deleted)
	for _, key := range keys {
		_, err := f.blobs.Head(ctx, key)
		requireKind(t, err, core.KindNotFound, "")
	}
	folders, files := f.trashListed(t, u.key)
	require.Empty(t, folders)
	require.Empty(t, files)
}

func TestDeleteObjectsFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	u := f.register(t, "")
	x := f.upload(t, u.key, "", "x.jpg", []byte("x"))
	f.trash(t, u.key, fileKind, x.ID)
	require.NoError(t, f.svc.Delete(ctx, u.key, drive.Selection{FileIDs: []string{x.ID}}))
	f.dblobs.failDelete.Store(true)
	n, err := f.svc.DeleteObjects(ctx)
	requireKind(t, err, core.KindUnavailable, "")
	require.Zero(t, n)
	pending, err := f.store.PendingObjectDeletions(ctx, 10)
	require.NoError(t, err)
	require.Len(t, pending, 1, "a failed deletion stays queued")
	f.dblobs.failDelete.Store(false)
	n, err = f.svc.DeleteObjects(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = f.blobs.Head(ctx, x.StorageKey)
	requireKind(t, err, core.KindNotFound, "")
	// An object already gone counts as removed.
	y := f.upload(t, u.key, "", "y.jpg", []byte("y"))
	f.trash(t, u.key, fileKind, y.ID)
	require.NoError(t, f.svc.Delete(ctx, u.key, drive.Selection{FileIDs: []string{y.ID}}))
	require.NoError(t, f.blobs.Delete(ctx, y.StorageKey))
	n, err = f.svc.DeleteObjects(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// TestUnpaidPlan: a paid Drive plan not paid for blocks uploads only.
func TestUnpaidPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	u := f.register(t, "plan_drive_plus_monthly") // subscription incomplete
	d := f.folder(t, u.key, "Still works", "")
	_, err := f.svc.Presign(ctx, u.key, drive.UploadTarget{FolderID: d.ID}, uploads.FileInput{FileName: "a.jpg", ContentType: "image/jpeg", SizeBytes: 1})
	requireKind(t, err, core.KindPaymentRequired, "")
	_, err = f.uploadTo(u.key, drive.UploadTarget{}, "a.jpg", []byte("x"))
	requireKind(t, err, core.KindPaymentRequired, "")
	_, err = f.svc.List(ctx, u.session, drive.ListQuery{ParentID: d.ID})
	require.NoError(t, err)
	f.trash(t, u.key, folderKind, d.ID)
	require.NoError(t, f.svc.Restore(ctx, u.key, drive.Selection{FolderIDs: []string{d.ID}}))
	used, limit, err := f.svc.Storage(ctx, u.key)
	require.NoError(t, err)
	require.Zero(t, used)
	require.EqualValues(t, 1<<40, limit)
	require.Equal(t, core.Usage{}, f.usage(t, u))
}
