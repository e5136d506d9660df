package drift

import "fmt"

// StackField is where a changed attribute comes from in the stack file: the
// resource's parameter and its position (issue 10's contract).
type StackField struct {
	// File is the stack file as plat render named it.
	File string `json:"file"`
	// Line and Col are 1-based: the parameter's value, or where it would go.
	Line      int    `json:"line"`
	Col       int    `json:"col"`
	Resource  string `json:"resource"`
	Parameter string `json:"parameter"`
	// Declared is the parameter's value in the render.
	Declared any `json:"declared"`
	// Live is the parameter value that would produce the live attribute,
	// present only when the mapping is direct or invertible.
	Live any `json:"live,omitempty"`
}

// GuardrailViolation is a template guardrail the live values break.
type GuardrailViolation struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// String renders a change compactly for logs and tests: path, declared, live
// and sensitive as fmt prints the struct's first fields, then the trace
// fields that are set.
func (c AttributeChange) String() string {
	s := fmt.Sprintf("{%v %v %v %v", c.Path, c.Declared, c.Live, c.Sensitive)
	if c.Stack != nil {
		s += fmt.Sprintf(" stack=%s:%d:%d:%s.%s(%v->%v)", c.Stack.File, c.Stack.Line, c.Stack.Col, c.Stack.Resource, c.Stack.Parameter, c.Stack.Declared, c.Stack.Live)
	}
	if c.Traced != nil {
		s += fmt.Sprintf(" traced=%v", *c.Traced)
	}
	if c.Origin != "" {
		s += " origin=" + c.Origin
	}
	if c.Guardrail != nil {
		s += " guardrail=" + c.Guardrail.ID
	}
	return s + "}"
}
