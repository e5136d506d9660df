package compiler

import (
	"bytes"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// hclAttr is one attribute of a Terraform block.
type hclAttr struct {
	name string
	val  cty.Value
}

// hclModule is a module block of main.tf: source and version, then the inputs
// (name first, tags last).
type hclModule struct {
	name, source, version string
	inputs                []hclAttr
	outputs               []string
}

// mainTF renders main.tf (without the header): the provider block, then one
// module block per module.
func mainTF(region string, tags cty.Value, mods []hclModule) []byte {
	if b, ok := fastMainTF(region, tags, mods); ok {
		return b
	}
	return hclwriteMainTF(region, tags, mods)
}

func hclwriteMainTF(region string, tags cty.Value, mods []hclModule) []byte {
	f := hclwrite.NewEmptyFile()
	pb := f.Body().AppendNewBlock("provider", []string{"aws"}).Body()
	pb.SetAttributeValue("region", cty.StringVal(region))
	dt := pb.AppendNewBlock("default_tags", nil).Body()
	dt.SetAttributeValue("tags", tags)
	for _, mod := range mods {
		f.Body().AppendNewline()
		b := f.Body().AppendNewBlock("module", []string{mod.name}).Body()
		b.SetAttributeValue("source", cty.StringVal(mod.source))
		b.SetAttributeValue("version", cty.StringVal(mod.version))
		b.AppendNewline()
		for _, a := range mod.inputs {
			b.SetAttributeValue(a.name, a.val)
		}
	}
	// Bytes formats the tokens (hclwrite.Format would only do it again).
	return f.Bytes()
}

// outputsTF renders outputs.tf (without the header): one output block per
// module output, re-exporting it.
func outputsTF(mods []hclModule) []byte {
	if b, ok := fastOutputsTF(mods); ok {
		return b
	}
	return hclwriteOutputsTF(mods)
}

func hclwriteOutputsTF(mods []hclModule) []byte {
	f := hclwrite.NewEmptyFile()
	first := true
	for _, mod := range mods {
		for _, o := range mod.outputs {
			if !first {
				f.Body().AppendNewline()
			}
			first = false
			ob := f.Body().AppendNewBlock("output", []string{outputName(mod.name, o)}).Body()
			ob.SetAttributeValue("description", cty.StringVal(fmt.Sprintf("%s of %s", o, mod.name)))
			ob.SetAttributeTraversal("value", hcl.Traversal{
				hcl.TraverseRoot{Name: "module"},
				hcl.TraverseAttr{Name: mod.name},
				hcl.TraverseAttr{Name: o},
			})
		}
	}
	return f.Bytes()
}

// The fast writers below produce, byte for byte, what hclwrite produces for
// the same blocks, for the shapes plat renders from the shipped catalog:
// attribute names and block labels of plain ASCII, values that are strings,
// numbers, booleans, null, or maps and objects of those. hclwrite's formatter
// counts grapheme clusters with a new bufio.Scanner for every token it aligns,
// which made it a tenth of a large render; anything outside these shapes
// (lists, nested objects, unusual names) goes through hclwrite instead.
// TestFastHCL compares both on many values.

// hclWriter collects the lines of one HCL file.
type hclWriter struct {
	buf bytes.Buffer
	ok  bool
	// chain holds the single-line attributes whose = are aligned together.
	chain []hclLine
}

type hclLine struct {
	indent int
	key    string // as written (an identifier, or a quoted string)
	val    []byte
}

// plainName reports whether s is written as it is and counts one column per
// byte: printable ASCII without quotes or backslashes.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// scalar renders a string, number, bool or null as hclwrite does.
func scalar(v cty.Value) ([]byte, bool) {
	if !v.IsKnown() {
		return nil, false
	}
	if !v.IsNull() && v.Type() != cty.String && v.Type() != cty.Number && v.Type() != cty.Bool {
		return nil, false
	}
	var b []byte
	for _, t := range hclwrite.TokensForValue(v) {
		b = append(b, t.Bytes...)
	}
	if bytes.IndexByte(b, '\n') >= 0 {
		return nil, false
	}
	return b, true
}

// flush writes the pending chain of attributes with their = aligned.
func (w *hclWriter) flush() {
	width := 0
	for _, l := range w.chain {
		width = max(width, len(l.key))
	}
	for _, l := range w.chain {
		w.spaces(l.indent)
		w.buf.WriteString(l.key)
		w.spaces(width - len(l.key) + 1)
		w.buf.WriteString("= ")
		w.buf.Write(l.val)
		w.buf.WriteByte('\n')
	}
	w.chain = w.chain[:0]
}

func (w *hclWriter) spaces(n int) {
	for range n {
		w.buf.WriteByte(' ')
	}
}

// line writes a line that is not an aligned attribute.
func (w *hclWriter) line(indent int, s string) {
	w.flush()
	if s != "" {
		w.spaces(indent)
	}
	w.buf.WriteString(s)
	w.buf.WriteByte('\n')
}

// blockOpen writes TYPE "LABEL" {.
func (w *hclWriter) blockOpen(indent int, typ string, labels ...string) {
	s := typ
	for _, l := range labels {
		q, ok := scalar(cty.StringVal(l))
		if !ok || !plainName(l) {
			w.ok = false
		}
		s += " " + string(q)
	}
	w.line(indent, s+" {")
}

// attr writes name = value.
func (w *hclWriter) attr(indent int, name string, v cty.Value) {
	if !plainName(name) {
		w.ok = false
		return
	}
	if b, ok := scalar(v); ok {
		w.chain = append(w.chain, hclLine{indent: indent, key: name, val: b})
		return
	}
	if !v.IsKnown() || v.IsNull() || !(v.Type().IsMapType() || v.Type().IsObjectType()) {
		w.ok = false
		return
	}
	if v.LengthInt() == 0 {
		w.chain = append(w.chain, hclLine{indent: indent, key: name, val: []byte("{}")})
		return
	}
	w.line(indent, name+" = {")
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		key := k.AsString()
		if !hclsyntax.ValidIdentifier(key) {
			q, _ := scalar(k)
			key = string(q)
		}
		b, ok := scalar(ev)
		if !ok || !plainName(k.AsString()) {
			w.ok = false
			return
		}
		w.chain = append(w.chain, hclLine{indent: indent + 2, key: key, val: b})
	}
	w.line(indent, "}")
}

func fastMainTF(region string, tags cty.Value, mods []hclModule) ([]byte, bool) {
	w := &hclWriter{ok: true}
	w.blockOpen(0, "provider", "aws")
	w.attr(2, "region", cty.StringVal(region))
	w.line(2, "default_tags {")
	w.attr(4, "tags", tags)
	w.line(2, "}")
	w.line(0, "}")
	for _, mod := range mods {
		w.line(0, "")
		w.blockOpen(0, "module", mod.name)
		w.attr(2, "source", cty.StringVal(mod.source))
		w.attr(2, "version", cty.StringVal(mod.version))
		w.line(0, "")
		for _, a := range mod.inputs {
			w.attr(2, a.name, a.val)
		}
		w.line(0, "}")
		if !w.ok {
			return nil, false
		}
	}
	w.flush()
	return w.buf.Bytes(), w.ok
}

func fastOutputsTF(mods []hclModule) ([]byte, bool) {
	w := &hclWriter{ok: true}
	first := true
	for _, mod := range mods {
		if !plainName(mod.name) {
			return nil, false
		}
		for _, o := range mod.outputs {
			if !plainName(o) {
				return nil, false
			}
			if !first {
				w.line(0, "")
			}
			first = false
			w.blockOpen(0, "output", outputName(mod.name, o))
			w.attr(2, "description", cty.StringVal(fmt.Sprintf("%s of %s", o, mod.name)))
			w.chain = append(w.chain, hclLine{indent: 2, key: "value", val: []byte("module." + mod.name + "." + o)})
			w.line(0, "}")
		}
	}
	w.flush()
	return w.buf.Bytes(), w.ok
}
