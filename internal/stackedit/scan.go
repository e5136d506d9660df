package stackedit

import (
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The YAML parser gives where a node starts, not where it ends; these find
// the end in the bytes. A wrong answer cannot corrupt a file (Set verifies
// every edit), it can only make Set refuse.

// end returns the offset just after the text of node n; flow says whether n
// sits inside a flow collection.
func (e *editor) end(n *yaml.Node, flow bool) (int, error) {
	start := e.offset(n.Line, n.Column)
	switch n.Kind {
	case yaml.ScalarNode:
		return e.scalarEnd(n, start)
	case yaml.MappingNode, yaml.SequenceNode:
		if n.Style&yaml.FlowStyle != 0 || flow {
			return e.bracketEnd(n, start)
		}
		if len(n.Content) == 0 {
			return 0, e.errNode(n, ErrUnsupported, "an empty block collection")
		}
		last := n.Content[len(n.Content)-1]
		if n.Kind == yaml.MappingNode && isEmptyNull(last) {
			return e.afterColon(n.Content[len(n.Content)-2])
		}
		if isEmptyNull(last) {
			return 0, e.errNode(n, ErrUnsupported, "a list ending in an empty item")
		}
		return e.end(last, false)
	}
	return 0, e.errNode(n, ErrUnsupported, "an alias or anchor inside the value")
}

// isEmptyNull reports whether n is a null written as nothing at all.
func isEmptyNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Style == 0 && n.Value == "" && n.ShortTag() == "!!null"
}

func (e *editor) scalarEnd(n *yaml.Node, start int) (int, error) {
	src := e.src
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return 0, e.errNode(n, ErrUnsupported, "a block scalar (| or >); edit it by hand")
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := start + 1; i < len(src); i++ {
			switch src[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := start + 1; i < len(src); i++ {
			if src[i] == '\'' {
				if i+1 < len(src) && src[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			}
		}
	default:
		// A plain scalar on one line is written exactly as its value.
		end := start + len(n.Value)
		if n.Value != "" && end <= len(src) && string(src[start:end]) == n.Value {
			return end, nil
		}
		if n.Value == "" {
			return start, nil
		}
		return 0, e.errNode(n, ErrUnsupported, "a value that spans lines; edit it by hand")
	}
	return 0, e.errNode(n, ErrUnsupported, "an unterminated quoted value")
}

// bracketEnd returns the offset after the bracket closing the flow
// collection that starts at start, skipping quoted strings and comments.
func (e *editor) bracketEnd(n *yaml.Node, start int) (int, error) {
	src := e.src
	if start >= len(src) || (src[start] != '{' && src[start] != '[') {
		return 0, e.errNode(n, ErrUnsupported, "a collection that does not start with a bracket")
	}
	depth := 0
	for i := start; i < len(src); i++ {
		switch c := src[i]; c {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case '"', '\'':
			i++
			for ; i < len(src); i++ {
				if c == '"' && src[i] == '\\' {
					i++
					continue
				}
				if src[i] == c {
					if c == '\'' && i+1 < len(src) && src[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '#':
			if i > 0 && (src[i-1] == ' ' || src[i-1] == '\t' || src[i-1] == '\n') {
				for i < len(src) && src[i] != '\n' {
					i++
				}
			}
		}
	}
	return 0, e.errNode(n, ErrUnsupported, "an unterminated flow collection")
}

func decodeRune(b []byte) (rune, int) {
	r, size := utf8.DecodeRune(b)
	if size == 0 {
		size = 1
	}
	return r, size
}
