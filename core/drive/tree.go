package drive

import (
	"context"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
)

// CreateFolder adds a folder under parentID ("" for the root). A sibling
// folder of the same name (any case) is KindConflict "name_taken"; an
// unknown parent KindNotFound; a parent in the recycle bin "in_trash".
func (s *Service) CreateFolder(ctx context.Context, who core.Principal, name, parentID string) (core.DriveFolder, error) {
	c, err := s.caller(ctx, who)
	if err != nil {
		return core.DriveFolder{}, err
	}
	if name, err = core.CheckDriveName("name", name); err != nil {
		return core.DriveFolder{}, err
	}
	now := s.now()
	id, err := s.newID("fld")
	if err != nil {
		return core.DriveFolder{}, err
	}
	f := core.DriveFolder{DriveItem: core.DriveItem{
		ID: id, DriveID: c.driveID, ParentID: parentID, Name: name,
		NameNormalized: core.NormalizeDriveName(name), CreatedAt: now, UpdatedAt: now,
	}}
	err = s.cfg.Store.Update(ctx, c.driveID, func(tx ports.DriveTx) error {
		path, err := livePath(ctx, tx, parentID)
		if err != nil {
			return err
		}
		if c.session() && inAppTree(path) {
			return errAppReadOnly()
		}
		if len(path)+1 > core.MaxDriveDepth {
			return core.Invalid("parentId", "folders nest at most %d levels deep", core.MaxDriveDepth)
		}
		if err := requireFree(ctx, tx, core.DriveFolderKind, parentID, name); err != nil {
			return err
		}
		return core.Errorf("create folder", tx.CreateFolder(ctx, f))
	})
	if err != nil {
		return core.DriveFolder{}, err
	}
	return f, nil
}

// Item is one folder or file with what the caller may do with it.
type Item struct {
	Kind   core.DriveItemKind
	Folder core.DriveFolder // when Kind is folder
	File   FileView         // when Kind is file
	// InAppTree says the item lies in a partner app's folder (read-only
	// to browser sessions).
	InAppTree bool
}

// Item returns a folder or a file, live or in the recycle bin; a live
// file comes with its media link.
func (s *Service) Item(ctx context.Context, who core.Principal, kind core.DriveItemKind, id string) (Item, error) {
	c, err := s.caller(ctx, who)
	if err != nil {
		return Item{}, err
	}
	if err := checkID(string(kind), id); err != nil {
		return Item{}, err
	}
	it := Item{Kind: kind}
	var parent string
	if kind == core.DriveFolderKind {
		path, err := s.cfg.Store.Path(ctx, c.driveID, id)
		if err != nil {
			return Item{}, core.Errorf("folder", err)
		}
		it.Folder, it.InAppTree = path[0], inAppTree(path)
		return it, nil
	}
	f, err := s.cfg.Store.File(ctx, c.driveID, id)
	if err != nil {
		return Item{}, core.Errorf("file", err)
	}
	if parent = f.ParentID; parent != "" {
		path, err := s.cfg.Store.Path(ctx, c.driveID, parent)
		if err != nil {
			return Item{}, core.Errorf("folder", err)
		}
		it.InAppTree = inAppTree(path)
	}
	if it.File, err = s.view(f); err != nil {
		return Item{}, err
	}
	return it, nil
}

// Patch renames and/or moves an item. Name nil keeps the name; Move false
// keeps the parent, and Move with Target "" moves to the root.
type Patch struct {
	Name   *string
	Move   bool
	Target string
}

// itemPath reads an item inside tx with the path of the folder it sits in
// (a folder's path starts with itself).
func itemPath(ctx context.Context, tx ports.DriveTx, kind core.DriveItemKind, id string) (core.DriveItem, []core.DriveFolder, *core.DriveFolder, *core.DriveFile, error) {
	if err := checkID(string(kind), id); err != nil {
		return core.DriveItem{}, nil, nil, nil, err
	}
	if kind == core.DriveFolderKind {
		path, err := tx.Path(ctx, id)
		if err != nil {
			return core.DriveItem{}, nil, nil, nil, core.Errorf("folder", err)
		}
		f := path[0]
		return f.DriveItem, path, &f, nil, nil
	}
	f, err := tx.File(ctx, id)
	if err != nil {
		return core.DriveItem{}, nil, nil, nil, core.Errorf("file", err)
	}
	var path []core.DriveFolder
	if f.ParentID != "" {
		if path, err = tx.Path(ctx, f.ParentID); err != nil {
			return core.DriveItem{}, nil, nil, nil, core.Errorf("folder", err)
		}
	}
	return f.DriveItem, path, nil, &f, nil
}

// Update renames and/or moves an item. Moving a folder into itself or
// one of its descendants is KindInvalid (detail targetFolderId); a clash
// with a sibling is "name_taken"; an item or target in the recycle bin is
// "in_trash".
func (s *Service) Update(ctx context.Context, who core.Principal, kind core.DriveItemKind, id string, p Patch) (Item, error) {
	c, err := s.caller(ctx, who)
	if err != nil {
		return Item{}, err
	}
	if p.Name == nil && !p.Move {
		return Item{}, core.Invalid("name", "give a new name, a targetFolderId, or both")
	}
	var name string
	if p.Name != nil {
		if name, err = core.CheckDriveName("name", *p.Name); err != nil {
			return Item{}, err
		}
	}
	var out Item
	err = s.cfg.Store.Update(ctx, c.driveID, func(tx ports.DriveTx) error {
		item, path, folder, file, err := itemPath(ctx, tx, kind, id)
		if err != nil {
			return err
		}
		if item.Trashed() {
			return errInTrash(string(kind))
		}
		inApp := inAppTree(path)
		if c.session() && inApp {
			return errAppReadOnly()
		}
		parent := item.ParentID
		if p.Move {
			if p.Target != "" && !core.ValidID(p.Target) {
				return core.NotFound("folder").WithDetail("targetFolderId")
			}
			var target []core.DriveFolder
			if p.Target != "" {
				if target, err = tx.Path(ctx, p.Target); core.IsKind(err, core.KindNotFound) {
					return core.NotFound("folder").WithDetail("targetFolderId")
				} else if err != nil {
					return core.Errorf("folder", err)
				}
			}
			if kind == core.DriveFolderKind {
				// Checked before the target's state: moving a folder into
				// its own subfolder is wrong whether or not that subfolder is
				// in the recycle bin.
				for _, a := range target {
					if a.ID == id {
						return core.Invalid("targetFolderId", "a folder cannot move into itself or one of its own subfolders")
					}
				}
			}
			if len(target) > 0 && target[0].Trashed() {
				return errInTrash("folder")
			}
			if c.session() && inAppTree(target) {
				return errAppReadOnly()
			}
			if kind == core.DriveFolderKind {
				// A partner app's folder stays at the top level: inside an
				// ordinary folder, a session trashing or deleting that folder
				// would take the read-only app tree along.
				if folder.AppID != "" && p.Target != "" {
					return core.Invalid("targetFolderId", "a partner app's folder stays at the top level")
				}
				h, err := tx.Height(ctx, id)
				if err != nil {
					return core.Errorf("height", err)
				}
				if len(target)+h > core.MaxDriveDepth {
					return core.Invalid("targetFolderId", "folders nest at most %d levels deep", core.MaxDriveDepth)
				}
			}
			parent = p.Target
		}
		if p.Name == nil {
			name = item.Name
		}
		norm := core.NormalizeDriveName(name)
		if parent != item.ParentID || norm != item.NameNormalized {
			if err := requireFree(ctx, tx, kind, parent, name); err != nil {
				return err
			}
		}
		item.ParentID, item.Name, item.NameNormalized, item.UpdatedAt = parent, name, norm, s.now()
		if folder != nil {
			folder.DriveItem = item
			out = Item{Kind: kind, Folder: *folder}
			if err := tx.UpdateFolder(ctx, *folder); err != nil {
				return core.Errorf("update folder", err)
			}
			path, err := tx.Path(ctx, id)
			if err != nil {
				return core.Errorf("folder", err)
			}
			out.InAppTree = inAppTree(path)
			return nil
		}
		file.DriveItem = item
		out = Item{Kind: kind, File: FileView{File: *file}}
		if err := tx.UpdateFile(ctx, *file); err != nil {
			return core.Errorf("update file", err)
		}
		if parent != "" {
			path, err := tx.Path(ctx, parent)
			if err != nil {
				return core.Errorf("folder", err)
			}
			out.InAppTree = inAppTree(path)
		}
		return nil
	})
	if err != nil {
		return Item{}, err
	}
	if kind == core.DriveFileKind {
		if out.File, err = s.view(out.File.File); err != nil {
			return Item{}, err
		}
	}
	return out, nil
}

// Trash moves an item to the recycle bin; a folder takes its whole
// subtree along. Trashing an item already there changes nothing.
func (s *Service) Trash(ctx context.Context, who core.Principal, kind core.DriveItemKind, id string) error {
	c, err := s.caller(ctx, who)
	if err != nil {
		return err
	}
	return s.cfg.Store.Update(ctx, c.driveID, func(tx ports.DriveTx) error {
		item, path, folder, file, err := itemPath(ctx, tx, kind, id)
		if err != nil {
			return err
		}
		if item.Trashed() {
			return nil
		}
		if c.session() && inAppTree(path) {
			return errAppReadOnly()
		}
		now := s.now()
		item.TrashedAt, item.TrashRoot, item.UpdatedAt = now, id, now
		if file != nil {
			file.DriveItem = item
			return core.Errorf("trash file", tx.UpdateFile(ctx, *file))
		}
		folder.DriveItem = item
		if err := tx.UpdateFolder(ctx, *folder); err != nil {
			return core.Errorf("trash folder", err)
		}
		return core.Errorf("trash subtree", tx.TrashSubtree(ctx, id, now))
	})
}
