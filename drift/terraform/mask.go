package terraform

import (
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/platdev/plat/drift"
)

// walker records the sensitive values of a plan.
type walker struct{ s *drift.Secrets }

func (w walker) walkChange(c *tfjson.Change) {
	w.walk(c.Before, c.BeforeSensitive, false)
	w.walk(c.After, c.AfterSensitive, false)
}

// walkResource records the sensitive values of a resource of the prior state
// (marks is its sensitive_values).
func (w walker) walkResource(values map[string]any, marks any) {
	w.walk(values, marks, false)
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
