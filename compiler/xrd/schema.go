// Package xrd turns golden-path templates into Crossplane v2
// CompositeResourceDefinitions, so that a cluster offers each template as a
// namespaced self-service API and enforces the template's rules on requests.
//
// The OpenAPI schema of the XRD comes from the template's CUE parameters (types,
// enums, bounds, patterns, defaults, doc comments); guardrails whose condition
// only reads parameters (and the environment) are carried over as CEL rules
// (x-kubernetes-validations).
package xrd

import (
	"errors"
	"fmt"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// ErrUnsupported is wrapped by errors for CUE constraints OpenAPI cannot express.
var ErrUnsupported = errors.New("not expressible in OpenAPI")

// Schema converts a CUE value (typically a template's parameters struct) into a
// structural OpenAPI v3 schema as Kubernetes accepts it in a CRD. Struct fields
// become properties (required when marked `!` or when a regular field has no
// default), disjunctions of concrete values enums, numeric bounds minimum and
// maximum, `=~` patterns pattern, `*` defaults default, and doc comments
// descriptions. Defaults that depend on other values are left out.
func Schema(v cue.Value) (*apiextensionsv1.JSONSchemaProps, error) {
	return schemaOf(v, "")
}

func schemaOf(v cue.Value, path string) (*apiextensionsv1.JSONSchemaProps, error) {
	s := &apiextensionsv1.JSONSchemaProps{Description: doc(v)}
	k := v.IncompleteKind()
	if k&cue.NullKind != 0 && k != cue.NullKind {
		// *null | T: null stands for "not set".
		k &^= cue.NullKind
		s.Nullable = true
	}
	switch {
	case k == cue.StructKind:
		s.Type = "object"
		if err := structSchema(v, s, path); err != nil {
			return nil, err
		}
	case k == cue.ListKind:
		s.Type = "array"
		elem := listElem(v)
		if !elem.Exists() {
			return nil, fmt.Errorf("%s: a list needs an element type ([...T]): %w", label(path), ErrUnsupported)
		}
		items, err := schemaOf(elem, path+"[]")
		if err != nil {
			return nil, err
		}
		items.Description = ""
		s.Items = &apiextensionsv1.JSONSchemaPropsOrArray{Schema: items}
	case k == cue.StringKind:
		s.Type = "string"
	case k == cue.BoolKind:
		s.Type = "boolean"
	case k == cue.IntKind:
		s.Type = "integer"
	case k == cue.FloatKind || k == cue.NumberKind:
		s.Type = "number"
	case k == cue.IntKind|cue.StringKind:
		s.XIntOrString = true
	default:
		return nil, fmt.Errorf("%s: type %v: %w", label(path), k, ErrUnsupported)
	}
	if k != cue.StructKind && k != cue.ListKind {
		if err := scalarConstraints(v, s); err != nil {
			return nil, fmt.Errorf("%s: %w", label(path), err)
		}
	}
	if d, ok := v.Default(); ok && d.Validate(cue.Concrete(true)) == nil && d.Kind() != cue.NullKind && hasDefaultMarker(v) {
		b, err := d.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("%s: default: %w", label(path), err)
		}
		s.Default = &apiextensionsv1.JSON{Raw: b}
	}
	return s, nil
}

// listElem returns the element constraint of a list type, looking past a
// default ([...string] | *[]).
func listElem(v cue.Value) cue.Value {
	if e := v.LookupPath(cue.MakePath(cue.AnyIndex)); e.Exists() {
		return e
	}
	if op, args := v.Expr(); op == cue.OrOp || op == cue.NoOp {
		for _, a := range args {
			if e := a.LookupPath(cue.MakePath(cue.AnyIndex)); e.Exists() {
				return e
			}
		}
	}
	return cue.Value{}
}

func label(path string) string {
	if path == "" {
		return "parameters"
	}
	return path
}

// isDefaultMarked guesses from v's evaluated expression, for values without
// source, whether v has a default (*x | ...) rather than only a concrete value.
func isDefaultMarked(v cue.Value) bool {
	op, args := v.Expr()
	if op == cue.OrOp {
		return true
	}
	// *20 | int & >=20 evaluates to a single (non-concrete) conjunct whose
	// default survives; a concrete value without a default has no such split.
	if op == cue.NoOp && len(args) == 1 && !args[0].IsConcrete() {
		return true
	}
	return false
}

func structSchema(v cue.Value, s *apiextensionsv1.JSONSchemaProps, path string) error {
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return fmt.Errorf("%s: %w", label(path), err)
	}
	for it.Next() {
		sel := it.Selector()
		name := sel.Unquoted()
		fv := it.Value()
		p := name
		if path != "" {
			p = path + "." + name
		}
		ps, err := schemaOf(fv, p)
		if err != nil {
			return err
		}
		if s.Properties == nil {
			s.Properties = map[string]apiextensionsv1.JSONSchemaProps{}
		}
		s.Properties[name] = *ps
		switch sel.ConstraintType() {
		case cue.RequiredConstraint:
			s.Required = append(s.Required, name)
		case cue.OptionalConstraint:
		default:
			// A regular field a request must make concrete.
			scalar := ps.Type != "object" && ps.Type != "array"
			if scalar && ps.Default == nil && !fv.IsConcrete() && !hasDefaultMarker(fv) {
				s.Required = append(s.Required, name)
			}
		}
	}
	// A pattern constraint [string]: T is a map.
	if elem := v.LookupPath(cue.MakePath(cue.AnyString)); elem.Exists() {
		es, err := schemaOf(elem, path+"[*]")
		if err != nil {
			return err
		}
		es.Description = ""
		s.AdditionalProperties = &apiextensionsv1.JSONSchemaPropsOrBool{Allows: true, Schema: es}
	}
	return nil
}

// hasDefaultMarker reports whether v's source marks a default (*x | ...), even
// one that depends on other values and so is not in the schema: such a field is
// not required.
func hasDefaultMarker(v cue.Value) bool {
	var e ast.Node = v.Source()
	if f, ok := e.(*ast.Field); ok {
		e = f.Value
	}
	var marked func(ast.Node) bool
	marked = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.UnaryExpr:
			return n.Op == token.MUL
		case *ast.BinaryExpr:
			return n.Op == token.OR && (marked(n.X) || marked(n.Y))
		case *ast.ParenExpr:
			return marked(n.X)
		}
		return false
	}
	if e != nil {
		return marked(e)
	}
	return isDefaultMarked(v)
}

// scalarConstraints adds enum, bounds and pattern of a scalar value.
func scalarConstraints(v cue.Value, s *apiextensionsv1.JSONSchemaProps) error {
	op, args := v.Expr()
	switch op {
	case cue.OrOp:
		var enum []apiextensionsv1.JSON
		for _, a := range args {
			if a.Kind() == cue.NullKind {
				continue // nullable, see schemaOf
			}
			if !a.IsConcrete() {
				// *x | int & >=1: the non-concrete branch carries the constraints.
				enum = nil
				for _, b := range args {
					if !b.IsConcrete() {
						if err := scalarConstraints(b, s); err != nil {
							return err
						}
					}
				}
				return nil
			}
			b, err := a.MarshalJSON()
			if err != nil {
				return err
			}
			enum = append(enum, apiextensionsv1.JSON{Raw: b})
		}
		s.Enum = enum
		return nil
	case cue.AndOp:
		for _, a := range args {
			if err := scalarConstraints(a, s); err != nil {
				return err
			}
		}
		return nil
	case cue.NoOp:
		if len(args) == 1 {
			if inner, _ := args[0].Expr(); inner != cue.NoOp {
				return scalarConstraints(args[0], s)
			}
		}
		if v.IsConcrete() && !hasDefaultMarker(v) {
			// A constant: the only accepted value.
			b, err := v.MarshalJSON()
			if err != nil {
				return err
			}
			s.Enum = []apiextensionsv1.JSON{{Raw: b}}
		}
		return nil
	case cue.GreaterThanEqualOp, cue.GreaterThanOp, cue.LessThanEqualOp, cue.LessThanOp:
		if len(args) != 1 {
			return nil
		}
		f, err := args[0].Float64()
		if err != nil {
			return fmt.Errorf("bound %v: %w", args[0], ErrUnsupported)
		}
		switch op {
		case cue.GreaterThanEqualOp, cue.GreaterThanOp:
			if s.Minimum == nil || f >= *s.Minimum {
				s.Minimum, s.ExclusiveMinimum = &f, op == cue.GreaterThanOp
			}
		default:
			if s.Maximum == nil || f <= *s.Maximum {
				s.Maximum, s.ExclusiveMaximum = &f, op == cue.LessThanOp
			}
		}
		return nil
	case cue.RegexMatchOp:
		if len(args) == 1 {
			re, err := args[0].String()
			if err != nil {
				return err
			}
			if s.Pattern != "" && s.Pattern != re {
				return fmt.Errorf("two patterns: %w", ErrUnsupported)
			}
			s.Pattern = re
		}
		return nil
	default:
		// Other constraints (function calls, != ...) stay in CUE: the compiler
		// enforces them; the schema only carries what OpenAPI can say.
		return nil
	}
}

// doc returns v's doc comments as one description.
func doc(v cue.Value) string {
	var parts []string
	for _, c := range v.Doc() {
		if t := strings.TrimSpace(c.Text()); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n")
}
