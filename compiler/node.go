package compiler

import (
	"errors"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/platdev/plat/internal/yamlpos"
)

// Kind is the kind of a Node.
type Kind int

// Node kinds.
const (
	KindNull Kind = iota
	KindBool
	KindInt
	KindFloat
	KindString
	KindMap
	KindList
)

func (k Kind) String() string {
	return [...]string{"null", "boolean", "integer", "number", "string", "mapping", "list"}[k]
}

// Pos is a 1-based position in a stack file.
type Pos struct{ Line, Col int }

// Node is one value of a stack file with the position it came from. Stack files
// are plain data, so a small tree is all the compiler needs.
type Node struct {
	Kind  Kind
	Pos   Pos
	Bool  bool
	Int   int64
	Float float64
	Str   string
	// Fields of a mapping, in source order.
	Fields []*Field
	// Items of a list.
	Items []*Node
}

// Field is one key of a mapping.
type Field struct {
	Key    string
	KeyPos Pos
	Value  *Node
}

// Get returns the value of key in a mapping, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != KindMap {
		return nil
	}
	for _, f := range n.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

// field returns the Field for key in a mapping, or nil.
func (n *Node) field(key string) *Field {
	if n == nil || n.Kind != KindMap {
		return nil
	}
	for _, f := range n.Fields {
		if f.Key == key {
			return f
		}
	}
	return nil
}

// String returns the string value of a string node, or "".
func (n *Node) String() string {
	if n == nil || n.Kind != KindString {
		return ""
	}
	return n.Str
}

// Go returns the node as plain Go data (map[string]any, []any, string, int64,
// float64, bool, nil).
func (n *Node) Go() any {
	switch n.Kind {
	case KindBool:
		return n.Bool
	case KindInt:
		return n.Int
	case KindFloat:
		return n.Float
	case KindString:
		return n.Str
	case KindMap:
		m := make(map[string]any, len(n.Fields))
		for _, f := range n.Fields {
			m[f.Key] = f.Value.Go()
		}
		return m
	case KindList:
		l := make([]any, len(n.Items))
		for i, it := range n.Items {
			l[i] = it.Go()
		}
		return l
	}
	return nil
}

// Literal renders a scalar node for messages.
func (n *Node) Literal() string {
	switch n.Kind {
	case KindBool:
		return strconv.FormatBool(n.Bool)
	case KindInt:
		return strconv.FormatInt(n.Int, 10)
	case KindFloat:
		return strconv.FormatFloat(n.Float, 'g', -1, 64)
	case KindString:
		return strconv.Quote(n.Str)
	case KindMap:
		return "a mapping"
	case KindList:
		return "a list"
	}
	return "null"
}

// LoadStack parses one stack file (YAML, or CUE when name ends in .cue) into a
// Node tree. It never panics; every problem is a diagnostic positioned in the file.
func LoadStack(name string, src []byte) (*Node, Diagnostics) {
	l := &loader{file: name}
	if blank(src) {
		l.diags = append(l.diags, Diagnostic{File: name, Line: 1, Col: 1, ID: IDEmpty,
			Message: "the stack file is empty",
			Hint:    "start from an example: apiVersion: plat/v1, kind: Stack, metadata, spec"})
		return nil, l.diags
	}
	var root *Node
	if strings.HasSuffix(name, ".cue") {
		f, err := parser.ParseFile(name, src, parser.ParseComments)
		if err != nil {
			l.syntaxErr(err)
			return nil, l.diags
		}
		root = l.cueFile(f)
	} else {
		root = l.yamlFile(src)
	}
	if len(l.diags) > 0 {
		return nil, l.diags
	}
	if root == nil || root.Kind == KindNull {
		l.diags = append(l.diags, Diagnostic{File: name, Line: 1, Col: 1, ID: IDEmpty,
			Message: "the stack file is empty",
			Hint:    "start from an example: apiVersion: plat/v1, kind: Stack, metadata, spec"})
		return nil, l.diags
	}
	if root.Kind != KindMap {
		l.diags = append(l.diags, Diagnostic{File: name, Line: root.Pos.Line, Col: root.Pos.Col, ID: IDNotMapping,
			Message: fmt.Sprintf("a stack file is a mapping, not %s", kindPhrase(root.Kind)),
			Hint:    "start from an example: apiVersion: plat/v1, kind: Stack, metadata, spec"})
		return nil, l.diags
	}
	return root, nil
}

// blank reports whether src holds nothing but blank lines, comments and
// document markers.
func blank(src []byte) bool {
	for _, line := range strings.Split(string(src), "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") && t != "---" && t != "..." {
			return false
		}
	}
	return true
}

// cueFile turns a parsed CUE stack file into a Node tree, or nil with
// diagnostics.
func (l *loader) cueFile(f *ast.File) *Node {
	var root *Node
	var rootPos token.Pos
	var fields []ast.Decl
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.Package, *ast.CommentGroup:
		case *ast.EmbedDecl:
			if root != nil || len(fields) > 0 {
				l.errAt(d.Pos(), IDNotMapping, "a stack file holds exactly one document", "split the documents into one stack file each")
				return nil
			}
			root = l.expr(d.Expr)
			rootPos = d.Pos()
		case *ast.Field, *ast.ImportDecl, *ast.LetClause, *ast.Comprehension, *ast.Attribute:
			fields = append(fields, d)
		default:
			l.errAt(d.Pos(), IDUnsupported, "unsupported declaration in a stack file", "a stack file is plain data")
		}
	}
	if len(fields) > 0 {
		if root != nil {
			l.errAt(rootPos, IDNotMapping, "a stack file holds exactly one mapping", "")
			return nil
		}
		root = l.structFields(fields, token.NoPos)
		if len(root.Fields) > 0 {
			root.Pos = root.Fields[0].KeyPos
		} else {
			root.Pos = Pos{1, 1}
		}
	}
	return root
}

// yamlFile decodes a YAML stack file with plat's one positioned YAML loader and
// turns it into a Node tree, or nil with diagnostics.
func (l *loader) yamlFile(src []byte) *Node {
	docs, err := yamlpos.Decode(l.file, src)
	if err != nil {
		var ye *yamlpos.Error
		d := Diagnostic{File: l.file, Line: 1, Col: 1, ID: IDSyntax, Hint: "fix the syntax; check indentation and quoting", Message: "invalid YAML: " + err.Error()}
		if errors.As(err, &ye) {
			d.Message = "invalid YAML: " + ye.Msg
			d.Line, d.Col = max(ye.Line, 1), max(ye.Col, 1)
		}
		l.diags = append(l.diags, d)
		return nil
	}
	if len(docs) == 0 {
		return nil
	}
	if len(docs) > 1 {
		l.diags = append(l.diags, Diagnostic{File: l.file, Line: docs[1].Line, Col: docs[1].Col, ID: IDNotMapping,
			Message: "a stack file holds exactly one YAML document", Hint: "split the documents into one stack file each"})
		return nil
	}
	return l.yamlNode(docs[0])
}

// yamlNode converts a decoded YAML value, with the checks the CUE path makes:
// no repeated keys, no deep nesting, numbers that fit.
func (l *loader) yamlNode(y *yamlpos.Node) *Node {
	l.depth++
	defer func() { l.depth-- }()
	pos := Pos{y.Line, y.Col}
	if l.depth > 100 {
		l.at(pos, IDUnsupported, "the stack file nests too deeply", "")
		return &Node{Kind: KindNull, Pos: pos}
	}
	switch y.Kind {
	case yamlpos.Map:
		n := &Node{Kind: KindMap, Pos: pos}
		seen := map[string]Pos{}
		for _, f := range y.Fields {
			kp := Pos{f.Line, f.Col}
			if prev, dup := seen[f.Key]; dup {
				l.at(kp, IDDuplicateKey, fmt.Sprintf("key %q repeats the one on line %d", f.Key, prev.Line), "remove one of them")
				continue
			}
			seen[f.Key] = kp
			n.Fields = append(n.Fields, &Field{Key: f.Key, KeyPos: kp, Value: l.yamlNode(f.Value)})
		}
		return n
	case yamlpos.List:
		n := &Node{Kind: KindList, Pos: pos}
		for _, it := range y.Items {
			n.Items = append(n.Items, l.yamlNode(it))
		}
		return n
	case yamlpos.Bool:
		return &Node{Kind: KindBool, Bool: y.Bool, Pos: pos}
	case yamlpos.Int:
		return &Node{Kind: KindInt, Int: y.Int, Pos: pos}
	case yamlpos.Float:
		if y.Tag == "!!int" {
			l.at(pos, IDInvalidValue, fmt.Sprintf("number %s is too large", y.Text), "")
			return &Node{Kind: KindNull, Pos: pos}
		}
		if math.IsInf(y.Float, 0) || math.IsNaN(y.Float) {
			l.at(pos, IDInvalidValue, fmt.Sprintf("unsupported number %s", y.Text), "")
			return &Node{Kind: KindNull, Pos: pos}
		}
		return &Node{Kind: KindFloat, Float: y.Float, Pos: pos}
	case yamlpos.String:
		return &Node{Kind: KindString, Str: y.Text, Pos: pos}
	}
	return &Node{Kind: KindNull, Pos: pos}
}

func kindPhrase(k Kind) string {
	if k == KindInt {
		return "an integer"
	}
	return "a " + k.String()
}

type loader struct {
	file  string
	diags Diagnostics
	depth int
}

func toPos(p token.Pos) Pos {
	if !p.IsValid() {
		return Pos{}
	}
	return Pos{p.Line(), p.Column()}
}

func (l *loader) errAt(p token.Pos, id, msg, hint string) {
	l.at(toPos(p), id, msg, hint)
}

func (l *loader) at(p Pos, id, msg, hint string) {
	l.diags = append(l.diags, Diagnostic{File: l.file, Line: p.Line, Col: p.Col, ID: id, Message: msg, Hint: hint})
}

// syntaxErr turns a parse error into one diagnostic per error, with the best
// position the parser knows.
func (l *loader) syntaxErr(err error) {
	for _, e := range cueerrors.Errors(err) {
		d := Diagnostic{File: l.file, ID: IDSyntax, Hint: "fix the syntax; check indentation and quoting"}
		pos := e.Position()
		if pos.IsValid() {
			d.Line, d.Col = pos.Line(), pos.Column()
		}
		msg := e.Error()
		// The YAML decoder reports "file:line: message" without a position of its own.
		if rest, ok := strings.CutPrefix(msg, l.file+":"); ok {
			if i := strings.Index(rest, ": "); i > 0 {
				if n, err := strconv.Atoi(rest[:i]); err == nil {
					if d.Line == 0 {
						d.Line = n
					}
					msg = rest[i+2:]
				}
			}
		}
		if d.Line == 0 {
			d.Line = 1
		}
		if d.Col == 0 {
			// The YAML decoder knows only the line.
			d.Col = 1
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		d.Message = "invalid " + syntaxName(l.file) + ": " + msg
		l.diags = append(l.diags, d)
	}
}

func syntaxName(file string) string {
	if path.Ext(file) == ".cue" {
		return "CUE"
	}
	return "YAML"
}

func (l *loader) structFields(decls []ast.Decl, pos token.Pos) *Node {
	n := &Node{Kind: KindMap, Pos: toPos(pos)}
	seen := map[string]Pos{}
	for _, d := range decls {
		f, ok := d.(*ast.Field)
		if !ok {
			if _, ok := d.(*ast.CommentGroup); ok {
				continue
			}
			l.errAt(d.Pos(), IDUnsupported, "unsupported declaration in a stack file", "a stack file is plain data")
			continue
		}
		name, _, err := ast.LabelName(f.Label)
		if err != nil || f.Constraint != token.ILLEGAL {
			l.errAt(f.Pos(), IDUnsupported, "unsupported field label in a stack file", "use plain keys")
			continue
		}
		kp := toPos(f.Label.Pos())
		if prev, dup := seen[name]; dup {
			l.errAt(f.Label.Pos(), IDDuplicateKey, fmt.Sprintf("key %q repeats the one on line %d", name, prev.Line), "remove one of them")
			continue
		}
		seen[name] = kp
		v := l.expr(f.Value)
		n.Fields = append(n.Fields, &Field{Key: name, KeyPos: kp, Value: v})
	}
	return n
}

func (l *loader) expr(e ast.Expr) *Node {
	l.depth++
	defer func() { l.depth-- }()
	if l.depth > 100 {
		l.errAt(e.Pos(), IDUnsupported, "the stack file nests too deeply", "")
		return &Node{Kind: KindNull, Pos: toPos(e.Pos())}
	}
	pos := toPos(e.Pos())
	switch e := e.(type) {
	case *ast.StructLit:
		n := l.structFields(e.Elts, e.Lbrace)
		if !e.Lbrace.IsValid() || (len(n.Fields) > 0 && e.Lbrace.Line() != n.Fields[0].KeyPos.Line && !strings.HasSuffix(l.file, ".cue")) {
			// A YAML block mapping starts at its first key.
			if len(n.Fields) > 0 {
				n.Pos = n.Fields[0].KeyPos
			}
		}
		if n.Pos == (Pos{}) {
			n.Pos = pos
		}
		return n
	case *ast.ListLit:
		n := &Node{Kind: KindList, Pos: pos}
		for _, it := range e.Elts {
			n.Items = append(n.Items, l.expr(it))
		}
		return n
	case *ast.BasicLit:
		return l.basic(e.Kind, e.Value, e.Pos(), false)
	case *ast.UnaryExpr:
		if b, ok := e.X.(*ast.BasicLit); ok && (e.Op == token.SUB || e.Op == token.ADD) && (b.Kind == token.INT || b.Kind == token.FLOAT) {
			return l.basic(b.Kind, b.Value, e.Pos(), e.Op == token.SUB)
		}
	case *ast.Ident:
		switch e.Name {
		case "true", "false":
			return &Node{Kind: KindBool, Bool: e.Name == "true", Pos: pos}
		case "null":
			return &Node{Kind: KindNull, Pos: pos}
		}
	}
	l.errAt(e.Pos(), IDUnsupported, "unsupported value in a stack file", "a stack file is plain data: strings, numbers, booleans, mappings and lists")
	return &Node{Kind: KindNull, Pos: pos}
}

func (l *loader) basic(kind token.Token, lit string, p token.Pos, neg bool) *Node {
	pos := toPos(p)
	switch kind {
	case token.STRING:
		s, err := literal.Unquote(lit)
		if err != nil {
			l.errAt(p, IDUnsupported, "unsupported string literal", "")
			return &Node{Kind: KindNull, Pos: pos}
		}
		return &Node{Kind: KindString, Str: s, Pos: pos}
	case token.INT:
		var num literal.NumInfo
		if err := literal.ParseNum(lit, &num); err == nil && num.IsInt() {
			s := num.String()
			if neg {
				s = "-" + s
			}
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return &Node{Kind: KindInt, Int: i, Pos: pos}
			}
		}
		l.errAt(p, IDInvalidValue, fmt.Sprintf("number %s is too large", lit), "")
		return &Node{Kind: KindNull, Pos: pos}
	case token.FLOAT:
		f, err := strconv.ParseFloat(strings.ReplaceAll(lit, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			l.errAt(p, IDInvalidValue, fmt.Sprintf("unsupported number %s", lit), "")
			return &Node{Kind: KindNull, Pos: pos}
		}
		if neg {
			f = -f
		}
		return &Node{Kind: KindFloat, Float: f, Pos: pos}
	case token.TRUE, token.FALSE:
		return &Node{Kind: KindBool, Bool: kind == token.TRUE, Pos: pos}
	case token.NULL:
		return &Node{Kind: KindNull, Pos: pos}
	}
	l.errAt(p, IDUnsupported, "unsupported value in a stack file", "")
	return &Node{Kind: KindNull, Pos: pos}
}
