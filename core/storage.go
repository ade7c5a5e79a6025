package core

import (
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Upload limits.
const (
	MaxFileNameLen    = 255
	MaxContentTypeLen = 255
)

// Reservation holds quota bytes for an upload that has been presigned (or
// is streaming) and not completed yet. It expires: a worker job releases it
// and removes whatever object it left.
type Reservation struct {
	ID         string
	OwnerID    string // the studio or drive whose quota it counts against
	StorageKey string
	Bytes      int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// Usage is an owner's storage: bytes of completed files and bytes held by
// open reservations. Used + Reserved never exceeds the plan's limit.
type Usage struct {
	UsedBytes     int64
	ReservedBytes int64
}

// Category groups collections in a studio; names are unique per studio,
// case-insensitively.
type Category struct {
	ID             string
	StudioID       string
	Name           string
	NameNormalized string
	CreatedAt      time.Time
}

// Collection is a client gallery: a shoot delivered to one client.
type Collection struct {
	ID         string
	StudioID   string
	Name       string
	ClientName string
	Date       string // YYYY-MM-DD, as the studio gave it
	CategoryID string // "" when none
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// GalleryFile is a completed upload in a collection.
type GalleryFile struct {
	ID           string
	StudioID     string
	CollectionID string
	ClientName   string
	Name         string // sanitized display name
	ContentType  string
	Size         int64
	StorageKey   string
	ETag         string
	CreatedAt    time.Time
}

// Page asks for one page of a keyset-paginated list: items after the
// cursor (an opaque id from the previous page), at most Limit of them.
type Page struct {
	After string
	Limit int
}

// SanitizeFileName makes a client's file name safe for storage keys and
// headers: the last path element, control and separator characters and
// quotes replaced, trimmed, at most MaxFileNameLen bytes; "file" when
// nothing is left.
func SanitizeFileName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), invisible(r):
			continue
		case r == '/' || r == '"' || r == '\'' || r == '`' || r == '<' || r == '>' || r == '|' || r == '*' || r == '?' || r == ':' || r == '%':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	out := strings.Trim(strings.TrimSpace(b.String()), ".")
	if len(out) > MaxFileNameLen {
		// Cut the stem, keep a short extension: "…long name.jpg".
		ext := path.Ext(out)
		if len(ext) > 16 {
			ext = ""
		}
		stem := strings.TrimSuffix(out, ext)
		for len(stem)+len(ext) > MaxFileNameLen {
			_, size := utf8.DecodeLastRuneInString(stem)
			stem = stem[:len(stem)-size]
		}
		out = stem + ext
	}
	if out == "" {
		return "file"
	}
	return out
}

// CheckContentType validates a MIME type of the form type/subtype (with
// optional parameters), at most MaxContentTypeLen bytes.
func CheckContentType(field, ct string) error {
	if ct == "" {
		return Invalid(field, "%s is required", field)
	}
	if len(ct) > MaxContentTypeLen {
		return Invalid(field, "%s must be at most %d characters", field, MaxContentTypeLen)
	}
	main := ct
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		main = ct[:i]
	}
	slash := strings.IndexByte(main, '/')
	if slash <= 0 || slash == len(main)-1 || strings.Count(main, "/") != 1 {
		return Invalid(field, "%s must look like type/subtype", field)
	}
	for _, r := range ct {
		if r < 0x20 || r > 0x7e {
			return Invalid(field, "%s must be printable ASCII", field)
		}
	}
	return nil
}
