// Package stackedit changes one parameter of one resource in a stack file the
// way a person would: it splices a new value into the file's bytes, in the
// style the file already uses, and leaves comments, key order and formatting
// of everything else as they were. It is what plat drift accept uses to adopt
// a live value into the stack file.
//
// Every edit is checked before it is returned: the result is parsed again and
// must equal the original document with exactly that one value changed.
// Whatever cannot be edited that way (CUE stack files, anchors and aliases on
// the path, block scalars, values spanning lines) is refused with an Error
// that says where and why; a refused edit returns no bytes.
package stackedit

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/platdev/plat/internal/yamlpos"
)

// Error is a refused edit, positioned in the stack file (Line and Col are
// 1-based; both are 1 when the problem is with the whole file).
type Error struct {
	File      string
	Line, Col int
	Msg       string
	// Err is the sentinel error behind Msg, when there is one.
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg) }

func (e *Error) Unwrap() error { return e.Err }

// Sentinel errors Set wraps in its Error.
var (
	// ErrNoResource means the stack file has no resource of that name.
	ErrNoResource = errors.New("no such resource")
	// ErrUnsupported means the file or the value cannot be edited safely.
	ErrUnsupported = errors.New("cannot edit this safely")
)

// Set returns src with the parameter of the named resource (its key under
// spec.resources[].with) set to value, adding the key, and with: itself,
// when the stack file leaves the parameter to its default. value is plain Go
// data as encoding/json decodes it (nil, bool, float64, int types, string,
// json.Number, []any, map[string]any); a float64 that is a whole number is
// written as an integer. file names the stack file in errors; a file ending in
// .cue is refused. Set never returns a document that differs from src in
// anything but that value.
func Set(src []byte, file string, resource, parameter string, value any) ([]byte, error) {
	e := &editor{src: src, file: file, nl: "\n"}
	if bytes.Contains(src, []byte("\r\n")) {
		e.nl = "\r\n"
	}
	if strings.HasSuffix(file, ".cue") {
		return nil, e.errAt(1, 1, ErrUnsupported, "editing CUE stack files is not supported; set %s.%s to %s by hand", resource, parameter, Literal(value))
	}
	v, err := normalize(value)
	if err != nil {
		return nil, e.errAt(1, 1, ErrUnsupported, "%s.%s: %v", resource, parameter, err)
	}
	out, err := e.set(resource, parameter, v)
	if err != nil {
		return nil, err
	}
	if err := e.verify(out, resource, parameter, v); err != nil {
		return nil, err
	}
	return out, nil
}

// editor holds one stack file being edited.
type editor struct {
	src   []byte
	file  string
	nl    string
	lines []int // byte offset of each line's start
	tree  *yamlpos.Node
	res   int // index of the resource in spec.resources
}

func (e *editor) errAt(line, col int, sentinel error, format string, args ...any) *Error {
	return &Error{File: e.file, Line: max(line, 1), Col: max(col, 1), Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

func (e *editor) errNode(n *yaml.Node, sentinel error, format string, args ...any) *Error {
	return e.errAt(n.Line, n.Column, sentinel, format, args...)
}

// set finds the resource and returns the edited bytes (not yet verified).
func (e *editor) set(resource, parameter string, v any) ([]byte, error) {
	docs, err := yamlpos.Decode(e.file, e.src)
	if err != nil {
		var ye *yamlpos.Error
		if errors.As(err, &ye) {
			return nil, e.errAt(ye.Line, ye.Col, ErrUnsupported, "not valid YAML: %s", ye.Msg)
		}
		return nil, e.errAt(1, 1, ErrUnsupported, "not valid YAML: %v", err)
	}
	if len(docs) != 1 || docs[0].Kind != yamlpos.Map {
		return nil, e.errAt(1, 1, ErrUnsupported, "a stack file is one YAML mapping")
	}
	e.tree = docs[0]
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(e.src)).Decode(&doc); err != nil || len(doc.Content) == 0 {
		return nil, e.errAt(1, 1, ErrUnsupported, "not valid YAML")
	}
	e.lines = lineStarts(e.src)
	root := doc.Content[0]
	spec, err := e.child(root, "spec", yaml.MappingNode)
	if err != nil {
		return nil, err
	}
	list, err := e.child(spec, "resources", yaml.SequenceNode)
	if err != nil {
		return nil, err
	}
	var item *yaml.Node
	for i, it := range list.Content {
		if it.Kind != yaml.MappingNode {
			continue
		}
		_, name, err := e.lookup(it, "name")
		if err != nil {
			return nil, err
		}
		if name == nil || name.Kind != yaml.ScalarNode || name.Value != resource {
			continue
		}
		if item != nil {
			return nil, e.errNode(name, ErrUnsupported, "resource %q is named twice", resource)
		}
		item, e.res = it, i
	}
	if item == nil {
		return nil, e.errNode(list, ErrNoResource, "the stack has no resource %q", resource)
	}
	if err := e.plain(item); err != nil {
		return nil, err
	}
	flow := item.Style&yaml.FlowStyle != 0
	withKey, with, err := e.lookup(item, "with")
	if err != nil {
		return nil, err
	}
	if with == nil {
		return e.insert(item, flow, "with", map[string]any{parameter: v})
	}
	if err := e.plain(with); err != nil {
		return nil, err
	}
	switch {
	case with.Kind == yaml.ScalarNode && with.ShortTag() == "!!null":
		return e.fillNull(withKey, with, flow, map[string]any{parameter: v})
	case with.Kind != yaml.MappingNode:
		return nil, e.errNode(with, ErrUnsupported, "%s: with: is not a mapping", resource)
	}
	oldKey, old, err := e.lookup(with, parameter)
	if err != nil {
		return nil, err
	}
	if old != nil && isEmptyNull(old) {
		// size: with nothing after it: write the value after the colon.
		at, err := e.afterColon(oldKey)
		if err != nil {
			return nil, err
		}
		return splice(e.src, at, at, " "+encodeInline(v, true, 0, false)), nil
	}
	if old == nil {
		return e.insert(with, with.Style&yaml.FlowStyle != 0 || flow, parameter, v)
	}
	return e.replace(old, flow || with.Style&yaml.FlowStyle != 0, v)
}

// child returns the value of key in mapping n, which must be of kind k.
func (e *editor) child(n *yaml.Node, key string, k yaml.Kind) (*yaml.Node, error) {
	if err := e.plain(n); err != nil {
		return nil, err
	}
	if n.Kind != yaml.MappingNode {
		return nil, e.errNode(n, ErrUnsupported, "expected a mapping")
	}
	_, v, err := e.lookup(n, key)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, e.errNode(n, ErrNoResource, "the stack file has no %s:", key)
	}
	if err := e.plain(v); err != nil {
		return nil, err
	}
	if v.Kind != k {
		return nil, e.errNode(v, ErrUnsupported, "%s: has an unexpected shape", key)
	}
	return v, nil
}

// lookup returns the key and value nodes of key in mapping n (nil when absent),
// refusing a repeated key and merge keys, whose fields live elsewhere.
func (e *editor) lookup(n *yaml.Node, key string) (k, v *yaml.Node, err error) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn := n.Content[i]
		if kn.ShortTag() == "!!merge" {
			return nil, nil, e.errNode(kn, ErrUnsupported, "a merge key (<<) on the path to the value")
		}
		if kn.Kind == yaml.ScalarNode && kn.Value == key {
			if k != nil {
				return nil, nil, e.errNode(kn, ErrUnsupported, "key %q repeats the one on line %d", key, k.Line)
			}
			k, v = kn, n.Content[i+1]
		}
	}
	return k, v, nil
}

// plain refuses a node whose text is not its own: an alias, an anchor (its
// aliases would change too) or an explicit tag.
func (e *editor) plain(n *yaml.Node) error {
	switch {
	case n.Kind == yaml.AliasNode:
		return e.errNode(n, ErrUnsupported, "an alias (*%s) on the path to the value; edit the anchor by hand", n.Value)
	case n.Anchor != "":
		return e.errNode(n, ErrUnsupported, "an anchor (&%s) on the path to the value; edit it by hand", n.Anchor)
	}
	off := e.offset(n.Line, n.Column)
	if off < len(e.src) && e.src[off] == '!' {
		return e.errNode(n, ErrUnsupported, "an explicit tag on the path to the value")
	}
	return nil
}

// replace splices a new encoding of v over the value node old.
func (e *editor) replace(old *yaml.Node, flow bool, v any) ([]byte, error) {
	if err := e.plain(old); err != nil {
		return nil, err
	}
	start := e.offset(old.Line, old.Column)
	end, err := e.end(old, flow)
	if err != nil {
		return nil, err
	}
	var text string
	switch {
	case old.Kind == yaml.ScalarNode || old.Style&yaml.FlowStyle != 0 || !isCollection(v):
		text = encodeInline(v, flow, styleOf(old), old.ShortTag() == "!!float")
	default:
		text = encodeBlock(v, old.Column-1, e.nl)
	}
	return splice(e.src, start, end, text), nil
}

// insert adds key: v to mapping m, after its last field.
func (e *editor) insert(m *yaml.Node, flow bool, key string, v any) ([]byte, error) {
	if m.Style&yaml.FlowStyle != 0 {
		var at int
		text := encodeKey(key) + ": " + encodeInline(v, true, 0, false)
		if len(m.Content) == 0 {
			at = e.offset(m.Line, m.Column) + 1 // after {
		} else {
			last := m.Content[len(m.Content)-1]
			end, err := e.end(last, true)
			if err != nil {
				return nil, err
			}
			at, text = end, ", "+text
		}
		return splice(e.src, at, at, text), nil
	}
	if flow || len(m.Content) == 0 {
		return nil, e.errNode(m, ErrUnsupported, "cannot add %s: here", key)
	}
	end, err := e.end(m.Content[len(m.Content)-1], false)
	if err != nil {
		return nil, err
	}
	// Before the line break of the last field's line, so a comment there stays
	// on its line and a file without a final newline still gets none.
	indent := m.Column - 1
	at := e.lineEnd(end)
	line := e.nl + strings.Repeat(" ", indent) + e.field(key, v, indent)
	return splice(e.src, at, at, line), nil
}

// fillNull gives a with: that holds null its first field.
func (e *editor) fillNull(key, null *yaml.Node, flow bool, v map[string]any) ([]byte, error) {
	if null.Value != "" || flow {
		if null.Value == "" {
			// with: followed by nothing, in a flow mapping: after the colon.
			at, err := e.afterColon(key)
			if err != nil {
				return nil, err
			}
			return splice(e.src, at, at, " "+encodeInline(v, true, 0, false)), nil
		}
		start := e.offset(null.Line, null.Column)
		end, err := e.end(null, flow)
		if err != nil {
			return nil, err
		}
		return splice(e.src, start, end, encodeInline(v, flow, 0, false)), nil
	}
	at, err := e.afterColon(key)
	if err != nil {
		return nil, err
	}
	indent := key.Column - 1 + 2
	at = e.lineEnd(at)
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(v)) {
		b.WriteString(e.nl + strings.Repeat(" ", indent) + e.field(k, v[k], indent))
	}
	return splice(e.src, at, at, b.String()), nil
}

// field encodes key: v in block style at indent (the key's column - 1).
func (e *editor) field(key string, v any, indent int) string {
	if isCollection(v) {
		return encodeKey(key) + ":" + e.nl + strings.Repeat(" ", indent+2) + encodeBlock(v, indent+2, e.nl)
	}
	return encodeKey(key) + ": " + encodeInline(v, false, 0, false)
}

// verify parses the edited document and checks it is the original with
// exactly the one value changed.
func (e *editor) verify(out []byte, resource, parameter string, v any) error {
	refuse := func(why string) error {
		return e.errAt(1, 1, ErrUnsupported, "could not edit %s.%s safely (%s); change it by hand", resource, parameter, why)
	}
	docs, err := yamlpos.Decode(e.file, out)
	if err != nil || len(docs) != 1 {
		return refuse("the edit would not parse")
	}
	want := e.tree.Go().(map[string]any)
	spec, _ := want["spec"].(map[string]any)
	list, _ := spec["resources"].([]any)
	if e.res >= len(list) {
		return refuse("the resource moved")
	}
	item, _ := list[e.res].(map[string]any)
	with, _ := item["with"].(map[string]any)
	if with == nil {
		with = map[string]any{}
		item["with"] = with
	}
	with[parameter] = v
	if !equal(docs[0].Go(), want) {
		return refuse("the result would differ in more than that value")
	}
	return nil
}

// offset turns a 1-based line and column (in characters, as the YAML parser
// counts) into a byte offset in src.
func (e *editor) offset(line, col int) int {
	if line < 1 || line > len(e.lines) {
		return len(e.src)
	}
	off := e.lines[line-1]
	for i := 1; i < col && off < len(e.src); i++ {
		_, size := decodeRune(e.src[off:])
		off += size
	}
	return off
}

// lineEnd returns the offset of the end of the line holding off (before its
// line break).
func (e *editor) lineEnd(off int) int {
	for off < len(e.src) && e.src[off] != '\n' && e.src[off] != '\r' {
		off++
	}
	return off
}

// afterColon returns the offset just after the colon that follows a key.
func (e *editor) afterColon(key *yaml.Node) (int, error) {
	end, err := e.end(key, false)
	if err != nil {
		return 0, err
	}
	for i := end; i < len(e.src); i++ {
		switch e.src[i] {
		case ':':
			return i + 1, nil
		case ' ', '\t':
		default:
			return 0, e.errNode(key, ErrUnsupported, "cannot find the colon after %s", key.Value)
		}
	}
	return 0, e.errNode(key, ErrUnsupported, "cannot find the colon after %s", key.Value)
}

func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

func splice(src []byte, start, end int, text string) []byte {
	out := make([]byte, 0, len(src)-(end-start)+len(text))
	out = append(out, src[:start]...)
	out = append(out, text...)
	return append(out, src[end:]...)
}
