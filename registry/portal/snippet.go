package portal

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/platdev/plat/compiler"
)

// The stack file a golden-path page offers to copy (Snippet), with example
// parameter values, checked by the compiler before it is shown.

// Snippet returns a stack file that uses template t on target: the stack's
// metadata with placeholder values that pass the stack schema, the
// platform's first region, the template's required parameters with example
// values, and its optional ones commented out with their defaults.
func Snippet(p compiler.Platform, t *compiler.Template, target string) string {
	region := "eu-west-1"
	if len(p.Regions) > 0 {
		region = p.Regions[0]
	}
	name := dnsLabel("my-" + t.Name)
	var b strings.Builder
	fmt.Fprintf(&b, "# A stack using the %s golden path; rename it and set your team.\n", t.Name)
	b.WriteString("apiVersion: plat/v1\nkind: Stack\nmetadata:\n")
	fmt.Fprintf(&b, "  name: %s\n  team: my-team\n  environment: dev\n  costCenter: CC-0000\n", name)
	fmt.Fprintf(&b, "spec:\n  target: %s\n  region: %s\n  resources:\n", target, region)
	fmt.Fprintf(&b, "    - name: %s\n      template: %s\n", dnsLabel(t.Name), t.Name)
	var req, opt []string
	if t.Parameters != nil {
		for _, f := range t.Parameters.Fields {
			switch {
			case f.Required:
				req = append(req, f.Name+": "+yamlScalar(example(f.Shape)))
			case f.Shape.HasDefault:
				opt = append(opt, f.Name+": "+yamlScalar(f.Shape.Default))
			default:
				opt = append(opt, f.Name+": (depends on the stack)")
			}
		}
	}
	switch {
	case len(req) > 0:
		b.WriteString("      with:\n")
		for _, l := range req {
			b.WriteString("        " + l + "\n")
		}
		for _, l := range opt {
			b.WriteString("        # " + l + "\n")
		}
	case len(opt) > 0:
		b.WriteString("      # with: (optional; the defaults)\n")
		for _, l := range opt {
			b.WriteString("      #   " + l + "\n")
		}
	}
	return b.String()
}

var nonLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsLabel turns s into a DNS label of at most 40 characters.
func dnsLabel(s string) string {
	s = strings.Trim(nonLabel.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "r" + s
	}
	return s
}

// example is a value a required parameter of shape s accepts.
func example(s *compiler.Shape) any {
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	switch s.Type {
	case "integer", "number":
		switch {
		case s.Min != nil && s.ExclusiveMin:
			return int64(*s.Min) + 1
		case s.Min != nil:
			return *s.Min
		case s.Max != nil:
			return *s.Max
		}
		return 1
	case "boolean":
		return false
	case "array":
		return []any{}
	case "object":
		m := map[string]any{}
		for _, f := range s.Fields {
			if f.Required {
				m[f.Name] = example(f.Shape)
			}
		}
		return m
	case "null":
		return nil
	}
	return "example"
}

// validateSnippet runs the checks of plat validate on a snippet.
func validateSnippet(c *compiler.Compiler, snippet string) error {
	_, ds := c.Compile(context.Background(), compiler.Input{Stacks: []compiler.Source{{Name: "stack.yaml", Data: []byte(snippet)}}, Validate: true})
	if !ds.HasErrors() {
		return nil
	}
	var msgs []string
	for _, d := range ds {
		if d.Severity == compiler.SeverityError {
			msgs = append(msgs, d.String())
		}
	}
	return errors.New(strings.Join(msgs, "; "))
}
