package drift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/stackedit"
	"github.com/platdev/plat/internal/userfile"
)

// Accepting drift means adopting the live value into the stack file: for each
// change that traces to a stack field, the parameter is set to the live value
// with stackedit, and the edited stack is compiled against the catalog; a
// value the compile refuses (not a valid parameter value, a broken guardrail)
// is refused, and the answer there is to revert the live side.

// Outcome is what Accept decided for one changed attribute.
type Outcome string

// Outcomes of Accept.
const (
	OutcomeAccepted Outcome = "accepted" // the stack file adopts the live value
	OutcomeRefused  Outcome = "refused"  // traced, but the live value cannot be adopted
	OutcomeUntraced Outcome = "untraced" // traces to nothing in the stack file
	OutcomeError    Outcome = "error"    // the stack could not be checked
)

// Decision is Accept's answer for one changed attribute (or, for a deleted
// resource or a stack that could not be checked, for the whole of it).
type Decision struct {
	// Dir is the stack directory of the report.
	Dir string `json:"dir"`
	// Address and Path name the attribute as the report does.
	Address string `json:"address,omitempty"`
	Path    string `json:"path,omitempty"`
	// Stack is where the change traces to, when it does; File there is the
	// stack file as Edits name it.
	Stack   *StackField `json:"stack,omitempty"`
	Outcome Outcome     `json:"outcome"`
	// Reason says why a change was refused or not traced, and what to do.
	Reason string `json:"reason,omitempty"`
}

// StackFile is a stack file Accept edits.
type StackFile struct {
	// Path is where the file is on disk.
	Path string
	// Name is how diffs and messages name it: relative to the working
	// directory, with slashes.
	Name string
	Data []byte
	Mode fs.FileMode
}

// Edit is the new content of one stack file.
type Edit struct {
	File StackFile
	New  []byte
}

// AcceptOptions configure Accept.
type AcceptOptions struct {
	// Compiler checks each edited stack: it must be built over the catalog
	// the stacks were rendered with.
	Compiler *compiler.Compiler
	// Now decides waiver expiry in those checks; zero means time.Now().
	Now time.Time
	// Open reads the stack file a report names (file) for a stack directory
	// (dir); nil means OpenStackFile.
	Open func(dir, file string) (StackFile, error)
}

// AcceptResult is what Accept decided, in report order, and the edits of the
// changes it accepted, one per stack file, sorted by name.
type AcceptResult struct {
	Decisions []Decision
	Edits     []Edit
}

// Count returns how many decisions had outcome o.
func (r *AcceptResult) Count(o Outcome) int {
	n := 0
	for _, d := range r.Decisions {
		if d.Outcome == o {
			n++
		}
	}
	return n
}

// OpenStackFile is the default AcceptOptions.Open: an absolute file as it
// is, a relative one from the working directory (where plat render ran), or
// else from the stack directory.
func OpenStackFile(dir, file string) (StackFile, error) {
	path := filepath.FromSlash(file)
	if !filepath.IsAbs(path) {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if alt := filepath.Join(dir, path); fileExists(alt) {
				path = alt
			}
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return StackFile{}, err
	}
	data, err := userfile.ReadFile(path)
	if err != nil {
		return StackFile{}, err
	}
	return StackFile{Path: path, Name: slashName(path), Data: data, Mode: st.Mode().Perm()}, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// slashName names a path relative to the working directory when it is
// inside it, with slashes.
func slashName(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return filepath.ToSlash(rel)
			}
		}
	}
	return filepath.ToSlash(filepath.Clean(path))
}

// wanted is one parameter the report asks to change.
type wanted struct {
	file, dir  string
	kind       Kind
	field      StackField
	decisions  []int // indexes into AcceptResult.Decisions
	conflicted bool
}

// Accept decides, for every changed attribute of rep, whether the stack file
// can adopt its live value, and returns the edits that do. It reads stack
// files through opts.Open and writes nothing.
func Accept(ctx context.Context, rep Report, opts AcceptOptions) *AcceptResult {
	open := opts.Open
	if open == nil {
		open = OpenStackFile
	}
	res := &AcceptResult{}
	var wants []*wanted
	byKey := map[string]*wanted{}
	for _, s := range rep.Stacks {
		revert := revertHint(s.Kind, s.Dir)
		if s.Status == StatusError {
			res.Decisions = append(res.Decisions, Decision{Dir: s.Dir, Outcome: OutcomeError, Reason: "the stack could not be checked: " + firstLine(s.Error)})
			continue
		}
		for _, r := range s.Resources {
			if r.Action == ActionDeleted {
				res.Decisions = append(res.Decisions, Decision{Dir: s.Dir, Address: r.Address, Outcome: OutcomeUntraced,
					Reason: "deleted outside plat: nothing to adopt; " + revert})
				continue
			}
			for _, c := range r.Changes {
				d := Decision{Dir: s.Dir, Address: r.Address, Path: c.Path, Stack: c.Stack}
				switch {
				case c.Stack == nil:
					d.Outcome = OutcomeUntraced
					d.Reason = "traces to nothing in the stack file"
					if c.Origin != "" {
						d.Reason += " (" + c.Origin + ")"
					}
					d.Reason += "; " + revert + ", or ignore it in .platdriftignore"
				case c.Sensitive:
					d.Outcome, d.Reason = OutcomeRefused, "the value is sensitive and not in the report; change the stack file by hand"
				case c.Guardrail != nil:
					d.Outcome = OutcomeRefused
					d.Reason = fmt.Sprintf("the live value breaks guardrail %s (%s): %s; %s", c.Guardrail.ID, c.Guardrail.Severity, c.Guardrail.Message, revert)
				case c.Stack.Live == nil:
					d.Outcome = OutcomeRefused
					d.Reason = "the live value does not map back to a value of " + c.Stack.Parameter + "; " + revert + ", or change the stack file by hand"
				}
				res.Decisions = append(res.Decisions, d)
				if d.Outcome != "" {
					continue
				}
				i := len(res.Decisions) - 1
				key := strings.Join([]string{s.Dir, c.Stack.File, c.Stack.Resource, c.Stack.Parameter}, "\x00")
				w := byKey[key]
				if w == nil {
					w = &wanted{file: c.Stack.File, dir: s.Dir, kind: s.Kind, field: *c.Stack}
					byKey[key] = w
					wants = append(wants, w)
				} else if !sameValue(w.field.Live, c.Stack.Live) {
					w.conflicted = true
				}
				w.decisions = append(w.decisions, i)
			}
		}
	}

	// One stack file at a time, its changes in file order; each accepted
	// edit is the base of the next.
	files := map[string][]*wanted{}
	var order []string
	for _, w := range wants {
		k := w.dir + "\x00" + w.file
		if files[k] == nil {
			order = append(order, k)
		}
		files[k] = append(files[k], w)
	}
	edits := map[string]*Edit{}
	for _, k := range order {
		ws := files[k]
		sort.SliceStable(ws, func(i, j int) bool {
			a, b := ws[i].field, ws[j].field
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Col < b.Col
		})
		decide := func(w *wanted, o Outcome, reason string, name string) {
			for _, i := range w.decisions {
				d := &res.Decisions[i]
				d.Outcome, d.Reason = o, reason
				f := *d.Stack
				if name != "" {
					f.File = name
				}
				d.Stack = &f
			}
		}
		if err := ctx.Err(); err != nil {
			for _, w := range ws {
				decide(w, OutcomeError, err.Error(), "")
			}
			continue
		}
		sf, err := open(ws[0].dir, ws[0].file)
		if err != nil {
			for _, w := range ws {
				decide(w, OutcomeRefused, fmt.Sprintf("cannot read the stack file: %v", err), "")
			}
			continue
		}
		e := edits[sf.Path]
		if e == nil {
			e = &Edit{File: sf, New: sf.Data}
			edits[sf.Path] = e
		}
		base := opts.check(ctx, sf.Name, e.New)
		for _, w := range ws {
			o, reason, next := opts.acceptOne(ctx, sf.Name, e.New, base, w)
			decide(w, o, reason, sf.Name)
			if o == OutcomeAccepted {
				e.New = next
			}
		}
	}
	for _, e := range edits {
		if string(e.New) != string(e.File.Data) {
			res.Edits = append(res.Edits, *e)
		}
	}
	sort.Slice(res.Edits, func(i, j int) bool { return res.Edits[i].File.Name < res.Edits[j].File.Name })
	return res
}

// acceptOne edits one parameter into src and checks the result.
func (opts AcceptOptions) acceptOne(ctx context.Context, name string, src []byte, base map[string]bool, w *wanted) (Outcome, string, []byte) {
	f := w.field
	revert := revertHint(w.kind, w.dir)
	live := FormatValue(f.Live)
	if w.conflicted {
		return OutcomeRefused, fmt.Sprintf("live attributes disagree on the value of %s; %s", f.Parameter, revert), nil
	}
	if cur, ok := currentValue(name, src, f.Resource, f.Parameter); ok && !sameValue(cur, f.Declared) {
		return OutcomeRefused, fmt.Sprintf("the stack file now sets %s, not the declared %s: render and check drift again", FormatValue(cur), FormatValue(f.Declared)), nil
	}
	next, err := stackedit.Set(src, name, f.Resource, f.Parameter, f.Live)
	if err != nil {
		return OutcomeRefused, "cannot edit the stack file: " + err.Error(), nil
	}
	if opts.Compiler == nil {
		return OutcomeAccepted, "", next
	}
	_, diags := opts.Compiler.Compile(ctx, compiler.Input{Stacks: []compiler.Source{{Name: name, Data: next}}, Now: opts.Now, Validate: true})
	for _, d := range diags {
		if d.Severity != compiler.SeverityError || base[diagKey(d)] {
			continue
		}
		what := "would break guardrail " + d.ID
		if isClassID(d.ID) {
			what = "is not a valid value of " + f.Parameter
		}
		return OutcomeRefused, fmt.Sprintf("live value %s %s: %s: %s; %s", live, what, d.Location(), d.Message, revert), nil
	}
	return OutcomeAccepted, "", next
}

// check compiles src as it is and returns its errors, so that Accept refuses
// an edit only for errors the edit brings.
func (opts AcceptOptions) check(ctx context.Context, name string, src []byte) map[string]bool {
	out := map[string]bool{}
	if opts.Compiler == nil {
		return out
	}
	_, diags := opts.Compiler.Compile(ctx, compiler.Input{Stacks: []compiler.Source{{Name: name, Data: src}}, Now: opts.Now, Validate: true})
	for _, d := range diags {
		if d.Severity == compiler.SeverityError {
			out[diagKey(d)] = true
		}
	}
	return out
}

func diagKey(d compiler.Diagnostic) string { return d.ID + "\x00" + d.Resource + "\x00" + d.Message }

// isClassID reports whether a diagnostic id names a class of problem with the
// stack file rather than a guardrail.
func isClassID(id string) bool {
	for _, p := range []string{"stack.", "waiver.", "catalog."} {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// currentValue returns the value the stack file sets for the parameter, and
// whether it sets one.
func currentValue(name string, src []byte, resource, parameter string) (any, bool) {
	root, diags := compiler.LoadStack(name, src)
	if len(diags) > 0 {
		return nil, false
	}
	list := root.Get("spec").Get("resources")
	if list == nil {
		return nil, false
	}
	for _, it := range list.Items {
		if it.Get("name").String() == resource {
			if v := it.Get("with").Get(parameter); v != nil {
				return v.Go(), true
			}
		}
	}
	return nil, false
}

// sameValue compares two JSON-like values, whatever their number types.
func sameValue(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

func revertHint(k Kind, dir string) string {
	if k == KindCrossplane {
		return "to revert, apply the rendered manifests again (kubectl apply -f " + dir + ")"
	}
	return "to revert, run tofu apply in " + dir
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
