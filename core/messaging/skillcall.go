package messaging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/ports"
	"github.com/gellhub/gellhub/webhooksig"
)

// Limits of a skill call.
const (
	// SkillTimeout bounds a skill call, its answer included.
	SkillTimeout = 5 * time.Second
	// MaxSkillResponseBytes caps a skill's answer: a longer one fails.
	MaxSkillResponseBytes = 64 << 10
	// SkillProtocolVersion is the version of the call's body and of the
	// answer it expects.
	SkillProtocolVersion = 1
	// MaxSkillErrorBytes caps a failure's message kept for the merchant.
	MaxSkillErrorBytes = 300
)

// The caps of a skill's answer.
const (
	maxSkillMessageBytes = 4000
	maxUIURLBytes        = core.MaxURLLen
	maxSlots             = 20
	maxProductCards      = 10
	maxButtons           = 10
	minIframeHeight      = 100
	maxIframeHeight      = 1200
	maxSkillJSONDepth    = 8
)

// The ui types a skill may answer with.
const (
	uiSlotList     = "slot_list"
	uiProductCards = "product_cards"
	uiButtons      = "buttons"
	uiIframe       = "iframe"
)

// skillRequest is the body a skills webhook receives (the guide's).
type skillRequest struct {
	Version         int            `json:"version"`
	Skill           string         `json:"skill"`
	ProfileID       string         `json:"profileId"`
	ConversationRef string         `json:"conversationRef"`
	VisitorID       string         `json:"visitorId"`
	Channel         string         `json:"channel"`
	Message         string         `json:"message"`
	Messages        []skillMessage `json:"messages"`
}

type skillMessage struct {
	Role    core.ChatRole `json:"role"`
	Content string        `json:"content"`
}

// skillTurn answers t with the profile's skills webhook when skills are
// enabled and a skill's keyword is in the last user message (the first
// such skill in configured order): ok true with the answer's message as
// content and its validated ui (re-encoded, nil for none). Every call is
// recorded in the profile's SkillsStatus; a failed one (unreachable,
// slow, redirected, not 2xx, too long or invalid) answers ok false so
// that the turn goes to the AI engine. A store failure while reading the
// configuration is ok false too.
func (s *Service) skillTurn(ctx context.Context, t turn) (content string, ui []byte, skill string, ok bool) {
	if s.cfg.Sender == nil {
		return "", nil, "", false
	}
	last, found := lastUserMessage(t.messages)
	if !found {
		return "", nil, "", false
	}
	c, _, err := s.cfg.Store.SkillsConfig(ctx, t.profileID)
	if err != nil || !c.Enabled || c.WebhookURL == "" {
		return "", nil, "", false
	}
	sk, found := matchSkill(c.Skills, last)
	if !found {
		return "", nil, "", false
	}
	at := s.now()
	content, ui, failure := s.callSkill(ctx, c, sk.Key, t, last)
	if failure != "" && ctx.Err() != nil {
		return "", nil, "", false // the caller left: not the webhook's failure
	}
	var record *core.SkillCallError
	if failure != "" {
		record = &core.SkillCallError{At: at, Skill: sk.Key, Error: skillFailureText(failure, c.Secret)}
	}
	// The status is for the merchant to see: failing to record it does
	// not change the turn.
	_ = s.cfg.Store.RecordSkillCall(ctx, t.profileID, at, record)
	if record != nil {
		return "", nil, "", false
	}
	return content, ui, sk.Key, true
}

// lastUserMessage returns the content of the last message of role user.
func lastUserMessage(ms []core.ChatMessage) (string, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Role == core.RoleUser {
			return ms[i].Content, true
		}
	}
	return "", false
}

// matchSkill returns the first skill, in order, with a keyword in message
// as whole words (case and accents ignored).
func matchSkill(skills []core.Skill, message string) (core.Skill, bool) {
	folded := foldText(message)
	for _, sk := range skills {
		for _, k := range sk.Keywords {
			if matchPhrase(folded, foldText(k)) {
				return sk, true
			}
		}
	}
	return core.Skill{}, false
}

// callSkill POSTs the turn to c's webhook for skill and validates the
// answer. failure, when set, says for the merchant why the call failed.
func (s *Service) callSkill(ctx context.Context, c core.SkillsConfig, skill string, t turn, message string) (content string, ui []byte, failure string) {
	req := skillRequest{
		Version: SkillProtocolVersion, Skill: skill, ProfileID: t.profileID, ConversationRef: t.ref,
		VisitorID: t.visitorID, Channel: t.channel, Message: message, Messages: make([]skillMessage, len(t.messages)),
	}
	for i, m := range t.messages {
		req.Messages[i] = skillMessage{Role: m.Role, Content: m.Content}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return "", nil, "could not encode the call"
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	header := map[string]string{webhooksig.HeaderTimestamp: ts, webhooksig.HeaderSkill: skill}
	if c.Secret != "" {
		header[webhooksig.HeaderSignature] = webhooksig.Sign(c.Secret, ts, body)
	}
	// The sender bounds the exchange with Timeout; the context does too,
	// in case a sender forgets.
	ctx, cancel := context.WithTimeout(ctx, SkillTimeout)
	defer cancel()
	resp, err := s.cfg.Sender.Send(ctx, ports.WebhookRequest{
		URL: c.WebhookURL, Header: header, Body: body, Timeout: SkillTimeout, MaxResponseBytes: MaxSkillResponseBytes,
	})
	switch {
	case err != nil:
		return "", nil, sendFailure(err)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return "", nil, fmt.Sprintf("answered %d: redirects are not followed", resp.StatusCode)
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		return "", nil, fmt.Sprintf("answered %d", resp.StatusCode)
	case resp.Truncated || len(resp.Body) > MaxSkillResponseBytes:
		return "", nil, "answered more than 64 KiB"
	}
	content, ui, err = parseSkillAnswer(resp.Body)
	if err != nil {
		return "", nil, "invalid response: " + err.Error()
	}
	return content, ui, ""
}

// sendFailure says why no answer came, for the merchant.
func sendFailure(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("timed out after %s", SkillTimeout)
	}
	if e, ok := core.AsError(err); ok && e.Message != "" && e.Kind != core.KindInternal {
		return "no answer: " + e.Message
	}
	return "no answer: the webhook could not be reached"
}

// skillFailureText is failure as kept for the merchant: without the
// secret, printable, at most MaxSkillErrorBytes.
func skillFailureText(failure, secret string) string {
	if secret != "" {
		failure = strings.ReplaceAll(failure, secret, "[secret]")
	}
	failure = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, failure)
	if len(failure) <= MaxSkillErrorBytes {
		return failure
	}
	cut := MaxSkillErrorBytes - len("…")
	for cut > 0 && !utf8.RuneStart(failure[cut]) {
		cut--
	}
	return failure[:cut] + "…"
}

// The validated answer's ui, re-encoded with only the known fields, in
// this order.
type (
	uiOut struct {
		Type   string `json:"type"`
		Items  any    `json:"items,omitempty"`
		URL    string `json:"url,omitempty"`
		Height int    `json:"height,omitempty"`
	}
	slotOut struct {
		ID       string `json:"id"`
		Title    string `json:"title"`
		Subtitle string `json:"subtitle,omitempty"`
	}
	productOut struct {
		ID        string          `json:"id,omitempty"`
		Title     string          `json:"title"`
		Subtitle  string          `json:"subtitle,omitempty"`
		Price     json.RawMessage `json:"price,omitempty"`
		ImageURL  string          `json:"imageUrl,omitempty"`
		ActionURL string          `json:"actionUrl,omitempty"`
	}
	buttonOut struct {
		Label   string `json:"label"`
		Action  string `json:"action"`
		Message string `json:"message,omitempty"`
		URL     string `json:"url,omitempty"`
	}
)

// answerError is why an answer is refused; its text is for the merchant.
type answerError string

func (e answerError) Error() string { return string(e) }

func refuse(format string, args ...any) error { return answerError(fmt.Sprintf(format, args...)) }

// parseSkillAnswer validates a skill's answer strictly: exactly one JSON
// object, valid UTF-8, no unknown or repeated field (names are
// case-sensitive), "version" 1, "message" a non-empty string of at most
// maxSkillMessageBytes, and an optional "ui" of a known type with that
// type's fields. A null optional field counts as absent. It returns the
// message (trimmed) and the ui re-encoded from what was validated, nil
// when there is none.
func parseSkillAnswer(body []byte) (message string, ui []byte, err error) {
	if !utf8.Valid(body) {
		return "", nil, refuse("the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := readJSON(dec, 0)
	if err != nil {
		return "", nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", nil, refuse("the body must hold exactly one JSON value")
	}
	root, err := object(v, "the body", "version", "message", "ui")
	if err != nil {
		return "", nil, err
	}
	if n, ok := root["version"].(json.Number); !ok || n.String() != strconv.Itoa(SkillProtocolVersion) {
		return "", nil, refuse("version must be %d", SkillProtocolVersion)
	}
	m, ok := root["message"].(string)
	if !ok {
		return "", nil, refuse("message must be a string")
	}
	if message = strings.TrimSpace(m); message == "" {
		return "", nil, refuse("message must not be empty")
	}
	if len(message) > maxSkillMessageBytes {
		return "", nil, refuse("message must be at most %d bytes", maxSkillMessageBytes)
	}
	if bad := badText(message, true); bad != "" {
		return "", nil, refuse("message %s", bad)
	}
	if root["ui"] == nil {
		return message, nil, nil
	}
	out, err := parseUI(root["ui"])
	if err != nil {
		return "", nil, err
	}
	if ui, err = json.Marshal(out); err != nil {
		return "", nil, refuse("ui could not be encoded")
	}
	return message, ui, nil
}

// readJSON reads one JSON value from dec: objects as map[string]any
// (a repeated name is refused), arrays as []any, numbers as json.Number.
func readJSON(dec *json.Decoder, depth int) (any, error) {
	if depth > maxSkillJSONDepth {
		return nil, refuse("the body is nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, refuse("the body is not valid JSON")
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		obj := map[string]any{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, refuse("the body is not valid JSON")
			}
			name, _ := tok.(string)
			if _, dup := obj[name]; dup {
				return nil, refuse("the field %s appears twice", quoteName(name))
			}
			if obj[name], err = readJSON(dec, depth+1); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, refuse("the body is not valid JSON")
		}
		return obj, nil
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := readJSON(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, refuse("the body is not valid JSON")
		}
		return arr, nil
	}
	return nil, refuse("the body is not valid JSON")
}

// object checks that v is an object whose fields are among allowed, and
// returns it with null fields removed. path names v in messages.
func object(v any, path string, allowed ...string) (map[string]any, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, refuse("%s must be a JSON object", path)
	}
	for name, fv := range obj {
		known := false
		for _, a := range allowed {
			known = known || name == a
		}
		if !known {
			return nil, refuse("%s has an unknown field %s", path, quoteName(name))
		}
		if fv == nil {
			delete(obj, name)
		}
	}
	return obj, nil
}

// quoteName quotes a field name of the answer for a message, shortened.
func quoteName(name string) string {
	if len(name) > 40 {
		cut := 40
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut] + "…"
	}
	return strconv.Quote(name)
}

// parseUI validates the answer's ui object.
func parseUI(v any) (uiOut, error) {
	raw, ok := v.(map[string]any)
	if !ok {
		return uiOut{}, refuse("ui must be a JSON object")
	}
	typ, _ := raw["type"].(string)
	switch typ {
	case uiSlotList, uiProductCards, uiButtons:
		for _, f := range []string{"url", "height"} {
			if raw[f] != nil {
				return uiOut{}, refuse("ui.%s is not allowed for %s", f, typ)
			}
		}
		obj, err := object(raw, "ui", "type", "items")
		if err != nil {
			return uiOut{}, err
		}
		items, err := parseItems(typ, obj["items"])
		return uiOut{Type: typ, Items: items}, err
	case uiIframe:
		if raw["items"] != nil {
			return uiOut{}, refuse("ui.items is not allowed for iframe")
		}
		obj, err := object(raw, "ui", "type", "url", "height")
		if err != nil {
			return uiOut{}, err
		}
		out := uiOut{Type: typ}
		if out.URL, err = httpsURL(obj, "url", "ui.url", true); err != nil {
			return uiOut{}, err
		}
		if h, ok := obj["height"]; ok {
			n, isNum := h.(json.Number)
			height, err := strconv.Atoi(n.String())
			if !isNum || err != nil || height < minIframeHeight || height > maxIframeHeight {
				return uiOut{}, refuse("ui.height must be a whole number from %d to %d", minIframeHeight, maxIframeHeight)
			}
			out.Height = height
		}
		return out, nil
	}
	return uiOut{}, refuse("ui.type must be one of slot_list, product_cards, buttons, iframe")
}

// parseItems validates the items of a ui of type typ.
func parseItems(typ string, v any) (any, error) {
	max := map[string]int{uiSlotList: maxSlots, uiProductCards: maxProductCards, uiButtons: maxButtons}[typ]
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 || len(arr) > max {
		return nil, refuse("ui.items must be a list of 1 to %d items for %s", max, typ)
	}
	switch typ {
	case uiSlotList:
		out := make([]slotOut, len(arr))
		for i, it := range arr {
			var err error
			if out[i], err = parseSlot(it, fmt.Sprintf("ui.items[%d]", i)); err != nil {
				return nil, err
			}
		}
		return out, nil
	case uiProductCards:
		out := make([]productOut, len(arr))
		for i, it := range arr {
			var err error
			if out[i], err = parseProduct(it, fmt.Sprintf("ui.items[%d]", i)); err != nil {
				return nil, err
			}
		}
		return out, nil
	default:
		out := make([]buttonOut, len(arr))
		for i, it := range arr {
			var err error
			if out[i], err = parseButton(it, fmt.Sprintf("ui.items[%d]", i)); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

func parseSlot(v any, path string) (slotOut, error) {
	obj, err := object(v, path, "id", "title", "subtitle")
	if err != nil {
		return slotOut{}, err
	}
	var out slotOut
	if out.ID, err = text(obj, "id", path, 100, true); err != nil {
		return slotOut{}, err
	}
	if out.Title, err = text(obj, "title", path, 100, true); err != nil {
		return slotOut{}, err
	}
	if out.Subtitle, err = text(obj, "subtitle", path, 100, false); err != nil {
		return slotOut{}, err
	}
	return out, nil
}

func parseProduct(v any, path string) (productOut, error) {
	obj, err := object(v, path, "id", "title", "subtitle", "price", "imageUrl", "actionUrl")
	if err != nil {
		return productOut{}, err
	}
	var out productOut
	if out.ID, err = text(obj, "id", path, 100, false); err != nil {
		return productOut{}, err
	}
	if out.Title, err = text(obj, "title", path, 200, true); err != nil {
		return productOut{}, err
	}
	if out.Subtitle, err = text(obj, "subtitle", path, 200, false); err != nil {
		return productOut{}, err
	}
	switch p := obj["price"].(type) {
	case nil:
	case json.Number: // kept as written
		if len(p) > 40 {
			return productOut{}, refuse("%s.price must be at most 40 characters", path)
		}
		out.Price = json.RawMessage(p)
	case string:
		s, err := text(obj, "price", path, 40, false)
		if err != nil {
			return productOut{}, err
		}
		if s != "" {
			out.Price, _ = json.Marshal(s)
		}
	default:
		return productOut{}, refuse("%s.price must be a string or a number", path)
	}
	if out.ImageURL, err = httpsURL(obj, "imageUrl", path+".imageUrl", false); err != nil {
		return productOut{}, err
	}
	if out.ActionURL, err = httpsURL(obj, "actionUrl", path+".actionUrl", false); err != nil {
		return productOut{}, err
	}
	return out, nil
}

// parseButton validates a button: its action is "message" (sends message,
// or the label when there is none) or "url" (opens url). Without an
// action, a button with only a url opens it, any other sends its message.
// A field of the other action is refused.
func parseButton(v any, path string) (buttonOut, error) {
	obj, err := object(v, path, "label", "action", "message", "url")
	if err != nil {
		return buttonOut{}, err
	}
	var out buttonOut
	if out.Label, err = text(obj, "label", path, 80, true); err != nil {
		return buttonOut{}, err
	}
	if out.Message, err = text(obj, "message", path, 500, false); err != nil {
		return buttonOut{}, err
	}
	if out.URL, err = httpsURL(obj, "url", path+".url", false); err != nil {
		return buttonOut{}, err
	}
	action, isString := obj["action"].(string)
	switch {
	case obj["action"] != nil && !isString:
		return buttonOut{}, refuse("%s.action must be \"message\" or \"url\"", path)
	case action == "" && out.URL != "" && out.Message != "":
		return buttonOut{}, refuse("%s has both a message and a url: set its action", path)
	case action == "" && out.URL != "":
		action = "url"
	case action == "":
		action = "message"
	}
	out.Action = action
	switch action {
	case "message":
		if out.URL != "" {
			return buttonOut{}, refuse("%s.url is not allowed with the action message", path)
		}
		if out.Message == "" {
			out.Message = out.Label
		}
	case "url":
		if out.URL == "" {
			return buttonOut{}, refuse("%s.url is required with the action url", path)
		}
		if out.Message != "" {
			return buttonOut{}, refuse("%s.message is not allowed with the action url", path)
		}
	default:
		return buttonOut{}, refuse("%s.action must be \"message\" or \"url\"", path)
	}
	return out, nil
}

// text reads the string field name of obj: trimmed, one line of at most
// max characters without control or invisible characters; required
// refuses an absent or blank one ("" then means absent).
func text(obj map[string]any, name, path string, max int, required bool) (string, error) {
	v, present := obj[name]
	if !present {
		if required {
			return "", refuse("%s.%s is required", path, name)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", refuse("%s.%s must be a string", path, name)
	}
	s = strings.TrimSpace(s)
	if s == "" && required {
		return "", refuse("%s.%s must not be empty", path, name)
	}
	if utf8.RuneCountInString(s) > max {
		return "", refuse("%s.%s must be at most %d characters", path, name, max)
	}
	if bad := badText(s, false); bad != "" {
		return "", refuse("%s.%s %s", path, name, bad)
	}
	return s, nil
}

// httpsURL reads the URL field name of obj: an absolute https URL with a
// host, at most maxUIURLBytes of printable ASCII without spaces, quotes,
// angle brackets, backslashes or user info.
func httpsURL(obj map[string]any, name, path string, required bool) (string, error) {
	v, present := obj[name]
	if !present {
		if required {
			return "", refuse("%s is required", path)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok || !validHTTPSURL(s) {
		return "", refuse("%s must be an https URL of at most %d bytes", path, maxUIURLBytes)
	}
	return s, nil
}

func validHTTPSURL(s string) bool {
	if len(s) > maxUIURLBytes || !strings.HasPrefix(strings.ToLower(s), "https://") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"'<>\\`", c) >= 0 {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Hostname() != "" && u.User == nil
}

// badText says what is wrong with s as text of an answer, "" when
// nothing: control characters (line breaks and tabs only when multiline)
// or invisible formatting characters.
func badText(s string, multiline bool) string {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || invisible(r) {
			return "must not contain control or invisible formatting characters"
		}
	}
	return ""
}

// invisible reports the formatting characters that disguise text, as
// core.CleanText refuses them: bidi controls, zero-width spaces, the word
// joiner and the byte-order mark (joiners stay: emoji need them).
func invisible(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	case r == 0x200B, r == 0xFEFF, r == 0x2060:
		return true
	}
	return false
}
