package kube

// Comparing a declared object with its live one, leaf by leaf, with the
// stack's Secrets masked wherever their values appear.

import (
	"bytes"
	"encoding/base64"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platdev/plat/drift"
)

// isSecret says whether u is a core v1 Secret, whose values are all masked.
func isSecret(u *unstructured.Unstructured) bool {
	return u.GetAPIVersion() == "v1" && u.GetKind() == "Secret"
}

// stackSecrets gathers the values of the stack's declared Secrets (stringData
// as written, data decoded) and of their live objects, so copies of them in
// other objects are masked too.
func stackSecrets(objs []declared, lives map[listKey]map[string]*unstructured.Unstructured) *drift.Secrets {
	sec := new(drift.Secrets)
	add := func(u *unstructured.Unstructured) {
		for _, field := range []string{"data", "stringData"} {
			m, _ := u.Object[field].(map[string]any)
			for _, v := range m {
				str, ok := v.(string)
				if !ok {
					continue
				}
				sec.Add(str)
				if b, err := base64.StdEncoding.DecodeString(str); err == nil && field == "data" {
					sec.Add(string(b))
				}
			}
		}
	}
	for _, d := range objs {
		if !isSecret(d.obj) {
			continue
		}
		add(d.obj)
		if l := lives[listKey{d.gvr, d.namespace}][d.obj.GetName()]; l != nil {
			add(l)
		}
	}
	return sec
}

// compareObject returns every declared leaf whose live value differs; copies of
// sec's values are masked in the others' values and map keys.
func compareObject(decl, live *unstructured.Unstructured, sec *drift.Secrets) []drift.AttributeChange {
	var out []drift.AttributeChange
	secret := isSecret(decl)
	keys := slices.Sorted(maps.Keys(decl.Object))
	for _, k := range keys {
		dv := decl.Object[k]
		switch k {
		case "apiVersion", "kind", "status":
			continue
		case "metadata":
			dm, _ := dv.(map[string]any)
			lm, _ := live.Object["metadata"].(map[string]any)
			// Only what users set and the server keeps as is; name and namespace
			// identify the object, the rest is server-set.
			for _, mk := range []string{"labels", "annotations"} {
				if v, ok := dm[mk]; ok {
					out = compare(out, "metadata."+mk, v, lm[mk], lm != nil && hasKey(lm, mk), sec)
				}
			}
		case "data", "stringData":
			if secret {
				out = compareSecret(out, k, dv, live.Object["data"])
				continue
			}
			out = compare(out, k, dv, live.Object[k], hasKey(live.Object, k), sec)
		default:
			out = compare(out, k, dv, live.Object[k], hasKey(live.Object, k), sec)
		}
	}
	return out
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

// compare appends the differences between a declared value and the live one at
// path. Maps are compared key by key (live keys the declaration lacks are
// ignored), lists element by element when both have the same length, scalars by
// value with numbers compared numerically. Copies of sec's values are masked
// in reported values and in map keys on paths.
func compare(out []drift.AttributeChange, path string, decl, live any, present bool, sec *drift.Secrets) []drift.AttributeChange {
	switch d := decl.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok || !present {
			if len(d) == 0 && !present {
				return out // an empty declared map is the same as none
			}
			return append(out, change(path, decl, live, present, sec))
		}
		for _, k := range slices.Sorted(maps.Keys(d)) {
			lv, ok := l[k]
			out = compare(out, join(path, sec.Key(k)), d[k], lv, ok, sec)
		}
		return out
	case []any:
		l, ok := live.([]any)
		if ok && len(l) == len(d) {
			for i := range d {
				out = compare(out, path+"["+strconv.Itoa(i)+"]", d[i], l[i], true, sec)
			}
			return out
		}
		if len(d) == 0 && (!present || (ok && len(l) == 0)) {
			return out
		}
		return append(out, change(path, decl, live, present, sec))
	case nil:
		// An explicit null declares nothing the server keeps.
		return out
	default:
		if present && equalScalar(decl, live) {
			return out
		}
		return append(out, change(path, decl, live, present, sec))
	}
}

func change(path string, decl, live any, present bool, sec *drift.Secrets) drift.AttributeChange {
	return drift.AttributeChange{Path: path, Declared: sec.Scrub(decl), Live: sec.Scrub(liveValue(live, present))}
}

func liveValue(v any, present bool) any {
	if !present {
		return nil
	}
	return v
}

// compareSecret compares a Secret's declared data or stringData with its live
// data, masking every value.
func compareSecret(out []drift.AttributeChange, field string, decl, liveData any) []drift.AttributeChange {
	d, _ := decl.(map[string]any)
	l, _ := liveData.(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(d)) {
		want, _ := d[k].(string)
		got, ok := l[k].(string)
		if field == "stringData" {
			want = base64.StdEncoding.EncodeToString([]byte(want))
		}
		if ok && sameBase64(want, got) {
			continue
		}
		c := drift.AttributeChange{Path: join(field, k), Declared: drift.Masked, Live: drift.Masked, Sensitive: true}
		if !ok {
			c.Live = nil
		}
		out = append(out, c)
	}
	return out
}

func sameBase64(a, b string) bool {
	x, err1 := base64.StdEncoding.DecodeString(a)
	y, err2 := base64.StdEncoding.DecodeString(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return bytes.Equal(x, y)
}

func equalScalar(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && (x == y || math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y)))
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	}
	return 0, false
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_\-]*$`)

// join appends a map key to a path: tags.team, or labels["plat.dev/stack"] for
// keys that would be ambiguous after a dot.
func join(path, key string) string {
	if plainKey.MatchString(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}
