// Package yamlpos decodes YAML into a small tree of plain values that keeps the
// line and column of every key and value, so that a message about a field can
// point at the user's file. It is plat's one YAML loader: the compiler builds
// stack files from it, and the CRD validator and the drift detector read
// Kubernetes manifests with it (as Manifest, the values API clients see).
package yamlpos

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Kind is the kind of a Node.
type Kind int

// Node kinds.
const (
	Null Kind = iota
	Bool
	Int
	Float
	String
	Map
	List
)

// Node is one decoded YAML value with the position it came from. Aliases are
// expanded: an alias's node is a copy of its anchor's, with the anchor's
// positions.
type Node struct {
	Kind Kind
	// Line and Col are 1-based.
	Line, Col int
	// Tag is the resolved YAML tag of a scalar (!!int, !!str, ...).
	Tag string
	// Text is a scalar as written (without quotes).
	Text  string
	Bool  bool
	Int   int64
	Float float64
	// Fields of a mapping, in source order; a key may repeat (the caller
	// decides whether that is an error).
	Fields []Field
	// Items of a list.
	Items []*Node
}

// Field is one key of a mapping.
type Field struct {
	Key       string
	Line, Col int
	Value     *Node
}

// Error is a problem with a YAML stream. Line is 0 when the YAML parser gave no
// position; Col is 0 when it gave only the line.
type Error struct {
	File      string
	Line, Col int
	Msg       string
	// Err is the YAML parser's error, when it came from there.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.File + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// maxNodes bounds the values one document may decode to. Aliases can make a
// few bytes expand exponentially (a "billion laughs" document), and YAML comes
// from files plat is pointed at.
const maxNodes = 1 << 20

// Decode decodes every non-empty document of a YAML stream. name is used in
// errors. A document that holds only null is returned as a Null node. On an
// error, the documents before the bad one are returned with it.
func Decode(name string, data []byte) ([]*Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, syntaxError(name, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		n, err := (&decoder{expanding: map[*yaml.Node]bool{}}).node(root)
		if err != nil {
			return out, &Error{File: name, Line: root.Line, Col: root.Column, Msg: err.Error()}
		}
		out = append(out, n)
	}
}

// syntaxError keeps the line of a parser error ("yaml: line 3: ...").
func syntaxError(name string, err error) *Error {
	e := &Error{File: name, Err: err, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	if rest, ok := strings.CutPrefix(e.Msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				e.Line, e.Msg = n, rest[i+2:]
			}
		}
	}
	return e
}

// decoder turns YAML nodes into Nodes, counting them and refusing aliases that
// contain themselves.
type decoder struct {
	nodes     int
	expanding map[*yaml.Node]bool
}

func (d *decoder) node(n *yaml.Node) (*Node, error) {
	d.nodes++
	if d.nodes > maxNodes {
		return nil, fmt.Errorf("line %d: the document expands to more than %d values (aliases?)", n.Line, maxNodes)
	}
	out := &Node{Line: n.Line, Col: n.Column}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return out, nil
		}
		return d.node(n.Content[0])
	case yaml.AliasNode:
		if d.expanding[n.Alias] {
			return nil, fmt.Errorf("line %d: alias *%s contains itself", n.Line, n.Value)
		}
		d.expanding[n.Alias] = true
		defer delete(d.expanding, n.Alias)
		return d.node(n.Alias)
	case yaml.MappingNode:
		out.Kind = Map
		out.Fields = make([]Field, 0, len(n.Content)/2)
		var merged []Field
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping keys must be scalars", k.Line)
			}
			val, err := d.node(v)
			if err != nil {
				return nil, err
			}
			if k.ShortTag() == "!!merge" {
				// A merge key (<<: *base or <<: [*a, *b]) brings in the keys
				// of the mappings it names; see mergeFields.
				m, err := mergeFields(k, val)
				if err != nil {
					return nil, err
				}
				merged = append(merged, m...)
				continue
			}
			out.Fields = append(out.Fields, Field{Key: k.Value, Line: k.Line, Col: k.Column, Value: val})
		}
		if merged != nil {
			have := make(map[string]bool, len(out.Fields)+len(merged))
			for _, f := range out.Fields {
				have[f.Key] = true
			}
			for _, f := range merged {
				if !have[f.Key] {
					have[f.Key] = true
					out.Fields = append(out.Fields, f)
				}
			}
		}
		return out, nil
	case yaml.SequenceNode:
		out.Kind = List
		out.Items = make([]*Node, len(n.Content))
		for i, c := range n.Content {
			v, err := d.node(c)
			if err != nil {
				return nil, err
			}
			out.Items[i] = v
		}
		return out, nil
	case yaml.ScalarNode:
		out.Tag, out.Text = n.ShortTag(), n.Value
		switch out.Tag {
		case "!!null":
			out.Kind = Null
		case "!!bool":
			out.Kind = Bool
			if err := n.Decode(&out.Bool); err != nil {
				return nil, err
			}
		case "!!int":
			if err := n.Decode(&out.Int); err == nil {
				out.Kind = Int
				return out, nil
			}
			// Too large for int64: a number all the same.
			out.Kind = Float
			if err := n.Decode(&out.Float); err != nil {
				return nil, err
			}
		case "!!float":
			out.Kind = Float
			if err := n.Decode(&out.Float); err != nil {
				return nil, err
			}
			if _, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); errors.Is(err, strconv.ErrRange) {
				// The YAML parser resolves an integer too large for int64 as a float.
				out.Tag = "!!int"
			}
		default: // strings, timestamps and binary stay text, as in JSON
			out.Kind = String
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// mergeFields returns the fields a merge key brings in, in order of
// precedence: the keys of the mapping it names, or of each mapping of the list
// it names, the first mapping winning. The mapping's own keys win over all of
// them, as in YAML 1.1's merge type.
func mergeFields(k *yaml.Node, v *Node) ([]Field, error) {
	switch v.Kind {
	case Map:
		return v.Fields, nil
	case List:
		var out []Field
		for _, it := range v.Items {
			if it.Kind != Map {
				return nil, fmt.Errorf("line %d: a merge key takes a mapping or a list of mappings", k.Line)
			}
			out = append(out, it.Fields...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: a merge key takes a mapping or a list of mappings", k.Line)
}

// Get returns the value of the last field named key in a mapping, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil {
		return nil
	}
	for i := len(n.Fields) - 1; i >= 0; i-- {
		if n.Fields[i].Key == key {
			return n.Fields[i].Value
		}
	}
	return nil
}

// Go returns the node as the values encoding/json would produce (maps,
// slices, strings, bools, float64), except that integers are int64. A later
// repeated key wins, as in encoding/json.
func (n *Node) Go() any {
	switch n.Kind {
	case Bool:
		return n.Bool
	case Int:
		return n.Int
	case Float:
		return n.Float
	case String:
		return n.Text
	case Map:
		m := make(map[string]any, len(n.Fields))
		for _, f := range n.Fields {
			m[f.Key] = f.Value.Go()
		}
		return m
	case List:
		l := make([]any, len(n.Items))
		for i, it := range n.Items {
			l[i] = it.Go()
		}
		return l
	}
	return nil
}

// Position returns the line and column of the node at a field path
// (spec.forProvider.rule[0].x), or of the deepest part of it that exists (the
// parent of a missing field). A mapping key's position is that of the key.
func (n *Node) Position(fieldPath string) (line, col int) {
	if n == nil {
		return 0, 0
	}
	line, col = n.Line, n.Col
	for _, seg := range SplitPath(fieldPath) {
		var next *Node
		switch n.Kind {
		case Map:
			for _, f := range n.Fields {
				if f.Key == seg {
					next, line, col = f.Value, f.Line, f.Col
					break
				}
			}
		case List:
			if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(n.Items) {
				next = n.Items[i]
				line, col = next.Line, next.Col
			}
		}
		if next == nil {
			return line, col
		}
		n = next
	}
	return line, col
}

// Manifest is one object decoded from a YAML document (a Kubernetes manifest),
// with the positions of its fields.
type Manifest struct {
	// File is the name the manifest was read from.
	File string
	// Object is the decoded object (maps, slices, strings, bools, int64, float64).
	Object map[string]any

	root *Node
}

// Parse decodes every non-empty, non-null document of a YAML stream as a
// mapping. name is used in errors and copied to each Manifest.
func Parse(name string, data []byte) ([]Manifest, error) {
	docs, err := Decode(name, data)
	var out []Manifest
	for _, d := range docs {
		switch d.Kind {
		case Null:
			continue
		case Map:
			out = append(out, Manifest{File: name, Object: d.Go().(map[string]any), root: d})
		default:
			return out, &Error{File: name, Line: d.Line, Col: d.Col, Msg: "a manifest must be a mapping"}
		}
	}
	return out, err
}

// Position returns the line and column of the node at a field path, as
// Node.Position does. It returns 0, 0 when the manifest has no positions.
func (m Manifest) Position(fieldPath string) (line, col int) {
	return m.root.Position(fieldPath)
}

// SplitPath splits a field path into map keys and list indexes:
// "spec.rule[0].tags[a.b]" -> spec, rule, 0, tags, a.b.
func SplitPath(p string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '.':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		case '[':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				cur.WriteString(p[i+1:])
				i = len(p)
				continue
			}
			out = append(out, p[i+1:i+j])
			i += j
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// SplitDocuments splits a YAML stream at its "---" separator lines, dropping
// empty documents, without parsing it.
func SplitDocuments(b []byte) [][]byte {
	var docs [][]byte
	var cur []byte
	flush := func() {
		if len(bytes.TrimSpace(cur)) > 0 {
			docs = append(docs, cur)
		}
		cur = nil
	}
	for line := range bytes.Lines(b) {
		t := bytes.TrimRight(line, " \t\r\n")
		if bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			flush()
			continue
		}
		cur = append(cur, line...)
	}
	flush()
	return docs
}
