package compiler

// Compiling one stack: the envelope check, each resource's template evaluated
// with its context and parameters, guardrails and waivers, then rendering.

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"cuelang.org/go/cue"

	"github.com/platdev/plat/compiler/record"
)

// stackCompiler compiles one stack file.
type stackCompiler struct {
	c        *Compiler
	file     string
	now      time.Time
	reg      Registry
	format   Format
	validate bool // Input.Validate
	digests  bool // Input.Digests
	wantCost bool // estimate the stack's cost (Input.Cost, or a budget applies)
	diags    Diagnostics
	namePos  Pos
	cost     *StackCost
	// platformFile is platform.cue with org.stack filled in for this stack.
	platformFile cue.Value
	// waiverWarning is Input.WaiverWarning.
	waiverWarning time.Duration
}

type stackMeta struct {
	name, team, environment, costCenter, target, region string
}

// neutralStack stands in for a stack where the stack's own fields are invalid
// (parameters are then checked in a neutral context), and where the catalog is
// checked without a stack.
var neutralStack = stackMeta{name: "stack", team: "team", environment: "dev", costCenter: "CC-0000", target: "terraform", region: "region"}

// orgStack is what the compiler fills into platform.cue's org.stack.
func (m stackMeta) orgStack() map[string]string {
	return map[string]string{
		"name": m.name, "team": m.team, "environment": m.environment,
		"costCenter": m.costCenter, "region": m.region, "target": m.target,
	}
}

type resource struct {
	index   int
	name    string
	node    *Node
	with    *Node
	tmpl    *Template
	checked bool // parameters valid and evaluated
	rails   []guardrail
	// What the stack's target renders, decoded from the evaluated template
	// (outErr when that failed): terraform.inputs or crossplane.resources.
	inputs  map[string]any
	objects []map[string]any
	outErr  error
	cost    *ResourceCost // with stackCompiler.wantCost
	// record says where the rendered values come from (not with Validate).
	record *record.Resource
}

func (s *stackCompiler) add(p Pos, sev Severity, id, resource, msg, hint string) {
	s.diags = append(s.diags, Diagnostic{File: s.file, Line: p.Line, Col: p.Col, Severity: sev, ID: id, Message: msg, Hint: hint, Resource: resource})
}

func (s *stackCompiler) compile(src Source) *Stack {
	c := s.c
	root := src.Root
	if root == nil {
		var ds Diagnostics
		if root, ds = LoadStack(s.file, src.Data); len(ds) > 0 {
			s.diags = ds
			return nil
		}
	}
	if c.envelope == nil {
		c.envelope = newCheckMemo()
	}
	ck := &checker{cc: c.cc, file: s.file, diags: &s.diags, memo: c.envelope}
	ck.check(root, c.stackSchema, "", Pos{})
	envelopeOK := !s.diags.HasErrors()

	meta, spec := root.Get("metadata"), root.Get("spec")
	m := stackMeta{
		name: meta.Get("name").String(), team: meta.Get("team").String(),
		environment: meta.Get("environment").String(), costCenter: meta.Get("costCenter").String(),
		target: spec.Get("target").String(), region: spec.Get("region").String(),
	}
	if n := meta.Get("name"); n != nil {
		s.namePos = n.Pos
	}
	budgets := c.budgetsFor(m.team, m.environment)
	if len(budgets) > 0 {
		s.wantCost = true
	}

	// Org rules first: their tags go into every resource's context. Provider
	// configs are evaluated from the same filled-in platform.cue.
	var org cue.Value
	tags := map[string]string{}
	if envelopeOK {
		s.platformFile = c.file.FillPath(pathOrgStack, c.cc.Encode(m.orgStack()))
	}
	if envelopeOK && c.org.Exists() {
		org = s.platformFile.LookupPath(pathOrg)
		tv := org.LookupPath(pathTags)
		if m, ok := decodeStrings(tv); ok {
			tags = m
		} else if err := tv.Decode(&tags); err != nil {
			s.add(root.Pos, SeverityError, IDCatalog, "", "org tags: "+errorText(err), "report this to the platform team")
			envelopeOK = false
		}
	}

	resources := s.resources(spec.Get("resources"), m, tags, envelopeOK)
	if !envelopeOK {
		return nil
	}
	// Guardrails of the resources that evaluated are reported even when other
	// resources have errors, so users see every problem at once.

	// Guardrails: org rules, then each resource's.
	type violation struct {
		g        guardrail
		resource string
		pos      Pos
	}
	var violations []violation
	if org.Exists() {
		gs, err := evalGuardrails(org.LookupPath(pathGuardrails), true)
		if err != nil {
			s.add(root.Pos, SeverityError, IDCatalog, "", "org guardrails: "+err.Error(), "report this to the platform team")
			return nil
		}
		for _, g := range gs {
			if g.violated {
				violations = append(violations, violation{g: g, pos: posOfPath(root, g.Path)})
			}
		}
	}
	if s.wantCost {
		if sc := s.estimate(m, resources, budgets); sc != nil {
			s.cost = sc
			for _, b := range sc.Budgets {
				if !b.Over {
					continue
				}
				g := guardrail{Guardrail: budgetRule, violated: true}
				g.Message = fmt.Sprintf("stack %s is estimated at %s a month, over the %s budget of %s for %s %s",
					m.name, Money(sc.Monthly), b.Scope, Money(b.Limit), b.Scope, b.Name)
				field := map[string]string{"environment": "metadata.environment", "team": "metadata.team"}[b.Scope]
				violations = append(violations, violation{g: g, pos: posOfPath(root, field)})
			}
		}
	}
	known := map[string]map[string]Guardrail{} // resource -> id -> rule
	unchecked := map[string]bool{}
	for _, r := range resources {
		known[r.name] = map[string]Guardrail{}
		if !r.checked {
			unchecked[r.name] = true
		}
		for _, g := range r.rails {
			known[r.name][g.ID] = g.Guardrail
			if g.violated {
				violations = append(violations, violation{g: g, resource: r.name, pos: r.posOf(g.Path)})
			}
		}
	}

	waived := s.waivers(spec.Get("waivers"), known, unchecked, func(id, res string) bool {
		for _, v := range violations {
			if v.g.ID == id && v.resource == res {
				return true
			}
		}
		return false
	})
	for _, v := range violations {
		if waived[v.g.ID+"\x00"+v.resource] {
			continue
		}
		msg := v.g.Message
		if v.resource != "" {
			msg = v.resource + ": " + msg
		}
		s.add(v.pos, v.g.Severity, v.g.ID, v.resource, msg, v.g.Hint)
	}
	if s.diags.HasErrors() {
		return nil
	}
	st := &Stack{Name: m.name, Source: s.file, Target: m.target}
	var err error
	switch m.target {
	case "terraform":
		st.Files, err = s.renderTerraform(m, tags, resources)
	case "crossplane":
		st.Files, err = s.renderCrossplane(m, tags, resources)
	}
	if err == nil && !s.validate {
		var f File
		if f, err = s.sourcesFile(m, spec.Get("waivers"), resources); err == nil {
			st.Files = append(st.Files, f)
		}
	}
	if err != nil {
		s.add(root.Pos, SeverityError, IDCatalog, "", err.Error(), "report this to the platform team")
		return nil
	}
	if s.diags.HasErrors() {
		return nil
	}
	return st
}

// resources checks every resource: unique names, known templates, parameters
// valid for the template; with evaluate, it also evaluates the template.
func (s *stackCompiler) resources(list *Node, m stackMeta, tags map[string]string, evaluate bool) []*resource {
	if list == nil || list.Kind != KindList {
		return nil
	}
	c := s.c
	seen := map[string]Pos{}
	var out []*resource
	var names []string
	if ts, err := c.TemplateNames(); err == nil {
		names = ts
	}
	for i, item := range list.Items {
		if item.Kind != KindMap {
			continue
		}
		r := &resource{index: i, node: item, name: item.Get("name").String(), with: item.Get("with")}
		if nn := item.Get("name"); nn != nil && r.name != "" {
			if prev, dup := seen[r.name]; dup {
				s.add(nn.Pos, SeverityError, IDDuplicateResource, r.name,
					fmt.Sprintf("resource name %q is already used on line %d", r.name, prev.Line),
					"resource names are unique in a stack; rename one of them")
			} else {
				seen[r.name] = nn.Pos
			}
		}
		out = append(out, r)
		tn := item.Get("template")
		if tn == nil || tn.Kind != KindString {
			continue
		}
		t, err := c.template(tn.Str)
		if err != nil {
			if errors.Is(err, ErrUnknownTemplate) {
				msg := fmt.Sprintf("unknown template %q", tn.Str)
				if sug := suggest(tn.Str, names); sug != "" {
					msg += fmt.Sprintf("; did you mean %q?", sug)
				}
				s.add(tn.Pos, SeverityError, IDUnknownTemplate, r.name, msg, "templates in the catalog: "+strings.Join(names, ", "))
			} else {
				s.add(tn.Pos, SeverityError, IDCatalog, r.name, err.Error(), "report this to the platform team")
			}
			continue
		}
		r.tmpl = t
		ctxMeta := m
		if !evaluate {
			// The stack's own fields are invalid; check parameters in a neutral context.
			ctxMeta = neutralStack
		}
		name := r.name
		if name == "" {
			name = "resource"
		}
		ctxData := map[string]any{
			"stack": ctxMeta.name, "resource": name, "name": ctxMeta.name + "-" + name,
			"team": ctxMeta.team, "environment": ctxMeta.environment, "costCenter": ctxMeta.costCenter,
			"region": ctxMeta.region, "namespace": ctxMeta.team, "accountId": c.platform.AccountID,
			"tags": tags, "labels": tags,
		}
		with := r.with
		withPath := fmt.Sprintf("spec.resources[%d].with", i)
		ck := &checker{cc: c.cc, file: s.file, resource: r.name, diags: &s.diags}
		withPos := item.Pos
		if f := item.field("with"); f != nil {
			withPos = f.KeyPos
		}
		if with == nil {
			with = &Node{Kind: KindMap, Pos: item.Pos}
		}
		if with.Kind == KindNull {
			with = &Node{Kind: KindMap, Pos: with.Pos}
		}
		// The parameters' schema in this resource's context. Filling the context
		// into the parameters-only part of the template is enough; the whole
		// template is evaluated once below, with context and parameters together.
		schemaOf, schemaCtx := t.params, ctxData
		if !schemaOf.Exists() {
			schemaOf = t.value
		} else if t.paramsContext != nil {
			schemaCtx = make(map[string]any, len(t.paramsContext))
			for _, k := range t.paramsContext {
				if x, ok := ctxData[k]; ok {
					schemaCtx[k] = x
				}
			}
		}
		schema, memo := t.paramSchema(c.cc, schemaOf, schemaCtx, t.paramsContext != nil)
		ck.memo = memo
		ok := ck.check(with, schema, withPath, withPos)
		ck.memo = nil // usage: is checked against the resource's own value
		if !ok {
			continue
		}
		if !evaluate {
			continue
		}
		e := c.evaluate(t, m.target, ctxData, with)
		v := e.v
		if err := e.paramErr; err != nil {
			s.add(withPos, SeverityError, IDParameter, r.name, fmt.Sprintf("%s: %s", withPath, plainError(err)), "see plat catalog show "+t.Name)
			continue
		}
		var usageSet map[string]bool
		if un := item.Get("usage"); un != nil && un.Kind != KindNull {
			usagePos := item.field("usage").KeyPos
			uv := v.LookupPath(pathCostUsage)
			if fs := schemaFields(uv); len(fs) == 0 {
				s.add(usagePos, SeverityError, IDUnknownField, r.name,
					fmt.Sprintf("template %s takes no usage assumptions", t.Name),
					"remove usage:, or see plat catalog show "+t.Name)
				continue
			}
			if !ck.check(un, uv, fmt.Sprintf("spec.resources[%d].usage", i), usagePos) {
				continue
			}
			v = v.Unify(c.cc.Encode(map[string]any{"cost": map[string]any{"usage": un.Go()}}))
			usageSet = map[string]bool{}
			for _, f := range un.Fields {
				usageSet[f.Key] = true
			}
			// What follows reads this resource's own value, not the shared one.
			e = &evaluated{v: v}
		}
		costErr := func() bool {
			if !s.wantCost && !v.LookupPath(pathCost).Exists() {
				return false
			}
			rc, err := e.estimate(t, m.region, usageSet)
			if err != nil {
				s.add(tn.Pos, SeverityError, IDCostCatalog, r.name, err.Error(), "report this to the platform team: the catalog's price tables lack this entry")
				return true
			}
			rc.Resource = r.name
			r.cost = rc
			return false
		}
		if s.wantCost && costErr() {
			continue
		}
		rails, err := e.guardrails()
		if err != nil {
			// A guardrail reading the estimate fails when a price is missing:
			// say so rather than how the guardrail failed.
			if s.wantCost || !costErr() {
				s.add(tn.Pos, SeverityError, IDCatalog, r.name, fmt.Sprintf("template %s: %v", t.Name, err), "report this to the platform team")
			}
			continue
		}
		r.rails, r.checked = rails, true
		// Take what the target renders from now, so the evaluated template can
		// be freed: keeping every resource's value alive until rendering made
		// the garbage collector rescan all of them on every cycle.
		r.inputs, r.objects, r.outErr = e.outputs(t, m.target)
		if !s.validate && r.outErr == nil {
			s.traceResource(r, e.traced(t, m.target), m.target)
		}
	}
	return out
}

// posOf finds where a guardrail about parameter path should point: the value if
// the stack sets it, else the with: key, else the template: value.
func (r *resource) posOf(path string) Pos {
	if path != "" && r.with != nil {
		if n := r.with.Get(path); n != nil {
			return n.Pos
		}
	}
	if f := r.node.field("with"); f != nil {
		return f.KeyPos
	}
	if t := r.node.Get("template"); t != nil {
		return t.Pos
	}
	return r.node.Pos
}

// posOfPath resolves a dotted path in the stack file to a position.
func posOfPath(root *Node, path string) Pos {
	n := root
	for _, k := range strings.Split(path, ".") {
		next := n.Get(k)
		if next == nil {
			break
		}
		n = next
	}
	return n.Pos
}

// estimate totals the resources' estimates of a stack and checks its
// budgets; nil when a resource did not evaluate.
func (s *stackCompiler) estimate(m stackMeta, resources []*resource, budgets []BudgetCheck) *StackCost {
	sc := &StackCost{Stack: m.name, Source: s.file, Team: m.team, Environment: m.environment,
		Target: m.target, Region: m.region, Resources: []*ResourceCost{}, Budgets: budgets}
	var total float64
	for _, r := range resources {
		if !r.checked || r.cost == nil {
			return nil
		}
		sc.Resources = append(sc.Resources, r.cost)
		total += r.cost.exact
	}
	sc.Monthly = cents(total)
	for i := range sc.Budgets {
		sc.Budgets[i].Over = sc.Monthly > sc.Budgets[i].Limit
	}
	return sc
}

// plainError is a CUE error without positions (they point into the catalog).
func plainError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\n"); i > 0 {
		msg = msg[:i]
	}
	return msg
}
