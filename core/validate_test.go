package core_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

// requireInvalid asserts err is KindInvalid with Detail field.
func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	require.Error(t, err)
	e, ok := core.AsError(err)
	require.True(t, ok, "want a *core.Error, got %T: %v", err, err)
	require.Equal(t, core.KindInvalid, e.Kind, "error: %v", err)
	require.Equal(t, "invalid_request", e.Code)
	require.Equal(t, field, e.Detail)
	require.NotEmpty(t, e.Message)
}

// emailOfLen builds a syntactically valid address of exactly n bytes.
func emailOfLen(t *testing.T, n int) string {
	t.Helper()
	const local, tld = "user@", ".com"
	var b strings.Builder
	b.WriteString(local)
	for b.Len() < n-len(tld) {
		if (b.Len()-len(local))%60 == 59 {
			b.WriteByte('.')
		} else {
			b.WriteByte('a')
		}
	}
	b.WriteString(tld)
	require.Len(t, b.String(), n)
	return b.String()
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()

	valid := []struct {
		name, in, email, normalized string
	}{
		{"plain", "ann@example.com", "ann@example.com", "ann@example.com"},
		{"mixed_case_is_lower_cased_for_uniqueness", "Ann.Lee@Example.COM", "Ann.Lee@Example.COM", "ann.lee@example.com"},
		{"surrounding_space_is_trimmed", "  ann+tag@example.co.uk \t", "ann+tag@example.co.uk", "ann+tag@example.co.uk"},
		{"subdomain", "a@mail.example.org", "a@mail.example.org", "a@mail.example.org"},
	}
	for _, tt := range valid {
		t.Run("accepts_"+tt.name, func(t *testing.T) {
			t.Parallel()
			email, normalized, err := core.NormalizeEmail("email", tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.email, email)
			require.Equal(t, tt.normalized, normalized)
		})
	}

	t.Run("accepts_254_characters", func(t *testing.T) {
		t.Parallel()
		in := emailOfLen(t, core.MaxEmailLen)
		_, _, err := core.NormalizeEmail("email", in)
		require.NoError(t, err)
	})

	invalid := []struct {
		name, in string
	}{
		{"empty", ""},
		{"blank", "   "},
		{"no_at", "a"},
		{"domain_without_dot", "a@b"},
		{"display_name_form", "Name <a@b.com>"},
		{"angle_brackets_only", "<a@b.com>"},
		{"two_addresses", "a@b.com, c@d.com"},
		{"space_inside", "a b@c.com"},
		{"no_local_part", "@example.com"},
		{"no_domain", "ann@"},
		{"trailing_dot_only", "ann@example."},
		{"255_characters", emailOfLen(t, core.MaxEmailLen+1)},
		{"control_character", "ann\x00@example.com"},
	}
	for _, tt := range invalid {
		t.Run("rejects_"+tt.name, func(t *testing.T) {
			t.Parallel()
			email, normalized, err := core.NormalizeEmail("email", tt.in)
			requireInvalid(t, err, "email")
			require.Empty(t, email)
			require.Empty(t, normalized)
		})
	}

	t.Run("names_the_given_field", func(t *testing.T) {
		t.Parallel()
		_, _, err := core.NormalizeEmail("contactEmail", "nope")
		requireInvalid(t, err, "contactEmail")
	})
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		in    string
		valid bool
	}{
		{"eight_characters", "abcdefgh", true},
		{"passphrase", "correct horse battery staple", true},
		{"eight_runes_of_multibyte_characters", "ééééééée", true},
		{"256_bytes", strings.Repeat("x", core.MaxPasswordLen), true},
		{"empty", "", false},
		{"seven_characters", "abcdefg", false},
		{"seven_multibyte_runes_are_short_though_14_bytes", "ééééééé", false},
		{"257_bytes", strings.Repeat("x", core.MaxPasswordLen+1), false},
		{"129_two_byte_runes_are_over_256_bytes", strings.Repeat("é", 129), false},
	}
	for _, tt := range tests {
		name := "rejects_"
		if tt.valid {
			name = "accepts_"
		}
		t.Run(name+tt.name, func(t *testing.T) {
			t.Parallel()
			err := core.CheckPassword("password", tt.in)
			if tt.valid {
				require.NoError(t, err)
				return
			}
			requireInvalid(t, err, "password")
		})
	}
}

func TestCleanText(t *testing.T) {
	t.Parallel()

	valid := []struct {
		name     string
		in       string
		max      int
		required bool
		want     string
	}{
		{"trims_space", "  Ann Lee \n", 10, true, "Ann Lee"},
		{"optional_empty_is_empty", "   ", 10, false, ""},
		{"cap_counts_runes_not_bytes", "ééééé", 5, true, "ééééé"},
		{"emoji_is_one_rune", "📷📷📷", 3, true, "📷📷📷"},
		{"inner_newline_and_tab_are_text", "line one\nline\ttwo", 20, true, "line one\nline\ttwo"},
		{"exactly_the_cap", strings.Repeat("a", core.MaxNameLen), core.MaxNameLen, true, strings.Repeat("a", core.MaxNameLen)},
	}
	for _, tt := range valid {
		t.Run("accepts_"+tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := core.CleanText("displayName", tt.in, tt.max, tt.required)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	invalid := []struct {
		name     string
		in       string
		max      int
		required bool
	}{
		{"required_empty", "", 10, true},
		{"required_blank", " \t ", 10, true},
		{"one_rune_over_the_cap", "éééééé", 5, false},
		{"over_the_cap", strings.Repeat("a", core.MaxNameLen+1), core.MaxNameLen, true},
		{"nul", "Ann\x00Lee", 20, true},
		{"escape", "Ann\x1b[31mLee", 20, true},
		{"delete", "Ann\x7fLee", 20, true},
		{"c1_control", "Ann\u0085Lee", 20, true},
		{"invalid_utf8", "Ann\xffLee", 20, true},
	}
	for _, tt := range invalid {
		t.Run("rejects_"+tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := core.CleanText("displayName", tt.in, tt.max, tt.required)
			requireInvalid(t, err, "displayName")
			require.Empty(t, got)
		})
	}
}

func TestCheckAbsoluteURL(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		in    string
		valid bool
	}{
		{"https", "https://app.example.com/billing/done?session={CHECKOUT_SESSION_ID}", true},
		{"http_with_port", "http://localhost:3000/return", true},
		{"empty", "", false},
		{"relative_path", "/billing/done", false},
		{"scheme_relative", "//example.com/x", false},
		{"no_host", "https://", false},
		{"ftp", "ftp://example.com/x", false},
		{"javascript", "javascript:alert(1)", false},
		{"mailto", "mailto:ann@example.com", false},
		{"unparsable", "http://exa mple.com/%zz", false},
		{"over_2048_bytes", "https://example.com/" + strings.Repeat("a", core.MaxURLLen), false},
	}
	for _, tt := range tests {
		name := "rejects_"
		if tt.valid {
			name = "accepts_"
		}
		t.Run(name+tt.name, func(t *testing.T) {
			t.Parallel()
			err := core.CheckAbsoluteURL("successUrl", tt.in)
			if tt.valid {
				require.NoError(t, err)
				return
			}
			requireInvalid(t, err, "successUrl")
		})
	}
}

func TestParseProductLineAndAccountKind(t *testing.T) {
	t.Parallel()

	for _, line := range core.ProductLines {
		got, err := core.ParseProductLine("type", string(line))
		require.NoError(t, err)
		require.Equal(t, line, got)
	}
	for _, bad := range []string{"", "gallery", "Drive", "messaging "} {
		_, err := core.ParseProductLine("type", bad)
		requireInvalid(t, err, "type")
	}

	kind, err := core.ParseAccountKind("accountType", "drive")
	require.NoError(t, err)
	require.Equal(t, core.LineDrive, kind.Line())
	kind, err = core.ParseAccountKind("accountType", "studio")
	require.NoError(t, err)
	require.Equal(t, core.LineClientGallery, kind.Line())
	_, err = core.ParseAccountKind("accountType", "agency")
	requireInvalid(t, err, "accountType")

	require.Equal(t, "gallery", core.LineClientGallery.Scope())
	require.Equal(t, "drive", core.LineDrive.Scope())
	require.Equal(t, "messaging", core.LineMessaging.Scope())
}

func TestEligible(t *testing.T) {
	t.Parallel()

	free := core.Plan{ID: "free", PriceMinor: 0}
	paid := core.Plan{ID: "paid", PriceMinor: 1500}
	statuses := []core.SubscriptionStatus{
		core.StatusActive, core.StatusTrialing, core.StatusPastDue, core.StatusIncomplete,
		core.StatusIncompleteExpired, core.StatusUnpaid, core.StatusCanceled, core.StatusPaused, "",
	}
	paidEligible := map[core.SubscriptionStatus]bool{
		core.StatusActive: true, core.StatusTrialing: true, core.StatusPastDue: true,
	}
	for _, st := range statuses {
		t.Run("price_0_is_eligible_when_"+string(st), func(t *testing.T) {
			t.Parallel()
			require.True(t, core.Eligible(free, st))
		})
		want := paidEligible[st]
		verb := "_is_not_eligible_when_"
		if want {
			verb = "_is_eligible_when_"
		}
		t.Run("paid"+verb+string(st), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, want, core.Eligible(paid, st))
		})
	}
}
