package portal

import (
	"bytes"
	"html/template"
	"strings"

	"github.com/maypok86/otter/v2"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// READMEs are rendered by goldmark in its safe mode: raw HTML is left out
// (html.WithUnsafe is never set) and links and images with dangerous URLs
// (javascript:, vbscript:, file:, data: other than images) lose their
// destination. Headings are re-levelled under the page's own h2 so that a
// page keeps one h1 and no skipped levels. The result is the only
// template.HTML the portal writes.

// markdown is the portal's goldmark: GitHub-flavoured tables, strikethrough,
// task lists and autolinks.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(relevel{top: 3}, 100))),
)

// relevel makes headings start at top and never skip a level.
type relevel struct{ top int }

func (t relevel) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	var hs []*ast.Heading
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			hs = append(hs, h)
		}
		return ast.WalkContinue, nil
	})
	if len(hs) == 0 {
		return
	}
	min := 6
	for _, h := range hs {
		min = minInt(min, h.Level)
	}
	prev := t.top - 1
	for _, h := range hs {
		l := minInt(h.Level-min+t.top, prev+1)
		l = minInt(max(l, t.top), 6)
		h.Level, prev = l, l
	}
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// renderMarkdown renders src safely.
func renderMarkdown(src string) template.HTML {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(src), &b); err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(b.String())
}

// readmeCache keeps rendered READMEs by archive digest: a version is
// immutable, so its README is rendered once.
type readmeCache struct {
	c *otter.Cache[string, template.HTML]
}

func newReadmeCache() readmeCache {
	return readmeCache{c: otter.Must(&otter.Options[string, template.HTML]{
		MaximumWeight: 64 << 20,
		Weigher:       func(k string, v template.HTML) uint32 { return uint32(len(k) + len(v)) },
	})}
}

func (c readmeCache) get(digest, src string) template.HTML {
	if digest == "" {
		return renderMarkdown(src)
	}
	if h, ok := c.c.GetIfPresent(digest); ok {
		return h
	}
	h := renderMarkdown(src)
	c.c.Set(digest, h)
	return h
}

// plainText is Markdown src as one line of plain text: the text of its
// goldmark AST (code spans, link and image texts kept; raw HTML, code blocks
// and markup left out; entities and escapes resolved). It renders module
// descriptions, which are a README's first paragraph.
func plainText(src string) string {
	source := []byte(src)
	doc := markdown.Parser().Parse(text.NewReader(source))
	var b strings.Builder
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			if n.Type() == ast.TypeBlock {
				b.WriteByte(' ')
			}
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Text:
			b.Write(util.UnescapePunctuations(util.ResolveEntityNames(util.ResolveNumericReferences(n.Segment.Value(source)))))
			if n.SoftLineBreak() || n.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(n.Value)
		case *ast.AutoLink:
			b.Write(n.Label(source))
			return ast.WalkSkipChildren, nil
		case *ast.RawHTML, *ast.HTMLBlock, *ast.CodeBlock, *ast.FencedCodeBlock:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.Join(strings.Fields(b.String()), " ")
}
