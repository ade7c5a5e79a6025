package local

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Passage sizes, in bytes: a passage grows sentence by sentence up to
// maxPassage; a paragraph break ends it once it holds minPassage.
const (
	maxPassage = 420
	minPassage = 160
	// maxHeading is the longest line taken for a heading.
	maxHeading = 80
)

// passage is one ranked piece of a text source: a few sentences, and the
// heading of the section they are in (indexed, not shown).
type passage struct {
	heading string
	text    string
}

// splitPassages cuts a text into passages of a few sentences. Lines stay
// lines (a list of opening hours keeps its shape); headings — a markdown
// "# …" line, or a short line alone in its paragraph without a final
// period — start a section and are indexed with its passages.
func splitPassages(content string) []passage {
	lines := strings.Split(strings.ReplaceAll(content, "\r\n", "\n"), "\n")
	var (
		out      []passage
		heading  string
		cur      strings.Builder
		newLine  bool // the next sentence starts a line
		newPara  bool // … and a paragraph
		hasBody  bool
		finished = func() {
			if hasBody {
				out = append(out, passage{heading: heading, text: cur.String()})
			}
			cur.Reset()
			hasBody = false
		}
	)
	for i, raw := range lines {
		line := strings.TrimSpace(raw)
		if line == "" {
			newPara = true
			continue
		}
		if h, ok := headingOf(lines, i); ok {
			finished()
			heading = h
			newPara = false
			continue
		}
		if newPara && cur.Len() >= minPassage {
			finished()
		}
		newLine = true
		for _, s := range splitSentences(line) {
			if hasBody && cur.Len()+1+len(s) > maxPassage {
				finished()
			}
			if hasBody {
				switch {
				case newPara:
					cur.WriteString("\n\n")
				case newLine:
					cur.WriteByte('\n')
				default:
					cur.WriteByte(' ')
				}
			}
			cur.WriteString(s)
			hasBody = true
			newLine, newPara = false, false
		}
	}
	finished()
	return out
}

// headingOf reports whether lines[i] is a heading, and its text.
func headingOf(lines []string, i int) (string, bool) {
	line := strings.TrimSpace(lines[i])
	if strings.HasPrefix(line, "#") {
		h := strings.TrimSpace(strings.TrimLeft(line, "#"))
		return h, h != ""
	}
	if len(line) > maxHeading || strings.ContainsAny(line[len(line)-1:], ".!?;,") {
		return "", false
	}
	alone := (i == 0 || strings.TrimSpace(lines[i-1]) == "") &&
		i+1 < len(lines) && strings.TrimSpace(lines[i+1]) == ""
	if !alone {
		return "", false
	}
	for _, l := range lines[i+1:] { // something must follow
		if strings.TrimSpace(l) != "" {
			return strings.Trim(line, "*_: "), true
		}
	}
	return "", false
}

// splitSentences cuts a line after '.', '!', '?' or '…' when a space and a
// capital letter, a digit or an opening sign follow ("9 a.m. to 5" stays
// whole).
func splitSentences(line string) []string {
	var out []string
	start := 0
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		i += size
		if r != '.' && r != '!' && r != '?' && r != '…' {
			continue
		}
		j := i
		for j < len(line) && (line[j] == ')' || line[j] == '"') {
			j++
		}
		if j >= len(line) || line[j] != ' ' {
			continue
		}
		k := j
		for k < len(line) && line[k] == ' ' {
			k++
		}
		next, _ := utf8.DecodeRuneInString(line[k:])
		if unicode.IsUpper(next) || unicode.IsDigit(next) || strings.ContainsRune("¿¡\"“(", next) {
			out = append(out, line[start:j])
			start = k
			i = k
		}
	}
	if start < len(line) {
		out = append(out, line[start:])
	}
	return out
}
