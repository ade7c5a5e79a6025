package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gellhub/gellhub/core"
)

// decodeJSON decodes the request body into v. Anything but one well-formed
// JSON object of the right types is KindInvalid with the offending field as
// detail. Unknown fields are ignored, so clients may send more than a route
// reads.
func decodeJSON(c *fiber.Ctx, v any) error {
	ct := c.Get(fiber.HeaderContentType)
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != fiber.MIMEApplicationJSON {
		return core.Invalid("Content-Type", "send a JSON body with Content-Type: application/json")
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return core.Invalid("body", "the request body is empty; a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return core.Invalid("body", "the request body must hold exactly one JSON object")
	}
	if field := duplicateKey(body); field != "" {
		return core.Invalid(field, "%s appears more than once in the JSON object", field)
	}
	return nil
}

// duplicateKey returns the first object key that appears twice in one
// object of a well-formed JSON document, or "". encoding/json would keep the
// last one silently; a request that says two things is refused instead.
func duplicateKey(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		expect bool // in an object: the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				if top != nil && top.object {
					top.expect = true
				}
				stack = append(stack, &frame{object: true, keys: map[string]bool{}, expect: true})
			case '[':
				if top != nil && top.object {
					top.expect = true
				}
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.object && top.expect {
				if top.keys[t] {
					return t
				}
				top.keys[t] = true
				top.expect = false
				continue
			}
			if top != nil && top.object {
				top.expect = true
			}
		default:
			if top != nil && top.object {
				top.expect = true
			}
		}
	}
}

// errBodyTooLarge answers a JSON body over the configured limit.
var errBodyTooLarge = core.E(core.KindTooLarge, "the request body is too large")

// readBody reads a JSON route's body, at most the app's BodyLimit bytes.
// The server streams request bodies (uploads need it), so Fiber's own
// limit no longer applies: this one does, without reading past it.
func readBody(c *fiber.Ctx) ([]byte, error) {
	limit := c.App().Config().BodyLimit
	if cl := c.Request().Header.ContentLength(); cl > limit {
		closeAfter(c)
		return nil, errBodyTooLarge
	}
	if !c.Request().IsBodyStream() {
		return c.Body(), nil
	}
	b, err := io.ReadAll(io.LimitReader(c.Context().RequestBodyStream(), int64(limit)+1))
	if err != nil {
		closeAfter(c)
		return nil, core.Invalid("body", "the request body could not be read")
	}
	if len(b) > limit {
		closeAfter(c)
		return nil, errBodyTooLarge
	}
	return b, nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return core.Invalid("body", "the request body must be a JSON object")
		}
		if k := te.Type.Kind().String(); strings.HasPrefix(k, "int") && te.Value == "number" {
			return core.Invalid(field, "%s must be a whole number within range", field)
		}
		return core.Invalid(field, "%s must be of JSON type %s", field, jsonType(te.Type.Kind().String()))
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		return core.Invalid("body", "the request body is not valid JSON")
	default:
		return core.Invalid("body", "the request body is not valid JSON")
	}
}

func jsonType(goKind string) string {
	switch {
	case goKind == "string":
		return "string"
	case goKind == "bool":
		return "boolean"
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"), strings.HasPrefix(goKind, "float"):
		return "number"
	case goKind == "slice", goKind == "array":
		return "array"
	default:
		return "object"
	}
}

// query returns a query parameter, refusing over-long and repeated values
// (which would otherwise mean whichever one a layer happens to read).
func query(c *fiber.Ctx, name string, max int) (string, error) {
	if len(c.Context().QueryArgs().PeekMulti(name)) > 1 {
		return "", core.Invalid(name, "%s must be given at most once", name)
	}
	v := c.Query(name)
	if len(v) > max {
		return "", core.Invalid(name, "%s must be at most %d characters", name, max)
	}
	return strings.Clone(v), nil
}
