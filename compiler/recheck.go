package compiler

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"
)

// ResourceCheck names one resource of a rendered stack to check again with
// some of its parameters replaced: plat drift substitutes the live values of
// drifted attributes that trace back to parameters, to see whether the drift
// breaks a guardrail.
type ResourceCheck struct {
	// Stack is the stack's metadata and spec (from the render record).
	Name, Team, Environment, CostCenter, Target, Region string
	// Resource and Template name the resource and its template.
	Resource, Template string
	// With is the resource's with: as the stack file writes it; Override
	// replaces or adds parameters (dotted names for nested ones are not
	// supported: use the top-level parameter).
	With, Override map[string]any
	// Waivers are the stack's waivers as written; those about other resources
	// are left out.
	Waivers []map[string]any
	// Now decides which waivers have expired; zero means time.Now().
	Now time.Time
}

// Violation is a guardrail that a resource breaks.
type Violation struct {
	ID       string
	Severity Severity
	Message  string
	Hint     string
	// Path is the parameter the guardrail is about ("" when it is about the
	// template as a whole).
	Path string
}

// CheckResource compiles one resource alone, in its stack's context, with
// rc.Override applied to its parameters, and returns the guardrails it then
// breaks (template and org rules, waivers applied) and every other diagnostic
// (an overridden value the template refuses is a stack.invalid-value error
// there, not a violation). It writes nothing and renders nothing.
func (c *Compiler) CheckResource(ctx context.Context, rc ResourceCheck) ([]Violation, Diagnostics, error) {
	with := maps.Clone(rc.With)
	if with == nil {
		with = map[string]any{}
	}
	maps.Copy(with, rc.Override)
	var waivers []map[string]any
	for _, w := range rc.Waivers {
		if r, ok := w["resource"]; !ok || r == rc.Resource {
			waivers = append(waivers, w)
		}
	}
	spec := map[string]any{
		"target": rc.Target, "region": rc.Region,
		"resources": []any{map[string]any{"name": rc.Resource, "template": rc.Template, "with": with}},
	}
	if len(waivers) > 0 {
		spec["waivers"] = waivers
	}
	doc := map[string]any{
		"apiVersion": "plat/v1", "kind": "Stack",
		"metadata": map[string]any{"name": rc.Name, "team": rc.Team, "environment": rc.Environment, "costCenter": rc.CostCenter},
		"spec":     spec,
	}
	src, err := json.Marshal(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("check %s: %w", rc.Resource, err)
	}
	t, err := c.lockedTemplate(rc.Template)
	if err != nil {
		return nil, nil, fmt.Errorf("check %s: %w", rc.Resource, err)
	}
	ids := map[string]Guardrail{}
	for _, g := range t.Guardrails {
		ids[g.ID] = g
	}
	for _, g := range c.OrgGuardrails() {
		ids[g.ID] = g
	}
	_, diags := c.Compile(ctx, Input{Stacks: []Source{{Name: rc.Name + "/" + rc.Resource, Data: src}}, Now: rc.Now, Validate: true})
	var vs []Violation
	var rest Diagnostics
	for _, d := range diags {
		g, ok := ids[d.ID]
		if !ok || (d.Resource != rc.Resource && d.Resource != "") {
			rest = append(rest, d)
			continue
		}
		vs = append(vs, Violation{ID: d.ID, Severity: d.Severity, Message: g.Message, Hint: d.Hint, Path: g.Path})
	}
	return vs, rest, nil
}

// lockedTemplate is template under the compiler's lock.
func (c *Compiler) lockedTemplate(name string) (*Template, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.template(name)
}
