package portal_test

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The page checker: well-formedness (the page tokenizes without error and its
// tags balance) and accessibility basics (one h1, headings in order without
// skipped levels, every img with alt, every form control with a label, the
// contract's landmarks and title).

// voidElements never have an end tag.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
}

// pageFacts is what checkPage learnt of a page besides its problems.
type pageFacts struct {
	Title  string
	H1     int
	Links  []string // href of every <a>
	Text   string   // the text content
	Script []string // src of every <script>
}

// checkPage returns every problem found in the page.
func checkPage(body string) (pageFacts, []string) {
	var f pageFacts
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	z := html.NewTokenizer(strings.NewReader(body))
	var stack []string
	lastHeading := 0
	labels := map[string]bool{}
	type control struct{ id, kind string }
	var controls []control
	labelDepth := 0
	var inTitle bool
	var text strings.Builder
	sawDoctype, main, nav := false, false, false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if err := z.Err(); err != io.EOF {
				add("tokenizer: %v", err)
			}
			break
		}
		tok := z.Token()
		attr := func(name string) (string, bool) {
			for _, a := range tok.Attr {
				if a.Key == name {
					return a.Val, true
				}
			}
			return "", false
		}
		switch tt {
		case html.DoctypeToken:
			sawDoctype = true
		case html.TextToken:
			if inTitle {
				f.Title += tok.Data
			}
			text.WriteString(tok.Data)
		case html.SelfClosingTagToken, html.StartTagToken:
			name := tok.Data
			if tt == html.StartTagToken && !voidElements[name] {
				stack = append(stack, name)
			}
			if tt == html.SelfClosingTagToken && !voidElements[name] {
				add("<%s/> is not a void element", name)
			}
			for _, a := range tok.Attr {
				if strings.HasPrefix(a.Key, "on") {
					add("<%s> has an event handler attribute %s", name, a.Key)
				}
				if (a.Key == "href" || a.Key == "src" || a.Key == "action") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
					add("<%s %s=%q> is a javascript: URL", name, a.Key, a.Val)
				}
			}
			switch {
			case name == "title":
				inTitle = true
			case name == "main":
				if id, _ := attr("id"); id == "main" {
					main = true
				}
			case name == "nav":
				nav = true
			case name == "script":
				src, ok := attr("src")
				if !ok {
					add("inline <script>")
				}
				f.Script = append(f.Script, src)
			case name == "style":
				add("inline <style>")
			case name == "a":
				if h, ok := attr("href"); ok {
					f.Links = append(f.Links, h)
				}
			case name == "img":
				if _, ok := attr("alt"); !ok {
					add("<img> without alt")
				}
			case name == "label":
				if tt == html.StartTagToken {
					labelDepth++
				}
				if forID, ok := attr("for"); ok {
					labels[forID] = true
				}
			case name == "input" || name == "select" || name == "textarea":
				typ, _ := attr("type")
				if typ == "hidden" || typ == "submit" || typ == "button" {
					break
				}
				id, _ := attr("id")
				_, aria := attr("aria-label")
				if labelDepth > 0 || aria {
					break
				}
				controls = append(controls, control{id: id, kind: name})
			case len(name) == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6':
				level, _ := strconv.Atoi(name[1:])
				if level == 1 {
					f.H1++
				}
				if level > lastHeading+1 {
					add("<%s> after <h%d> skips a level", name, lastHeading)
				}
				lastHeading = level
			}
		case html.EndTagToken:
			name := tok.Data
			if voidElements[name] {
				add("end tag </%s> of a void element", name)
				break
			}
			if len(stack) == 0 || stack[len(stack)-1] != name {
				add("</%s> does not close the open <%s>", name, strings.Join(stack, "><"))
				break
			}
			stack = stack[:len(stack)-1]
			switch name {
			case "title":
				inTitle = false
			case "label":
				labelDepth--
			}
		}
	}
	if len(stack) > 0 {
		add("unclosed tags: %v", stack)
	}
	if !sawDoctype {
		add("no <!DOCTYPE html>")
	}
	if f.H1 != 1 {
		add("%d <h1> elements, want 1", f.H1)
	}
	for _, c := range controls {
		if c.id == "" || !labels[c.id] {
			add("<%s id=%q> has no label", c.kind, c.id)
		}
	}
	if !main {
		add(`no <main id="main">`)
	}
	if !nav {
		add("no <nav>")
	}
	if !strings.HasSuffix(f.Title, " · plat") {
		add("title %q does not end in \" · plat\"", f.Title)
	}
	_ = atom.A
	f.Text = text.String()
	return f, problems
}
