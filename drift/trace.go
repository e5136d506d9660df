package drift

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"

	"github.com/platdev/plat/compiler/record"
)

// Tracing follows each drifted attribute back to the stack file: resource
// attribute -> module input (Terraform) or emitted field (Crossplane) ->
// template parameter -> stack-file field, using the render record plat render
// writes beside a stack's output (compiler/record). A Resolver does the first
// step for one kind of stack; the Tracer does the rest.

// Resolution is where a drifted attribute's rendered value is, as a Resolver
// finds it.
type Resolution struct {
	// Resource is the stack resource (record.Resource.Name); "" when the
	// attribute belongs to none.
	Resource string
	// Path is the rendered value's path in the resource's record: a module
	// input with the path below it (tags.team), or an emitted field.
	Path string
	// Input and Function are reported as AttributeChange.Input and Function.
	Input, Function string
	// Invert turns the live attribute value into the rendered value's; nil
	// when the mapping is not invertible (a function such as upper()).
	Invert func(live, declared any) (any, bool)
	// Untraced, when set, is the origin of an attribute the stack does not
	// render (OriginProvider, OriginDerived); the other fields are then unset.
	Untraced string
}

// Identity is the Invert of a direct mapping.
func Identity(live, _ any) (any, bool) { return live, true }

// Resolver maps a drifted attribute of a stack directory to the rendered value
// it comes from. Resolvers are called concurrently for different directories.
type Resolver interface {
	Resolve(ctx context.Context, dir string, rec *record.Record, address, path string) Resolution
}

// GuardrailChecker re-evaluates a resource's guardrails with some parameters
// replaced (compiler.Compiler.CheckResource, wired by the CLI).
type GuardrailChecker interface {
	CheckGuardrails(ctx context.Context, rec *record.Record, res *record.Resource, override map[string]any) ([]Guardrail, error)
}

// Guardrail is one guardrail a GuardrailChecker found broken.
type Guardrail struct {
	ID, Severity, Message string
	// Parameter is the parameter the guardrail is about ("" for the template).
	Parameter string
}

// Tracer traces drifted attributes back to the stack file and checks the
// guardrails of the live values. A nil *Tracer traces nothing.
type Tracer struct {
	Resolvers  map[Kind]Resolver
	Guardrails GuardrailChecker // nil: no guardrail checks
	// Log receives problems that leave an attribute untraced (an unreadable
	// record, a guardrail check that failed); nil discards them.
	Log *slog.Logger
}

// Trace fills the trace fields of sr's changes. A stack directory without a
// render record is left as it is.
func (t *Tracer) Trace(ctx context.Context, dir string, kind Kind, sr *StackReport) {
	if t == nil || len(sr.Resources) == 0 {
		return
	}
	rv := t.Resolvers[kind]
	if rv == nil {
		return
	}
	rec, err := record.Read(dir)
	if err != nil {
		if !errors.Is(err, record.ErrNoRecord) {
			t.log().Warn("drift: render record", "dir", dir, "err", err)
		}
		return
	}
	type live struct {
		params  map[string]any
		changes []*AttributeChange
	}
	overrides := map[string]*live{}
	var order []string
	for i := range sr.Resources {
		rd := &sr.Resources[i]
		for j := range rd.Changes {
			c := &rd.Changes[j]
			res := rv.Resolve(ctx, dir, rec, rd.Address, c.Path)
			p, lv, ok := t.apply(rec, res, c)
			if !ok {
				continue
			}
			o := overrides[res.Resource]
			if o == nil {
				o = &live{params: map[string]any{}}
				overrides[res.Resource] = o
				order = append(order, res.Resource)
			}
			o.params[p] = lv
			o.changes = append(o.changes, c)
		}
	}
	if t.Guardrails == nil {
		return
	}
	for _, name := range order {
		o := overrides[name]
		res := rec.Resource(name)
		gs, err := t.Guardrails.CheckGuardrails(ctx, rec, res, o.params)
		if err != nil {
			t.log().Warn("drift: guardrails on live values", "dir", dir, "resource", name, "err", err)
			continue
		}
		for _, g := range gs {
			v := &GuardrailViolation{ID: g.ID, Severity: g.Severity, Message: name + ": " + g.Message}
			target := o.changes[0]
			for _, c := range o.changes {
				if c.Stack.Parameter == g.Parameter {
					target = c
					break
				}
			}
			if target.Guardrail == nil || (target.Guardrail.Severity != "error" && g.Severity == "error") {
				target.Guardrail = v
			}
		}
	}
}

func (t *Tracer) log() *slog.Logger {
	if t.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Log
}

// apply sets c's trace fields from res; it returns the parameter and its live
// value when the change maps back to a parameter invertibly.
func (t *Tracer) apply(rec *record.Record, res Resolution, c *AttributeChange) (string, any, bool) {
	c.Input, c.Function = res.Input, res.Function
	mark := func(origin string) {
		traced := false
		c.Traced, c.Origin = &traced, origin
	}
	if res.Untraced != "" || res.Resource == "" {
		mark(cmpOr(res.Untraced, OriginProvider))
		return "", nil, false
	}
	r := rec.Resource(res.Resource)
	if r == nil {
		mark(OriginDerived)
		return "", nil, false
	}
	o, below, ok := lookupOrigin(r, res.Path)
	if !ok {
		mark(OriginProvider)
		return "", nil, false
	}
	switch o.Origin {
	case record.OriginStack, record.OriginDefault:
	default:
		mark(OriginDerived)
		return "", nil, false
	}
	param := r.Parameters[o.Parameter]
	sf := &StackField{File: rec.Source, Line: r.Line, Col: r.Col, Resource: r.Name, Parameter: o.Parameter, Declared: param.Value}
	if o.Origin == record.OriginStack {
		sf.Line, sf.Col = o.Line, o.Col
	} else {
		c.Origin = OriginDefault
	}
	c.Stack = sf
	if below != "" || res.Invert == nil || c.Sensitive {
		return "", nil, false
	}
	lv, ok := res.Invert(c.Live, param.Value)
	if !ok {
		return "", nil, false
	}
	sf.Live = lv
	return o.Parameter, lv, true
}

// lookupOrigin finds the origin of a rendered value: path is a module input
// path, or OBJECT-INDEX/FIELD-PATH for a Crossplane object (ObjectPath).
func lookupOrigin(r *record.Resource, path string) (record.Origin, string, bool) {
	if i, rest, ok := strings.Cut(path, "/"); ok && len(r.Objects) > 0 {
		n, err := strconv.Atoi(i)
		if err != nil || n < 0 || n >= len(r.Objects) {
			return record.Origin{}, "", false
		}
		return record.Lookup(r.Objects[n].Fields, rest)
	}
	return record.Lookup(r.Inputs, path)
}

// ObjectPath is the Resolution.Path of field path of a resource's n-th
// emitted object.
func ObjectPath(n int, path string) string { return strconv.Itoa(n) + "/" + path }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ConvertLike turns v into the JSON type of like: the inverse of tostring,
// tonumber and tobool for a parameter whose declared value is like.
func ConvertLike(v, like any) (any, bool) {
	switch like.(type) {
	case bool:
		switch x := v.(type) {
		case bool:
			return x, true
		case string:
			b, err := strconv.ParseBool(x)
			return b, err == nil
		}
	case string:
		switch x := v.(type) {
		case string:
			return x, true
		case json.Number:
			return x.String(), true
		case bool:
			return strconv.FormatBool(x), true
		}
	case json.Number, float64, int, int64:
		switch x := v.(type) {
		case json.Number:
			return x, true
		case float64:
			return x, true
		case string:
			n := json.Number(x)
			if _, err := n.Float64(); err != nil {
				return nil, false
			}
			return n, true
		}
	}
	return nil, false
}

// PathSegment is one element of an attribute path: a key, or an index when
// IsIndex.
type PathSegment struct {
	Key     string
	Index   int
	IsIndex bool
}

// SplitPath splits an attribute path as reports write it (tags.team,
// rule[0].x, labels["plat.dev/stack"]) into segments; ok is false for a path
// it cannot read.
func SplitPath(p string) ([]PathSegment, bool) {
	var out []PathSegment
	for i := 0; i < len(p); {
		switch p[i] {
		case '.':
			i++
		case '[':
			j := i + 1
			if j < len(p) && p[j] == '"' {
				// A quoted key: find the closing quote, honouring escapes.
				k := j + 1
				for k < len(p) && p[k] != '"' {
					if p[k] == '\\' {
						k++
					}
					k++
				}
				if k+1 >= len(p) || p[k+1] != ']' {
					return nil, false
				}
				key, err := strconv.Unquote(p[j : k+1])
				if err != nil {
					return nil, false
				}
				out = append(out, PathSegment{Key: key})
				i = k + 2
				continue
			}
			k := strings.IndexByte(p[j:], ']')
			if k < 0 {
				return nil, false
			}
			n, err := strconv.Atoi(p[j : j+k])
			if err != nil {
				return nil, false
			}
			out = append(out, PathSegment{Index: n, IsIndex: true})
			i = j + k + 1
		default:
			k := strings.IndexAny(p[i:], ".[")
			if k < 0 {
				k = len(p) - i
			}
			out = append(out, PathSegment{Key: p[i : i+k]})
			i += k
		}
	}
	return out, len(out) > 0
}

// JoinPath writes segments back as a path (the inverse of SplitPath).
func JoinPath(segs []PathSegment) string {
	var p string
	for _, s := range segs {
		if s.IsIndex {
			p += "[" + strconv.Itoa(s.Index) + "]"
			continue
		}
		p = record.Join(p, s.Key)
	}
	return p
}
