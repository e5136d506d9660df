package inventory

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/pipeline"
	"github.com/platdev/plat/internal/userfile"
)

// Schema is the JSON schema name of an inventory document.
const Schema = "plat.inventory/v1"

// Output states of a stack's rendered output.
const (
	OutputUpToDate = "up-to-date"   // the output tree holds exactly a fresh render
	OutputStale    = "stale"        // it differs from a fresh render
	OutputMissing  = "not-rendered" // the output tree has no folder for the stack
	OutputInvalid  = "not-compiling"
)

// Inventory is every stack under the paths asked about, in path order.
type Inventory struct {
	Schema string `json:"schema"`
	// Repository is the key pushes replace by (set by the pusher).
	Repository string `json:"repository,omitempty"`
	// Generated is when the inventory was taken (RFC 3339, UTC).
	Generated string  `json:"generated"`
	Stacks    []Stack `json:"stacks"`
}

// Stack is one stack file's entry.
type Stack struct {
	// File is the stack file, as plat names it in diagnostics.
	File        string `json:"file"`
	Name        string `json:"name"`
	Team        string `json:"team"`
	Environment string `json:"environment"`
	CostCenter  string `json:"costCenter"`
	Target      string `json:"target"`
	// Region is spec.region (read by the registry's Backstage entities).
	Region    string     `json:"region,omitempty"`
	Catalog   Catalog    `json:"catalog"`
	Resources []Resource `json:"resources"`
	Waivers   []Waiver   `json:"waivers"`
	Output    Output     `json:"output"`
	// Errors are the stack's compile errors (file:line:col: message), if any.
	Errors []string `json:"errors,omitempty"`
}

// Resource is one resource of a stack and the module version its template
// pins; Module is nil when the catalog has no such template.
type Resource struct {
	Name     string  `json:"name"`
	Template string  `json:"template"`
	Module   *Module `json:"module,omitempty"`
}

// Waiver is one waiver of a stack. DaysLeft counts whole days from today
// (UTC) to the last day the waiver counts: 0 is its last day, negative
// expired; nil when expires is not a date.
type Waiver struct {
	Guardrail string `json:"guardrail"`
	Resource  string `json:"resource,omitempty"`
	Owner     string `json:"owner"`
	Reason    string `json:"reason"`
	Expires   string `json:"expires"`
	DaysLeft  *int   `json:"daysLeft"`
}

// Output is the state of a stack's rendered output, DIR/<stack name>/.
type Output struct {
	Dir   string `json:"dir"`
	State string `json:"state"`
	// Files are the files that differ from a fresh render (state stale).
	Files []FileChange `json:"files,omitempty"`
}

// Options configure Build.
type Options struct {
	// Catalog chooses each stack's catalog; nil is the embedded one.
	Catalog Resolver
	// Out is the output tree whose DIR/<stack name>/ folders are compared
	// with a fresh render, as plat render --check -o Out would.
	Out string
	// Registry overrides the catalog's module registry, as render --registry.
	Registry *compiler.Registry
	// Now decides waiver expiry; zero is time.Now().
	Now time.Time
	// Workers bounds concurrent compiles; 0 is every core.
	Workers int
	// Diff adds unified diffs to stale output files.
	Diff bool
}

// Build takes the inventory of the stack files at paths (from
// pipeline.FindStacks). A stack that cannot be read or compiled is listed
// with its errors; only a problem with paths themselves is an error.
func Build(ctx context.Context, paths []string, o Options) (*Inventory, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	resolve := o.Catalog
	if resolve == nil {
		resolve = Fixed(Embedded())
	}
	inv := &Inventory{Schema: Schema, Generated: now.Format(time.RFC3339), Stacks: make([]Stack, len(paths))}
	forEach(ctx, len(paths), o.Workers, func(cs compilers, i int) {
		inv.Stacks[i] = buildStack(ctx, cs, paths[i], resolve, o, now)
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return inv, nil
}

func buildStack(ctx context.Context, cs compilers, path string, resolve Resolver, o Options, now time.Time) Stack {
	name := pipeline.DisplayName(path)
	st := Stack{File: name, Resources: []Resource{}, Waivers: []Waiver{},
		Output: Output{Dir: filepath.ToSlash(filepath.Clean(o.Out)), State: OutputInvalid}}
	fail := func(err error) Stack {
		st.Errors = append(st.Errors, name+": "+err.Error())
		return st
	}
	data, err := userfile.ReadFile(path)
	if err != nil {
		return fail(err)
	}
	root, ds := compiler.LoadStack(name, data)
	d := declare(root)
	st.Name, st.Team, st.Environment, st.CostCenter, st.Target, st.Region = d.name, d.team, d.environment, d.costCenter, d.target, d.region
	for _, w := range d.waivers {
		st.Waivers = append(st.Waivers, Waiver{Guardrail: w.guardrail, Resource: w.resource, Owner: w.owner,
			Reason: w.reason, Expires: w.expires, DaysLeft: daysLeft(w.expires, now)})
	}
	cat, err := resolve(path)
	if err != nil {
		for _, r := range d.resources {
			st.Resources = append(st.Resources, Resource{Name: r.name, Template: r.template})
		}
		return fail(err)
	}
	st.Catalog = cat
	c, err := cs.get(cat)
	if err != nil {
		return fail(err)
	}
	for _, r := range d.resources {
		res := Resource{Name: r.name, Template: r.template}
		if m, ok := moduleOf(c, r.template); ok {
			if o.Registry != nil {
				m.Namespace = o.Registry.Namespace
			}
			res.Module = &m
		}
		st.Resources = append(st.Resources, res)
	}
	if len(ds) > 0 {
		st.Errors = errorTexts(ds)
		return st
	}
	in := compiler.Input{Stacks: []compiler.Source{{Name: name, Data: data, Root: root}}, Now: now, Registry: o.Registry}
	if d.name != "" && renderedJSON(o.Out, d.name) {
		in.Format = compiler.FormatJSON
	}
	res, ds := c.Compile(ctx, in)
	if ds.HasErrors() || len(res.Stacks) != 1 {
		st.Errors = errorTexts(ds)
		return st
	}
	exists, changes := compareTree(o.Out, res.Stacks[0], o.Diff)
	switch {
	case !exists:
		st.Output.State = OutputMissing
	case len(changes) > 0:
		st.Output.State, st.Output.Files = OutputStale, changes
	default:
		st.Output.State = OutputUpToDate
	}
	return st
}

// daysLeft is the number of days from now's day to expires (YYYY-MM-DD).
func daysLeft(expires string, now time.Time) *int {
	day, err := time.Parse("2006-01-02", expires)
	if err != nil {
		return nil
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	n := int(day.Sub(today).Hours() / 24)
	return &n
}

func errorTexts(ds compiler.Diagnostics) []string {
	var out []string
	for _, d := range ds {
		if d.Severity == compiler.SeverityError {
			out = append(out, fmt.Sprintf("%s: %s: %s", d.Location(), d.ID, d.Message))
		}
	}
	return out
}
