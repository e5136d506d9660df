package watch

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/platdev/plat/drift"
)

// codeSpan is one Slack inline code span: it cannot hold a backtick or a newline.
var codeSpan = regexp.MustCompile("`[^`\n]*`")

// TestSlackMessageHostileValues puts values an attacker controls (live values,
// map keys, stack directories, addresses, tofu errors) into a message: none may
// leave its code span, and none may carry Slack's control characters.
func TestSlackMessageHostileValues(t *testing.T) {
	const evil = "x` <!channel> <https://evil.example|Click here> & `y\n*bold* <@U123>"
	drifted := drift.StackReport{Dir: "stacks/" + evil, Status: drift.StatusDrifted, Resources: []drift.ResourceDrift{
		{Address: `aws_s3_bucket.b["` + evil + `"]`, Action: drift.ActionChanged, Changes: []drift.AttributeChange{
			{Path: "tags." + evil, Declared: evil, Live: map[string]any{evil: "v`"}},
			{Path: "note\x01\xff", Declared: "a\u202eb", Live: "\x00\r\t"},
		}},
		{Address: "local_file." + evil, Action: drift.ActionDeleted},
	}}
	failed := drift.StackReport{Dir: evil, Status: drift.StatusError, Error: "tofu plan: " + evil + "\n```\n<!here>\n```"}
	clean := drift.StackReport{Dir: evil, Status: drift.StatusClean}
	for _, tc := range []struct {
		name string
		st   drift.StackReport
		prev drift.Status
	}{{"drifted", drifted, drift.StatusClean}, {"changed", drifted, drift.StatusDrifted}, {"error", failed, drift.StatusClean}, {"clean", clean, drift.StatusDrifted}} {
		t.Run(tc.name, func(t *testing.T) {
			m := slackMessage(tc.st, tc.prev)
			texts := []string{m.Text}
			for _, b := range m.Blocks {
				texts = append(texts, b.Text.Text)
				if !b.Text.Verbatim {
					t.Errorf("block without verbatim: Slack would turn names and URLs into links")
				}
			}
			for _, s := range texts {
				checkSlackText(t, s)
			}
			if tc.name == "drifted" {
				details := m.Blocks[1].Text.Text
				if n := strings.Count(details, "\n"); n != 4 {
					t.Errorf("want 4 lines (2 resources, 2 changes), got %d:\n%s", n, details)
				}
				for _, want := range []string{"&lt;!channel&gt;", "&amp;", "\\n", "\\u202E", "\\x01", "\\ufffd"} {
					if !strings.Contains(details, want) {
						t.Errorf("details lack %q:\n%s", want, details)
					}
				}
			}
		})
	}
}

// checkSlackText fails when s has a raw < or >, an & that does not start one of
// Slack's three escapes, or hostile text outside code spans and code blocks.
func checkSlackText(t *testing.T, s string) {
	t.Helper()
	if strings.ContainsAny(s, "<>") {
		t.Errorf("raw < or > in %q", s)
	}
	if n := strings.Count(s, "&") - strings.Count(s, "&amp;") - strings.Count(s, "&lt;") - strings.Count(s, "&gt;"); n != 0 {
		t.Errorf("unescaped & in %q", s)
	}
	if strings.ContainsRune(s, '\u202e') || strings.ContainsRune(s, 0) || strings.ContainsRune(s, '\r') {
		t.Errorf("control or format character in %q", s)
	}
	outside := s
	if i := strings.Index(outside, "```"); i >= 0 {
		j := strings.LastIndex(outside, "```")
		if j == i || strings.Count(outside, "```") != 2 {
			t.Errorf("code block not closed exactly once in %q", s)
		}
		outside = outside[:i] + outside[j+3:]
	}
	outside = codeSpan.ReplaceAllString(outside, "")
	for _, leak := range []string{"channel", "evil", "Click", "bold", "U123", "here", "`"} {
		if strings.Contains(outside, leak) {
			t.Errorf("%q outside a code span in %q (left %q)", leak, s, outside)
		}
	}
}

// TestSlackMessageTruncation cuts long details at a line boundary, so no code
// span or escape is cut in half.
func TestSlackMessageTruncation(t *testing.T) {
	st := drift.StackReport{Dir: "s", Status: drift.StatusDrifted}
	for range 200 {
		st.Resources = append(st.Resources, drift.ResourceDrift{Address: "a." + strings.Repeat("<&>", 20), Action: drift.ActionDeleted})
	}
	m := slackMessage(st, drift.StatusClean)
	d := m.Blocks[1].Text.Text
	if len(d) > 3000 || !strings.HasSuffix(d, "… (see the full report)") {
		t.Errorf("details: %d bytes, ends %q", len(d), d[max(0, len(d)-40):])
	}
	checkSlackText(t, d)
}

// TestSlackMessageEscapesStayShort: a value is cut by what it becomes once
// escaped, not by its runes, so a stack name and error of escapes cannot push
// the heading past Slack's 3000-character limit for a section (Slack then
// refuses the whole message, and nobody hears about the stack).
func TestSlackMessageEscapesStayShort(t *testing.T) {
	for _, st := range []drift.StackReport{
		{Dir: strings.Repeat("\u202e", 400), Status: drift.StatusError, Error: strings.Repeat("&", 400)},
		{Dir: strings.Repeat("\x01", 400), Status: drift.StatusError, Error: strings.Repeat("\u2066", 400)},
		{Dir: strings.Repeat("<", 400), Status: drift.StatusDrifted, Resources: []drift.ResourceDrift{{
			Address: strings.Repeat("\u200b", 400), Action: drift.ActionChanged,
			Changes: []drift.AttributeChange{{Path: strings.Repeat("\x7f", 400), Declared: strings.Repeat("&", 400), Live: strings.Repeat("\u202e", 400)}},
		}}},
	} {
		m := slackMessage(st, drift.StatusClean)
		for i, b := range m.Blocks {
			if n := utf8.RuneCountInString(b.Text.Text); n > 3000 {
				t.Errorf("%s: block %d is %d characters, Slack's limit is 3000", st.Status, i, n)
			}
			checkSlackText(t, b.Text.Text)
		}
	}
}
