package auth

import (
	"path"
	"strconv"
)

// Matches reports whether claims (a verified token's, as decoded JSON)
// satisfy every claim condition of r: the claim is present and its value, or
// one element of a list value, matches one of the condition's patterns
// (path.Match: '*' and '?' stop at '/', so "acme/*" matches "acme/infra" but
// not "acme/infra/sub").
func (r Rule) Matches(claims map[string]any) bool {
	for _, c := range r.Claims {
		vals, ok := claimStrings(claims[c.Claim])
		if !ok || !anyMatch(c.Patterns, vals) {
			return false
		}
	}
	return len(r.Claims) > 0
}

func anyMatch(patterns, vals []string) bool {
	for _, v := range vals {
		for _, p := range patterns {
			if ok, err := path.Match(p, v); err == nil && ok {
				return true
			}
		}
	}
	return false
}

// claimStrings returns a claim's value as the strings patterns are matched
// against: a string as it is, a number or boolean as JSON writes it, a list of
// those element by element. Objects and null match nothing.
func claimStrings(v any) ([]string, bool) {
	switch x := v.(type) {
	case string:
		return []string{x}, true
	case bool:
		return []string{strconv.FormatBool(x)}, true
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}, true
	case []any:
		var out []string
		for _, e := range x {
			s, ok := claimStrings(e)
			if ok && len(s) == 1 {
				out = append(out, s[0])
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}
