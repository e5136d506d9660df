package terraform

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/platdev/plat/drift"
)

// minSecretLen is the shortest secret masked inside longer text. Shorter
// sensitive values (a "1", an "on") are masked only where a whole unmarked value
// equals them: as substrings they would hide unrelated text everywhere.
const minSecretLen = 4

// minBase64Core is the shortest run of base64 characters, encoding only secret
// bytes, that is masked inside longer base64 text (see secretForms).
const minBase64Core = 8

// secrets are the sensitive values of one plan, used to mask copies of them in
// attributes tofu did not mark.
type secrets struct {
	// whole holds the string form of every sensitive string and number: an
	// unmarked string, number or map key equal to one is masked whole.
	whole map[string]bool
	// sub replaces, inside longer strings and keys, secrets of at least
	// minSecretLen characters and their JSON-escaped and base64 forms; nil
	// when there are none.
	sub *strings.Replacer
}

// collectSecrets gathers every value under a sensitive mark anywhere in the
// plan: drifted and planned resources, the prior (refreshed) state, outputs, and
// the root module's sensitive variables.
func collectSecrets(p *tfjson.Plan) *secrets {
	s := &secrets{whole: map[string]bool{}}
	for _, rc := range slices.Concat(p.ResourceDrift, p.ResourceChanges) {
		if rc != nil && rc.Change != nil {
			s.walkChange(rc.Change)
		}
	}
	for _, oc := range p.OutputChanges {
		if oc != nil {
			s.walkChange(oc)
		}
	}
	if p.PriorState != nil && p.PriorState.Values != nil {
		s.walkModule(p.PriorState.Values.RootModule)
		for _, o := range p.PriorState.Values.Outputs {
			if o != nil && o.Sensitive {
				s.walk(o.Value, true, true)
			}
		}
	}
	if p.Config != nil && p.Config.RootModule != nil {
		for name, v := range p.Config.RootModule.Variables {
			if pv := p.Variables[name]; v != nil && v.Sensitive && pv != nil {
				s.walk(pv.Value, true, true)
			}
		}
	}
	s.build()
	return s
}

func (s *secrets) walkChange(c *tfjson.Change) {
	s.walk(c.Before, c.BeforeSensitive, false)
	s.walk(c.After, c.AfterSensitive, false)
}

func (s *secrets) walkModule(m *tfjson.StateModule) {
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
		s.walk(map[string]any(r.AttributeValues), marks, false)
	}
	for _, c := range m.ChildModules {
		s.walkModule(c)
	}
}

// walk records every string and number under a sensitive mark. Keys of
// sensitive maps are not recorded: in the plan's JSON they cannot be told from
// an object's attribute names (name, type), which would then mask unrelated
// values everywhere; diff never shows them in paths.
func (s *secrets) walk(v, marks any, marked bool) {
	marked = marked || isTrue(marks)
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			s.walk(e, child(marks, k), marked)
		}
	case []any:
		for i, e := range v {
			s.walk(e, index(marks, i), marked)
		}
	default:
		// Booleans are left out on purpose: masking the unmarked values equal to
		// a sensitive true would tell which value it is.
		if f, ok := scalarForm(v); ok && marked && f != "" {
			s.whole[f] = true
		}
	}
}

// scalarForm is the string form a string or number is compared by.
func scalarForm(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64), true
		}
		return string(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

func (s *secrets) build() {
	forms := map[string]bool{}
	for w := range s.whole {
		if len(w) >= minSecretLen {
			for _, f := range secretForms(w) {
				forms[f] = true
			}
		}
	}
	if len(forms) == 0 {
		return
	}
	olds := make([]string, 0, len(forms))
	for f := range forms {
		olds = append(olds, f)
	}
	// strings.Replacer tries its pairs in order at each position: longest first,
	// so a longer form is masked whole rather than a shorter one inside it.
	slices.SortFunc(olds, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(olds))
	for _, o := range olds {
		pairs = append(pairs, o, drift.Masked)
	}
	s.sub = strings.NewReplacer(pairs...)
}

// secretForms lists how the secret w may appear inside other text: as is;
// JSON-escaped as json.Marshal writes it inside a string (with and without
// HTML escapes); base64-encoded whole (standard and URL alphabets, padded and
// not); and, inside longer base64 text, the runs of characters that encode
// only the secret's bytes at each of the three byte alignments (at least
// minBase64Core characters; the characters next to such a run mix secret bits
// with the surrounding text's and are not masked).
func secretForms(w string) []string {
	out := []string{w}
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(w) == nil {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(b.String()), `"`), `"`))
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		out = append(out, enc.EncodeToString([]byte(w)), enc.WithPadding(base64.NoPadding).EncodeToString([]byte(w)))
		for k := range 3 {
			buf := append(make([]byte, k), w...)
			e := enc.EncodeToString(buf)
			start, end := 0, 4*(len(buf)/3)
			if k > 0 {
				start = 4 // the first group also encodes the k bytes before
			}
			if end-start >= minBase64Core {
				out = append(out, e[start:end])
			}
		}
	}
	return out
}

// scrub masks copies of secrets in a value tofu did not mark: a string or
// number equal to a secret is replaced whole, longer secrets and their encoded
// forms inside strings, and the same in map keys.
func (s *secrets) scrub(v any) any {
	if s == nil {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[s.key(k)] = s.scrub(e)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = s.scrub(e)
		}
		return l
	case string:
		return s.key(v)
	}
	if f, ok := scalarForm(v); ok && s.whole[f] {
		return drift.Masked
	}
	return v
}

// key masks secrets in a string (a value or a map key on a path).
func (s *secrets) key(k string) string {
	if s == nil {
		return k
	}
	if s.whole[k] {
		return drift.Masked
	}
	if s.sub != nil {
		return s.sub.Replace(k)
	}
	return k
}
