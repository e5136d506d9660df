package compiler

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"

	"github.com/platdev/plat/compiler/record"
)

// The render record (package record) says, for every module input and every
// emitted field, where its value came from. The rule, applied to the
// evaluated template (docs/compiler.md, "Where values come from"):
//
//   - a value that is exactly a reference to parameters.P has P's origin: the
//     stack file's field and position when the stack sets P, else the
//     template's default;
//   - a reference to context.X (name, namespace, region, tags, labels) is
//     plat's, from the stack's metadata and spec;
//   - any other expression is derived: from the parameters its references
//     reach, followed through hidden fields (_instanceClass) a few levels
//     deep; with none it is context (if it reaches context) or a constant.

// maxTraceDepth bounds how far references are followed through the template.
const maxTraceDepth = 8

// originOf returns the origin of v, a value of t evaluated, for any resource:
// what an expression of the template reaches is the same for every resource
// of the template, so it is worked out once per field and expression (path
// and position in the template); only whether the stack sets a parameter is
// looked up per resource (resolve). final is false when v is a struct or list
// that is no reference (its fields have origins of their own).
func (t *Template) originOf(v cue.Value) cachedOrigin {
	key := v.Path().String() + "@" + v.Pos().String()
	o, ok := t.origins[key]
	if !ok {
		o = templateOrigin(v)
		if t.origins == nil {
			t.origins = map[string]cachedOrigin{}
		}
		t.origins[key] = o
	}
	return o
}

// resolve is o's origin for resource r.
func (s *stackCompiler) resolve(r *resource, o cachedOrigin) record.Origin {
	if o.param != "" {
		return s.paramOrigin(r, o.param)
	}
	return o.origin
}

// cachedOrigin is the origin of a template's expression, for any resource:
// param when it is exactly a parameter, else origin; final is false for a
// struct or list whose fields have origins of their own.
type cachedOrigin struct {
	param  string
	origin record.Origin
	final  bool
}

func templateOrigin(v cue.Value) cachedOrigin {
	if p, isParam, isCtx := refOf(v); isParam {
		return cachedOrigin{param: p, final: true}
	} else if isCtx {
		return cachedOrigin{origin: record.Origin{Origin: record.OriginContext}, final: true}
	}
	switch v.IncompleteKind() {
	case cue.StructKind, cue.ListKind:
		return cachedOrigin{}
	}
	o := leafOrigin(v)
	return cachedOrigin{origin: o, final: true}
}

// leafOrigin is the origin of a value that is no reference to a parameter
// or the context.
func leafOrigin(v cue.Value) record.Origin {
	params := map[string]bool{}
	ctx := false
	collectRefs(v, 0, params, &ctx)
	switch {
	case len(params) > 0:
		ps := make([]string, 0, len(params))
		for p := range params {
			ps = append(ps, p)
		}
		sort.Strings(ps)
		return record.Origin{Origin: record.OriginDerived, Parameters: ps}
	case ctx:
		return record.Origin{Origin: record.OriginContext}
	}
	return record.Origin{Origin: record.OriginConstant}
}

// refOf says whether v is exactly a reference to a parameter (and which) or
// into the context.
func refOf(v cue.Value) (param string, isParam, isCtx bool) {
	root, p := soleRef(v)
	if !root.Exists() {
		return "", false, false
	}
	sels := p.Selectors()
	if len(sels) == 0 {
		return "", false, false
	}
	switch sels[0].String() {
	case "parameters":
		if len(sels) < 2 {
			return "", false, false
		}
		names := make([]string, 0, len(sels)-1)
		for _, sel := range sels[1:] {
			names = append(names, unquote(sel.String()))
		}
		return strings.Join(names, "."), true, false
	case "context":
		return "", false, true
	}
	return "", false, false
}

func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

// soleRef returns the reference v is: v itself, or the one conjunct of v that
// is a reference when the others are constraints without references (the
// schema a template's fields unify with).
func soleRef(v cue.Value) (cue.Value, cue.Path) {
	if root, p := v.ReferencePath(); root.Exists() {
		return root, p
	}
	op, args := v.Expr()
	if op != cue.AndOp {
		return cue.Value{}, cue.Path{}
	}
	var root cue.Value
	var path cue.Path
	for _, a := range args {
		r, p := a.ReferencePath()
		if !r.Exists() {
			if hasRefs(a) {
				return cue.Value{}, cue.Path{}
			}
			continue
		}
		if root.Exists() {
			return cue.Value{}, cue.Path{}
		}
		root, path = r, p
	}
	return root, path
}

// hasRefs reports whether v's expression contains a reference.
func hasRefs(v cue.Value) bool {
	params := map[string]bool{}
	ctx := false
	collectRefs(v, 0, params, &ctx)
	return ctx || len(params) > 0
}

// collectRefs adds the parameters v's expression reaches to params, following
// references to other fields of the template.
func collectRefs(v cue.Value, depth int, params map[string]bool, ctx *bool) {
	if depth > maxTraceDepth {
		return
	}
	if p, isParam, isCtx := refOf(v); isParam {
		params[strings.SplitN(p, ".", 2)[0]] = true
		return
	} else if isCtx {
		*ctx = true
		return
	}
	if root, p := v.ReferencePath(); root.Exists() {
		collectRefs(root.LookupPath(p), depth+1, params, ctx)
		return
	}
	switch v.IncompleteKind() {
	case cue.StructKind:
		if it, err := v.Fields(); err == nil {
			for it.Next() {
				collectRefs(it.Value(), depth+1, params, ctx)
			}
		}
		return
	case cue.ListKind:
		if it, err := v.List(); err == nil {
			for it.Next() {
				collectRefs(it.Value(), depth+1, params, ctx)
			}
		}
		return
	}
	scanSource(v, params, ctx)
	op, args := v.Expr()
	if op == cue.NoOp {
		return
	}
	for _, a := range args {
		collectRefs(a, depth+1, params, ctx)
	}
}

// scanSource adds the parameters v's source text names (parameters.X): what
// evaluation leaves no trace of, such as the condition of a comprehension.
func scanSource(v cue.Value, params map[string]bool, ctx *bool) {
	src := v.Source()
	if src == nil {
		return
	}
	ast.Walk(src, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok && id.Name == "parameters" {
				if name, _, err := ast.LabelName(x.Sel); err == nil {
					params[name] = true
				}
			}
		case *ast.Ident:
			if x.Name == "context" {
				*ctx = true
			}
		}
		return true
	}, nil)
}

// paramOrigin is the origin of a value that is exactly parameter p of r.
func (s *stackCompiler) paramOrigin(r *resource, p string) record.Origin {
	if n := withNode(r.with, p); n != nil {
		return record.Origin{Origin: record.OriginStack, Parameter: p,
			Field: fmt.Sprintf("spec.resources[%d].with.%s", r.index, p), Line: n.Pos.Line, Col: n.Pos.Col}
	}
	return record.Origin{Origin: record.OriginDefault, Parameter: p}
}

// withNode returns the node of dotted parameter path p under with:, or nil.
func withNode(with *Node, p string) *Node {
	n := with
	for _, k := range strings.Split(p, ".") {
		n = n.Get(k)
		if n == nil {
			return nil
		}
	}
	return n
}

// valueTrace is what a resource's render record reads from its evaluated
// template: the decoded parameters and the template origin of every rendered
// value. It is the same for every resource sharing the evaluation
// (evalmemo.go), so it is read once per evaluation; traceResource adds what is
// the resource's own (whether and where the stack sets each parameter).
// Readers do not modify it.
type valueTrace struct {
	params  map[string]any
	inputs  []tracedValue   // terraform.inputs, by input name
	objects [][]tracedValue // crossplane.resources, by field path per object
}

type tracedValue struct {
	path string
	o    cachedOrigin
}

// traceValue reads v's trace for target.
func traceValue(t *Template, v cue.Value, target string) *valueTrace {
	tr := &valueTrace{}
	_ = v.LookupPath(pathParameters).Decode(&tr.params)
	switch target {
	case "terraform":
		it, err := v.LookupPath(pathTfInputs).Fields()
		if err != nil {
			break
		}
		for it.Next() {
			o := t.originOf(it.Value())
			if !o.final {
				o = structOrigin(t, it.Value())
			}
			tr.inputs = append(tr.inputs, tracedValue{unquote(it.Selector().String()), o})
		}
	case "crossplane":
		list, err := v.LookupPath(pathCpResources).List()
		if err != nil {
			break
		}
		for list.Next() {
			var fields []tracedValue
			traceFields(t, list.Value(), "", &fields, 0)
			tr.objects = append(tr.objects, fields)
		}
	}
	return tr
}

// traceResource records where r's rendered values come from; tr is the trace
// of r's evaluated template.
func (s *stackCompiler) traceResource(r *resource, tr *valueTrace, target string) {
	rec := &record.Resource{Name: r.name, Template: r.tmpl.Name, Parameters: map[string]record.Param{}, With: map[string]any{}}
	pos := r.posOf("")
	if f := r.node.field("with"); f == nil {
		pos = r.node.Pos
	}
	rec.Line, rec.Col = pos.Line, pos.Col
	if r.with != nil && r.with.Kind == KindMap {
		rec.With = r.with.Go().(map[string]any)
	}
	for k, val := range tr.params {
		p := record.Param{Value: val}
		if n := withNode(r.with, k); n != nil {
			p.Set, p.Field, p.Line, p.Col = true, fmt.Sprintf("spec.resources[%d].with.%s", r.index, k), n.Pos.Line, n.Pos.Col
		}
		rec.Parameters[k] = p
	}
	switch target {
	case "terraform":
		rec.Inputs = map[string]record.Origin{
			"name": {Origin: record.OriginContext},
			"tags": {Origin: record.OriginContext},
		}
		for _, in := range tr.inputs {
			rec.Inputs[in.path] = s.resolve(r, in.o)
		}
	case "crossplane":
		for i, fields := range tr.objects {
			obj := record.Object{Fields: make(map[string]record.Origin, len(fields))}
			if i < len(r.objects) {
				o := r.objects[i]
				obj.APIVersion, _ = o["apiVersion"].(string)
				obj.Kind, _ = o["kind"].(string)
				if m, ok := o["metadata"].(map[string]any); ok {
					obj.Name, _ = m["name"].(string)
					obj.Namespace, _ = m["namespace"].(string)
				}
			}
			for _, f := range fields {
				obj.Fields[f.path] = s.resolve(r, f.o)
			}
			rec.Objects = append(rec.Objects, obj)
		}
	}
	r.record = rec
}

// structOrigin is the origin of a struct or list input that is no reference as
// a whole: derived from the parameters its fields read, else context or
// constant. It holds for every resource: a field that is a parameter counts
// as that parameter, wherever it is set.
func structOrigin(t *Template, v cue.Value) cachedOrigin {
	var fields []tracedValue
	traceFields(t, v, "", &fields, 0)
	params := map[string]bool{}
	ctx := false
	for _, f := range fields {
		if f.o.param != "" {
			params[f.o.param] = true
			continue
		}
		if f.o.origin.Parameter != "" {
			params[f.o.origin.Parameter] = true
		}
		for _, p := range f.o.origin.Parameters {
			params[p] = true
		}
		ctx = ctx || f.o.origin.Origin == record.OriginContext
	}
	o := record.Origin{Origin: record.OriginConstant}
	switch {
	case len(params) > 0:
		ps := make([]string, 0, len(params))
		for p := range params {
			ps = append(ps, p)
		}
		sort.Strings(ps)
		o = record.Origin{Origin: record.OriginDerived, Parameters: ps}
	case ctx:
		o = record.Origin{Origin: record.OriginContext}
	}
	return cachedOrigin{origin: o, final: true}
}

// traceFields appends the origin of every field below v, at path.
func traceFields(t *Template, v cue.Value, path string, out *[]tracedValue, depth int) {
	if path != "" {
		if o := t.originOf(v); o.final {
			*out = append(*out, tracedValue{path, o})
			return
		}
	}
	if depth > 64 {
		return
	}
	switch v.IncompleteKind() {
	case cue.StructKind:
		it, err := v.Fields()
		if err != nil {
			return
		}
		for it.Next() {
			traceFields(t, it.Value(), record.Join(path, unquote(it.Selector().String())), out, depth+1)
		}
	case cue.ListKind:
		list, err := v.List()
		if err != nil {
			return
		}
		for i := 0; list.Next(); i++ {
			traceFields(t, list.Value(), path+"["+strconv.Itoa(i)+"]", out, depth+1)
		}
	}
}

// sourcesFile builds the stack's render record.
func (s *stackCompiler) sourcesFile(m stackMeta, waivers *Node, rs []*resource) (File, error) {
	rec := &record.Record{
		Comment:       fmt.Sprintf("%s Source: %s", Header, HeaderName(sourceName(s.file))),
		SchemaVersion: record.SchemaVersion,
		Source:        sourceName(s.file),
		Stack: record.Stack{Name: m.name, Team: m.team, Environment: m.environment,
			CostCenter: m.costCenter, Target: m.target, Region: m.region},
		Resources: []record.Resource{},
	}
	if waivers != nil && waivers.Kind == KindList {
		for _, w := range waivers.Items {
			if wm, ok := w.Go().(map[string]any); ok {
				rec.Waivers = append(rec.Waivers, wm)
			}
		}
	}
	for _, r := range rs {
		if r.record != nil {
			rec.Resources = append(rec.Resources, *r.record)
		}
	}
	encode := record.Encode
	if s.digests {
		encode = record.Digest
	}
	data, err := encode(rec)
	if err != nil {
		return File{}, fmt.Errorf("render record: %w", err)
	}
	return File{Path: m.name + "/" + record.FileName, Data: data}, nil
}
