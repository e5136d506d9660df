package compiler

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
)

// A resource's evaluated template is a pure function of the template, the
// stack's target, the parameters and the fields of context the template
// reads. Stacks of a tree share most of them (the same parameters in every
// dev stack, say), so each compiler keeps, per template, the evaluations it
// made (at most maxEvals) and what was read from them, and a resource that
// matches one reuses it instead of evaluating the template again.

// maxEvals bounds how many evaluated resources a template keeps (a variable
// for tests). An evaluation is kept only once its key has come twice: an
// evaluated template holds a few hundred KiB of CUE's graph, and in a tree
// whose resources all differ, keeping the first 64 of each template per
// worker cost 190 MiB and the collector's time for nothing.
var maxEvals = 64

// maxSeen bounds the keys a template remembers having seen once.
const maxSeen = 4096

// evaluated is one evaluation of a template and what the compiler read from
// it, each read done once. Readers copy what they hand on.
type evaluated struct {
	v        cue.Value
	paramErr error // parameters not concrete or invalid

	railsDone bool
	rails     []guardrail
	railsErr  error

	costDone bool
	cost     *ResourceCost
	costErr  error

	outDone bool
	inputs  map[string]any
	objects []map[string]any
	outErr  error

	trace       *valueTrace // for target traceTarget
	traceTarget string
}

// traced returns the render record's trace of the evaluation for target
// (sources.go); it is shared, not copied: its readers do not modify it.
func (e *evaluated) traced(t *Template, target string) *valueTrace {
	if e.trace == nil || e.traceTarget != target {
		e.trace, e.traceTarget = traceValue(t, e.v, target), target
	}
	return e.trace
}

func (e *evaluated) guardrails() ([]guardrail, error) {
	if !e.railsDone {
		e.railsDone = true
		e.rails, e.railsErr = evalGuardrails(e.v.LookupPath(pathGuardrails), true)
	}
	return slices.Clone(e.rails), e.railsErr
}

func (e *evaluated) estimate(t *Template, region string, usageSet map[string]bool) (*ResourceCost, error) {
	if usageSet != nil {
		return evalCost(t, e.v, region, usageSet)
	}
	if !e.costDone {
		e.costDone = true
		e.cost, e.costErr = evalCost(t, e.v, region, nil)
	}
	if e.costErr != nil {
		return nil, e.costErr
	}
	rc := *e.cost
	rc.Items = slices.Clone(rc.Items)
	rc.Assumptions = slices.Clone(rc.Assumptions)
	rc.Unpriced = slices.Clone(rc.Unpriced)
	return &rc, nil
}

// outputs decodes what target renders: terraform.inputs or crossplane.resources.
func (e *evaluated) outputs(t *Template, target string) (map[string]any, []map[string]any, error) {
	if !e.outDone {
		e.outDone = true
		switch target {
		case "terraform":
			if err := e.v.LookupPath(pathTfInputs).Decode(&e.inputs); err != nil {
				e.outErr = fmt.Errorf("template %s: terraform.inputs: %s", t.Name, errorText(err))
			}
		case "crossplane":
			if err := e.v.LookupPath(pathCpResources).Decode(&e.objects); err != nil {
				e.outErr = fmt.Errorf("template %s: crossplane.resources: %s", t.Name, errorText(err))
			}
		}
	}
	var objs []map[string]any
	if e.objects != nil {
		objs = make([]map[string]any, len(e.objects))
		for i, o := range e.objects {
			objs[i] = deepCopy(o).(map[string]any)
		}
	}
	var in map[string]any
	if e.inputs != nil {
		in = deepCopy(e.inputs).(map[string]any)
	}
	return in, objs, e.outErr
}

// deepCopy copies decoded JSON-like data (maps, slices, scalars), so that a
// render adding to one resource's inputs leaves the shared evaluation alone.
func deepCopy(x any) any {
	switch x := x.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = deepCopy(v)
		}
		return m
	case []any:
		if x == nil {
			return x
		}
		l := make([]any, len(x))
		for i, v := range x {
			l[i] = deepCopy(v)
		}
		return l
	}
	return x
}

// evaluate returns t evaluated for target with ctx as context and with as
// parameters, from the template's memo when an earlier resource had the same
// key; the caller holds c.mu.
func (c *Compiler) evaluate(t *Template, target string, ctx map[string]any, with *Node) *evaluated {
	key, ok := t.evalKey(target, ctx, with)
	if ok {
		if e, hit := t.evals[key]; hit {
			return e
		}
	}
	// Encode, not FillPath with Go data: a null parameter stays null.
	v := c.instanceBase(t, target).Unify(c.cc.Encode(map[string]any{"context": ctx, "parameters": with.Go()}))
	e := &evaluated{v: v, paramErr: v.LookupPath(pathParameters).Validate(cue.Concrete(true))}
	if ok && len(t.evals) < maxEvals {
		if _, again := t.evalSeen[key]; again {
			if t.evals == nil {
				t.evals = map[string]*evaluated{}
			}
			t.evals[key] = e
			delete(t.evalSeen, key)
		} else {
			if t.evalSeen == nil || len(t.evalSeen) >= maxSeen {
				t.evalSeen = map[string]struct{}{}
			}
			t.evalSeen[key] = struct{}{}
		}
	}
	return e
}

// evalKey is the memo key of a resource: target, the context fields the
// template reads for that target (with environment and region, which the
// cost model and #Context's checks read), and the parameters exactly as they
// are encoded. ok is false when the template may read all of context.
func (t *Template) evalKey(target string, ctx map[string]any, with *Node) (string, bool) {
	if t.evalContext == nil {
		t.evalContext = map[string][]string{}
	}
	fields, known := t.evalContext[target]
	if !known {
		fields = evalContextFields(t.syntax(), target)
		t.evalContext[target] = fields
	}
	if fields == nil {
		return "", false
	}
	sub := make(map[string]any, len(fields)+2)
	for _, k := range append([]string{"environment", "region"}, fields...) {
		if x, ok := ctx[k]; ok {
			sub[k] = x
		}
	}
	b, err := json.Marshal(sub) // map keys sorted
	if err != nil {
		return "", false
	}
	var k strings.Builder
	k.WriteString(target)
	k.WriteByte(0)
	k.Write(b)
	k.WriteByte(0)
	nodeKey(&k, with)
	return k.String(), true
}

// nodeKey writes n as what Node.Go gives CUE: kinds kept apart (1 and 1.0,
// "1" and 1), fields in source order.
func nodeKey(b *strings.Builder, n *Node) {
	switch n.Kind {
	case KindNull:
		b.WriteString("n")
	case KindBool:
		b.WriteString(strconv.FormatBool(n.Bool))
	case KindInt:
		b.WriteString("i" + strconv.FormatInt(n.Int, 10))
	case KindFloat:
		b.WriteString("f" + strconv.FormatFloat(n.Float, 'g', -1, 64))
	case KindString:
		b.WriteString(strconv.Quote(n.Str))
	case KindMap:
		b.WriteByte('{')
		for _, f := range n.Fields {
			b.WriteString(strconv.Quote(f.Key))
			b.WriteByte(':')
			nodeKey(b, f.Value)
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case KindList:
		b.WriteByte('[')
		for _, it := range n.Items {
			nodeKey(b, it)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	}
}

// evalContextFields lists the context fields that what a resource of target
// reads from the template depends on: those read, as context.NAME, by the
// template's regular fields other than the other target's (and context and
// parameters' own declarations), directly or through hidden fields and
// definitions. It returns nil (all of context may matter) when f is nil, a
// kept declaration reads context other than as context.NAME, the template
// constrains context itself (context: other than _), or what is kept refers
// to the other target's field.
func evalContextFields(f *ast.File, target string) []string {
	drop := map[string]string{"terraform": "crossplane", "crossplane": "terraform"}[target]
	if f == nil || drop == "" {
		return nil
	}
	keep := reachDecls(f, func(name string) bool { return name != drop })
	for _, d := range f.Decls {
		fd, ok := d.(*ast.Field)
		if !ok || !keep(d) {
			continue
		}
		if id, ok := fd.Label.(*ast.Ident); ok && id.Name == "context" {
			if v, ok := fd.Value.(*ast.Ident); !ok || v.Name != "_" {
				return nil
			}
		}
		if refersTo(d, drop) {
			return nil
		}
	}
	fields := contextFields(f, keep)
	if fields == nil {
		return nil
	}
	return append([]string{}, fields...)
}

// refersTo reports whether d uses the identifier name other than as a label.
func refersTo(d ast.Decl, name string) bool {
	labels := map[*ast.Ident]bool{}
	found := false
	ast.Walk(d, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Field:
			if id, ok := n.Label.(*ast.Ident); ok {
				labels[id] = true
			}
		case *ast.Ident:
			if n.Name == name && !labels[n] {
				found = true
			}
		}
		return !found
	}, nil)
	return found
}

// decodeAny is v.Decode into an any for an evaluated, concrete v, without
// Decode's evaluation context and sorted fields per value (which profiles
// of validate showed as a tenth of a stack's work): the same maps, lists
// and scalars as Decode gives (int64, float64, string, bool, nil). ok is
// false where Decode might say more (an error, a big number, bytes): callers
// then call Decode.
func decodeAny(v cue.Value) (x any, ok bool) {
	v, _ = v.Default()
	switch v.Kind() {
	case cue.NullKind:
		return nil, true
	case cue.BoolKind:
		b, err := v.Bool()
		return b, err == nil
	case cue.IntKind:
		i, err := v.Int64()
		return i, err == nil
	case cue.FloatKind:
		f, err := v.Float64()
		return f, err == nil
	case cue.StringKind:
		s, err := v.String()
		return s, err == nil
	case cue.ListKind:
		it, err := v.List()
		if err != nil {
			return nil, false
		}
		l := []any{}
		for it.Next() {
			e, ok := decodeAny(it.Value())
			if !ok {
				return nil, false
			}
			l = append(l, e)
		}
		return l, true
	case cue.StructKind:
		m, ok := decodeMap(v)
		return m, ok
	}
	return nil, false
}

// decodeMap is decodeAny of a struct: its regular fields.
func decodeMap(v cue.Value) (map[string]any, bool) {
	v, _ = v.Default()
	it, err := v.Fields()
	if err != nil {
		return nil, false
	}
	m := map[string]any{}
	for it.Next() {
		e, ok := decodeAny(it.Value())
		if !ok {
			return nil, false
		}
		m[it.Selector().Unquoted()] = e
	}
	return m, true
}

// decodeStrings is v.Decode into a map[string]string for an evaluated struct
// of strings; ok false as for decodeAny.
func decodeStrings(v cue.Value) (map[string]string, bool) {
	v, _ = v.Default()
	it, err := v.Fields()
	if err != nil {
		return nil, false
	}
	m := map[string]string{}
	for it.Next() {
		e, _ := it.Value().Default()
		if e.Kind() != cue.StringKind {
			return nil, false
		}
		s, err := e.String()
		if err != nil {
			return nil, false
		}
		m[it.Selector().Unquoted()] = s
	}
	return m, true
}
