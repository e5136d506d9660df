package compiler

import (
	"fmt"
	"sort"
	"strings"
)

// Severity says whether a Diagnostic stops a compile.
type Severity int

// Severities, most serious first.
const (
	SeverityError Severity = iota
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem found in a stack file (or, with an empty File, in the
// catalog or the invocation). Line and Col are 1-based positions in the user's own
// file; 0 means unknown.
type Diagnostic struct {
	File     string
	Line     int
	Col      int
	Severity Severity
	// ID is stable: a guardrail id (postgres.no-public-access), or a class of
	// problem (stack.unknown-field, yaml.syntax, ...). SARIF rule ids are these.
	ID      string
	Message string
	Hint    string
	// Resource is the stack resource the diagnostic is about, if any.
	Resource string
}

// Location renders file:line:col (or the parts that are known), the file name
// quoted when it holds control characters (they must not reach a terminal raw).
func (d Diagnostic) Location() string {
	switch {
	case d.File == "":
		return "plat"
	case d.Line == 0:
		return HeaderName(d.File)
	case d.Col == 0:
		return fmt.Sprintf("%s:%d", HeaderName(d.File), d.Line)
	}
	return fmt.Sprintf("%s:%d:%d", HeaderName(d.File), d.Line, d.Col)
}

// String renders the diagnostic the way a compiler does: a
// `file:line:col: error: id: message` line, then an indented hint line if any.
func (d Diagnostic) String() string {
	s := fmt.Sprintf("%s: %s: %s: %s", d.Location(), d.Severity, d.ID, d.Message)
	if d.Hint != "" {
		s += "\n    hint: " + d.Hint
	}
	return s
}

// Diagnostics is a list of diagnostics; it is an error when it holds any error.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic has SeverityError.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Errors returns the number of error diagnostics.
func (ds Diagnostics) Errors() int {
	n := 0
	for _, d := range ds {
		if d.Severity == SeverityError {
			n++
		}
	}
	return n
}

// Sort orders diagnostics by file, line, column, then id, so output is stable.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.ID < b.ID
	})
}

// Error renders every diagnostic, one per line (plus hint lines).
func (ds Diagnostics) Error() string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// Diagnostic ids of problems that are not guardrails.
const (
	IDSyntax            = "stack.syntax"
	IDEmpty             = "stack.empty"
	IDNotMapping        = "stack.not-mapping"
	IDUnsupported       = "stack.unsupported"
	IDDuplicateKey      = "stack.duplicate-key"
	IDUnknownField      = "stack.unknown-field"
	IDMissingField      = "stack.missing-field"
	IDType              = "stack.type"
	IDInvalidValue      = "stack.invalid-value"
	IDUnknownTemplate   = "stack.unknown-template"
	IDDuplicateResource = "stack.duplicate-resource"
	IDDuplicateStack    = "stack.duplicate-stack"
	IDParameter         = "stack.parameter"
	IDWaiverExpired     = "waiver.expired"
	IDWaiverUnknown     = "waiver.unknown-guardrail"
	IDWaiverResource    = "waiver.unknown-resource"
	IDWaiverNotWaivable = "waiver.not-waivable"
	IDWaiverUnused      = "waiver.unused"
	IDWaiverDate        = "waiver.invalid-date"
	IDCatalog           = "catalog.invalid"
	IDOrgTags           = "org.tags"
)
