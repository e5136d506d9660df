package compiler

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// The Terraform root module of a stack is built once, as a tfModule, and then
// encoded as HCL (hclwrite) or as Terraform's JSON syntax: one model, two
// encodings, so the two syntaxes cannot disagree about what a stack renders.

// tfModule is a root module: its files in the order they are written.
type tfModule struct {
	files []tfFile
}

// tfFile is one file of a root module; name has no extension (main, outputs,
// versions).
type tfFile struct {
	name string
	body tfBody
}

// tfBody is the content of a file or a block, in order.
type tfBody []tfItem

// tfItem is an attribute (name and value), a nested block, or a blank line.
// Blank lines only lay out the HCL; the JSON syntax has none.
type tfItem struct {
	name  string
	value tfValue
	block *tfBlock
	blank bool
}

// tfBlock is a block: its type, labels and body. In the JSON syntax a block is
// an object under its type and then under each label; unlabelled blocks of one
// type in one body become an array of objects.
type tfBlock struct {
	typ    string
	labels []string
	body   tfBody
}

// tfValue is an attribute's value: plain data (what CUE decodes to: strings,
// numbers, booleans, null, lists and objects) or, when ref is set, a reference
// such as local.tags or module.db.arn.
type tfValue struct {
	data any
	ref  string
}

func (b *tfBody) attr(name string, data any) {
	*b = append(*b, tfItem{name: name, value: tfValue{data: data}})
}
func (b *tfBody) ref(name, ref string)               { *b = append(*b, tfItem{name: name, value: tfValue{ref: ref}}) }
func (b *tfBody) blankLine()                         { *b = append(*b, tfItem{blank: true}) }
func (b *tfBody) block(blk *tfBlock)                 { *b = append(*b, tfItem{block: blk}) }
func newBlock(typ string, labels ...string) *tfBlock { return &tfBlock{typ: typ, labels: labels} }

// where names a block in errors: module db, provider NAME, locals.
func (blk *tfBlock) where() string {
	if len(blk.labels) == 0 {
		return blk.typ
	}
	return blk.typ + " " + strings.Join(blk.labels, " ")
}

// check reports the first value the HCL encoding cannot write, so that a
// validate run refuses what a render would, without encoding anything.
func (m *tfModule) check() error {
	for _, f := range m.files {
		if err := f.body.check(""); err != nil {
			return err
		}
	}
	return nil
}

func (b tfBody) check(where string) error {
	for _, it := range b {
		switch {
		case it.block != nil:
			w := it.block.where()
			if where != "" {
				w = where + ": " + w
			}
			if err := it.block.body.check(w); err != nil {
				return err
			}
		case !it.blank && it.value.ref == "":
			if _, err := toCty(it.value.data); err != nil {
				return attrError(where, it.name, err)
			}
		}
	}
	return nil
}

func attrError(where, name string, err error) error {
	if where == "" {
		return fmt.Errorf("%s: %w", name, err)
	}
	return fmt.Errorf("%s: %s: %w", where, name, err)
}

// hcl encodes the file as HCL, after head (the generated-file header).
func (f *tfFile) hcl(head string) ([]byte, error) {
	hf := hclwrite.NewEmptyFile()
	if err := f.body.writeHCL(hf.Body(), ""); err != nil {
		return nil, err
	}
	// Bytes formats already (hclwrite.Format again would re-lex and re-align
	// every token for the same result).
	return append([]byte(head), hf.Bytes()...), nil
}

func (b tfBody) writeHCL(out *hclwrite.Body, where string) error {
	for _, it := range b {
		switch {
		case it.blank:
			out.AppendNewline()
		case it.block != nil:
			nb := out.AppendNewBlock(it.block.typ, it.block.labels)
			w := it.block.where()
			if where != "" {
				w = where + ": " + w
			}
			if err := it.block.body.writeHCL(nb.Body(), w); err != nil {
				return err
			}
		case it.value.ref != "":
			out.SetAttributeTraversal(it.name, traversal(it.value.ref))
		default:
			v, err := toCty(it.value.data)
			if err != nil {
				return attrError(where, it.name, err)
			}
			out.SetAttributeValue(it.name, v)
		}
	}
	return nil
}

// traversal turns a dotted reference (local.tags) into an HCL traversal.
func traversal(ref string) hcl.Traversal {
	parts := strings.Split(ref, ".")
	t := hcl.Traversal{hcl.TraverseRoot{Name: parts[0]}}
	for _, p := range parts[1:] {
		t = append(t, hcl.TraverseAttr{Name: p})
	}
	return t
}

// json encodes the file in Terraform's JSON syntax, with comment as its "//"
// property (the JSON syntax's comment). Properties are sorted by name.
// digest is a SHA-256 of f's model: every item in order, as the encoders read
// it (blank lines, blocks and their labels, references, and values as JSON,
// whose objects have sorted keys as the HCL encoding's do). Two files with
// equal digests encode to the same bytes, in either syntax.
func (f *tfFile) digest() ([]byte, error) {
	h := sha256.New()
	if err := f.body.digest(h); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

func (b tfBody) digest(w io.Writer) error {
	for _, it := range b {
		switch {
		case it.blank:
			io.WriteString(w, "\x00blank\n")
		case it.block != nil:
			fmt.Fprintf(w, "\x00block %q %q {\n", it.block.typ, it.block.labels)
			if err := it.block.body.digest(w); err != nil {
				return err
			}
			io.WriteString(w, "\x00}\n")
		case it.value.ref != "":
			fmt.Fprintf(w, "\x00ref %q %q\n", it.name, it.value.ref)
		default:
			data, err := json.Marshal(it.value.data)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "\x00attr %q %s\n", it.name, data)
		}
	}
	return nil
}

func (f *tfFile) json(comment string) ([]byte, error) {
	obj := f.body.jsonObject()
	obj["//"] = comment
	b, err := json.MarshalIndent(obj, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func (b tfBody) jsonObject() map[string]any {
	obj := map[string]any{}
	for _, it := range b {
		switch {
		case it.blank:
		case it.block != nil:
			blk := it.block
			if len(blk.labels) == 0 {
				// A second unlabelled block of a type is a repeated nested block.
				switch prev := obj[blk.typ].(type) {
				case nil:
					obj[blk.typ] = blk.body.jsonObject()
				case []any:
					obj[blk.typ] = append(prev, blk.body.jsonObject())
				default:
					obj[blk.typ] = []any{prev, blk.body.jsonObject()}
				}
				continue
			}
			m, _ := obj[blk.typ].(map[string]any)
			if m == nil {
				m = map[string]any{}
				obj[blk.typ] = m
			}
			for _, l := range blk.labels[:len(blk.labels)-1] {
				next, _ := m[l].(map[string]any)
				if next == nil {
					next = map[string]any{}
					m[l] = next
				}
				m = next
			}
			m[blk.labels[len(blk.labels)-1]] = blk.body.jsonObject()
		case it.value.ref != "":
			obj[it.name] = "${" + it.value.ref + "}"
		default:
			obj[it.name] = it.value.data
		}
	}
	return obj
}
