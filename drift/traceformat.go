package drift

import (
	"fmt"
	"strings"
)

// How every format shows a change's trace (docs/drift.md): the stack file's
// position, the resource and the parameter, with declared and live values in
// the stack's terms; untraced changes are marked with their origin; a broken
// guardrail is called out.

// StackLine is the trace of a change in the stack's terms, "" when it has
// none: platform.yaml:16:20: orders-db.storageGB: declared 100, live 200.
func StackLine(c AttributeChange) string {
	s := c.Stack
	if s == nil {
		return ""
	}
	name := s.Resource + "." + s.Parameter
	if c.Origin == OriginDefault {
		name += " (not set: the template's default)"
	}
	declared, live := FormatValue(s.Declared), FormatValue(s.Live)
	if c.Sensitive {
		declared, live = Masked, Masked
	}
	line := fmt.Sprintf("%s:%d:%d: %s: declared %s", s.File, s.Line, s.Col, name, declared)
	switch {
	case s.Live != nil:
		line += ", live " + live
	case c.Function != "":
		line += fmt.Sprintf(", live value not mapped back (the module sets it to %s)", c.Function)
	default:
		line += ", live value not mapped back"
	}
	return line
}

// UntracedText marks a change that traces to no stack field, "" otherwise.
func UntracedText(c AttributeChange) string {
	if c.Traced == nil || *c.Traced {
		return ""
	}
	switch c.Origin {
	case OriginProvider:
		return "untraced: set by the provider, not the module"
	case OriginComputed:
		return "untraced: computed by the provider"
	case OriginDerived:
		return "untraced: derived by the template or module"
	}
	return "untraced"
}

// GuardrailText is a broken guardrail in one line, "" when none.
func GuardrailText(c AttributeChange) string {
	g := c.Guardrail
	if g == nil {
		return ""
	}
	return fmt.Sprintf("GUARDRAIL VIOLATED (%s) %s: %s", g.Severity, g.ID, g.Message)
}

// GuardrailViolations counts the changes in r that break a guardrail.
func GuardrailViolations(r Report) int {
	n := 0
	for _, s := range r.Stacks {
		n += StackGuardrailViolations(s)
	}
	return n
}

// StackGuardrailViolations counts the changes in s that break a guardrail.
func StackGuardrailViolations(s StackReport) int {
	n := 0
	for _, res := range s.Resources {
		for _, c := range res.Changes {
			if c.Guardrail != nil {
				n++
			}
		}
	}
	return n
}

// traced reports whether any change of s carries trace fields.
func traced(s StackReport) bool {
	for _, res := range s.Resources {
		for _, c := range res.Changes {
			if c.Stack != nil || c.Traced != nil {
				return true
			}
		}
	}
	return false
}

// writeTraceText writes the trace lines of c under its attribute line.
func writeTraceText(b *strings.Builder, c AttributeChange) {
	if l := StackLine(c); l != "" {
		fmt.Fprintf(b, "        %s\n", l)
	}
	if g := GuardrailText(c); g != "" {
		fmt.Fprintf(b, "        !! %s\n", g)
	}
}

// traceCell is the Markdown "stack file" cell of c.
func traceCell(c AttributeChange) string {
	var parts []string
	if l := StackLine(c); l != "" {
		parts = append(parts, mdCode(l))
	} else if u := UntracedText(c); u != "" {
		parts = append(parts, "_"+mdEscaper.Replace(u)+"_")
	}
	if c.Guardrail != nil {
		parts = append(parts, fmt.Sprintf(":rotating_light: **guardrail %s %s**: %s", mdEscaper.Replace(c.Guardrail.Severity),
			mdCode(c.Guardrail.ID), mdEscaper.Replace(c.Guardrail.Message)))
	}
	return strings.Join(parts, "<br>")
}
