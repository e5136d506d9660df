package drift

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// minSecretLen is the shortest secret masked inside longer text. Shorter
// sensitive values (a "1", an "on") are masked only where a whole unmarked value
// equals them: as substrings they would hide unrelated text everywhere.
const minSecretLen = 4

// minBase64Core is the shortest run of base64 characters, encoding only secret
// bytes, that is masked inside longer base64 text (see secretForms).
const minBase64Core = 8

// Secrets are sensitive values a checker has seen, used to mask copies of them
// in values that were not marked sensitive (docs/drift.md, "Secrets"). The zero
// value and nil hold none. A Secrets is not safe for concurrent use.
type Secrets struct {
	// whole holds the string form of every secret: an unmarked string, number
	// or map key equal to one is masked whole.
	whole map[string]bool
	// sub replaces, inside longer strings and keys, secrets of at least
	// minSecretLen characters and their JSON-escaped and base64 forms; rebuilt
	// when secrets were added since.
	sub   *strings.Replacer
	stale bool
}

// Add records v, a string or a number, as a secret. Other values, and the
// empty string, are ignored: booleans on purpose, since masking the unmarked
// values equal to a sensitive true would tell which value it is.
func (s *Secrets) Add(v any) {
	f, ok := scalarForm(v)
	if !ok || f == "" {
		return
	}
	s.add(f)
	if n, ok := v.(json.Number); ok {
		// Its digits as written too: past float64's precision the compared
		// form is rounded (12345678901234567890 is 12345678901234567000),
		// and a copy in a string has the real digits.
		s.add(string(n))
	}
}

func (s *Secrets) add(f string) {
	if s.whole == nil {
		s.whole = map[string]bool{}
	}
	if !s.whole[f] {
		s.whole[f] = true
		s.stale = true
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
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	}
	return "", false
}

func (s *Secrets) build() {
	s.stale = false
	forms := map[string]bool{}
	for w := range s.whole {
		if len(w) >= minSecretLen {
			for _, f := range secretForms(w) {
				forms[f] = true
			}
		}
	}
	s.sub = nil
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
		pairs = append(pairs, o, Masked)
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

// Scrub masks copies of secrets in a value tofu did not mark: a string or
// number equal to a secret is replaced whole, longer secrets and their encoded
// forms inside strings, and the same in map keys.
func (s *Secrets) Scrub(v any) any {
	if s == nil {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[s.Key(k)] = s.Scrub(e)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = s.Scrub(e)
		}
		return l
	case string:
		return s.Key(v)
	}
	if f, ok := scalarForm(v); ok && s.whole[f] {
		return Masked
	}
	return v
}

// Key masks secrets in a string: a value, or a map key on a path.
func (s *Secrets) Key(k string) string {
	if s == nil {
		return k
	}
	if s.whole[k] {
		return Masked
	}
	if s.stale {
		s.build()
	}
	if s.sub != nil {
		return s.sub.Replace(k)
	}
	return k
}
