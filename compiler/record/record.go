// Package record is the render record: where every value plat renders came
// from. plat render writes it beside a stack's output as FileName, and plat
// drift reads it to follow a drifted attribute back to the stack file.
//
// The package holds only the file's schema and its reader, so that readers
// (drift) need not import the compiler.
package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/platdev/plat/internal/userfile"
)

// FileName is the record's name in a stack's output directory. It is a dot-file
// without a manifest extension, so tofu (which reads *.tf and *.tf.json),
// kubectl apply -f DIR and GitOps tools that read a directory (which read
// *.yaml, *.yml and *.json) all pass it by.
const FileName = ".platsources"

// SchemaVersion identifies the record's format; bump it on any incompatible change.
const SchemaVersion = "plat.dev/render-sources/v1"

// Origins of a rendered value.
const (
	// OriginStack: exactly a parameter, set in the stack file.
	OriginStack = "stack"
	// OriginDefault: exactly a parameter the stack file does not set, so the
	// template's default.
	OriginDefault = "default"
	// OriginDerived: computed by the template from Parameters (another
	// expression, such as a size looked up in a table).
	OriginDerived = "derived"
	// OriginContext: from the stack's metadata and spec through the template's
	// context (name, namespace, region, tags, labels), set by plat.
	OriginContext = "context"
	// OriginConstant: fixed by the template.
	OriginConstant = "constant"
)

// Record is the content of FileName.
type Record struct {
	// Comment is the generated-file header, first so IsGenerated recognises it.
	Comment       string `json:"//"`
	SchemaVersion string `json:"schemaVersion"`
	// Source is the stack file as render named it (as diagnostics name it).
	Source string `json:"source"`
	Stack  Stack  `json:"stack"`
	// Waivers are the stack's waivers as written, so guardrails can be checked
	// again (plat drift) without the stack file.
	Waivers   []map[string]any `json:"waivers,omitempty"`
	Resources []Resource       `json:"resources"`
}

// Stack is the stack's metadata and spec fields that templates read.
type Stack struct {
	Name        string `json:"name"`
	Team        string `json:"team"`
	Environment string `json:"environment"`
	CostCenter  string `json:"costCenter"`
	Target      string `json:"target"`
	Region      string `json:"region"`
}

// Resource is one resource of the stack.
type Resource struct {
	Name     string `json:"name"`
	Template string `json:"template"`
	// Line and Col are where the resource's with: key is, or its list entry
	// when it has none: where a parameter it does not set would be added.
	Line int `json:"line"`
	Col  int `json:"col"`
	// With is the resource's with: as written.
	With map[string]any `json:"with"`
	// Parameters holds every parameter's evaluated value, set or defaulted.
	Parameters map[string]Param `json:"parameters"`
	// Inputs (terraform target) maps each module input to its origin.
	Inputs map[string]Origin `json:"inputs,omitempty"`
	// Objects (crossplane target) are the emitted objects, in file order.
	Objects []Object `json:"objects,omitempty"`
}

// Param is a parameter's evaluated value and, when the stack file sets it,
// where.
type Param struct {
	Value any  `json:"value"`
	Set   bool `json:"set,omitempty"`
	// Field is the stack-file path of the value (spec.resources[0].with.size).
	Field string `json:"field,omitempty"`
	Line  int    `json:"line,omitempty"`
	Col   int    `json:"col,omitempty"`
}

// Origin says where a rendered value came from.
type Origin struct {
	// Origin is one of the Origin* constants.
	Origin string `json:"origin"`
	// Parameter is the parameter the value is exactly (OriginStack,
	// OriginDefault).
	Parameter string `json:"parameter,omitempty"`
	// Field, Line and Col are where the stack file sets it (OriginStack).
	Field string `json:"field,omitempty"`
	Line  int    `json:"line,omitempty"`
	Col   int    `json:"col,omitempty"`
	// Parameters are the parameters a derived value reads (OriginDerived).
	Parameters []string `json:"parameters,omitempty"`
}

// Object is one emitted Kubernetes object and the origin of its fields.
type Object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// Fields maps field paths (spec.forProvider.allocatedStorage,
	// metadata.labels) to origins. A field not listed has the origin of its
	// nearest listed ancestor (metadata.labels.team that of metadata.labels).
	Fields map[string]Origin `json:"fields"`
}

// Address names the object the way drift reports do:
// apiVersion/Kind/namespace/name.
func (o Object) Address() string {
	parts := []string{o.APIVersion, o.Kind}
	if o.Namespace != "" {
		parts = append(parts, o.Namespace)
	}
	return strings.Join(append(parts, o.Name), "/")
}

// Resource returns the resource named name, or nil.
func (r *Record) Resource(name string) *Resource {
	for i := range r.Resources {
		if r.Resources[i].Name == name {
			return &r.Resources[i]
		}
	}
	return nil
}

// Encode returns the record as indented JSON with a final newline; the output
// is the same for the same record (encoding/json sorts map keys).
func Encode(r *Record) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Digest returns a SHA-256 digest of r's encoding: equal digests mean equal
// Encode output, without the indentation's cost (plat diff compares renders
// by digest).
func Digest(r *Record) ([]byte, error) {
	h := sha256.New()
	enc := json.NewEncoder(h)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// ErrNoRecord means a stack directory has no render record (rendered by an
// older plat, or not by plat at all).
var ErrNoRecord = errors.New("no render record")

// Parse decodes a record; name is for errors.
func Parse(name string, data []byte) (*Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%s: schemaVersion %q is not %q (render the stack again with this plat)", name, r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}

// Read reads dir's record; it returns an error wrapping ErrNoRecord when there
// is none.
func Read(dir string) (*Record, error) {
	p := filepath.Join(dir, FileName)
	b, err := userfile.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", p, ErrNoRecord)
	}
	if err != nil {
		return nil, err
	}
	return Parse(p, b)
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_\-]*$`)

// Join appends a map key or list-free field name to a path the way drift
// reports write paths: tags.team, or labels["plat.dev/stack"] for keys that
// would be ambiguous after a dot.
func Join(path, key string) string {
	if !plainKey.MatchString(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// Lookup returns the origin of path in fields: the entry for path itself or
// for its nearest ancestor, and the rest of path below that entry ("" when
// exact).
func Lookup(fields map[string]Origin, path string) (Origin, string, bool) {
	for p := path; p != ""; p = parent(p) {
		if o, ok := fields[p]; ok {
			return o, strings.TrimPrefix(path[len(p):], "."), true
		}
	}
	return Origin{}, "", false
}

// parent drops the last element of a path: a.b -> a, a[0] -> a, a["k"] -> a.
func parent(p string) string {
	if strings.HasSuffix(p, "]") {
		// Find the [ that opens the last index, outside quotes.
		inQuote := false
		for i := len(p) - 2; i >= 0; i-- {
			switch p[i] {
			case '"':
				if i == 0 || p[i-1] != '\\' {
					inQuote = !inQuote
				}
			case '[':
				if !inQuote {
					return p[:i]
				}
			}
		}
		return ""
	}
	if i := strings.LastIndexAny(p, ".]"); i >= 0 {
		if p[i] == ']' {
			return p[:i+1]
		}
		return p[:i]
	}
	return ""
}
