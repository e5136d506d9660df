package stackedit

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// normalize turns a value as encoding/json or Go code gives it into the values
// yamlpos decodes to: int64 for whole numbers, float64, string, bool, nil,
// []any and map[string]any.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, int64:
		return x, nil
	case string:
		if !utf8.ValidString(x) {
			return nil, errors.New("the value is not valid UTF-8")
		}
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("number %d is too large", x)
		}
		return int64(x), nil
	case float32:
		return normalize(float64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("unsupported number %v", x)
		}
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
		return x, nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s: %w", x, err)
		}
		return normalize(f)
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			n, err := normalize(it)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, it := range x {
			if !utf8.ValidString(k) {
				return nil, errors.New("a key is not valid UTF-8")
			}
			n, err := normalize(it)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported value of type %T", v)
}

// Literal renders a value as it would be written in a flow mapping, for
// messages (nil is null).
func Literal(v any) string {
	n, err := normalize(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return encodeInline(n, true, 0, false)
}

func isCollection(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return false
}

func styleOf(n *yaml.Node) yaml.Style {
	return n.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
}

// encodeInline encodes v on one line: scalars plain or in the quote style
// given, collections in flow style. asFloat writes whole numbers as floats
// (2.0), for a parameter that held a float.
func encodeInline(v any, flow bool, style yaml.Style, asFloat bool) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case int64:
		if asFloat {
			return strconv.FormatInt(x, 10) + ".0"
		}
		return strconv.FormatInt(x, 10)
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return s
	case string:
		return encodeString(x, flow, style)
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, encodeKey(k)+": "+encodeInline(x[k], true, 0, false))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = encodeInline(it, true, 0, false)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "null"
}

// encodeBlock encodes a collection in block style for a place at column
// indent+1: the first line carries no indentation, later lines indent spaces.
func encodeBlock(v any, indent int, nl string) string {
	pad := nl + strings.Repeat(" ", indent)
	var lines []string
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			c := x[k]
			if isCollection(c) {
				lines = append(lines, encodeKey(k)+":"+pad+"  "+encodeBlock(c, indent+2, nl))
			} else {
				lines = append(lines, encodeKey(k)+": "+encodeInline(c, false, 0, false))
			}
		}
	case []any:
		for _, c := range x {
			if isCollection(c) {
				lines = append(lines, "- "+encodeBlock(c, indent+2, nl))
			} else {
				lines = append(lines, "- "+encodeInline(c, false, 0, false))
			}
		}
	default:
		return encodeInline(v, false, 0, false)
	}
	return strings.Join(lines, pad)
}

func encodeKey(k string) string {
	return encodeString(k, true, 0)
}

// encodeString writes s in the quote style asked for, or plain when plain
// YAML reads back as that same string, else double-quoted.
func encodeString(s string, flow bool, style yaml.Style) string {
	switch {
	case style&yaml.SingleQuotedStyle != 0 && printable(s):
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	case style&yaml.DoubleQuotedStyle != 0:
		return quoteDouble(s)
	case plainOK(s, flow):
		return s
	}
	return quoteDouble(s)
}

// plainOK reports whether s can be written unquoted: a conservative set of
// characters, and the YAML parser resolves it to the string s (not 16, true
// or null).
func plainOK(s string, flow bool) bool {
	if s == "" || s != strings.TrimSpace(s) {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
		case r == '.' || r == '/' || r == '(' || r == ')' || r == '=' || r == '+' || r == '@':
			if i == 0 && r != '.' && r != '/' {
				return false
			}
		case r == '-' || r == ' ':
			if i == 0 {
				return false
			}
		case r == ':' && !flow:
			if i == len(s)-1 || s[i+1] == ' ' {
				return false
			}
		default:
			return false
		}
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil || len(n.Content) != 1 {
		return false
	}
	c := n.Content[0]
	return c.Kind == yaml.ScalarNode && c.ShortTag() == "!!str" && c.Value == s
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 || r == 0xfeff {
			return false
		}
	}
	return true
}

// quoteDouble writes s as a YAML double-quoted scalar.
func quoteDouble(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if !printable(string(r)) {
				fmt.Fprintf(&b, `\u%04x`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// equal compares decoded YAML values, taking an int64 and a float64 of the
// same number as equal (2 and 2.0).
func equal(a, b any) bool {
	switch x := a.(type) {
	case int64:
		if y, ok := b.(float64); ok {
			return float64(x) == y
		}
	case float64:
		if y, ok := b.(int64); ok {
			return x == float64(y)
		}
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equal(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
