package compiler

// The parts of a template a resource is checked and evaluated against: the
// parameters-only slice of the template file (the declarations its
// parameters reach, and the context fields they read), the template without
// the other target's branch, and the parameter schema per context. Each costs
// a fraction of evaluating the whole template.

import (
	"encoding/json"
	"maps"
	"path"
	"slices"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
)

// parametersOnly builds the part of a template that decides what its parameters
// accept: the template file without its regular fields other than context and
// parameters (guardrails, terraform, crossplane, ...), with the contract's
// context. Checking a stack's with: against it needs the context filled in,
// and filling it into this value costs a fraction of evaluating the whole
// template. It returns the zero Value (callers then use the whole template)
// when the parameters depend on a dropped field, or f is nil; and the fields
// of context it reads (see contextFields).
func (c *Compiler) parametersOnly(f *ast.File) (cue.Value, []string) {
	if f == nil {
		return cue.Value{}, nil
	}
	keep := paramsDecls(f)
	v := c.buildWith(f, keep, false, &ast.Field{Label: ast.NewIdent("context"), Value: ast.NewIdent("#Context")})
	if !v.Exists() || v.Err() != nil {
		return cue.Value{}, nil
	}
	return v, contextFields(f, keep)
}

// paramsDecls returns which top-level declarations of a template file the
// parameters-only part keeps: everything but regular fields other than context
// and parameters, and of the hidden fields and definitions only those that
// what is kept refers to, directly or through each other. Hidden fields that
// only the dropped output reads (the metadata of Crossplane resources, say)
// would otherwise be evaluated with every resource's parameters, and their
// reads of context would make the parameters' schema depend on all of it.
func paramsDecls(f *ast.File) func(ast.Decl) bool {
	return reachDecls(f, func(name string) bool { return name == "context" || name == "parameters" })
}

// reachDecls returns which top-level declarations of a template file are
// kept: the regular fields root accepts (by name), declarations other than
// fields, and the hidden fields and definitions those refer to, directly or
// through each other.
func reachDecls(f *ast.File, root func(name string) bool) func(ast.Decl) bool {
	aux := func(d ast.Decl) (string, bool) {
		if fd, ok := d.(*ast.Field); ok {
			if id, ok := fd.Label.(*ast.Ident); ok && (strings.HasPrefix(id.Name, "_") || strings.HasPrefix(id.Name, "#")) {
				return id.Name, true
			}
		}
		return "", false
	}
	regular := func(d ast.Decl) bool {
		if fd, ok := d.(*ast.Field); ok {
			if id, ok := fd.Label.(*ast.Ident); ok && !root(id.Name) {
				return false
			}
		}
		return true
	}
	needed := map[string]bool{}
	var queue []ast.Decl
	for _, d := range f.Decls {
		if _, ok := d.(*ast.ImportDecl); ok {
			continue
		}
		if _, isAux := aux(d); !isAux && regular(d) {
			queue = append(queue, d)
		}
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		var found []string
		ast.Walk(d, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && (strings.HasPrefix(id.Name, "_") || strings.HasPrefix(id.Name, "#")) && !needed[id.Name] {
				needed[id.Name] = true
				found = append(found, id.Name)
			}
			return true
		}, nil)
		for _, name := range found {
			for _, d2 := range f.Decls {
				if n, ok := aux(d2); ok && n == name {
					queue = append(queue, d2)
				}
			}
		}
	}
	return func(d ast.Decl) bool {
		if name, ok := aux(d); ok {
			return needed[name]
		}
		return regular(d)
	}
}

// contextFields lists the fields of context that the declarations keep accepts
// read, when they only read it as context.NAME; otherwise it returns nil (all
// of context may matter). Filling only those into the parameters-only part gives
// the parameters the same value for less work.
func contextFields(f *ast.File, keep func(ast.Decl) bool) []string {
	labels := map[*ast.Ident]bool{}   // field labels named context, not references
	selected := map[*ast.Ident]bool{} // context in context.NAME
	names := map[string]bool{}
	all := false
	for _, d := range f.Decls {
		if _, ok := d.(*ast.ImportDecl); ok || !keep(d) {
			continue
		}
		ast.Walk(d, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Field:
				if id, ok := n.Label.(*ast.Ident); ok {
					labels[id] = true
				}
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "context" {
					if sel, ok := n.Sel.(*ast.Ident); ok {
						selected[x] = true
						names[sel.Name] = true
					}
				}
			case *ast.Ident:
				if n.Name == "context" && !labels[n] && !selected[n] {
					all = true
				}
			}
			return true
		}, nil)
	}
	if all {
		return nil
	}
	if len(names) == 0 {
		return []string{} // reads no field; nil would mean every field
	}
	return slices.Sorted(maps.Keys(names))
}

// buildWith evaluates a template file in one go, resolving the schemas'
// definitions (#Template, #Context) from c.schemas. With keep nil it builds
// #Template & {the file's declarations}, as the template's value unified with
// its contract. With keep it builds only the declarations keep accepts and the
// imports they use (with contract, under #Template). extra declarations are
// added. It returns the zero Value when f is nil or
// names a definition it does not declare (which the schemas would then supply
// where CUE on its own reports a missing reference).
func (c *Compiler) buildWith(f *ast.File, keep func(ast.Decl) bool, contract bool, extra ...ast.Decl) cue.Value {
	if f == nil {
		return cue.Value{}
	}
	for _, id := range f.Unresolved {
		if strings.HasPrefix(id.Name, "#") {
			return cue.Value{}
		}
	}
	var head, imports, body []ast.Decl
	used := map[string]bool{}
	for _, d := range f.Decls {
		switch d.(type) {
		case *ast.Package:
			head = append(head, d)
			continue
		case *ast.ImportDecl:
			imports = append(imports, d)
			continue
		}
		if keep != nil && !keep(d) {
			continue
		}
		body = append(body, d)
		if keep != nil {
			ast.Walk(d, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok {
					used[id.Name] = true
				}
				return true
			}, nil)
		}
	}
	if keep != nil {
		// Keep only the imports the remaining declarations use: CUE refuses unused ones.
		var kept []ast.Decl
		for _, d := range imports {
			var specs []*ast.ImportSpec
			for _, spec := range d.(*ast.ImportDecl).Specs {
				name := path.Base(strings.Trim(spec.Path.Value, `"`))
				if spec.Name != nil {
					name = spec.Name.Name
				}
				if used[name] {
					specs = append(specs, spec)
				}
			}
			if len(specs) > 0 {
				kept = append(kept, &ast.ImportDecl{Specs: specs})
			}
		}
		imports = kept
	}
	body = append(body, extra...)
	if contract {
		// An embedded #Template & {...} is the file's value itself, so paths in
		// errors read as they do for the template alone.
		body = []ast.Decl{&ast.EmbedDecl{Expr: &ast.BinaryExpr{Op: token.AND, X: ast.NewIdent("#Template"), Y: &ast.StructLit{Elts: body}}}}
	}
	rf := &ast.File{Filename: f.Filename, Decls: append(append(head, imports...), body...)}
	return c.cc.BuildFile(rf, cue.Scope(c.schemas))
}

// syntax parses the template afresh (nil if it does not parse).
func (t *Template) syntax() *ast.File {
	if !t.parsed {
		return nil
	}
	f, err := parser.ParseFile(t.file, t.src, parser.ParseComments)
	if err != nil {
		return nil
	}
	return f
}

// prunedAfter is how many resources of one template and target a Compiler
// compiles with the whole template before instanceBase builds one without the
// other target's branch: that costs an evaluation of the template, which pays
// off only over several resources. (A variable for tests.)
var prunedAfter = 4

// instanceBase returns what a resource of template t for target is unified
// with: t's value or, once the compiler has used t for target prunedAfter times, t
// without the other target's top-level field (crossplane for terraform,
// terraform for crossplane), which the resource's checks and output never
// read. A template whose remaining fields refer to the dropped one (a
// guardrail reading terraform.inputs, say) keeps using its whole value.
func (c *Compiler) instanceBase(t *Template, target string) cue.Value {
	if t.uses == nil {
		t.uses, t.targets = map[string]int{}, map[string]cue.Value{}
	}
	t.uses[target]++
	if v, ok := t.targets[target]; ok {
		if v.Exists() {
			return v
		}
		return t.value
	}
	drop := map[string]string{"terraform": "crossplane", "crossplane": "terraform"}[target]
	if t.uses[target] <= prunedAfter || !t.parsed || drop == "" {
		return t.value
	}
	v := c.buildWith(t.syntax(), func(d ast.Decl) bool {
		fd, ok := d.(*ast.Field)
		if !ok {
			return true
		}
		id, ok := fd.Label.(*ast.Ident)
		return !ok || id.Name != drop
	}, true)
	if !v.Exists() || v.Err() != nil || v.Validate() != nil {
		v = cue.Value{}
	}
	t.targets[target] = v
	if v.Exists() {
		return v
	}
	return t.value
}

// maxParamSchemas bounds how many parameter schemas paramSchema keeps per
// template: one per distinct context the parameters read (an environment,
// say), so a tree of stacks shares a handful.
const maxParamSchemas = 64

// paramSchema returns the parameters of of (t's parameters-only part, or t
// itself) with ctx filled in as context. With shared, ctx holds only the
// context fields of reads (Template.paramsContext), so stacks that agree on
// them get the same schema: it is evaluated once per Compiler and reused,
// with a checkMemo of what checking against it found. The memo is nil when
// the schema is not kept.
func (t *Template) paramSchema(cc *cue.Context, of cue.Value, ctx map[string]any, shared bool) (cue.Value, *checkMemo) {
	var key string
	if shared {
		b, err := json.Marshal(ctx) // map keys sorted
		if err != nil {
			shared = false
		}
		key = string(b)
		if ps, ok := t.schemas[key]; ok {
			return ps.v, ps.memo
		}
	}
	v := of.FillPath(pathContext, cc.Encode(ctx)).LookupPath(pathParameters)
	if shared && len(t.schemas) < maxParamSchemas {
		if t.schemas == nil {
			t.schemas = map[string]paramSchema{}
		}
		ps := paramSchema{v: v, memo: newCheckMemo()}
		t.schemas[key] = ps
		return v, ps.memo
	}
	return v, nil
}

// paramSchema is a template's parameter schema in one context.
type paramSchema struct {
	v    cue.Value
	memo *checkMemo
}
