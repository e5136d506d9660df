package watch

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/platdev/plat/drift"
)

// message is a Slack-compatible webhook payload.
type message struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
	stack  string
}

type block struct {
	Type string   `json:"type"`
	Text *textObj `json:"text,omitempty"`
}

type textObj struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Verbatim bool   `json:"verbatim,omitempty"`
}

// Slack caps a section's text at 3000 characters.
const maxBlockText = 2900

// maxCodeRunes bounds one value in a message; the full value is in the report.
const maxCodeRunes = 300

func slackMessage(st drift.StackReport, prev drift.Status) message {
	var head string
	dir := code(st.Dir)
	switch st.Status {
	case drift.StatusDrifted:
		head = fmt.Sprintf(":warning: Drift in %s: %d resource(s) differ from what is declared", dir, len(st.Resources))
		if prev == drift.StatusDrifted {
			head = fmt.Sprintf(":warning: Drift changed in %s: %d resource(s) differ from what is declared", dir, len(st.Resources))
		}
		if n := drift.StackGuardrailViolations(st); n > 0 {
			head = fmt.Sprintf(":rotating_light: %d guardrail violation(s) on live state. %s", n, head)
		}
	case drift.StatusError:
		first, _, _ := strings.Cut(st.Error, "\n")
		head = fmt.Sprintf(":x: %s could not be checked: %s", dir, code(first))
	default:
		head = fmt.Sprintf(":white_check_mark: %s matches what is declared again (was %s)", dir, code(string(prev)))
	}
	m := message{Text: head, stack: st.Dir, Blocks: []block{section(head)}}
	var lines []string
	switch st.Status {
	case drift.StatusDrifted:
		for _, r := range st.Resources {
			if r.Action == drift.ActionDeleted {
				lines = append(lines, fmt.Sprintf("• %s deleted outside\n", code(r.Address)))
				continue
			}
			lines = append(lines, fmt.Sprintf("• %s changed\n", code(r.Address)))
			for _, c := range r.Changes {
				d, l := drift.FormatValue(c.Declared), drift.FormatValue(c.Live)
				if c.Sensitive {
					d, l = drift.Masked, drift.Masked
				}
				line := fmt.Sprintf("    %s: %s → %s", code(c.Path), code(d), code(l))
				if u := drift.UntracedText(c); u != "" {
					line += " _(" + slackEscape(u, false, maxCodeRunes) + ")_"
				}
				if sl := drift.StackLine(c); sl != "" {
					line += "\n        " + code(sl)
				}
				if g := c.Guardrail; g != nil {
					line += fmt.Sprintf("\n        :rotating_light: *guardrail violated* (%s) %s: %s", slackEscape(g.Severity, false, 20), code(g.ID), slackEscape(g.Message, false, maxCodeRunes))
				}
				lines = append(lines, line+"\n")
			}
		}
	case drift.StatusError:
		lines = append(lines, codeBlock(st.Error))
	}
	if len(lines) > 0 {
		var b strings.Builder
		for i, l := range lines {
			// Cut between lines, never inside a code span or an escape.
			if b.Len()+len(l) > maxBlockText && i > 0 {
				b.WriteString("… (see the full report)")
				break
			}
			b.WriteString(l)
		}
		m.Blocks = append(m.Blocks, section(b.String()))
	}
	return m
}

// section is a mrkdwn section block. Verbatim stops Slack from turning channel
// names and URLs in the text into links or mentions.
func section(text string) block {
	return block{Type: "section", Text: &textObj{Type: "mrkdwn", Text: text, Verbatim: true}}
}

// code puts s in a Slack inline code span it cannot leave: Slack has no escape
// for a backtick inside code, so backticks become U+02CB (ˋ), which looks the
// same; newlines and other control or invisible format characters (a
// right-to-left override could disguise a value) are written as escapes; &, <
// and > use Slack's own escapes, so no mention or link can form. Long values
// are cut at maxCodeRunes characters once escaped (the report has them whole).
func code(s string) string {
	return "`" + slackEscape(s, false, maxCodeRunes) + "`"
}

// codeBlock puts s in a Slack code block, escaped as code does but with its
// newlines kept.
func codeBlock(s string) string {
	return "```" + slackEscape(s, true, maxBlockText/2) + "```"
}

func slackEscape(s string, block bool, maxRunes int) string {
	var b strings.Builder
	n := 0 // characters written: an escape counts whole, so the cut bounds what Slack sees
	for i, r := range s {
		var e string
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			e = `\ufffd` // invalid UTF-8
		case r == '&':
			e = "&amp;"
		case r == '<':
			e = "&lt;"
		case r == '>':
			e = "&gt;"
		case r == '`':
			e = "\u02cb"
		case r == '\n' && block:
			e = "\n"
		case r == '\n':
			e = `\n`
		case r == '\r':
			e = `\r`
		case r == '\t':
			e = `\t`
		case r < 0x20 || r == 0x7f:
			e = fmt.Sprintf(`\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			e = fmt.Sprintf(`\u%04X`, r)
		default:
			e = string(r)
		}
		if n += utf8.RuneCountInString(e); n > maxRunes {
			b.WriteString("…")
			break
		}
		b.WriteString(e)
	}
	return b.String()
}
