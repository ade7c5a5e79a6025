package core

import (
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length caps shared by every entry point. Every string the API accepts has
// a cap; these are the common ones.
const (
	MaxEmailLen       = 254
	MinPasswordLen    = 8
	MaxPasswordLen    = 256 // bounds the cost of hashing
	MaxNameLen        = 120
	MaxDescriptionLen = 2000
	MaxURLLen         = 2048
	MaxIDLen          = 64
	MaxFeatures       = 50
	MaxFeatureLen     = 200
)

// NormalizeEmail validates an email address and returns it trimmed, and its
// lower-cased form that uniqueness is checked on.
func NormalizeEmail(field, s string) (email, normalized string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", Invalid(field, "%s is required", field)
	}
	if len(s) > MaxEmailLen {
		return "", "", Invalid(field, "%s must be at most %d characters", field, MaxEmailLen)
	}
	a, perr := mail.ParseAddress(s)
	if perr != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", "", Invalid(field, "%s is not a valid email address", field)
	}
	return s, strings.ToLower(s), nil
}

// CheckPassword enforces the password length rules.
func CheckPassword(field, s string) error {
	if s == "" {
		return Invalid(field, "%s is required", field)
	}
	if n := utf8.RuneCountInString(s); n < MinPasswordLen {
		return Invalid(field, "%s must be at least %d characters", field, MinPasswordLen)
	}
	if len(s) > MaxPasswordLen {
		return Invalid(field, "%s must be at most %d bytes", field, MaxPasswordLen)
	}
	return nil
}

// CleanText trims s and checks it is valid UTF-8 without control characters
// and at most max characters long. required says whether empty is an error.
func CleanText(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", Invalid(field, "%s is required", field)
		}
		return "", nil
	}
	if !utf8.ValidString(s) {
		return "", Invalid(field, "%s must be valid UTF-8", field)
	}
	if utf8.RuneCountInString(s) > max {
		return "", Invalid(field, "%s must be at most %d characters", field, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' || invisible(r) {
			return "", Invalid(field, "%s must not contain control or invisible formatting characters", field)
		}
	}
	return s, nil
}

// CheckAbsoluteURL accepts an absolute http(s) URL of at most MaxURLLen bytes.
func CheckAbsoluteURL(field, s string) error {
	if len(s) > MaxURLLen {
		return Invalid(field, "%s must be at most %d characters", field, MaxURLLen)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Invalid(field, "%s must be an absolute http(s) URL", field)
	}
	return nil
}

// invisible reports the formatting characters that disguise text: bidi
// overrides and isolates (which can flip how a name reads), zero-width
// spaces and the byte-order mark. Joiners stay allowed: emoji need them.
func invisible(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	case r == 0x200B, r == 0xFEFF, r == 0x2060:
		return true
	}
	return false
}

// ValidID reports whether s can be one of gellhub's ids (or a cursor made of
// one): 1 to MaxIDLen letters, digits, '_' or '-'. Anything else is not an
// id at all, so lookups answer "not found" without asking a store (which
// would choke on a NUL byte, say).
func ValidID(s string) bool {
	if s == "" || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
