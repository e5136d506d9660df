package drift

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Format is a report output format.
type Format string

// Report formats.
const (
	FormatText     Format = "text"
	FormatJSON     Format = "json"
	FormatMarkdown Format = "markdown"
)

// Formats lists the supported report formats.
var Formats = []Format{FormatText, FormatJSON, FormatMarkdown}

// ParseFormat validates a --format value.
func ParseFormat(s string) (Format, error) {
	f := Format(s)
	if slices.Contains(Formats, f) {
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want text, json or markdown)", s)
}

// Normalize sorts resources by address and each resource's changes by path, so
// reports are deterministic whatever order a checker produced them in. It sorts
// in place and returns its argument.
func Normalize(resources []ResourceDrift) []ResourceDrift {
	slices.SortStableFunc(resources, func(a, b ResourceDrift) int { return cmp.Compare(a.Address, b.Address) })
	for i := range resources {
		slices.SortStableFunc(resources[i].Changes, func(a, b AttributeChange) int { return cmp.Compare(a.Path, b.Path) })
	}
	return resources
}

// Write renders r in format f.
func Write(w io.Writer, r Report, f Format) error {
	switch f {
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatMarkdown:
		return WriteMarkdown(w, r)
	default:
		return WriteText(w, r)
	}
}

// WriteJSON writes r as indented JSON (the versioned schema in docs/drift.md).
func WriteJSON(w io.Writer, r Report) error {
	if r.Stacks == nil {
		r.Stacks = []StackReport{}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// maxValueLen bounds values in text and Markdown reports; JSON keeps them whole.
const maxValueLen = 200

// FormatValue renders an attribute value for humans: JSON, with values longer
// than maxValueLen bytes cut at the character boundary before it.
func FormatValue(v any) string {
	if v == nil {
		return "null"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	s := strings.TrimSuffix(buf.String(), "\n")
	if len(s) > maxValueLen {
		n := maxValueLen
		for n > 0 && !utf8.RuneStart(s[n]) {
			n-- // cut between characters, never inside one
		}
		s = s[:n] + "…"
	}
	return s
}

func actionText(a Action) string {
	if a == ActionDeleted {
		return "deleted outside"
	}
	return string(a)
}

func changeValues(c AttributeChange) (declared, live string) {
	if c.Sensitive {
		return Masked, Masked
	}
	return FormatValue(c.Declared), FormatValue(c.Live)
}

// WriteText writes r for a terminal.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	for _, s := range r.Stacks {
		switch s.Status {
		case StatusError:
			fmt.Fprintf(&b, "%s: error\n", s.Dir)
			for line := range strings.SplitSeq(strings.TrimRight(s.Error, "\n"), "\n") {
				fmt.Fprintf(&b, "    %s\n", line)
			}
		case StatusDrifted:
			fmt.Fprintf(&b, "%s: drifted (%s)\n", s.Dir, plural(len(s.Resources), "resource"))
			for _, res := range s.Resources {
				mark := "~"
				if res.Action == ActionDeleted {
					mark = "-"
				}
				fmt.Fprintf(&b, "  %s %s: %s\n", mark, res.Address, actionText(res.Action))
				for _, c := range res.Changes {
					d, l := changeValues(c)
					mark := ""
					if u := UntracedText(c); u != "" {
						mark = " (" + u + ")"
					}
					fmt.Fprintf(&b, "      %s: %s -> %s%s\n", c.Path, d, l, mark)
					writeTraceText(&b, c)
				}
				for _, c := range res.Conditions {
					fmt.Fprintf(&b, "      condition %s=%s %s\n", c.Type, c.Status, c.Reason)
				}
			}
		default:
			fmt.Fprintf(&b, "%s: clean\n", s.Dir)
		}
	}
	fmt.Fprintln(&b, summaryLine(r.Summary))
	if n := GuardrailViolations(r); n > 0 {
		fmt.Fprintf(&b, "!! %s on live state\n", plural(n, "guardrail violation"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func summaryLine(s Summary) string {
	return fmt.Sprintf("%s: %d drifted (%s), %d clean, %s",
		plural(s.Stacks, "stack"), s.Drifted, plural(s.DriftedResources, "resource"), s.Clean, plural(s.Errors, "error"))
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// WriteMarkdown writes r as Markdown for pull-request comments and chat.
func WriteMarkdown(w io.Writer, r Report) error {
	var b strings.Builder
	b.WriteString("## Drift report\n\n")
	fmt.Fprintf(&b, "%s\n", summaryLine(r.Summary))
	if n := GuardrailViolations(r); n > 0 {
		fmt.Fprintf(&b, "\n:rotating_light: **%s on live state**\n", plural(n, "guardrail violation"))
	}
	for _, s := range r.Stacks {
		WriteStackMarkdown(&b, s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteStackMarkdown writes one stack's section of a Markdown report.
func WriteStackMarkdown(b *strings.Builder, s StackReport) {
	switch s.Status {
	case StatusError:
		fmt.Fprintf(b, "\n### :x: %s: error\n\n", mdCode(s.Dir))
		fence := "```"
		for strings.Contains(s.Error, fence) {
			fence += "`"
		}
		fmt.Fprintf(b, "%s\n%s\n%s\n", fence, strings.TrimRight(s.Error, "\n"), fence)
	case StatusDrifted:
		fmt.Fprintf(b, "\n### :warning: %s: drifted (%s)\n\n", mdCode(s.Dir), plural(len(s.Resources), "resource"))
		withTrace := traced(s)
		if withTrace {
			b.WriteString("| resource | action | attribute | declared | live | stack file |\n| --- | --- | --- | --- | --- | --- |\n")
		} else {
			b.WriteString("| resource | action | attribute | declared | live |\n| --- | --- | --- | --- | --- |\n")
		}
		for _, res := range s.Resources {
			if len(res.Changes) == 0 {
				fmt.Fprintf(b, "| %s | %s | | | |", mdCode(res.Address), actionText(res.Action))
				if withTrace {
					b.WriteString(" |")
				}
				b.WriteString("\n")
				continue
			}
			for i, c := range res.Changes {
				addr, act := "", ""
				if i == 0 {
					addr, act = mdCode(res.Address), actionText(res.Action)
				}
				d, l := changeValues(c)
				fmt.Fprintf(b, "| %s | %s | %s | %s | %s |", addr, act, mdCode(c.Path), mdCode(d), mdCode(l))
				if withTrace {
					fmt.Fprintf(b, " %s |", traceCell(c))
				}
				b.WriteString("\n")
			}
		}
	default:
		fmt.Fprintf(b, "\n### :white_check_mark: %s: clean\n", mdCode(s.Dir))
	}
}

var mdEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "&#124;", "\n", " ")

// mdCode renders s as inline code that is safe inside a Markdown table cell.
func mdCode(s string) string {
	return "<code>" + mdEscaper.Replace(s) + "</code>"
}
