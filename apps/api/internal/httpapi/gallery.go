package httpapi

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/gallery"
	"github.com/gellhub/gellhub/core/uploads"
)

type categoryJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

type collectionJSON struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	ClientName string    `json:"clientName"`
	Date       *string   `json:"date"`
	CategoryID *string   `json:"categoryId"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

type fileJSON struct {
	ID           string     `json:"id"`
	CollectionID string     `json:"collectionId"`
	ClientName   string     `json:"clientName"`
	FileName     string     `json:"fileName"`
	ContentType  string     `json:"contentType"`
	SizeBytes    int64      `json:"sizeBytes"`
	StorageKey   string     `json:"storageKey"`
	CreatedAt    time.Time  `json:"createdAt"`
	URL          string     `json:"url,omitempty"`
	MediaToken   string     `json:"mediaToken,omitempty"`
	URLExpiresAt *time.Time `json:"urlExpiresAt,omitempty"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func collectionView(c core.Collection) collectionJSON {
	return collectionJSON{
		ID: c.ID, Name: c.Name, ClientName: c.ClientName, Date: optional(c.Date), CategoryID: optional(c.CategoryID),
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func fileView(f core.GalleryFile) fileJSON {
	return fileJSON{
		ID: f.ID, CollectionID: f.CollectionID, ClientName: f.ClientName, FileName: f.Name,
		ContentType: f.ContentType, SizeBytes: f.Size, StorageKey: f.StorageKey, CreatedAt: f.CreatedAt,
	}
}

// page reads ?limit= and ?cursor= and asks for one item more than the
// page, to know whether another follows.
func page(c *fiber.Ctx) (core.Page, error) {
	limit := 0
	if v, err := query(c, "limit", 8); err != nil {
		return core.Page{}, err
	} else if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return core.Page{}, core.Invalid("limit", "limit must be a whole number between 1 and %d", gallery.MaxPage)
		}
		if n == 0 {
			return core.Page{}, core.Invalid("limit", "limit must be between 1 and %d", gallery.MaxPage)
		}
		limit = n
	}
	cursor, err := query(c, "cursor", core.MaxIDLen+1)
	if err != nil {
		return core.Page{}, err
	}
	p, err := gallery.PageOf(limit, cursor)
	if err != nil {
		return core.Page{}, err
	}
	p.Limit++
	return p, nil
}

// trimPage cuts the extra item page asked for and sets X-Next-Cursor.
func trimPage[T any](c *fiber.Ctx, p core.Page, items []T, id func(T) string) []T {
	if len(items) == p.Limit {
		items = items[:p.Limit-1]
		c.Set("X-Next-Cursor", id(items[len(items)-1]))
	}
	return items
}

func (s *Server) listCollections(c *fiber.Ctx) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	cs, err := s.Gallery.Collections(c.UserContext(), principal(c), p)
	if err != nil {
		return err
	}
	cs = trimPage(c, p, cs, func(c core.Collection) string { return c.ID })
	out := make([]collectionJSON, 0, len(cs))
	for _, col := range cs {
		out = append(out, collectionView(col))
	}
	return c.JSON(out)
}

type createCollectionRequest struct {
	Name       string `json:"name"`
	ClientName string `json:"clientName"`
	Date       string `json:"date"`
	CategoryID string `json:"categoryId"`
}

func (s *Server) createCollection(c *fiber.Ctx) error {
	var req createCollectionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	col, err := s.Gallery.CreateCollection(c.UserContext(), principal(c), gallery.CollectionInput{
		Name: req.Name, ClientName: req.ClientName, Date: req.Date, CategoryID: req.CategoryID,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(collectionView(col))
}

func (s *Server) listCategories(c *fiber.Ctx) error {
	cs, err := s.Gallery.Categories(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	out := make([]categoryJSON, 0, len(cs))
	for _, cat := range cs {
		out = append(out, categoryJSON{ID: cat.ID, Name: cat.Name, CreatedAt: cat.CreatedAt})
	}
	return c.JSON(out)
}

type createCategoryRequest struct {
	Name string `json:"name"`
}

func (s *Server) createCategory(c *fiber.Ctx) error {
	var req createCategoryRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cat, err := s.Gallery.CreateCategory(c.UserContext(), principal(c), req.Name)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(categoryJSON{ID: cat.ID, Name: cat.Name, CreatedAt: cat.CreatedAt})
}

type presignRequest struct {
	CollectionID string `json:"collectionId"`
	ClientName   string `json:"clientName"`
	FileName     string `json:"fileName"`
	ContentType  string `json:"contentType"`
	SizeBytes    int64  `json:"sizeBytes"`
}

type presignResponse struct {
	UploadURL  string            `json:"uploadUrl"`
	StorageKey string            `json:"storageKey"`
	Headers    map[string]string `json:"headers"`
	ExpiresAt  time.Time         `json:"expiresAt"`
}

func (s *Server) presignUpload(c *fiber.Ctx) error {
	var req presignRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := s.Gallery.Presign(c.UserContext(), principal(c),
		gallery.UploadTarget{CollectionID: req.CollectionID, ClientName: req.ClientName},
		uploads.FileInput{FileName: req.FileName, ContentType: req.ContentType, SizeBytes: req.SizeBytes})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(presignResponse{UploadURL: p.Put.URL, StorageKey: p.StorageKey, Headers: p.Put.Headers, ExpiresAt: p.Put.ExpiresAt})
}

// completeRequest repeats presignRequest's fields rather than embedding
// it: encoding/json names a type error in an embedded struct after the Go
// type ("presignRequest.sizeBytes"), and the error's detail must be the
// JSON field.
type completeRequest struct {
	CollectionID string `json:"collectionId"`
	ClientName   string `json:"clientName"`
	StorageKey   string `json:"storageKey"`
	FileName     string `json:"fileName"`
	ContentType  string `json:"contentType"`
	SizeBytes    int64  `json:"sizeBytes"`
}

func (s *Server) completeUpload(c *fiber.Ctx) error {
	var req completeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	f, err := s.Gallery.Complete(c.UserContext(), principal(c),
		gallery.UploadTarget{CollectionID: req.CollectionID, ClientName: req.ClientName}, req.StorageKey,
		uploads.FileInput{FileName: req.FileName, ContentType: req.ContentType, SizeBytes: req.SizeBytes})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fileView(f))
}

func (s *Server) collectionFiles(c *fiber.Ctx) error {
	p, err := page(c)
	if err != nil {
		return err
	}
	fs, err := s.Gallery.Files(c.UserContext(), principal(c), c.Params("id"), p)
	if err != nil {
		return err
	}
	fs = trimPage(c, p, fs, func(v gallery.FileView) string { return v.File.ID })
	out := make([]fileJSON, 0, len(fs))
	for _, v := range fs {
		j := fileView(v.File)
		exp := v.Expires
		j.URL, j.MediaToken, j.URLExpiresAt = v.URL, v.MediaToken, &exp
		out = append(out, j)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

func (s *Server) studioStorage(c *fiber.Ctx) error {
	used, limit, err := s.Gallery.Storage(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"usedBytes": used, "limitBytes": limit})
}
