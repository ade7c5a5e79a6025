package httpapi

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/drive"
	"github.com/gellhub/gellhub/core/uploads"
)

// IntegrationHeader names the partner app whose folder an upload goes to.
const IntegrationHeader = "x-gellhub-integration-client-id"

// driveItemJSON is a folder or a file of a drive. Fields that belong to
// one kind only are left out of the other.
type driveItemJSON struct {
	ID       string  `json:"id"`
	Type     string  `json:"type"`
	Name     string  `json:"name"`
	ParentID *string `json:"parentId"` // null at the root
	// InIntegrationAppFolder: the item is, or lies in, a partner app's
	// folder (read-only to browser sessions).
	InIntegrationAppFolder bool       `json:"inIntegrationAppFolder"`
	IntegrationAppID       *string    `json:"integrationAppId,omitempty"`
	ContentType            string     `json:"contentType,omitempty"`
	SizeBytes              *int64     `json:"sizeBytes,omitempty"`
	StorageKey             string     `json:"storageKey,omitempty"`
	URL                    string     `json:"url,omitempty"`
	MediaToken             string     `json:"mediaToken,omitempty"`
	URLExpiresAt           *time.Time `json:"urlExpiresAt,omitempty"`
	Trashed                bool       `json:"trashed"`
	TrashedAt              *time.Time `json:"trashedAt,omitempty"`
	PurgeAt                *time.Time `json:"purgeAt,omitempty"`
	CreatedAt              time.Time  `json:"createdAt"`
	UpdatedAt              time.Time  `json:"updatedAt"`
}

func trashTimes(j *driveItemJSON, it core.DriveItem) {
	if it.Trashed() {
		at, purge := it.TrashedAt, it.PurgeAt()
		j.Trashed, j.TrashedAt = true, &at
		if it.TrashListed() {
			j.PurgeAt = &purge
		}
	}
}

func driveFolderView(f core.DriveFolder, inApp bool) driveItemJSON {
	j := driveItemJSON{
		ID: f.ID, Type: string(core.DriveFolderKind), Name: f.Name, ParentID: optional(f.ParentID),
		InIntegrationAppFolder: inApp || f.AppID != "", IntegrationAppID: optional(f.AppID),
		CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt,
	}
	trashTimes(&j, f.DriveItem)
	return j
}

func driveFileView(v drive.FileView, inApp bool) driveItemJSON {
	f := v.File
	size := f.Size
	j := driveItemJSON{
		ID: f.ID, Type: string(core.DriveFileKind), Name: f.Name, ParentID: optional(f.ParentID),
		InIntegrationAppFolder: inApp, ContentType: f.ContentType, SizeBytes: &size, StorageKey: f.StorageKey,
		URL: v.URL, MediaToken: v.MediaToken, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt,
	}
	if v.MediaToken != "" {
		exp := v.Expires
		j.URLExpiresAt = &exp
	}
	trashTimes(&j, f.DriveItem)
	return j
}

// driveListJSON is a page of a folder or of the recycle bin.
type driveListJSON struct {
	Folders    []driveItemJSON `json:"folders"`
	Files      []driveItemJSON `json:"files"`
	NextCursor *string         `json:"nextCursor"`
}

// driveLimit reads ?limit= (1–1000, default 100).
func driveLimit(c *fiber.Ctx) (int, error) {
	v, err := query(c, "limit", 8)
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > drive.MaxPage {
		return 0, core.Invalid("limit", "limit must be a whole number between 1 and %d", drive.MaxPage)
	}
	return n, nil
}

// flag reads a boolean query flag: absent, 0/false, or 1/true.
func flag(c *fiber.Ctx, name string) (bool, error) {
	v, err := query(c, name, 8)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(v) {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, core.Invalid(name, "%s must be 1 or 0", name)
}

func (s *Server) driveList(c *fiber.Ctx) error {
	q := drive.ListQuery{}
	var err error
	if q.ParentID, err = query(c, "parentId", core.MaxIDLen); err != nil {
		return err
	}
	if q.Cursor, err = query(c, "cursor", 2048); err != nil {
		return err
	}
	if q.Limit, err = driveLimit(c); err != nil {
		return err
	}
	if q.IncludeAppFolders, err = flag(c, "includeIntegrationAppFolders"); err != nil {
		return err
	}
	l, err := s.Drive.List(c.UserContext(), principal(c), q)
	if err != nil {
		return err
	}
	out := driveListJSON{Folders: make([]driveItemJSON, 0, len(l.Folders)), Files: make([]driveItemJSON, 0, len(l.Files)), NextCursor: optional(l.Next)}
	for _, f := range l.Folders {
		out.Folders = append(out.Folders, driveFolderView(f, l.InAppTree))
	}
	for _, f := range l.Files {
		out.Files = append(out.Files, driveFileView(f, l.InAppTree))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

type createFolderRequest struct {
	Name     string  `json:"name"`
	ParentID *string `json:"parentId"`
}

func (s *Server) driveCreateFolder(c *fiber.Ctx) error {
	var req createFolderRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	parent := ""
	if req.ParentID != nil {
		parent = *req.ParentID
	}
	f, err := s.Drive.CreateFolder(c.UserContext(), principal(c), req.Name, parent)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(driveFolderView(f, s.underAppFolder(c, f.ParentID)))
}

// underAppFolder reports whether an item just placed in parentID lies in a
// partner app's folder (inIntegrationAppFolder of a create's or an
// upload's answer, as a later GET says it).
func (s *Server) underAppFolder(c *fiber.Ctx, parentID string) bool {
	if parentID == "" {
		return false
	}
	it, err := s.Drive.Item(c.UserContext(), principal(c), core.DriveFolderKind, parentID)
	return err == nil && it.InAppTree
}

// itemKind reads ?type=; without it the kind follows from the id's
// prefix ("fld_", "file_").
func itemKind(c *fiber.Ctx, id string) (core.DriveItemKind, error) {
	v, err := query(c, "type", 16)
	if err != nil {
		return "", err
	}
	if v != "" {
		return core.ParseDriveItemKind("type", v)
	}
	switch {
	case strings.HasPrefix(id, "fld_"):
		return core.DriveFolderKind, nil
	case strings.HasPrefix(id, "file_"):
		return core.DriveFileKind, nil
	}
	return "", core.Invalid("type", "type must be file or folder")
}

func itemView(it drive.Item) driveItemJSON {
	if it.Kind == core.DriveFolderKind {
		return driveFolderView(it.Folder, it.InAppTree)
	}
	return driveFileView(it.File, it.InAppTree)
}

func (s *Server) driveItem(c *fiber.Ctx) error {
	id := c.Params("id")
	kind, err := itemKind(c, id)
	if err != nil {
		return err
	}
	it, err := s.Drive.Item(c.UserContext(), principal(c), kind, id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(itemView(it))
}

// updateItemRequest keeps targetFolderId raw: absent leaves the item
// where it is, null moves it to the root.
type updateItemRequest struct {
	Name           *string         `json:"name"`
	TargetFolderID json.RawMessage `json:"targetFolderId"`
}

func (s *Server) driveUpdateItem(c *fiber.Ctx) error {
	id := c.Params("id")
	kind, err := itemKind(c, id)
	if err != nil {
		return err
	}
	var req updateItemRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p := drive.Patch{Name: req.Name}
	if raw := bytes.TrimSpace(req.TargetFolderID); len(raw) > 0 {
		p.Move = true
		if !bytes.Equal(raw, []byte("null")) {
			if err := json.Unmarshal(raw, &p.Target); err != nil {
				return core.Invalid("targetFolderId", "targetFolderId must be a folder id or null")
			}
			if p.Target == "" {
				return core.Invalid("targetFolderId", "targetFolderId must be a folder id or null (the root)")
			}
		}
	}
	it, err := s.Drive.Update(c.UserContext(), principal(c), kind, id, p)
	if err != nil {
		return err
	}
	return c.JSON(itemView(it))
}

func (s *Server) driveTrashItem(c *fiber.Ctx) error {
	id := c.Params("id")
	kind, err := itemKind(c, id)
	if err != nil {
		return err
	}
	if err := s.Drive.Trash(c.UserContext(), principal(c), kind, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) driveTrash(c *fiber.Ctx) error {
	limit, err := driveLimit(c)
	if err != nil {
		return err
	}
	cursor, err := query(c, "cursor", 256)
	if err != nil {
		return err
	}
	l, err := s.Drive.TrashList(c.UserContext(), principal(c), cursor, limit)
	if err != nil {
		return err
	}
	out := driveListJSON{Folders: make([]driveItemJSON, 0, len(l.Folders)), Files: make([]driveItemJSON, 0, len(l.Files)), NextCursor: optional(l.Next)}
	for _, f := range l.Folders {
		out.Folders = append(out.Folders, driveFolderView(f, false))
	}
	for _, f := range l.Files {
		out.Files = append(out.Files, driveFileView(drive.FileView{File: f}, false))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

type selectionRequest struct {
	FileIDs   []string `json:"fileIds"`
	FolderIDs []string `json:"folderIds"`
}

func (s *Server) driveRestore(c *fiber.Ctx) error {
	var req selectionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.Drive.Restore(c.UserContext(), principal(c), drive.Selection{FileIDs: req.FileIDs, FolderIDs: req.FolderIDs}); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) driveDeleteForever(c *fiber.Ctx) error {
	var req selectionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.Drive.Delete(c.UserContext(), principal(c), drive.Selection{FileIDs: req.FileIDs, FolderIDs: req.FolderIDs}); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) driveStorage(c *fiber.Ctx) error {
	used, limit, err := s.Drive.Storage(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"usedBytes": used, "limitBytes": limit})
}

func (s *Server) driveMedia(c *fiber.Ctx) error { return s.serveMedia(c, s.Drive) }

// integrationClientID is the partner app of an upload: the header, or the
// body's integrationClientId; both must agree when both are given.
func integrationClientID(c *fiber.Ctx, body string) (string, error) {
	h := strings.TrimSpace(c.Get(IntegrationHeader))
	body = strings.TrimSpace(body)
	if h != "" && body != "" && h != body {
		return "", core.Invalid("integrationClientId", "integrationClientId and the %s header name different apps", IntegrationHeader)
	}
	if h != "" {
		return h, nil
	}
	return body, nil
}

type drivePresignRequest struct {
	FileName            string  `json:"fileName"`
	ContentType         string  `json:"contentType"`
	SizeBytes           int64   `json:"sizeBytes"`
	FolderID            *string `json:"folderId"`
	IntegrationClientID string  `json:"integrationClientId"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (s *Server) drivePresign(c *fiber.Ctx) error {
	var req drivePresignRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	app, err := integrationClientID(c, req.IntegrationClientID)
	if err != nil {
		return err
	}
	p, err := s.Drive.Presign(c.UserContext(), principal(c), drive.UploadTarget{FolderID: deref(req.FolderID), IntegrationClientID: app},
		uploads.FileInput{FileName: req.FileName, ContentType: req.ContentType, SizeBytes: req.SizeBytes})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(presignResponse{UploadURL: p.Put.URL, StorageKey: p.StorageKey, Headers: p.Put.Headers, ExpiresAt: p.Put.ExpiresAt})
}

// driveCompleteRequest repeats drivePresignRequest's fields (see
// completeRequest for why it does not embed it).
type driveCompleteRequest struct {
	StorageKey          string  `json:"storageKey"`
	FileName            string  `json:"fileName"`
	ContentType         string  `json:"contentType"`
	SizeBytes           int64   `json:"sizeBytes"`
	FolderID            *string `json:"folderId"`
	IntegrationClientID string  `json:"integrationClientId"`
}

func (s *Server) driveComplete(c *fiber.Ctx) error {
	var req driveCompleteRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	app, err := integrationClientID(c, req.IntegrationClientID)
	if err != nil {
		return err
	}
	v, err := s.Drive.Complete(c.UserContext(), principal(c), drive.UploadTarget{FolderID: deref(req.FolderID), IntegrationClientID: app}, req.StorageKey,
		uploads.FileInput{FileName: req.FileName, ContentType: req.ContentType, SizeBytes: req.SizeBytes})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(driveFileView(v, app != "" || s.underAppFolder(c, v.File.ParentID)))
}
