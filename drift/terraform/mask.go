package terraform

import (
	"encoding/json"
	"slices"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/platdev/plat/drift"
)

// collectSecrets gathers every value under a sensitive mark anywhere in the
// plan: drifted and planned resources, the prior (refreshed) state, outputs, and
// the root module's sensitive variables.
func collectSecrets(p *tfjson.Plan) *drift.Secrets {
	s := new(drift.Secrets)
	w := walker{s}
	for _, rc := range slices.Concat(p.ResourceDrift, p.ResourceChanges) {
		if rc != nil && rc.Change != nil {
			w.walkChange(rc.Change)
		}
	}
	for _, oc := range p.OutputChanges {
		if oc != nil {
			w.walkChange(oc)
		}
	}
	if p.PriorState != nil && p.PriorState.Values != nil {
		w.walkModule(p.PriorState.Values.RootModule)
		for _, o := range p.PriorState.Values.Outputs {
			if o != nil && o.Sensitive {
				w.walk(o.Value, true, true)
			}
		}
	}
	if p.Config != nil && p.Config.RootModule != nil {
		for name, v := range p.Config.RootModule.Variables {
			if pv := p.Variables[name]; v != nil && v.Sensitive && pv != nil {
				w.walk(pv.Value, true, true)
			}
		}
	}
	return s
}

// walker records the sensitive values of a plan.
type walker struct{ s *drift.Secrets }

func (w walker) walkChange(c *tfjson.Change) {
	w.walk(c.Before, c.BeforeSensitive, false)
	w.walk(c.After, c.AfterSensitive, false)
}

func (w walker) walkModule(m *tfjson.StateModule) {
	if m == nil {
		return
	}
	for _, r := range m.Resources {
		if r == nil {
			continue
		}
		var marks any
		if len(r.SensitiveValues) > 0 && json.Unmarshal(r.SensitiveValues, &marks) != nil {
			marks = true // unreadable marks: treat every value as sensitive
		}
		w.walk(map[string]any(r.AttributeValues), marks, false)
	}
	for _, c := range m.ChildModules {
		w.walkModule(c)
	}
}

// walk records every string and number under a sensitive mark. Keys of
// sensitive maps are not recorded: in the plan's JSON they cannot be told from
// an object's attribute names (name, type), which would then mask unrelated
// values everywhere; diff never shows them in paths.
func (w walker) walk(v, marks any, marked bool) {
	marked = marked || isTrue(marks)
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			w.walk(e, child(marks, k), marked)
		}
	case []any:
		for i, e := range v {
			w.walk(e, index(marks, i), marked)
		}
	default:
		if marked {
			w.s.Add(v) // strings and numbers; see drift.Secrets.Add
		}
	}
}
