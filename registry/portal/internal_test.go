package portal

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/platdev/plat/registry"
)

// TestMarkdownDropsDangerousURLs: goldmark's safe renderer leaves dangerous
// link and image destinations out, raw HTML out, and safe ones in.
func TestMarkdownDropsDangerousURLs(t *testing.T) {
	for src, bad := range map[string]string{
		"[x](javascript:alert(1))":                "javascript:",
		"[x](JaVaScRiPt:alert(1))":                "javascript:",
		"[x](vbscript:msgbox)":                    "vbscript:",
		"[x](file:///etc/passwd)":                 "file:",
		"[x](data:text/html;base64,PHNjcmlwdD4=)": "data:text/html",
		"![x](javascript:alert(1))":               "javascript:",
		"<javascript:alert(1)>":                   "javascript:",
		"<script>alert(1)</script>":               "<script",
		"<img src=x onerror=alert(1)>":            "onerror",
		"text <b onclick=\"x\">b</b>":             "onclick",
		"[x]: javascript:alert(1)\n\n[y][x]":      "javascript:",
	} {
		out := strings.ToLower(string(renderMarkdown(src)))
		if (bad[0] == '<' || bad[0] == 'o') && strings.Contains(out, bad) {
			t.Errorf("%q renders %q: %s", src, bad, out)
		}
		checkNoLive(t, src, out)
	}
	if out := string(renderMarkdown("[ok](https://example.com/a?b=c)")); !strings.Contains(out, `href="https://example.com/a?b=c"`) {
		t.Errorf("safe link lost: %s", out)
	}
}

// checkNoLive parses out and wants no script, event handler or dangerous URL
// attribute.
func checkNoLive(t *testing.T, src, out string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if tok.Data == "script" || tok.Data == "iframe" || tok.Data == "object" {
			t.Errorf("%q: <%s> in %s", src, tok.Data, out)
		}
		for _, a := range tok.Attr {
			v := strings.ToLower(strings.TrimSpace(a.Val))
			if strings.HasPrefix(a.Key, "on") || (a.Key == "href" || a.Key == "src") && (strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "file:") || strings.HasPrefix(v, "data:text")) {
				t.Errorf("%q: live attribute %s=%q in %s", src, a.Key, a.Val, out)
			}
		}
	}
}

// TestRelevel: README headings start at h3 and never skip a level.
func TestRelevel(t *testing.T) {
	for src, want := range map[string]string{
		"# A\n## B\n#### C\n# D":                      "<h3>A</h3>\n<h4>B</h4>\n<h5>C</h5>\n<h3>D</h3>",
		"### A\n###### B":                             "<h3>A</h3>\n<h4>B</h4>",
		"# A\n## B\n### C\n#### D\n##### E\n###### F": "<h3>A</h3>\n<h4>B</h4>\n<h5>C</h5>\n<h6>D</h6>\n<h6>E</h6>\n<h6>F</h6>",
	} {
		if got := strings.TrimSpace(string(renderMarkdown(src))); got != want {
			t.Errorf("%q: got %q, want %q", src, got, want)
		}
	}
}

// TestSealer: a sealed session opens until it expires; a tampered, foreign
// or truncated value does not.
func TestSealer(t *testing.T) {
	s, err := newSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v := s.seal("plat_secret", now.Add(time.Hour))
	if got, ok := s.open(v, now); !ok || got != "plat_secret" {
		t.Fatalf("open: %q %v", got, ok)
	}
	if _, ok := s.open(v, now.Add(2*time.Hour)); ok {
		t.Errorf("expired session opens")
	}
	b := []byte(v)
	b[len(b)/2] ^= 1
	if _, ok := s.open(string(b), now); ok {
		t.Errorf("tampered session opens")
	}
	other, _ := newSealer([]byte(strings.Repeat("k", 32)))
	if _, ok := other.open(v, now); ok {
		t.Errorf("session opens under another key")
	}
	for _, bad := range []string{"", "!!", v[:10]} {
		if _, ok := s.open(bad, now); ok {
			t.Errorf("%q opens", bad)
		}
	}
}

// FuzzRenderMarkdown: no README, however made, renders a script, an event
// handler or a dangerous URL.
func FuzzRenderMarkdown(f *testing.F) {
	for _, s := range []string{"# x", "[a](javascript:b)", "<script>x</script>", "<img onerror=x>", "| a |\n|---|\n| <b> |", "![i](data:text/html,x)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkNoLive(t, src, string(renderMarkdown(src)))
	})
}

// FuzzSafeNext: the login's next parameter never leaves the site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "//evil", "/\\evil", "https://evil/", "/a?b", "/%2F%2Fevil", "\t//evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.Contains(got, "\\") {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
	})
}

// TestJudgeWaiver: the expires day is the waiver's last day; within 14 days
// it is expiring; a text that is not a date is unknown.
func TestJudgeWaiver(t *testing.T) {
	now := time.Date(2026, 3, 10, 23, 59, 0, 0, time.UTC)
	for expires, want := range map[string]string{
		"2026-03-09": "expired", "2026-03-10": "expiring", "2026-03-24": "expiring", "2026-03-25": "valid",
		"": "unknown", "soon": "unknown", "2026-02-30": "unknown",
	} {
		if got := judgeWaiver(registry.StackWaiver{Expires: expires}, now).State; got != want {
			t.Errorf("expires %q on %s: %s, want %s", expires, now.Format(time.DateOnly), got, want)
		}
	}
	// A time zone ahead of UTC is judged on the UTC day.
	east := time.Date(2026, 3, 11, 1, 0, 0, 0, time.FixedZone("east", 3*3600))
	if got := judgeWaiver(registry.StackWaiver{Expires: "2026-03-10"}, east).State; got != "expiring" {
		t.Errorf("on 2026-03-10 UTC: %s", got)
	}
}

// TestPlainText: a description's Markdown is stripped to its text.
func TestPlainText(t *testing.T) {
	for src, want := range map[string]string{
		"The `bucket` module: **encrypted** and _versioned_.":    "The bucket module: encrypted and versioned.",
		"See [the docs](https://example.com) and <https://x.y>.": "See the docs and https://x.y.",
		`a <b>VPC</b> & "subnets"`:                               `a VPC & "subnets"`,
		"two\nlines, \\*not emphasis\\*, &amp; &#35;1":           "two lines, *not emphasis*, & #1",
		"![logo](x.png) ~~old~~ new":                             "logo old new",
		"<script>alert(1)</script>":                              "",
		"":                                                       "",
	} {
		if got := plainText(src); got != want {
			t.Errorf("plainText(%q) = %q, want %q", src, got, want)
		}
	}
}
