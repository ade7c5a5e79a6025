package core_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

var mediaKey = bytes.Repeat([]byte{0x42}, core.MinSigningKeyLen)

func mediaClaims() core.MediaClaims {
	return core.MediaClaims{
		Key:         "clientGallery/studio_1/up_1/IMG 0001.jpg",
		OwnerID:     "studio_1",
		Name:        "IMG 0001.jpg",
		ContentType: "image/jpeg",
		Expires:     fixedTime.Add(time.Hour),
	}
}

func requireBadToken(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.True(t, core.IsKind(err, core.KindForbidden), "got %v", err)
	// Forged, malformed and expired tokens all read alike: nothing tells
	// an attacker which check failed.
	require.Equal(t, "the media link is invalid or has expired", err.(*core.Error).Message)
}

func TestMediaToken(t *testing.T) {
	t.Parallel()

	t.Run("round_trip_returns_the_claims", func(t *testing.T) {
		c := mediaClaims()
		tok, err := core.SignMediaToken(mediaKey, c)
		require.NoError(t, err)
		require.NotContains(t, tok, "/")
		require.NotContains(t, tok, "+")
		require.NotContains(t, tok, "=")
		got, err := core.VerifyMediaToken(mediaKey, tok, fixedTime)
		require.NoError(t, err)
		require.Equal(t, c.Key, got.Key)
		require.Equal(t, c.OwnerID, got.OwnerID)
		require.Equal(t, c.Name, got.Name)
		require.Equal(t, c.ContentType, got.ContentType)
		require.True(t, c.Expires.Equal(got.Expires), "expires %v, want %v", got.Expires, c.Expires)
	})

	t.Run("signing_is_deterministic", func(t *testing.T) {
		a, err := core.SignMediaToken(mediaKey, mediaClaims())
		require.NoError(t, err)
		b, err := core.SignMediaToken(mediaKey, mediaClaims())
		require.NoError(t, err)
		require.Equal(t, a, b, "stateless: any instance with the key signs and verifies alike")
	})

	t.Run("tampered_payload_is_forbidden", func(t *testing.T) {
		tok, err := core.SignMediaToken(mediaKey, mediaClaims())
		require.NoError(t, err)
		payload, sig, _ := strings.Cut(tok, ".")
		raw, err := base64.RawURLEncoding.DecodeString(payload)
		require.NoError(t, err)
		// Point the token at another studio's object, keep the signature.
		forged := bytes.Replace(raw, []byte("studio_1"), []byte("studio_2"), -1)
		require.NotEqual(t, raw, forged)
		_, err = core.VerifyMediaToken(mediaKey, base64.RawURLEncoding.EncodeToString(forged)+"."+sig, fixedTime)
		requireBadToken(t, err)

		// Extend the expiry.
		later := bytes.Replace(raw, []byte("2026"), []byte("2099"), 1)
		_, err = core.VerifyMediaToken(mediaKey, base64.RawURLEncoding.EncodeToString(later)+"."+sig, fixedTime)
		requireBadToken(t, err)

		// Flip one character of the encoded payload.
		flipped := []byte(payload)
		flipped[3] ^= 0x01
		_, err = core.VerifyMediaToken(mediaKey, string(flipped)+"."+sig, fixedTime)
		requireBadToken(t, err)
	})

	t.Run("tampered_signature_is_forbidden", func(t *testing.T) {
		tok, err := core.SignMediaToken(mediaKey, mediaClaims())
		require.NoError(t, err)
		payload, sig, _ := strings.Cut(tok, ".")
		raw, err := base64.RawURLEncoding.DecodeString(sig)
		require.NoError(t, err)
		for _, bad := range []string{
			payload + "." + base64.RawURLEncoding.EncodeToString(append(bytes.Clone(raw[:len(raw)-1]), raw[len(raw)-1]^1)),
			payload + "." + base64.RawURLEncoding.EncodeToString(raw[:16]), // truncated MAC
			payload + "." + sig + "AA",
			payload + ".",
			payload + "." + "!!not-base64!!",
			payload,         // no signature at all
			"." + sig,       // no payload
			"",              // empty
			"." + ".",       // dots only
			tok + "." + sig, // extra part
		} {
			_, err := core.VerifyMediaToken(mediaKey, bad, fixedTime)
			requireBadToken(t, err)
		}
	})

	t.Run("wrong_key_is_forbidden", func(t *testing.T) {
		tok, err := core.SignMediaToken(mediaKey, mediaClaims())
		require.NoError(t, err)
		other := bytes.Repeat([]byte{0x43}, core.MinSigningKeyLen)
		_, err = core.VerifyMediaToken(other, tok, fixedTime)
		requireBadToken(t, err)
		_, err = core.VerifyMediaToken(nil, tok, fixedTime)
		requireBadToken(t, err)
	})

	t.Run("expires_at_its_expiry", func(t *testing.T) {
		c := mediaClaims()
		tok, err := core.SignMediaToken(mediaKey, c)
		require.NoError(t, err)
		_, err = core.VerifyMediaToken(mediaKey, tok, c.Expires.Add(-time.Nanosecond))
		require.NoError(t, err, "valid until the last instant")
		_, err = core.VerifyMediaToken(mediaKey, tok, c.Expires)
		requireBadToken(t, err)
		_, err = core.VerifyMediaToken(mediaKey, tok, c.Expires.Add(time.Hour))
		requireBadToken(t, err)
	})

	t.Run("over_long_token_is_forbidden_even_when_signed", func(t *testing.T) {
		c := mediaClaims()
		c.Name = strings.Repeat("n", 4096)
		tok, err := core.SignMediaToken(mediaKey, c)
		require.NoError(t, err)
		require.Greater(t, len(tok), 4096)
		_, err = core.VerifyMediaToken(mediaKey, tok, fixedTime)
		requireBadToken(t, err)

		_, err = core.VerifyMediaToken(mediaKey, strings.Repeat("A", 1<<20)+".x", fixedTime)
		requireBadToken(t, err)
	})

	t.Run("the_largest_claims_make_a_usable_token", func(t *testing.T) {
		// Sanitized names keep "&" (JSON's HTML escaping would make each six
		// bytes): the longest name, in the key too, and the longest type
		// still give a token far under the 4096 VerifyMediaToken takes and
		// short enough for a request line.
		name := strings.Repeat("&", core.MaxFileNameLen)
		c := core.MediaClaims{
			Key:         "clientGallery/studio_" + strings.Repeat("0", 26) + "/up_" + strings.Repeat("0", 26) + "/" + name,
			OwnerID:     "studio_" + strings.Repeat("0", 26),
			Name:        name,
			ContentType: "a/" + strings.Repeat("&", core.MaxContentTypeLen-2),
			Expires:     fixedTime.Add(time.Hour),
		}
		require.NoError(t, core.CheckContentType("contentType", c.ContentType))
		tok, err := core.SignMediaToken(mediaKey, c)
		require.NoError(t, err)
		require.Less(t, len(tok), 2048)
		got, err := core.VerifyMediaToken(mediaKey, tok, fixedTime)
		require.NoError(t, err)
		require.Equal(t, c.Key, got.Key)
		require.Equal(t, c.Name, got.Name)
		require.Equal(t, c.ContentType, got.ContentType)
	})

	t.Run("signed_but_malformed_claims_are_forbidden", func(t *testing.T) {
		// The reproduction of the MAC is faithful: it signs a real token alike.
		tok, err := core.SignMediaToken(mediaKey, mediaClaims())
		require.NoError(t, err)
		payload, sig, _ := strings.Cut(tok, ".")
		require.Equal(t, sig, base64.RawURLEncoding.EncodeToString(signRaw(t, payload)))

		for _, payload := range []string{"not json", `{"k":""}`, `{}`, `[]`, `{"k":5}`} {
			p := base64.RawURLEncoding.EncodeToString([]byte(payload))
			tok := p + "." + base64.RawURLEncoding.EncodeToString(signRaw(t, p))
			_, err := core.VerifyMediaToken(mediaKey, tok, fixedTime)
			requireBadToken(t, err)
		}
	})
}

// signRaw reproduces the signer's MAC over payload (checked against a real
// token above), to sign claims SignMediaToken would never produce.
func signRaw(t *testing.T, payload string) []byte {
	t.Helper()
	m := hmac.New(sha256.New, mediaKey)
	m.Write([]byte("gellhub-media-v1." + payload))
	return m.Sum(nil)
}

func TestSanitizeFileName(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"IMG 0001.jpg", "IMG 0001.jpg"},
		{"../../etc/passwd", "passwd"},
		{"/abs/path/photo.png", "photo.png"},
		{`C:\Users\me\photo.jpg`, "photo.jpg"},
		{`..\..\boot.ini`, "boot.ini"},
		{`a"b'c.jpg`, "a_b_c.jpg"},
		{"x<y>z|w*?:%.jpg", "x_y_z_w____.jpg"},
		{"evil\r\nSet-Cookie: a=b.jpg", "evilSet-Cookie_ a=b.jpg"},
		{"Фото 東京 ✓.jpg", "Фото 東京 ✓.jpg"},
		{"invoice\u202egpj.exe", "invoicegpj.exe"},
		{"\ufeffbom.txt", "bom.txt"},
		{"\xff\xfe.jpg", "jpg"},
		{".hidden", "hidden"},
		{"  spaced  ", "spaced"},
		{"dir/", "dir"},
		{"", "file"},
		{"...", "file"},
		{"..", "file"},
		{"\x00\x01", "file"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, core.SanitizeFileName(tc.in), "in %q", tc.in)
	}

	t.Run("at_most_255_bytes_of_valid_utf8", func(t *testing.T) {
		got := core.SanitizeFileName(strings.Repeat("é", 300))
		require.LessOrEqual(t, len(got), core.MaxFileNameLen)
		require.True(t, utf8.ValidString(got))
		require.Equal(t, strings.Repeat("é", core.MaxFileNameLen/2), got)
	})

	t.Run("output_is_always_safe", func(t *testing.T) {
		for _, in := range []string{
			"a/b/c", `a\b`, "\"", "'", "\t\n", "a\x7fb", "/", "\\", "%00", "\u2028line", strings.Repeat("/", 50),
			"name.jpg\x00.exe", "..%2f..%2fetc", "😀/😀.png",
		} {
			got := core.SanitizeFileName(in)
			require.NotEmpty(t, got, "in %q", in)
			require.True(t, utf8.ValidString(got), "in %q", in)
			require.LessOrEqual(t, len(got), core.MaxFileNameLen)
			require.False(t, strings.ContainsAny(got, "/\\\"'\r\n\x00"), "in %q → %q", in, got)
			require.NotEqual(t, "..", got)
			require.NotEqual(t, ".", got)
		}
	})
}

func TestCheckContentType(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"image/jpeg", "application/octet-stream", "text/plain; charset=utf-8", "video/mp4"} {
		require.NoError(t, core.CheckContentType("contentType", ok), ok)
	}
	for _, bad := range []string{
		"", "image", "image/", "/jpeg", "image/jpeg/x", "imagé/jpeg", "image/jpeg\r\nX-Evil: 1",
		"text/plain; a=\x01", "image/" + strings.Repeat("x", core.MaxContentTypeLen),
	} {
		err := core.CheckContentType("contentType", bad)
		require.Error(t, err, "%q", bad)
		require.True(t, core.IsKind(err, core.KindInvalid))
		require.Equal(t, "contentType", err.(*core.Error).Detail)
	}
}

func TestSanitizeFileNameKeepsTheExtensionWhenCut(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 200) + ".jpg"
	got := core.SanitizeFileName(long)
	require.LessOrEqual(t, len(got), core.MaxFileNameLen)
	require.True(t, strings.HasSuffix(got, "é.jpg"), got)
	require.True(t, utf8.ValidString(got))
}
