// Package compiler turns stack files into Terraform or Crossplane manifests
// through the golden-path templates of a CUE catalog, enforcing the catalog's
// guardrails at compile time.
//
// It is a pure library: it reads the catalog from an fs.FS and stack files from
// memory, returns rendered files in memory or diagnostics, never touches the
// disk and logs nothing. Only templates a stack uses are compiled, each once per
// Compiler, so the cost of a compile follows the stack, not the catalog.
package compiler

import (
	"context"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
)

// Compiler compiles stacks against one catalog. It is safe for concurrent use;
// compiles are serialised because CUE values are not.
type Compiler struct {
	fsys fs.FS

	mu             sync.Mutex
	cc             *cue.Context
	schemas        cue.Value
	stackSchema    cue.Value
	templateSchema cue.Value
	platform       Platform
	file           cue.Value // platform.cue
	org            cue.Value // platform.cue when its org field holds the org rules
	orgRules       []Guardrail
	templates      map[string]*Template
	envelope       *checkMemo // checks against stackSchema
}

// New loads the schemas and the catalog's platform settings (templates are
// compiled on first use). catalog has the layout of plat's catalog/ folder:
// platform.cue at the root and TEMPLATE/template.cue per template.
func New(catalog fs.FS) (*Compiler, error) {
	c := &Compiler{fsys: catalog, cc: cuecontext.New(), templates: map[string]*Template{}}
	if err := c.loadSchemas(); err != nil {
		return nil, err
	}
	if err := c.loadPlatform(); err != nil {
		return nil, err
	}
	return c, nil
}

// Format selects the Terraform output syntax.
type Format int

// Terraform output formats.
const (
	FormatHCL  Format = iota // .tf files
	FormatJSON               // .tf.json files
)

// Source is one stack file: Name is how diagnostics and the generated-file header
// name it (keep it relative), Data its content.
type Source struct {
	Name string
	Data []byte
	// Root, when not nil, is Data as LoadStack(Name, Data) returned it without
	// diagnostics, so that a caller that read the stack already (plat diff,
	// compiling one stack twice) does not have it parsed again. Compile only
	// reads it.
	Root *Node
}

// Input is what Compile compiles.
type Input struct {
	Stacks []Source
	// Now decides which waivers have expired; zero means time.Now().
	Now time.Time
	// WaiverWarning, when positive, warns (IDWaiverExpiring) about every
	// waiver that counts and runs out within it of Now.
	WaiverWarning time.Duration
	// Registry overrides the catalog's registry host and namespace.
	Registry *Registry
	// Format is the Terraform syntax.
	Format Format
	// Validate runs every check and leaves the Terraform files out of the
	// result: Stacks of the terraform target have no Files. It is for callers
	// that only report diagnostics (plat validate); everything that would stop a
	// render is still reported. Crossplane files are still produced, since
	// checks against CRDs read them.
	Validate bool
	// Digests leaves out the text of Terraform files and of the render record:
	// each such File's Data is a SHA-256 digest of the document it would
	// encode, so that two renders can be compared without encoding either
	// (plat diff without --diff). Equal digests mean equal files, in either
	// syntax. Everything that would stop a render is still reported.
	Digests bool
	// Cost estimates every stack's monthly cost into Result.Costs. Stacks a
	// budget applies to are estimated anyway, for the org.budget guardrail.
	Cost bool
}

// Result holds the rendered stacks.
type Result struct {
	Stacks []*Stack
	// Costs holds, with Input.Cost, the estimate of every stack whose
	// resources all evaluated (guardrail errors included), in input order.
	Costs []*StackCost
}

// Files returns every rendered file of every stack, paths relative to the output
// directory.
func (r *Result) Files() []File {
	var fs []File
	for _, s := range r.Stacks {
		fs = append(fs, s.Files...)
	}
	return fs
}

// Stack is one rendered stack.
type Stack struct {
	// Name is metadata.name; the stack's files live in Name/.
	Name string
	// Source is the stack file's name as given in Input.
	Source string
	// Target is terraform or crossplane.
	Target string
	Files  []File
}

// File is one rendered file.
type File struct {
	// Path is relative to the output directory, with forward slashes: STACK/FILE.
	Path string
	Data []byte
	// Objects are the Kubernetes objects of a Crossplane file, in file order, so
	// they can be validated against CRDs without parsing Data again.
	Objects []map[string]any
}

// Compile compiles every stack of in. Diagnostics holds every problem found in
// every stack; Result holds the stacks that compiled without errors (callers that
// write files should write nothing when Diagnostics.HasErrors()).
// CompileParallel does the same on several cores.
func (c *Compiler) Compile(ctx context.Context, in Input) (*Result, Diagnostics) {
	col := newCollector(nil)
	c.compileSeq(ctx, in, col)
	return col.res, col.all
}

// compileSeq compiles every stack of in into col, one after the other.
func (c *Compiler) compileSeq(ctx context.Context, in Input, col *collector) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in.Now = in.now()
	for _, src := range in.Stacks {
		if !col.add(c.compileOne(ctx, in, src)) {
			break
		}
	}
}

// now is Input.Now, or the current time when that is zero.
func (in Input) now() time.Time {
	if in.Now.IsZero() {
		return time.Now()
	}
	return in.Now
}

// compiled is one stack file compiled on its own, before the checks across
// the stacks of an Input (see collector).
type compiled struct {
	file     string
	st       *Stack
	diags    Diagnostics
	namePos  Pos
	cost     *StackCost
	canceled error // the context ended before this stack was compiled
}

// compileOne compiles one stack file of in, whose Now is set; the caller holds
// c.mu.
func (c *Compiler) compileOne(ctx context.Context, in Input, src Source) compiled {
	if err := ctx.Err(); err != nil {
		return compiled{file: src.Name, canceled: err}
	}
	reg := c.platform.Registry
	if in.Registry != nil {
		reg = *in.Registry
	}
	sc := &stackCompiler{c: c, file: src.Name, now: in.Now, waiverWarning: in.WaiverWarning, reg: reg, format: in.Format, validate: in.Validate, digests: in.Digests, wantCost: in.Cost}
	x := compiled{file: src.Name, st: sc.compile(src), namePos: sc.namePos}
	x.diags = sc.diags
	if in.Cost {
		x.cost = sc.cost
	}
	return x
}

// collector takes compiled stacks in input order and does what spans them:
// stack names unique across stacks, diagnostics sorted per stack and kept in
// input order, the result in input order. Whatever order stacks are compiled
// in, the same sequence of add calls gives the same result.
type collector struct {
	res   *Result
	all   Diagnostics
	names map[string]string // stack name -> file
	// emit, when set, takes the stacks instead of res.Stacks (CompileEach).
	emit func(st *Stack, clean bool)
}

func newCollector(emit func(*Stack, bool)) *collector {
	return &collector{res: &Result{}, names: map[string]string{}, emit: emit}
}

// add takes the next stack in input order; false means the context ended and
// later stacks are not taken.
func (col *collector) add(x compiled) bool {
	if x.canceled != nil {
		col.all = append(col.all, Diagnostic{ID: "plat.canceled", Message: x.canceled.Error()})
		return false
	}
	if x.cost != nil {
		col.res.Costs = append(col.res.Costs, x.cost)
	}
	st := x.st
	if st != nil {
		if prev, dup := col.names[st.Name]; dup {
			p := x.namePos
			x.diags = append(x.diags, Diagnostic{File: x.file, Line: p.Line, Col: p.Col, ID: IDDuplicateStack,
				Message: fmt.Sprintf("stack name %q is also used by %s", st.Name, prev),
				Hint:    "give every stack its own metadata.name; each renders into its own folder"})
			st = nil
		} else {
			col.names[st.Name] = x.file
		}
	}
	x.diags.Sort()
	col.all = append(col.all, x.diags...)
	if st != nil && !x.diags.HasErrors() {
		if col.emit != nil {
			col.emit(st, !col.all.HasErrors())
		} else {
			col.res.Stacks = append(col.res.Stacks, st)
		}
	}
	return true
}
