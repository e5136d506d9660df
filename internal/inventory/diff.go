package inventory

import (
	"context"
	"fmt"
	"time"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/pipeline"
	"github.com/platdev/plat/internal/userfile"
)

// DiffSchema is the JSON schema name of a diff report.
const DiffSchema = "plat.diff/v1"

// Stack verdicts of a diff.
const (
	VerdictBreaks    = "breaks"    // compiles with the base catalog, not with the new one
	VerdictFixed     = "fixed"     // the other way round
	VerdictBroken    = "broken"    // compiles with neither
	VerdictChanges   = "changes"   // compiles with both; something in the report moved
	VerdictUnchanged = "unchanged" // compiles with both, nothing moved
)

// DiffReport is the blast radius of a catalog change: every stack under the
// paths, in path order.
type DiffReport struct {
	Schema string `json:"schema"`
	// Base names the base catalog ("pinned" when each stack's own), New the new one.
	Base    string      `json:"base"`
	New     string      `json:"new"`
	Stacks  []StackDiff `json:"stacks"`
	Summary DiffSummary `json:"summary"`
}

// DiffSummary counts stacks by verdict.
type DiffSummary struct {
	Stacks       int `json:"stacks"`
	Breaks       int `json:"breaks"`
	Fixed        int `json:"fixed"`
	Broken       int `json:"broken"`
	FilesChange  int `json:"filesChange"`
	Unchanged    int `json:"unchanged"`
	NewWarnings  int `json:"newWarnings"`
	ModulesMoved int `json:"modulesMoved"`
}

// StackDiff is what the new catalog changes for one stack.
type StackDiff struct {
	File    string `json:"file"`
	Name    string `json:"name"`
	Verdict string `json:"verdict"`
	// Base is the catalog the stack was compared against.
	Base Catalog `json:"base"`
	// Files are the rendered files that change (only when both compile).
	Files []FileChange `json:"files"`
	// New are diagnostics the new catalog adds; Resolved those it removes.
	New      []Diag `json:"new"`
	Resolved []Diag `json:"resolved"`
	// Waivers are waivers that start or stop accepting a violation.
	Waivers []WaiverChange `json:"waivers"`
	// Modules are the resources whose module or version moves.
	Modules []ModuleChange `json:"modules"`
}

// Diag is a diagnostic in a diff report.
type Diag struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"`
	ID       string `json:"id"`
	Resource string `json:"resource,omitempty"`
	Message  string `json:"message"`
}

func (d Diag) location() string {
	return compiler.Diagnostic{File: d.File, Line: d.Line, Col: d.Col}.Location()
}

// WaiverChange is a waiver whose effect changes. Change is "starts" (it will
// accept a violation it did not) or "stops" (it will not any more, and plat
// will warn that it is not needed).
type WaiverChange struct {
	Guardrail string `json:"guardrail"`
	Resource  string `json:"resource,omitempty"`
	Line      int    `json:"line"`
	Change    string `json:"change"`
}

// ModuleChange is a resource whose rendered module moves; From or To is nil
// where the template is missing from that catalog.
type ModuleChange struct {
	Resource string  `json:"resource"`
	Template string  `json:"template"`
	From     *Module `json:"from"`
	To       *Module `json:"to"`
}

// DiffOptions configure Diff.
type DiffOptions struct {
	// Base chooses each stack's base catalog (nil: the embedded one);
	// BaseName names it in the report.
	Base     Resolver
	BaseName string
	// New is the catalog under test.
	New Catalog
	// Diff adds unified diffs to changed files.
	Diff bool
	// Registry overrides the catalogs' module registry, as render --registry.
	Registry *compiler.Registry
	// Now decides waiver expiry for both compiles; zero is time.Now().
	Now time.Time
	// Workers bounds concurrent compiles; 0 is every core.
	Workers int

	// compileBoth turns off the shortcut of compiling once a stack whose
	// templates are the same in both catalogs (tests compare the two paths).
	compileBoth bool
}

// Breaks reports whether some stack would stop compiling under the new catalog.
func (r *DiffReport) Breaks() bool { return r.Summary.Breaks > 0 }

// Diff compiles every stack file at paths with its base catalog and with the
// new one, in memory and concurrently, and reports what changes.
func Diff(ctx context.Context, paths []string, o DiffOptions) (*DiffReport, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	base := o.Base
	if base == nil {
		base = Fixed(Embedded())
	}
	rep := &DiffReport{Schema: DiffSchema, Base: o.BaseName, New: o.New.Ref(), Stacks: make([]StackDiff, len(paths))}
	fps := &fingerprints{}
	forEach(ctx, len(paths), o.Workers, func(cs compilers, i int) {
		rep.Stacks[i] = diffStack(ctx, cs, fps, paths[i], base, o, now)
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := &rep.Summary
	s.Stacks = len(rep.Stacks)
	for _, sd := range rep.Stacks {
		switch sd.Verdict {
		case VerdictBreaks:
			s.Breaks++
		case VerdictFixed:
			s.Fixed++
		case VerdictBroken:
			s.Broken++
		case VerdictUnchanged:
			s.Unchanged++
		}
		if len(sd.Files) > 0 {
			s.FilesChange++
		}
		for _, d := range sd.New {
			if d.Severity == compiler.SeverityWarning.String() {
				s.NewWarnings++
			}
		}
		s.ModulesMoved += len(sd.Modules)
	}
	return rep, nil
}

// side is one compile of a stack.
type side struct {
	ok      bool // compiled without errors
	files   []compiler.File
	diags   compiler.Diagnostics
	modules map[string]*Module // by resource name
}

func compileSide(ctx context.Context, c *compiler.Compiler, src compiler.Source, d declared, o DiffOptions, now time.Time) side {
	// Without --diff only whether files differ is reported: digests of the
	// Terraform files compare as the files would, and cost a fraction of
	// encoding them.
	res, ds := c.Compile(ctx, compiler.Input{Stacks: []compiler.Source{src}, Now: now, Registry: o.Registry, Digests: !o.Diff})
	sd := side{diags: ds, modules: map[string]*Module{}}
	if !ds.HasErrors() && len(res.Stacks) == 1 {
		sd.ok, sd.files = true, res.Stacks[0].Files
	}
	for _, r := range d.resources {
		if m, ok := moduleOf(c, r.template); ok {
			if o.Registry != nil {
				m.Namespace = o.Registry.Namespace
			}
			sd.modules[r.name] = &m
		}
	}
	return sd
}

func diffStack(ctx context.Context, cs compilers, fps *fingerprints, path string, resolve Resolver, o DiffOptions, now time.Time) StackDiff {
	name := pipeline.DisplayName(path)
	sd := StackDiff{File: name, Files: []FileChange{}, New: []Diag{}, Resolved: []Diag{}, Waivers: []WaiverChange{}, Modules: []ModuleChange{}}
	broken := func(err error) StackDiff {
		sd.Verdict = VerdictBroken
		sd.New = append(sd.New, Diag{File: name, Severity: compiler.SeverityError.String(), ID: "plat.input", Message: err.Error()})
		return sd
	}
	data, err := userfile.ReadFile(path)
	if err != nil {
		return broken(err)
	}
	root, loadDiags := compiler.LoadStack(name, data)
	d := declare(root)
	sd.Name = d.name
	baseCat, err := resolve(path)
	if err != nil {
		return broken(err)
	}
	sd.Base = baseCat
	bc, err := cs.get(baseCat)
	if err != nil {
		return broken(fmt.Errorf("base %w", err))
	}
	nc, err := cs.get(o.New)
	if err != nil {
		return broken(fmt.Errorf("new %w", err))
	}
	src := compiler.Source{Name: name, Data: data}
	if len(loadDiags) == 0 {
		src.Root = root // both compiles read the stack as loaded here
	}
	before := compileSide(ctx, bc, src, d, o, now)
	after := before
	if o.compileBoth || !sameFor(fps.of(baseCat), fps.of(o.New), d.resources) {
		after = compileSide(ctx, nc, src, d, o, now)
	}

	sd.New, sd.Resolved = diagDelta(before.diags, after.diags), diagDelta(after.diags, before.diags)
	for _, r := range d.resources {
		from, to := before.modules[r.name], after.modules[r.name]
		if (from == nil) != (to == nil) || (from != nil && *from != *to) {
			sd.Modules = append(sd.Modules, ModuleChange{Resource: r.name, Template: r.template, From: from, To: to})
		}
	}
	switch {
	case before.ok && after.ok:
		sd.Files = compareFiles(before.files, after.files, o.Diff)
		sd.Waivers = waiverDelta(d.waivers, before.diags, after.diags)
		sd.Verdict = VerdictUnchanged
		if len(sd.Files)+len(sd.New)+len(sd.Resolved)+len(sd.Waivers)+len(sd.Modules) > 0 {
			sd.Verdict = VerdictChanges
		}
	case before.ok:
		sd.Verdict = VerdictBreaks
	case after.ok:
		sd.Verdict = VerdictFixed
	default:
		sd.Verdict = VerdictBroken
	}
	return sd
}

func diagKey(d compiler.Diagnostic) string {
	return fmt.Sprintf("%d\x00%d\x00%d\x00%s\x00%s\x00%s", d.Severity, d.Line, d.Col, d.ID, d.Resource, d.Message)
}

// diagDelta lists the diagnostics of b that a lacks, in b's order.
func diagDelta(a, b compiler.Diagnostics) []Diag {
	have := map[string]int{}
	for _, d := range a {
		have[diagKey(d)]++
	}
	out := []Diag{}
	for _, d := range b {
		k := diagKey(d)
		if have[k] > 0 {
			have[k]--
			continue
		}
		out = append(out, Diag{File: d.File, Line: d.Line, Col: d.Col, Severity: d.Severity.String(), ID: d.ID, Resource: d.Resource, Message: d.Message})
	}
	return out
}

// waiverMatters reports whether a waiver accepts a violation: the compiler
// reports every waiver that does not (unused, expired, unknown, not
// waivable) with a waiver.* diagnostic on one of its lines.
func waiverMatters(w declaredWaiver, ds compiler.Diagnostics) bool {
	for _, d := range ds {
		if len(d.ID) > 7 && d.ID[:7] == "waiver." && w.lines[d.Line] {
			return false
		}
	}
	return true
}

func waiverDelta(ws []declaredWaiver, before, after compiler.Diagnostics) []WaiverChange {
	out := []WaiverChange{}
	for _, w := range ws {
		b, a := waiverMatters(w, before), waiverMatters(w, after)
		if a == b {
			continue
		}
		ch := "starts"
		if b {
			ch = "stops"
		}
		out = append(out, WaiverChange{Guardrail: w.guardrail, Resource: w.resource, Line: w.line, Change: ch})
	}
	return out
}
