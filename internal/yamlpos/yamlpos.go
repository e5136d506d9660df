// Package manifest decodes Kubernetes manifests from YAML the way API clients
// see them (JSON-compatible values) while keeping the position of every field, so
// that errors about a field path can point at the user's file.
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

// Manifest is one object decoded from a YAML document, with the positions of its
// fields.
type Manifest struct {
	// File is the name the manifest was read from.
	File string
	// Object is the decoded object (maps, slices, strings, bools, int64, float64).
	Object map[string]any

	node *yaml.Node
}

// Parse decodes every non-empty document of a YAML stream. name is used
// in errors and copied to each Manifest.
func Parse(name string, data []byte) ([]Manifest, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []Manifest
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		v, err := (&decoder{expanding: map[*yaml.Node]bool{}}).value(root)
		if err != nil {
			return out, fmt.Errorf("%s:%d:%d: %w", name, root.Line, root.Column, err)
		}
		if v == nil {
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return out, fmt.Errorf("%s:%d:%d: a manifest must be a mapping", name, root.Line, root.Column)
		}
		out = append(out, Manifest{File: name, Object: obj, node: root})
	}
}

// value converts a YAML node into the values encoding/json would produce,
// except that integers are int64.
// maxNodes bounds the values one document may decode to. Aliases can make a
// few bytes expand exponentially (a "billion laughs" document), and manifests
// come from files plat is pointed at.
const maxNodes = 1 << 20

// decoder turns YAML nodes into plain values, counting them and refusing
// aliases that contain themselves.
type decoder struct {
	nodes     int
	expanding map[*yaml.Node]bool
}

func (d *decoder) value(n *yaml.Node) (any, error) {
	d.nodes++
	if d.nodes > maxNodes {
		return nil, fmt.Errorf("line %d: the document expands to more than %d values (aliases?)", n.Line, maxNodes)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return d.value(n.Content[0])
	case yaml.AliasNode:
		if d.expanding[n.Alias] {
			return nil, fmt.Errorf("line %d: alias *%s contains itself", n.Line, n.Value)
		}
		d.expanding[n.Alias] = true
		defer delete(d.expanding, n.Alias)
		return d.value(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping keys must be scalars", k.Line)
			}
			val, err := d.value(v)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := d.value(c)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			err := n.Decode(&b)
			return b, err
		case "!!int":
			var i int64
			if err := n.Decode(&i); err == nil {
				return i, nil
			}
			var f float64
			err := n.Decode(&f)
			return f, err
		case "!!float":
			var f float64
			err := n.Decode(&f)
			return f, err
		default: // strings, timestamps and binary stay text, as in JSON
			return n.Value, nil
		}
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// Position returns the line and column of the node at a field path
// (spec.forProvider.rule[0].x), or of the deepest part of it that exists (the
// parent of a missing field). It returns 0, 0 when the manifest has no positions.
func (m Manifest) Position(fieldPath string) (line, col int) {
	n := m.node
	if n == nil {
		return 0, 0
	}
	line, col = n.Line, n.Column
	for _, seg := range SplitPath(fieldPath) {
		for n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		var next, key *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg {
					key, next = n.Content[i], n.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
			}
		}
		if next == nil {
			return line, col
		}
		if key != nil {
			line, col = key.Line, key.Column
		} else {
			line, col = next.Line, next.Column
		}
		n = next
	}
	return line, col
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
