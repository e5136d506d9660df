package portal_test

import (
	"strings"
	"testing"
)

// TestCheckPageFindsProblems keeps the checker honest: each broken page is
// refused for its own reason, and a good page passes.
func TestCheckPageFindsProblems(t *testing.T) {
	good := `<!DOCTYPE html><html><head><title>X · plat</title></head><body><nav><a href="/">a</a></nav><main id="main"><h1>X</h1><h2>Y</h2><label for="q">Q</label><input id="q"><img src="a" alt=""></main></body></html>`
	if _, ps := checkPage(good); len(ps) > 0 {
		t.Fatalf("good page refused: %v", ps)
	}
	for name, tc := range map[string]struct{ from, to, want string }{
		"unbalanced":  {"<h2>Y</h2>", "<h2>Y</h3>", "does not close"},
		"unclosed":    {"</main>", "<div>", "unclosed"},
		"two h1":      {"<h2>Y</h2>", "<h1>Y</h1>", "2 <h1>"},
		"skip":        {"<h2>Y</h2>", "<h3>Y</h3>", "skips a level"},
		"img alt":     {`alt=""`, "", "without alt"},
		"label":       {`<label for="q">Q</label>`, "", "has no label"},
		"inline js":   {"</main>", "<script>alert(1)</script></main>", "inline <script>"},
		"handler":     {`<h1>`, `<h1 onclick="x()">`, "event handler"},
		"javascript":  {`href="/"`, `href="javascript:alert(1)"`, "javascript: URL"},
		"title":       {"X · plat", "X", "title"},
		"main":        {`id="main"`, "", "no <main"},
		"nav":         {"<nav>", "<div>", "no <nav>"},
		"void end":    {`<input id="q">`, `<input id="q"></input>`, "void element"},
		"not doctype": {"<!DOCTYPE html>", "", "DOCTYPE"},
	} {
		page := strings.Replace(good, tc.from, tc.to, 1)
		if name == "nav" {
			page = strings.Replace(page, "</nav>", "</div>", 1)
		}
		_, ps := checkPage(page)
		if !strings.Contains(strings.Join(ps, "\n"), tc.want) {
			t.Errorf("%s: problems %v, want one with %q", name, ps, tc.want)
		}
	}
}
