package testkit

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// driveTx is Store's ports.DriveTx: it runs under Store.mu, held by
// Update, and logs how to undo each change.
type driveTx struct {
	s       *Store
	driveID string
	tree    *driveTree
	undo    []func()
}

var _ ports.DriveTx = (*driveTx)(nil)

// rollback undoes the transaction's changes, newest first.
func (tx *driveTx) rollback() {
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.undo[i]()
	}
	tx.undo = nil
}

func (tx *driveTx) putFolder(f core.DriveFolder) {
	old, had := tx.tree.folders[f.ID]
	tx.tree.setFolder(f)
	tx.undo = append(tx.undo, func() {
		if had {
			tx.tree.setFolder(old)
		} else {
			tx.tree.removeFolder(f.ID)
		}
	})
}

func (tx *driveTx) dropFolder(id string) {
	old := tx.tree.folders[id]
	tx.tree.removeFolder(id)
	tx.undo = append(tx.undo, func() { tx.tree.setFolder(old) })
}

func (tx *driveTx) putFile(f core.DriveFile) {
	old, had := tx.tree.files[f.ID]
	tx.tree.setFile(f)
	tx.undo = append(tx.undo, func() {
		if had {
			tx.tree.setFile(old)
		} else {
			tx.tree.removeFile(f.ID)
		}
	})
}

// saveUsage logs how to restore the drive's usage as it is now.
func (tx *driveTx) saveUsage() {
	usage := tx.s.storage.usage
	old, had := usage[tx.driveID]
	tx.undo = append(tx.undo, func() {
		if had {
			usage[tx.driveID] = old
		} else {
			delete(usage, tx.driveID)
		}
	})
}

func (tx *driveTx) addUsed(delta int64) {
	tx.saveUsage()
	u := tx.s.storage.usage[tx.driveID]
	u.UsedBytes += delta
	tx.s.storage.usage[tx.driveID] = u
}

// idTaken reports whether any drive has an item with id.
func (tx *driveTx) idTaken(id string) bool {
	for _, t := range tx.s.drive.trees {
		_, folder := t.folders[id]
		_, file := t.files[id]
		if folder || file {
			return true
		}
	}
	return false
}

// checkNew checks what a new item's row must satisfy: the transaction's
// drive, a fresh id, a parent that is one of the drive's folders.
func (tx *driveTx) checkNew(it core.DriveItem) error {
	if it.DriveID != tx.driveID {
		return core.NotFound("drive")
	}
	if tx.idTaken(it.ID) {
		return core.Conflict("conflict", "an item with this id already exists")
	}
	return tx.checkParent(it.ParentID)
}

func (tx *driveTx) checkParent(parentID string) error {
	if _, ok := tx.tree.folders[parentID]; parentID != "" && !ok {
		return core.NotFound("folder").WithDetail("parent")
	}
	return nil
}

func nameTakenError() error {
	return core.Conflict("name_taken", "an item with this name already exists here")
}

// Folder implements ports.DriveTx.
func (tx *driveTx) Folder(_ context.Context, id string) (core.DriveFolder, error) {
	return tx.tree.folder(id)
}

// File implements ports.DriveTx.
func (tx *driveTx) File(_ context.Context, id string) (core.DriveFile, error) {
	return tx.tree.file(id)
}

// FileByKey implements ports.DriveTx.
func (tx *driveTx) FileByKey(_ context.Context, key string) (core.DriveFile, error) {
	return tx.tree.fileWithKey(key)
}

// Path implements ports.DriveTx.
func (tx *driveTx) Path(_ context.Context, folderID string) ([]core.DriveFolder, error) {
	return tx.tree.path(folderID)
}

// AppFolder implements ports.DriveTx: the first by id when, against the
// rules, there are several.
func (tx *driveTx) AppFolder(_ context.Context, appID string) (core.DriveFolder, error) {
	var ids []string
	for id := range tx.tree.appFolderOf[appID] {
		if !tx.tree.folders[id].Trashed() {
			ids = append(ids, id)
		}
	}
	if appID == "" || len(ids) == 0 {
		return core.DriveFolder{}, core.NotFound("app folder")
	}
	return tx.tree.folders[slices.Min(ids)], nil
}

// NameTaken implements ports.DriveTx.
func (tx *driveTx) NameTaken(_ context.Context, kind core.DriveItemKind, parentID, nameNormalized string) (bool, error) {
	return tx.tree.nameTaken(kind, parentID, nameNormalized, ""), nil
}

// Height implements ports.DriveTx.
func (tx *driveTx) Height(_ context.Context, folderID string) (int, error) {
	return tx.tree.height(folderID)
}

// CreateFolder implements ports.DriveTx. Beyond the port, as the SQL
// stores' keys make it: a folder of another drive than the transaction's
// or under a parent that is not one of the drive's folders is
// core.KindNotFound, a taken id core.KindConflict.
func (tx *driveTx) CreateFolder(_ context.Context, f core.DriveFolder) error {
	if err := tx.checkNew(f.DriveItem); err != nil {
		return err
	}
	if !f.Trashed() && tx.tree.nameTaken(core.DriveFolderKind, f.ParentID, f.NameNormalized, "") {
		return nameTakenError()
	}
	tx.putFolder(f)
	return nil
}

// CreateFile implements ports.DriveTx, checking the reservation first. A
// negative size is core.KindInvalid (detail "size"), and the rules of
// CreateFolder beyond the port apply. A storage key is taken when any
// drive's file has it.
func (tx *driveTx) CreateFile(_ context.Context, f core.DriveFile, reservationID string) error {
	if f.Size < 0 {
		return core.Invalid("size", "a file cannot have a negative size")
	}
	if r, ok := tx.s.storage.reservations[reservationID]; !ok || r.OwnerID != tx.driveID {
		return core.NotFound("reservation").WithDetail("reservation")
	}
	if err := tx.checkNew(f.DriveItem); err != nil {
		return err
	}
	if !f.Trashed() && tx.tree.nameTaken(core.DriveFileKind, f.ParentID, f.NameNormalized, "") {
		return nameTakenError()
	}
	for _, t := range tx.s.drive.trees {
		if _, taken := t.fileByKey[f.StorageKey]; taken {
			return core.Conflict("file_exists", "a file is already stored under this key")
		}
	}
	tx.saveUsage()
	r, _ := tx.s.dropReservation(tx.driveID, reservationID)
	st := &tx.s.storage
	tx.undo = append(tx.undo, func() {
		st.reservations[r.ID] = r
		st.reservedKeys[r.StorageKey] = r.ID
	})
	tx.addUsed(f.Size)
	tx.putFile(f)
	return nil
}

// UpdateFolder implements ports.DriveTx. A parent that is not one of the
// drive's folders is core.KindNotFound.
func (tx *driveTx) UpdateFolder(_ context.Context, f core.DriveFolder) error {
	cur, err := tx.tree.folder(f.ID)
	if err != nil {
		return err
	}
	if err := tx.checkParent(f.ParentID); err != nil {
		return err
	}
	if !f.Trashed() && tx.tree.nameTaken(core.DriveFolderKind, f.ParentID, f.NameNormalized, f.ID) {
		return nameTakenError()
	}
	cur.ParentID, cur.Name, cur.NameNormalized, cur.AppID = f.ParentID, f.Name, f.NameNormalized, f.AppID
	cur.TrashedAt, cur.TrashRoot, cur.UpdatedAt = f.TrashedAt, f.TrashRoot, f.UpdatedAt
	tx.putFolder(cur)
	return nil
}

// UpdateFile implements ports.DriveTx. A parent that is not one of the
// drive's folders is core.KindNotFound.
func (tx *driveTx) UpdateFile(_ context.Context, f core.DriveFile) error {
	cur, err := tx.tree.file(f.ID)
	if err != nil {
		return err
	}
	if err := tx.checkParent(f.ParentID); err != nil {
		return err
	}
	if !f.Trashed() && tx.tree.nameTaken(core.DriveFileKind, f.ParentID, f.NameNormalized, f.ID) {
		return nameTakenError()
	}
	cur.ParentID, cur.Name, cur.NameNormalized = f.ParentID, f.Name, f.NameNormalized
	cur.TrashedAt, cur.TrashRoot, cur.UpdatedAt = f.TrashedAt, f.TrashRoot, f.UpdatedAt
	tx.putFile(cur)
	return nil
}

// TrashSubtree implements ports.DriveTx. The items it trashes take at as
// UpdatedAt too. An unknown folder is core.KindNotFound.
func (tx *driveTx) TrashSubtree(_ context.Context, folderID string, at time.Time) error {
	if _, err := tx.tree.folder(folderID); err != nil {
		return err
	}
	for i, id := range tx.tree.subtree(folderID) {
		if f := tx.tree.folders[id]; i > 0 && !f.Trashed() {
			f.TrashedAt, f.TrashRoot, f.UpdatedAt = at, folderID, at
			tx.putFolder(f)
		}
		for fileID := range tx.tree.fileKids[id] {
			if f := tx.tree.files[fileID]; !f.Trashed() {
				f.TrashedAt, f.TrashRoot, f.UpdatedAt = at, folderID, at
				tx.putFile(f)
			}
		}
	}
	return nil
}

// RestoreTrashRoot implements ports.DriveTx. The items it restores take at
// as UpdatedAt. A rootID that is none of the drive's items is
// core.KindNotFound; a restored item whose name a live sibling has is
// core.KindConflict "name_taken", as the SQL stores' unique index makes it.
func (tx *driveTx) RestoreTrashRoot(_ context.Context, rootID string, at time.Time) error {
	_, folder := tx.tree.folders[rootID]
	_, file := tx.tree.files[rootID]
	if !folder && !file {
		return core.NotFound("item")
	}
	var folders []core.DriveFolder
	for _, f := range tx.tree.folders {
		if f.TrashRoot == rootID && f.ID != rootID {
			f.TrashedAt, f.TrashRoot, f.UpdatedAt = time.Time{}, "", at
			folders = append(folders, f)
		}
	}
	var files []core.DriveFile
	for _, f := range tx.tree.files {
		if f.TrashRoot == rootID && f.ID != rootID {
			f.TrashedAt, f.TrashRoot, f.UpdatedAt = time.Time{}, "", at
			files = append(files, f)
		}
	}
	for _, f := range folders {
		tx.putFolder(f)
	}
	for _, f := range files {
		tx.putFile(f)
	}
	for _, f := range folders {
		if tx.tree.nameTaken(core.DriveFolderKind, f.ParentID, f.NameNormalized, f.ID) {
			return nameTakenError()
		}
	}
	for _, f := range files {
		if tx.tree.nameTaken(core.DriveFileKind, f.ParentID, f.NameNormalized, f.ID) {
			return nameTakenError()
		}
	}
	return nil
}

// DeleteFile implements ports.DriveTx. The pending deletion's CreatedAt is
// the file's UpdatedAt: the store has no clock of its own.
func (tx *driveTx) DeleteFile(_ context.Context, id string) error {
	if _, err := tx.tree.file(id); err != nil {
		return err
	}
	tx.deleteFile(id)
	return nil
}

func (tx *driveTx) deleteFile(id string) {
	f := tx.tree.files[id]
	tx.tree.removeFile(id)
	tx.undo = append(tx.undo, func() { tx.tree.setFile(f) })
	tx.addUsed(-f.Size)
	d := &tx.s.drive
	d.seq++
	d.pending = append(d.pending, core.ObjectDeletion{
		ID:         "del_" + strconv.FormatInt(d.seq, 10),
		StorageKey: f.StorageKey,
		CreatedAt:  f.UpdatedAt,
	})
	tx.undo = append(tx.undo, func() { d.pending = d.pending[:len(d.pending)-1] })
}

// DeleteFolder implements ports.DriveTx.
func (tx *driveTx) DeleteFolder(_ context.Context, id string) error {
	if _, err := tx.tree.folder(id); err != nil {
		return err
	}
	sub := tx.tree.subtree(id)
	for _, folderID := range sub {
		kids := make([]string, 0, len(tx.tree.fileKids[folderID]))
		for fileID := range tx.tree.fileKids[folderID] {
			kids = append(kids, fileID)
		}
		slices.Sort(kids)
		for _, fileID := range kids {
			tx.deleteFile(fileID)
		}
	}
	for _, folderID := range slices.Backward(sub) {
		tx.dropFolder(folderID)
	}
	return nil
}
