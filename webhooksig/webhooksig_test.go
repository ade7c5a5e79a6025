package webhooksig_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gellhub/gellhub/webhooksig"
)

// handSign is gellhub's signature computed here, independently of the
// package: hex HMAC-SHA256 of timestamp + "." + body.
func handSign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "." + string(body)))
	return hex.EncodeToString(m.Sum(nil))
}

// handSignStandard is the Standard Webhooks signature with a raw key.
func handSignStandard(key []byte, id, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + timestamp + "." + string(body)))
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

var (
	sentAt = time.Date(2026, 5, 25, 12, 0, 0, 0, time.UTC)
	ts     = strconv.FormatInt(sentAt.Unix(), 10)
	body   = []byte(`{"version":1,"event":"handoff.requested","profileId":"clx1","message":"¿Puedo hablar con una persona?"}`)
)

const secret = "your-hmac-secret"

func TestSign(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		secret, ts string
		body       []byte
	}{
		{secret, ts, body},
		{"s", "1", nil},
		{"ñandú-🔑", "1614265330", []byte(`{}`)},
		{secret, ts, []byte("not json at all\x00\xff")},
	} {
		if got, want := webhooksig.Sign(c.secret, c.ts, c.body), handSign(c.secret, c.ts, c.body); got != want {
			t.Errorf("Sign(%q, %q, %q) = %s, want %s", c.secret, c.ts, c.body, got, want)
		}
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	good := handSign(secret, ts, body)
	for name, c := range map[string]struct {
		secret, ts, sig string
		body            []byte
		now             time.Time
		tolerance       time.Duration
		want            error
	}{
		"valid":                    {secret, ts, good, body, sentAt, 0, nil},
		"valid_a_bit_later":        {secret, ts, good, body, sentAt.Add(4 * time.Minute), 0, nil},
		"valid_clock_a_bit_behind": {secret, ts, good, body, sentAt.Add(-4 * time.Minute), 0, nil},
		"valid_at_the_tolerance":   {secret, ts, good, body, sentAt.Add(webhooksig.DefaultTolerance), 0, nil},
		"valid_custom_tolerance":   {secret, ts, good, body, sentAt.Add(50 * time.Minute), time.Hour, nil},
		"signature_with_spaces":    {secret, ts, " " + good + " ", body, sentAt, 0, nil},
		"too_old":                  {secret, ts, good, body, sentAt.Add(5*time.Minute + time.Second), 0, webhooksig.ErrTimestamp},
		"too_new":                  {secret, ts, good, body, sentAt.Add(-5*time.Minute - time.Second), 0, webhooksig.ErrTimestamp},
		"too_old_custom_tolerance": {secret, ts, good, body, sentAt.Add(2 * time.Minute), time.Minute, webhooksig.ErrTimestamp},
		"timestamp_not_a_number":   {secret, "yesterday", handSign(secret, "yesterday", body), body, sentAt, 0, webhooksig.ErrTimestamp},
		"timestamp_in_millis":      {secret, ts + "000", handSign(secret, ts+"000", body), body, sentAt, 0, webhooksig.ErrTimestamp},
		"timestamp_fractional":     {secret, ts + ".5", handSign(secret, ts+".5", body), body, sentAt, 0, webhooksig.ErrTimestamp},
		"timestamp_missing":        {secret, "", good, body, sentAt, 0, webhooksig.ErrMissing},
		"signature_missing":        {secret, ts, "", body, sentAt, 0, webhooksig.ErrMissing},
		"wrong_secret":             {"another-secret", ts, good, body, sentAt, 0, webhooksig.ErrSignature},
		"empty_secret":             {"", ts, good, body, sentAt, 0, webhooksig.ErrSignature},
		"tampered_body":            {secret, ts, good, []byte(strings.Replace(string(body), "clx1", "clx2", 1)), sentAt, 0, webhooksig.ErrSignature},
		"empty_body":               {secret, ts, good, nil, sentAt, 0, webhooksig.ErrSignature},
		"replayed_with_new_ts":     {secret, strconv.FormatInt(sentAt.Unix()+60, 10), good, body, sentAt, 0, webhooksig.ErrSignature},
		"signature_not_hex":        {secret, ts, "zz" + good[2:], body, sentAt, 0, webhooksig.ErrSignature},
		"signature_truncated":      {secret, ts, good[:32], body, sentAt, 0, webhooksig.ErrSignature},
		"signature_with_prefix":    {secret, ts, "sha256=" + good, body, sentAt, 0, webhooksig.ErrSignature},
		"standard_signature":       {secret, ts, handSignStandard([]byte(secret), "evt_1", ts, body), body, sentAt, 0, webhooksig.ErrSignature},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := webhooksig.Verify(c.secret, c.ts, c.sig, c.body, c.now, c.tolerance)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestVerifyHeaders(t *testing.T) {
	t.Parallel()
	now := time.Now()
	stamp := strconv.FormatInt(now.Unix(), 10)
	h := http.Header{}
	h.Set("X-GellHub-Timestamp", stamp)
	h.Set("X-GellHub-Signature", handSign(secret, stamp, body))
	if err := webhooksig.VerifyHeaders(secret, h, body, now); err != nil {
		t.Errorf("VerifyHeaders = %v", err)
	}
	if err := webhooksig.VerifyHeaders(secret, h, body, now.Add(6*time.Minute)); !errors.Is(err, webhooksig.ErrTimestamp) {
		t.Errorf("six minutes later: VerifyHeaders = %v, want ErrTimestamp", err)
	}
	if err := webhooksig.VerifyHeaders("wrong", h, body, now); !errors.Is(err, webhooksig.ErrSignature) {
		t.Errorf("wrong secret: VerifyHeaders = %v, want ErrSignature", err)
	}
	h.Del("X-GellHub-Signature")
	if err := webhooksig.VerifyHeaders(secret, h, body, now); !errors.Is(err, webhooksig.ErrMissing) {
		t.Errorf("unsigned: VerifyHeaders = %v, want ErrMissing", err)
	}
}

// The Standard Webhooks specification's published example.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = "1614265330"
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var specTime = time.Unix(1614265330, 0)

func TestSignStandard(t *testing.T) {
	t.Parallel()
	t.Run("spec_vector", func(t *testing.T) {
		t.Parallel()
		if got := webhooksig.SignStandard(specSecret, specID, specTimestamp, []byte(specBody)); got != specSignature {
			t.Errorf("SignStandard = %s, want %s", got, specSignature)
		}
		key, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
		if got := handSignStandard(key, specID, specTimestamp, []byte(specBody)); got != specSignature {
			t.Fatalf("the test's own computation gives %s: the vector is misread", got)
		}
	})
	t.Run("plain_secret_is_keyed_with_its_bytes", func(t *testing.T) {
		t.Parallel()
		got := webhooksig.SignStandard(secret, "evt_1", ts, body)
		if want := handSignStandard([]byte(secret), "evt_1", ts, body); got != want {
			t.Errorf("SignStandard = %s, want %s", got, want)
		}
		// What the docs tell partners to give off-the-shelf verifiers.
		wrapped := "whsec_" + base64.StdEncoding.EncodeToString([]byte(secret))
		if w := webhooksig.SignStandard(wrapped, "evt_1", ts, body); w != got {
			t.Errorf("with %q: %s, want %s", wrapped, w, got)
		}
	})
	t.Run("whsec_that_is_not_base64_is_used_as_is", func(t *testing.T) {
		t.Parallel()
		odd := "whsec_not base64!"
		if got, want := webhooksig.SignStandard(odd, "evt_1", ts, body), handSignStandard([]byte(odd), "evt_1", ts, body); got != want {
			t.Errorf("SignStandard = %s, want %s", got, want)
		}
	})
}

func TestVerifyStandard(t *testing.T) {
	t.Parallel()
	other := webhooksig.SignStandard("whsec_"+base64.StdEncoding.EncodeToString([]byte("rotated-away")), specID, specTimestamp, []byte(specBody))
	for name, c := range map[string]struct {
		secret, id, ts, sigs, body string
		now                        time.Time
		want                       error
	}{
		"spec_vector":          {specSecret, specID, specTimestamp, specSignature, specBody, specTime, nil},
		"bad_then_good":        {specSecret, specID, specTimestamp, other + " " + specSignature, specBody, specTime, nil},
		"good_then_bad":        {specSecret, specID, specTimestamp, specSignature + " " + other, specBody, specTime, nil},
		"garbage_then_good":    {specSecret, specID, specTimestamp, "v1,!!! nonsense v1a,xyz " + specSignature, specBody, specTime, nil},
		"only_bad":             {specSecret, specID, specTimestamp, other, specBody, specTime, webhooksig.ErrSignature},
		"other_version":        {specSecret, specID, specTimestamp, "v2," + specSignature[3:], specBody, specTime, webhooksig.ErrSignature},
		"no_version":           {specSecret, specID, specTimestamp, specSignature[3:], specBody, specTime, webhooksig.ErrSignature},
		"wrong_secret":         {"whsec_" + base64.StdEncoding.EncodeToString([]byte("nope")), specID, specTimestamp, specSignature, specBody, specTime, webhooksig.ErrSignature},
		"tampered_body":        {specSecret, specID, specTimestamp, specSignature, `{"test": 2432232315}`, specTime, webhooksig.ErrSignature},
		"other_id":             {specSecret, "msg_other", specTimestamp, specSignature, specBody, specTime, webhooksig.ErrSignature},
		"too_old":              {specSecret, specID, specTimestamp, specSignature, specBody, specTime.Add(10 * time.Minute), webhooksig.ErrTimestamp},
		"too_new":              {specSecret, specID, specTimestamp, specSignature, specBody, specTime.Add(-10 * time.Minute), webhooksig.ErrTimestamp},
		"malformed_timestamp":  {specSecret, specID, "2021-02-26", specSignature, specBody, specTime, webhooksig.ErrTimestamp},
		"missing_id":           {specSecret, "", specTimestamp, specSignature, specBody, specTime, webhooksig.ErrMissing},
		"missing_timestamp":    {specSecret, specID, "", specSignature, specBody, specTime, webhooksig.ErrMissing},
		"missing_signature":    {specSecret, specID, specTimestamp, "", specBody, specTime, webhooksig.ErrMissing},
		"only_spaces":          {specSecret, specID, specTimestamp, "   ", specBody, specTime, webhooksig.ErrSignature},
		"gellhub_hex_not_here": {secret, specID, specTimestamp, handSign(secret, specTimestamp, []byte(specBody)), specBody, specTime, webhooksig.ErrSignature},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := webhooksig.VerifyStandard(c.secret, c.id, c.ts, c.sigs, []byte(c.body), c.now, 0)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Errorf("VerifyStandard = %v, want %v", err, c.want)
			}
		})
	}
}

func TestVerifyStandardHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("webhook-id", specID)
	h.Set("webhook-timestamp", specTimestamp)
	h.Set("webhook-signature", "v1,AAAA "+specSignature)
	if err := webhooksig.VerifyStandardHeaders(specSecret, h, []byte(specBody), specTime.Add(time.Minute)); err != nil {
		t.Errorf("VerifyStandardHeaders = %v", err)
	}
	if err := webhooksig.VerifyStandardHeaders(specSecret, h, []byte(specBody), specTime.Add(time.Hour)); !errors.Is(err, webhooksig.ErrTimestamp) {
		t.Errorf("an hour later: VerifyStandardHeaders = %v, want ErrTimestamp", err)
	}
	h.Del("webhook-id")
	if err := webhooksig.VerifyStandardHeaders(specSecret, h, []byte(specBody), specTime); !errors.Is(err, webhooksig.ErrMissing) {
		t.Errorf("no id: VerifyStandardHeaders = %v, want ErrMissing", err)
	}
}
