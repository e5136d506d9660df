package compiler

import (
	"fmt"
	"strings"

	"cuelang.org/go/cue"
)

// checker validates a Node tree against a CUE schema value, reporting every
// problem with the position of the offending value in the user's file.
type checker struct {
	cc       *cue.Context
	file     string
	resource string
	diags    *Diagnostics
	memo     *checkMemo // nil: nothing remembered
}

// checkMemo remembers what checking against one schema found, for a schema
// every stack is checked against (the stack file's own): the fields of each
// struct in it, and the scalars found valid at each place. Places are paths
// with list indices left out, which name one part of the schema. A Compiler
// has one, bounded, and uses it from one goroutine at a time.
type checkMemo struct {
	fields map[string][]schemaField
	valid  map[string]bool
}

// maxMemoValid bounds checkMemo.valid: stack names, say, differ in every
// stack and are not worth remembering past a point.
const maxMemoValid = 4096

func newCheckMemo() *checkMemo {
	return &checkMemo{fields: map[string][]schemaField{}, valid: map[string]bool{}}
}

// place is path with its list indices left out: a[3].b is a[].b.
func place(path string) string {
	if !strings.Contains(path, "[") {
		return path
	}
	var b strings.Builder
	skip := false
	for _, r := range path {
		switch {
		case r == '[':
			skip = true
			b.WriteRune(r)
		case r == ']':
			skip = false
			b.WriteRune(r)
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fieldsOf is schemaFields(v) for v at path, remembered with a memo.
func (c *checker) fieldsOf(v cue.Value, path string) []schemaField {
	if c.memo == nil {
		return schemaFields(v)
	}
	k := place(path)
	if fs, ok := c.memo.fields[k]; ok {
		return fs
	}
	fs := schemaFields(v)
	c.memo.fields[k] = fs
	return fs
}

func (c *checker) add(p Pos, id, msg, hint string) {
	*c.diags = append(*c.diags, Diagnostic{File: c.file, Line: p.Line, Col: p.Col, ID: id, Message: msg, Hint: hint, Resource: c.resource})
}

type schemaField struct {
	name     string
	v        cue.Value
	optional bool
}

func schemaFields(v cue.Value) []schemaField {
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return nil
	}
	var fs []schemaField
	for it.Next() {
		sel := it.Selector()
		if sel.IsDefinition() || sel.PkgPath() != "" {
			continue
		}
		fs = append(fs, schemaField{name: sel.Unquoted(), v: it.Value(), optional: it.IsOptional()})
	}
	return fs
}

// check validates n against schema v. path names n in messages; keyPos is where
// the key owning n is (missing fields are reported there). It returns whether n
// is valid.
func (c *checker) check(n *Node, v cue.Value, path string, keyPos Pos) bool {
	kind := v.IncompleteKind()
	switch {
	case kind == cue.StructKind || kind == cue.StructKind|cue.NullKind && n.Kind != KindNull:
		if n.Kind != KindMap {
			c.typeErr(n, v, path)
			return false
		}
		fields := c.fieldsOf(v, path)
		byName := make(map[string]schemaField, len(fields))
		names := make([]string, 0, len(fields))
		for _, f := range fields {
			byName[f.name] = f
			names = append(names, f.name)
		}
		ok := true
		for _, f := range n.Fields {
			sf, known := byName[f.Key]
			if !known {
				// An open struct without fields (with: {...}) is checked elsewhere;
				// everything else is closed: typos are never ignored.
				if len(fields) == 0 && v.Allows(cue.Str(f.Key)) {
					continue
				}
				ok = false
				msg := fmt.Sprintf("unknown field %q", f.Key)
				if path != "" {
					msg = fmt.Sprintf("unknown field %q in %s", f.Key, path)
				}
				hint := "allowed fields: " + strings.Join(names, ", ")
				if s := suggest(f.Key, names); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
					hint = fmt.Sprintf("rename it to %s", s)
				}
				c.add(f.KeyPos, IDUnknownField, msg, hint)
				continue
			}
			if !c.check(f.Value, sf.v, joinPath(path, f.Key), f.KeyPos) {
				ok = false
			}
		}
		for _, sf := range fields {
			if sf.optional || n.field(sf.name) != nil {
				continue
			}
			if _, hasDef := sf.v.Default(); hasDef {
				continue
			}
			ok = false
			where := "at the top level"
			if path != "" {
				where = "in " + path
			}
			at := keyPos
			if at == (Pos{}) {
				at = n.Pos
			}
			c.add(at, IDMissingField, fmt.Sprintf("missing required field %q %s", sf.name, where),
				fmt.Sprintf("add %s: %s", sf.name, shapeOf(sf.v, 0).Describe()))
		}
		return ok
	case kind == cue.ListKind || kind == cue.ListKind|cue.NullKind && n.Kind != KindNull:
		if n.Kind != KindList {
			c.typeErr(n, v, path)
			return false
		}
		elem := v.LookupPath(pathAnyIndex)
		ok := true
		for i, it := range n.Items {
			if !c.check(it, elem, fmt.Sprintf("%s[%d]", path, i), it.Pos) {
				ok = false
			}
		}
		return ok
	}
	return c.leaf(n, v, path)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func nodeKind(n *Node) cue.Kind {
	switch n.Kind {
	case KindBool:
		return cue.BoolKind
	case KindInt:
		return cue.IntKind
	case KindFloat:
		return cue.FloatKind
	case KindString:
		return cue.StringKind
	case KindMap:
		return cue.StructKind
	case KindList:
		return cue.ListKind
	}
	return cue.NullKind
}

func (c *checker) typeErr(n *Node, v cue.Value, path string) {
	s := shapeOf(v, 0)
	got := kindPhrase(n.Kind)
	if n.Kind != KindMap && n.Kind != KindList && n.Kind != KindNull {
		got += " " + n.Literal()
	}
	hint := ""
	if s.Type == "string" && (n.Kind == KindInt || n.Kind == KindFloat || n.Kind == KindBool) {
		hint = fmt.Sprintf("quote the value: %s", fmt.Sprintf("%q", n.Literal()))
	} else if s.Doc != "" {
		hint = s.Doc
	}
	c.add(n.Pos, IDType, fmt.Sprintf("%s must be %s, not %s", path, s.Describe(), got), hint)
}

// leaf checks a scalar by unifying it with its schema: CUE decides validity,
// the Shape only words the message.
func (c *checker) leaf(n *Node, v cue.Value, path string) bool {
	if n.Kind == KindMap || n.Kind == KindList {
		if v.IncompleteKind()&nodeKind(n) == 0 {
			c.typeErr(n, v, path)
			return false
		}
		return true
	}
	if v.IncompleteKind()&nodeKind(n) == 0 && !(n.Kind == KindInt && v.IncompleteKind()&cue.FloatKind != 0) {
		c.typeErr(n, v, path)
		return false
	}
	var key string
	if c.memo != nil {
		key = place(path) + "\x00" + kindPhrase(n.Kind) + "\x00" + n.Literal()
		if c.memo.valid[key] {
			return true
		}
	}
	u := v.Unify(c.cc.Encode(n.Go()))
	if err := u.Validate(cue.Concrete(true)); err == nil {
		if c.memo != nil && len(c.memo.valid) < maxMemoValid {
			c.memo.valid[key] = true
		}
		return true
	}
	s := shapeOf(v, 0)
	msg := fmt.Sprintf("%s: %s is not %s", path, n.Literal(), s.Describe())
	hint := s.Doc
	if n.Kind == KindString && len(s.Enum) > 0 {
		var opts []string
		for _, e := range s.Enum {
			if str, ok := e.(string); ok {
				opts = append(opts, str)
			}
		}
		if sug := suggest(n.Str, opts); sug != "" {
			msg += fmt.Sprintf("; did you mean %q?", sug)
		}
	}
	c.add(n.Pos, IDInvalidValue, msg, hint)
	return false
}

// suggest returns the candidate closest to s if it is close enough to be a typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(s) <= 4 {
		limit = 1
	}
	if bestD <= limit || (best != "" && bestD < len(s)/2) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
