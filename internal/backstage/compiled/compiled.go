// Package compiled fills internal/backstage's input from the compiler: the
// stacks of a compile result (through their render records) and the golden
// paths of a catalog. plat catalog backstage uses both; the registry uses
// GoldenPaths, injected by its wiring, for the catalogs it holds.
package compiled

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/compiler/record"
	"github.com/platdev/plat/internal/backstage"
)

// Stacks turns the stacks of a successful compile (Input.Validate off, so
// each stack carries its render record) into backstage stacks. reg is the
// registry the modules are fetched from (render --registry; nil: the
// catalog's); cat says which catalog c is.
func Stacks(res *compiler.Result, c *compiler.Compiler, reg *compiler.Registry, cat backstage.CatalogID) ([]backstage.Stack, error) {
	ns := c.Platform().Registry.Namespace
	if reg != nil {
		ns = reg.Namespace
	}
	var out []backstage.Stack
	for _, s := range res.Stacks {
		var rec *record.Record
		for _, f := range s.Files {
			if path.Base(f.Path) == record.FileName {
				r, err := record.Parse(f.Path, f.Data)
				if err != nil {
					return nil, err
				}
				rec = r
			}
		}
		if rec == nil {
			return nil, fmt.Errorf("stack %s: the compile left no render record", s.Name)
		}
		st := backstage.Stack{Key: rec.Source, File: rec.Source, Name: rec.Stack.Name, Team: rec.Stack.Team,
			Environment: rec.Stack.Environment, CostCenter: rec.Stack.CostCenter, Target: rec.Stack.Target,
			Region: rec.Stack.Region, Catalog: cat}
		for _, r := range rec.Resources {
			br := backstage.Resource{Name: r.Name, Template: r.Template}
			if t, err := c.Template(r.Template); err == nil && t.Module != "" {
				br.Module = &backstage.Module{Namespace: ns, Name: t.Module, System: t.System, Version: t.Version}
			}
			st.Resources = append(st.Resources, br)
		}
		out = append(out, st)
	}
	return out, nil
}

// GoldenPaths returns a golden path per template of c's catalog, owned by the
// catalog's registry namespace (its platform team) unless owner is set.
func GoldenPaths(c *compiler.Compiler, cat backstage.CatalogID, owner string) ([]backstage.GoldenPath, error) {
	names, err := c.TemplateNames()
	if err != nil {
		return nil, err
	}
	if owner == "" {
		owner = c.Platform().Registry.Namespace
	}
	var out []backstage.GoldenPath
	for _, n := range names {
		t, err := c.Template(n)
		if err != nil {
			return nil, err
		}
		def, err := definition(c, t)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		gp := backstage.GoldenPath{Catalog: cat, Owner: owner, Template: t.Name, Description: t.Description, Definition: def}
		if t.Module != "" {
			gp.Module = &backstage.Module{Namespace: c.Platform().Registry.Namespace, Name: t.Module, System: t.System, Version: t.Version}
		}
		out = append(out, gp)
	}
	return out, nil
}

// contract is the golden path's definition document.
type contract struct {
	Template    string      `yaml:"template"`
	Description string      `yaml:"description,omitempty"`
	Module      string      `yaml:"module,omitempty"`
	Parameters  []parameter `yaml:"parameters"`
	Guardrails  []guardrail `yaml:"guardrails"`
	Outputs     []string    `yaml:"outputs,omitempty"`
	Example     string      `yaml:"example"`
}

type parameter struct {
	Name     string   `yaml:"name"`
	Type     string   `yaml:"type,omitempty"`
	Default  any      `yaml:"default,omitempty"`
	Allowed  []any    `yaml:"allowed,omitempty"`
	Min      *float64 `yaml:"min,omitempty"`
	Max      *float64 `yaml:"max,omitempty"`
	Required bool     `yaml:"required,omitempty"`
	Doc      string   `yaml:"doc,omitempty"`
}

type guardrail struct {
	ID       string `yaml:"id"`
	Severity string `yaml:"severity"`
	Waivable bool   `yaml:"waivable"`
	Message  string `yaml:"message"`
	Hint     string `yaml:"hint,omitempty"`
}

// definition is the template's contract as YAML: what plat catalog show
// prints, plus a stack-file snippet that uses it with its defaults.
func definition(c *compiler.Compiler, t *compiler.Template) (string, error) {
	k := contract{Template: t.Name, Description: t.Description, Parameters: []parameter{}, Guardrails: []guardrail{}, Outputs: t.Outputs}
	if t.Module != "" {
		k.Module = c.Platform().Registry.Namespace + "/" + t.Module + "/" + t.System + " " + t.Version
	}
	if p := t.Parameters; p != nil {
		for _, f := range p.Fields {
			s := f.Shape
			pm := parameter{Name: f.Name, Type: s.Type, Allowed: s.Enum, Min: s.Min, Max: s.Max, Required: f.Required, Doc: s.Doc}
			if s.HasDefault {
				pm.Default = s.Default
			}
			k.Parameters = append(k.Parameters, pm)
		}
	}
	for _, g := range t.Guardrails {
		k.Guardrails = append(k.Guardrails, guardrail{ID: g.ID, Severity: g.Severity.String(), Waivable: g.Waivable, Message: g.Message, Hint: g.Hint})
	}
	sort.SliceStable(k.Guardrails, func(i, j int) bool { return k.Guardrails[i].ID < k.Guardrails[j].ID })
	k.Example = fmt.Sprintf("spec:\n  resources:\n    - name: my-%s\n      template: %s\n", t.Name, t.Name)
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(k); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}
