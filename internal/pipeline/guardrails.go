package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/compiler/record"
	"github.com/platdev/plat/drift"
)

// DriftGuardrails checks, for plat drift, a resource's template guardrails
// with live values in place of its parameters (compiler.CheckResource). The
// catalog (dir, or the shipped one when empty) is loaded on first use, so a
// pass without traced drift never loads it.
type DriftGuardrails struct {
	Dir string
	// Now decides which waivers have expired; nil means time.Now.
	Now func() time.Time

	once sync.Once
	c    *compiler.Compiler
	err  error
}

var _ drift.GuardrailChecker = (*DriftGuardrails)(nil)

// CheckGuardrails implements drift.GuardrailChecker.
func (g *DriftGuardrails) CheckGuardrails(ctx context.Context, rec *record.Record, res *record.Resource, override map[string]any) ([]drift.Guardrail, error) {
	g.once.Do(func() { g.c, g.err = LoadCompiler(g.Dir) })
	if g.err != nil {
		return nil, g.err
	}
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	s := rec.Stack
	vs, _, err := g.c.CheckResource(ctx, compiler.ResourceCheck{
		Name: s.Name, Team: s.Team, Environment: s.Environment, CostCenter: s.CostCenter, Target: s.Target, Region: s.Region,
		Resource: res.Name, Template: res.Template, With: res.With, Override: override, Waivers: rec.Waivers, Now: now,
	})
	if err != nil {
		return nil, err
	}
	out := make([]drift.Guardrail, 0, len(vs))
	for _, v := range vs {
		out = append(out, drift.Guardrail{ID: v.ID, Severity: v.Severity.String(), Message: v.Message, Parameter: v.Path})
	}
	return out, nil
}
