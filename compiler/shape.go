package compiler

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"
)

// Shape describes a CUE schema value in the terms users and JSON Schema need:
// a type, allowed values, bounds, a pattern, a default and documentation. The
// compiler derives it from the same CUE definitions it validates with.
type Shape struct {
	// Type is string, integer, number, boolean, null, object, array or "" (any).
	Type string
	// Nullable is set when null is allowed besides Type.
	Nullable bool
	Enum     []any
	Min      *float64
	Max      *float64
	// ExclusiveMin and ExclusiveMax make Min and Max strict bounds.
	ExclusiveMin bool
	ExclusiveMax bool
	Pattern      string
	// Default is the default value; HasDefault says whether there is one.
	// DefaultText describes a default that depends on the stack (see Doc).
	Default    any
	HasDefault bool
	Doc        string
	// Fields of an object, in declaration order; Open objects allow any field.
	Fields []ShapeField
	Open   bool
	// Elem is the element shape of an array.
	Elem *Shape

	refs int // references followed, to bound recursion
}

// ShapeField is one field of an object Shape.
type ShapeField struct {
	Name     string
	Required bool
	Shape    *Shape
}

// Field returns the named field, or nil.
func (s *Shape) Field(name string) *ShapeField {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

func docOf(v cue.Value) string {
	var parts []string
	for _, cg := range v.Doc() {
		if t := strings.TrimSpace(cg.Text()); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

// shapeOf derives the Shape of v. depth bounds recursion through definitions.
func shapeOf(v cue.Value, depth int) *Shape {
	s := &Shape{Doc: docOf(v)}
	if d, ok := v.Default(); ok && d.IsConcrete() {
		var x any
		if err := d.Decode(&x); err == nil {
			s.Default, s.HasDefault = x, true
		}
	}
	k := v.IncompleteKind()
	if k&cue.NullKind != 0 && k != cue.NullKind {
		s.Nullable = true
		k &^= cue.NullKind
	}
	switch k {
	case cue.StructKind:
		s.Type = "object"
		if depth > 8 {
			s.Open = true
			return s
		}
		s.Open = v.Allows(cue.AnyString)
		it, err := v.Fields(cue.Optional(true))
		if err != nil {
			return s
		}
		for it.Next() {
			sel := it.Selector()
			if sel.IsDefinition() || sel.PkgPath() != "" {
				continue
			}
			fv := it.Value()
			fs := shapeOf(fv, depth+1)
			if fs.Doc == "" {
				fs.Doc = docOf(fv)
			}
			_, hasDef := fv.Default()
			s.Fields = append(s.Fields, ShapeField{
				Name:     sel.Unquoted(),
				Required: !it.IsOptional() && !hasDef && !markedDefault(fv.Source()),
				Shape:    fs,
			})
		}
		return s
	case cue.ListKind:
		s.Type = "array"
		if depth <= 8 {
			s.Elem = shapeOf(v.LookupPath(pathAnyIndex), depth+1)
		}
		return s
	case cue.StringKind:
		s.Type = "string"
	case cue.IntKind:
		s.Type = "integer"
	case cue.NumberKind, cue.FloatKind:
		s.Type = "number"
	case cue.BoolKind:
		s.Type = "boolean"
	case cue.NullKind:
		s.Type = "null"
	}
	s.collect(v)
	return s
}

// collect gathers enums, bounds and patterns from v's expression tree.
func (s *Shape) collect(v cue.Value) {
	op, args := v.Expr()
	switch op {
	case cue.OrOp:
		all := true
		for _, a := range args {
			if !a.IsConcrete() {
				all = false
			}
		}
		if all {
			for _, a := range args {
				var x any
				if a.Decode(&x) == nil && x != nil {
					s.Enum = appendUnique(s.Enum, x)
				}
			}
			return
		}
		for _, a := range args {
			if !a.IsConcrete() {
				s.collect(a)
			}
		}
	case cue.AndOp:
		for _, a := range args {
			s.collect(a)
		}
	case cue.LessThanEqualOp, cue.LessThanOp:
		if f, ok := number(args); ok {
			s.Max, s.ExclusiveMax = &f, op == cue.LessThanOp
		}
	case cue.GreaterThanEqualOp, cue.GreaterThanOp:
		if f, ok := number(args); ok {
			s.Min, s.ExclusiveMin = &f, op == cue.GreaterThanOp
		}
	case cue.RegexMatchOp:
		if len(args) == 1 {
			if p, err := args[0].String(); err == nil {
				s.Pattern = p
			}
		}
	case cue.SelectorOp:
		if root, ref := v.ReferencePath(); root.Exists() && len(ref.Selectors()) > 0 && s.refs < 8 {
			s.refs++
			s.collect(root.LookupPath(ref))
		}
	case cue.NoOp:
		if !v.IsConcrete() {
			// CUE folds a default into a disjunct it subsumes (*20 | int & >=20 & <=2000
			// evaluates to one value); the source still says what is allowed.
			if e, ok := v.Source().(ast.Expr); ok {
				s.collectAST(e)
			} else if f, ok := v.Source().(*ast.Field); ok {
				s.collectAST(f.Value)
			}
			return
		}
		if v.IsConcrete() && v.Kind() != cue.StructKind && v.Kind() != cue.ListKind {
			var x any
			if v.Decode(&x) == nil && x != nil {
				s.Enum = appendUnique(s.Enum, x)
			}
		}
	}
}

// markedDefault reports whether a field's source has a *default disjunct (whose
// value may depend on data not filled in yet).
func markedDefault(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.Field:
		return markedDefault(n.Value)
	case *ast.ParenExpr:
		return markedDefault(n.X)
	case *ast.BinaryExpr:
		return n.Op == token.OR && (markedDefault(n.X) || markedDefault(n.Y))
	case *ast.UnaryExpr:
		return n.Op == token.MUL
	}
	return false
}

// collectAST reads bounds and patterns from a constraint's source expression.
func (s *Shape) collectAST(e ast.Expr) {
	switch e := e.(type) {
	case *ast.ParenExpr:
		s.collectAST(e.X)
	case *ast.BinaryExpr:
		if e.Op == token.OR {
			// Only the non-default, non-literal side carries constraints.
			for _, x := range []ast.Expr{e.X, e.Y} {
				if u, ok := x.(*ast.UnaryExpr); ok && u.Op == token.MUL {
					continue
				}
				if _, ok := x.(*ast.BasicLit); ok {
					continue
				}
				s.collectAST(x)
			}
			return
		}
		if e.Op == token.AND {
			s.collectAST(e.X)
			s.collectAST(e.Y)
		}
	case *ast.UnaryExpr:
		lit, ok := e.X.(*ast.BasicLit)
		if !ok {
			return
		}
		switch e.Op {
		case token.GEQ, token.GTR, token.LEQ, token.LSS:
			f, err := strconv.ParseFloat(lit.Value, 64)
			if err != nil {
				return
			}
			switch e.Op {
			case token.GEQ, token.GTR:
				s.Min, s.ExclusiveMin = &f, e.Op == token.GTR
			default:
				s.Max, s.ExclusiveMax = &f, e.Op == token.LSS
			}
		case token.MAT:
			if p, err := literal.Unquote(lit.Value); err == nil {
				s.Pattern = p
			}
		}
	}
}

func appendUnique(l []any, x any) []any {
	for _, y := range l {
		if fmt.Sprint(y) == fmt.Sprint(x) {
			return l
		}
	}
	return append(l, x)
}

func number(args []cue.Value) (float64, bool) {
	if len(args) != 1 {
		return 0, false
	}
	f, err := args[0].Float64()
	return f, err == nil
}

// Describe says in words what values the shape allows: `one of "a", "b"`,
// `an integer between 20 and 2000`, `a string matching ^CC-[0-9]{4}$`.
func (s *Shape) Describe() string {
	var d string
	switch {
	case len(s.Enum) == 1:
		d = literalOf(s.Enum[0])
	case len(s.Enum) > 0:
		parts := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			parts[i] = literalOf(e)
		}
		d = "one of " + strings.Join(parts, ", ")
	default:
		d = typePhrase(s.Type)
		switch {
		case s.Min != nil && s.Max != nil:
			d += fmt.Sprintf(" between %s and %s", fnum(*s.Min), fnum(*s.Max))
		case s.Min != nil:
			d += " of at least " + fnum(*s.Min)
		case s.Max != nil:
			d += " of at most " + fnum(*s.Max)
		}
		if s.Pattern != "" {
			d += " matching " + s.Pattern
		}
	}
	if s.Nullable {
		d += ", or null"
	}
	return d
}

// TypeName is a short type for tables: string, integer, boolean, "small|medium".
func (s *Shape) TypeName() string {
	if len(s.Enum) > 0 {
		parts := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			parts[i] = literalOf(e)
		}
		return strings.Join(parts, " | ")
	}
	t := s.Type
	if t == "" {
		t = "any"
	}
	if s.Min != nil && s.Max != nil {
		t += fmt.Sprintf(" %s..%s", fnum(*s.Min), fnum(*s.Max))
	}
	if s.Nullable {
		t += " | null"
	}
	return t
}

func typePhrase(t string) string {
	switch t {
	case "":
		return "a value"
	case "integer", "object", "array":
		return "an " + t
	}
	return "a " + t
}

func fnum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func literalOf(x any) string {
	switch x := x.(type) {
	case string:
		return strconv.Quote(x)
	case nil:
		return "null"
	}
	return fmt.Sprint(x)
}
