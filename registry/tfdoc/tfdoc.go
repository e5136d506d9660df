// Package tfdoc extracts a Terraform module's documentation (its input variables and
// outputs) from the root module's HCL, the way the public registry shows it.
package tfdoc

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/platdev/plat/internal/hclbound"
)

// Input is one input variable.
type Input struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	// Default is the JSON encoding of the default value (as a string, as the public
	// registry API does), or the source text when it is not a constant; empty and
	// omitted when the variable has no default.
	Default   string `json:"default,omitempty"`
	Required  bool   `json:"required"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// Output is one output value.
type Output struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Sensitive   bool   `json:"sensitive,omitempty"`
}

// Module is the documentation of a module's root.
type Module struct {
	Inputs  []Input  `json:"inputs"`
	Outputs []Output `json:"outputs"`
}

var schema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "output", LabelNames: []string{"name"}},
}}

var varSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type"}, {Name: "description"}, {Name: "default"}, {Name: "sensitive"},
}}

var outSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "description"}, {Name: "sensitive"},
}}

// Parse reads the given .tf and .tf.json files (name to contents) and returns
// their variables and outputs sorted by name. Files that do not parse contribute
// what they can; the returned diagnostics say what was wrong, with long values
// shortened. A file nested deeper than hclbound.MaxDepth is refused before any
// parser sees it.
func Parse(files map[string][]byte) (Module, hcl.Diagnostics) {
	m := Module{Inputs: []Input{}, Outputs: []Output{}}
	var diags hcl.Diagnostics
	names := make([]string, 0, len(files))
	for n := range files {
		if strings.HasSuffix(n, ".tf") || strings.HasSuffix(n, ".tf.json") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		src := files[n]
		isJSON := strings.HasSuffix(n, ".tf.json")
		check, parse := hclbound.CheckHCL, hclsyntax.ParseConfig
		if isJSON {
			check = hclbound.CheckJSON
			parse = func(src []byte, n string, _ hcl.Pos) (*hcl.File, hcl.Diagnostics) { return hcljson.Parse(src, n) }
		}
		if err := check(n, src, 0); err != nil {
			diags = append(diags, depthDiag(err))
			continue
		}
		f, d := parse(src, n, hcl.InitialPos)
		diags = append(diags, d...)
		if f == nil || f.Body == nil {
			continue
		}
		content, _, d := f.Body.PartialContent(schema)
		diags = append(diags, d...)
		for _, b := range content.Blocks {
			if len(b.Labels) == 0 || b.Labels[0] == "" {
				continue // only in files with syntax errors, which Parse reports
			}
			switch b.Type {
			case "variable":
				attrs, _, _ := b.Body.PartialContent(varSchema)
				in := Input{Name: b.Labels[0], Required: true}
				if a, ok := attrs.Attributes["type"]; ok {
					in.Type = sourceText(src, a.Expr.Range())
					if isJSON {
						in.Type = stringAttr(a) // a string holding the type expression
					}
				}
				in.Description = stringAttr(attrs.Attributes["description"])
				in.Sensitive = boolAttr(attrs.Attributes["sensitive"])
				if a, ok := attrs.Attributes["default"]; ok {
					in.Required = false
					in.Default = defaultText(src, a)
				}
				m.Inputs = append(m.Inputs, in)
			case "output":
				attrs, _, _ := b.Body.PartialContent(outSchema)
				m.Outputs = append(m.Outputs, Output{
					Name:        b.Labels[0],
					Description: stringAttr(attrs.Attributes["description"]),
					Sensitive:   boolAttr(attrs.Attributes["sensitive"]),
				})
			}
		}
	}
	for _, d := range diags {
		d.Summary, d.Detail = Shorten(d.Summary), Shorten(d.Detail)
	}
	sort.Slice(m.Inputs, func(i, j int) bool { return m.Inputs[i].Name < m.Inputs[j].Name })
	sort.Slice(m.Outputs, func(i, j int) bool { return m.Outputs[i].Name < m.Outputs[j].Name })
	return m, diags
}

func sourceText(src []byte, r hcl.Range) string {
	if r.Start.Byte < 0 || r.End.Byte > len(src) || r.Start.Byte > r.End.Byte {
		return ""
	}
	return string(src[r.Start.Byte:r.End.Byte])
}

func stringAttr(a *hcl.Attribute) string {
	if a == nil {
		return ""
	}
	v, d := a.Expr.Value(nil)
	if d.HasErrors() || !v.IsKnown() || v.IsNull() {
		return ""
	}
	if s, ok := asString(v); ok {
		return s
	}
	return ""
}

func boolAttr(a *hcl.Attribute) bool {
	if a == nil {
		return false
	}
	v, d := a.Expr.Value(nil)
	if d.HasErrors() || !v.IsKnown() || v.IsNull() {
		return false
	}
	b, err := json.Marshal(ctyjson.SimpleJSONValue{Value: v})
	return err == nil && string(b) == "true"
}

func defaultText(src []byte, a *hcl.Attribute) string {
	v, d := a.Expr.Value(nil)
	if !d.HasErrors() && v.IsWhollyKnown() {
		if b, err := ctyjson.Marshal(v, v.Type()); err == nil {
			return string(b)
		}
	}
	return sourceText(src, a.Expr.Range())
}

func depthDiag(err error) *hcl.Diagnostic {
	var de *hclbound.DepthError
	if !errors.As(err, &de) {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Nesting too deep", Detail: err.Error()}
	}
	end := de.Pos
	end.Column++
	end.Byte++
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Nesting too deep",
		Detail:   de.Detail(),
		Subject:  &hcl.Range{Filename: de.Filename, Start: de.Pos, End: end},
	}
}

// maxQuoted bounds a quoted value inside a diagnostic; maxText bounds the
// whole text.
const (
	maxQuoted = 80
	maxText   = 500
)

// Shorten shortens each double-quoted value in a diagnostic's text to at most
// 80 characters and the whole text to 500, marking each cut with an ellipsis, so
// a huge invalid value is never echoed whole.
func Shorten(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i+1:], '"')
		if j < 0 {
			b.WriteString(s[:i+1])
			b.WriteString(clip(s[i+1:], maxQuoted))
			break
		}
		b.WriteString(s[:i+1])
		b.WriteString(clip(s[i+1:i+1+j], maxQuoted))
		b.WriteByte('"')
		s = s[i+j+2:]
	}
	return clip(b.String(), maxText)
}

// clip cuts s to at most n characters, the last three of them "...".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}
