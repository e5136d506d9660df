package terraform

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/platdev/plat/drift"
)

// driftOf turns a plan's resource_drift into drifted resources. Entries whose
// actions are no-op (including moved-only entries) are skipped; deletions become
// ActionDeleted without attribute changes; updates become ActionChanged with one
// change per differing leaf attribute. Every value marked sensitive in
// before_sensitive or after_sensitive (tofu marks schema-sensitive attributes
// there as well as values derived from sensitive inputs) is replaced with
// drift.Masked, at the sensitive value's own path; copies of sensitive values
// in unmarked attributes and map keys are masked too, secrets holding every
// sensitive value of the plan (see drift.Secrets and docs/drift.md).
func driftOf(resourceDrift []*tfjson.ResourceChange, secrets *drift.Secrets) []drift.ResourceDrift {
	var out []drift.ResourceDrift
	for _, rc := range resourceDrift {
		if rc == nil || rc.Change == nil || rc.Mode == tfjson.DataResourceMode {
			continue
		}
		a := rc.Change.Actions
		var rd drift.ResourceDrift
		switch {
		case a.NoOp(), a.Read(), len(a) == 0:
			continue
		case a.Delete():
			rd = drift.ResourceDrift{Action: drift.ActionDeleted}
		default:
			d := differ{secrets: secrets}
			d.diff("", rc.Change.Before, rc.Change.After, rc.Change.BeforeSensitive, rc.Change.AfterSensitive)
			rd = drift.ResourceDrift{Action: drift.ActionChanged, Changes: d.changes}
		}
		rd.Address = secrets.Key(rc.Address) // a for_each key can be a secret
		rd.Type = rc.Type
		out = append(out, rd)
	}
	return drift.Normalize(out)
}

type differ struct {
	secrets *drift.Secrets
	changes []drift.AttributeChange
}

func (d *differ) diff(path string, before, after, bs, as any) {
	bm, bIsMap := before.(map[string]any)
	am, aIsMap := after.(map[string]any)
	bl, bIsList := before.([]any)
	al, aIsList := after.([]any)
	if (isTrue(bs) || isTrue(as)) && !(path == "" && bIsMap && aIsMap) {
		// A sensitive value is masked whole, at its own path: the keys of a
		// sensitive map are part of the secret and never become paths. (A
		// resource marked sensitive whole is still split into its top-level
		// attributes, whose names come from the provider's schema.)
		if !equal(before, after) {
			d.add(drift.AttributeChange{Path: path, Declared: drift.Masked, Live: drift.Masked, Sensitive: true})
		}
		return
	}
	switch {
	case (bIsMap || before == nil) && (aIsMap || after == nil) && (bIsMap || aIsMap):
		if len(bm) == 0 && len(am) == 0 {
			break // null versus {}: a leaf change below
		}
		keys := make([]string, 0, len(bm)+len(am))
		for k := range bm {
			keys = append(keys, k)
		}
		for k := range am {
			if _, ok := bm[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			d.diff(joinKey(path, d.secrets.Key(k)), bm[k], am[k], child(bs, k), child(as, k))
		}
		return
	case (bIsList || before == nil) && (aIsList || after == nil) && (bIsList || aIsList):
		if len(bl) == 0 && len(al) == 0 {
			break
		}
		for i := range max(len(bl), len(al)) {
			var b, a any
			if i < len(bl) {
				b = bl[i]
			}
			if i < len(al) {
				a = al[i]
			}
			d.diff(fmt.Sprintf("%s[%d]", path, i), b, a, index(bs, i), index(as, i))
		}
		return
	}
	if equal(before, after) {
		return
	}
	if hasSensitive(bs) || hasSensitive(as) {
		// A container on one side and a scalar on the other, with sensitive parts.
		d.add(drift.AttributeChange{Path: path, Declared: drift.Masked, Live: drift.Masked, Sensitive: true})
		return
	}
	d.add(drift.AttributeChange{Path: path, Declared: d.secrets.Scrub(before), Live: d.secrets.Scrub(after)})
}

func (d *differ) add(c drift.AttributeChange) { d.changes = append(d.changes, c) }

func isTrue(s any) bool { b, ok := s.(bool); return ok && b }

func child(s any, k string) any {
	if isTrue(s) {
		return true
	}
	if m, ok := s.(map[string]any); ok {
		return m[k]
	}
	return nil
}

func index(s any, i int) any {
	if isTrue(s) {
		return true
	}
	if l, ok := s.([]any); ok && i < len(l) {
		return l[i]
	}
	return nil
}

func hasSensitive(s any) bool {
	switch s := s.(type) {
	case bool:
		return s
	case map[string]any:
		for _, e := range s {
			if hasSensitive(e) {
				return true
			}
		}
	case []any:
		for _, e := range s {
			if hasSensitive(e) {
				return true
			}
		}
	}
	return false
}

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// joinKey appends a map key or attribute name to a path: tags.team, or
// tags["kubernetes.io/name"] when the key is not an identifier.
func joinKey(path, k string) string {
	if !identRE.MatchString(k) {
		q, _ := json.Marshal(k)
		return path + "[" + string(q) + "]"
	}
	if path == "" {
		return k
	}
	return path + "." + k
}
