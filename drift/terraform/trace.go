package terraform

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/platdev/plat/compiler/record"
	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/internal/hclbound"
	"github.com/platdev/plat/internal/userfile"
)

// Resolver follows a drifted attribute of a rendered root module into the
// approved module that sets it: it reads the module's HCL from where tofu init
// installed it (.terraform/modules, as modules.json records) and finds the
// expression of the attribute in the module's resource block. An expression
// that is var.x (or "${var.x}") maps the attribute to module input x directly;
// tostring, tonumber or tobool of var.x invertibly; any other expression of one
// variable is reported as a function of that input, not invertible. An
// attribute the module does not set is the provider's (OriginProvider); one set
// from several variables or none is OriginDerived. Modules in the JSON syntax
// and nested modules are not followed (OriginDerived).
type Resolver struct {
	// Env is the environment tofu runs with (for TF_DATA_DIR); nil means the
	// process environment.
	Env map[string]string

	mu    sync.Mutex
	cache map[string]*parsedModule // by module directory
}

var _ drift.Resolver = (*Resolver)(nil)

type parsedModule struct {
	stamp string // modification times of the files parsed
	// resources by "TYPE.NAME"
	resources map[string]*hclsyntax.Body
	src       map[string][]byte // by file name, for expression text
	err       error
}

// Resolve implements drift.Resolver.
func (r *Resolver) Resolve(_ context.Context, dir string, rec *record.Record, address, path string) drift.Resolution {
	mod, typ, name, ok := splitAddress(address)
	if !ok || rec.Resource(mod) == nil {
		return drift.Resolution{Untraced: drift.OriginDerived}
	}
	segs, ok := drift.SplitPath(path)
	if !ok {
		return drift.Resolution{Untraced: drift.OriginDerived}
	}
	pm := r.module(dir, mod)
	if pm == nil || pm.err != nil {
		return drift.Resolution{Untraced: drift.OriginDerived}
	}
	body := pm.resources[typ+"."+name]
	if body == nil {
		return drift.Resolution{Untraced: drift.OriginDerived}
	}
	return pm.resolve(mod, body, segs)
}

// splitAddress reads module.MOD.TYPE.NAME (with an optional [index] on the
// resource); nested modules are not followed.
func splitAddress(a string) (mod, typ, name string, ok bool) {
	rest, ok := strings.CutPrefix(a, "module.")
	if !ok {
		return "", "", "", false
	}
	mod, rest, ok = strings.Cut(rest, ".")
	if !ok || strings.ContainsAny(mod, "[\"") || strings.HasPrefix(rest, "module.") || strings.HasPrefix(rest, "data.") {
		return "", "", "", false
	}
	if i := strings.IndexByte(rest, '['); i >= 0 {
		rest = rest[:i]
	}
	typ, name, ok = strings.Cut(rest, ".")
	return mod, typ, name, ok && !strings.Contains(name, ".")
}

func (r *Resolver) env(k string) string {
	if r.Env != nil {
		return r.Env[k]
	}
	return os.Getenv(k)
}

// module returns the parsed module installed for module call mod of the root
// module in dir, or nil when tofu has not installed it.
func (r *Resolver) module(dir, mod string) *parsedModule {
	data := ".terraform"
	if d := r.env("TF_DATA_DIR"); d != "" {
		data = d
	}
	if !filepath.IsAbs(data) {
		data = filepath.Join(dir, data)
	}
	b, err := userfile.ReadFile(filepath.Join(data, "modules", "modules.json"))
	if err != nil {
		return nil
	}
	var manifest struct {
		Modules []struct{ Key, Dir string }
	}
	if json.Unmarshal(b, &manifest) != nil {
		return nil
	}
	var mdir string
	for _, m := range manifest.Modules {
		if m.Key == mod {
			mdir = m.Dir
		}
	}
	// The manifest's directories are relative to the root module; one that
	// leaves it is not followed.
	if mdir == "" || !filepath.IsLocal(mdir) {
		return nil
	}
	mdir = filepath.Join(dir, mdir)
	files, _ := filepath.Glob(filepath.Join(mdir, "*.tf"))
	sort.Strings(files)
	var stamp strings.Builder
	for _, f := range files {
		if fi, err := os.Lstat(f); err == nil {
			fmt.Fprintf(&stamp, "%s %d %s\n", f, fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if pm, ok := r.cache[mdir]; ok && pm.stamp == stamp.String() {
		return pm
	}
	pm := parseModule(files)
	pm.stamp = stamp.String()
	if r.cache == nil {
		r.cache = map[string]*parsedModule{}
	}
	r.cache[mdir] = pm
	return pm
}

// parseModule parses a module's *.tf files, refusing sources nested too deep
// for the parser (internal/hclbound).
func parseModule(files []string) *parsedModule {
	pm := &parsedModule{resources: map[string]*hclsyntax.Body{}, src: map[string][]byte{}}
	for _, f := range files {
		src, err := userfile.ReadFile(f)
		if err != nil {
			pm.err = err
			return pm
		}
		if err := hclbound.CheckHCL(f, src, 0); err != nil {
			pm.err = err
			return pm
		}
		file, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos)
		if diags.HasErrors() {
			pm.err = diags
			return pm
		}
		pm.src[f] = src
		body, ok := file.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		for _, b := range body.Blocks {
			if b.Type == "resource" && len(b.Labels) == 2 {
				pm.resources[b.Labels[0]+"."+b.Labels[1]] = b.Body
			}
		}
	}
	return pm
}

// invertible are the functions of one variable whose inverse plat knows.
var invertible = map[string]bool{"tostring": true, "tonumber": true, "tobool": true}

// resolve follows segs into body: attributes, nested blocks (the index picks
// one of a type's blocks), and object and tuple constructors in expressions.
func (pm *parsedModule) resolve(mod string, body *hclsyntax.Body, segs []drift.PathSegment) drift.Resolution {
	seg := segs[0]
	if seg.IsIndex {
		return drift.Resolution{Untraced: drift.OriginDerived}
	}
	if a, ok := body.Attributes[seg.Key]; ok {
		return pm.resolveExpr(mod, a.Expr, segs[1:])
	}
	var blocks []*hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type == seg.Key {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		for _, b := range body.Blocks {
			if b.Type == "dynamic" {
				return drift.Resolution{Untraced: drift.OriginDerived}
			}
		}
		return drift.Resolution{Untraced: drift.OriginProvider}
	}
	rest, n := segs[1:], 0
	if len(rest) > 0 && rest[0].IsIndex {
		n, rest = rest[0].Index, rest[1:]
	}
	if n >= len(blocks) || len(rest) == 0 {
		return drift.Resolution{Untraced: drift.OriginDerived}
	}
	return pm.resolve(mod, blocks[n].Body, rest)
}

func (pm *parsedModule) resolveExpr(mod string, e hclsyntax.Expression, rest []drift.PathSegment) drift.Resolution {
	switch x := e.(type) {
	case *hclsyntax.TemplateWrapExpr:
		return pm.resolveExpr(mod, x.Wrapped, rest)
	case *hclsyntax.ParenthesesExpr:
		return pm.resolveExpr(mod, x.Expression, rest)
	case *hclsyntax.ObjectConsExpr:
		if len(rest) == 0 || rest[0].IsIndex {
			break
		}
		for _, it := range x.Items {
			if k, ok := staticKey(it.KeyExpr); ok && k == rest[0].Key {
				return pm.resolveExpr(mod, it.ValueExpr, rest[1:])
			}
		}
		return drift.Resolution{Untraced: drift.OriginProvider}
	case *hclsyntax.TupleConsExpr:
		if len(rest) == 0 || !rest[0].IsIndex || rest[0].Index >= len(x.Exprs) {
			break
		}
		return pm.resolveExpr(mod, x.Exprs[rest[0].Index], rest[1:])
	case *hclsyntax.ScopeTraversalExpr:
		if input, below, ok := varTraversal(x.Traversal); ok {
			path := append([]drift.PathSegment{{Key: input}}, below...)
			return drift.Resolution{Resource: mod, Input: input, Path: drift.JoinPath(append(path, rest...)), Invert: drift.Identity}
		}
	case *hclsyntax.FunctionCallExpr:
		if len(rest) == 0 && invertible[x.Name] && len(x.Args) == 1 {
			if t, ok := x.Args[0].(*hclsyntax.ScopeTraversalExpr); ok {
				if input, below, ok := varTraversal(t.Traversal); ok && len(below) == 0 {
					return drift.Resolution{Resource: mod, Input: input, Path: input, Function: pm.text(e), Invert: drift.ConvertLike}
				}
			}
		}
	}
	// A function of one variable: traced, not invertible.
	if input, ok := oneVariable(e); ok {
		return drift.Resolution{Resource: mod, Input: input, Path: input, Function: pm.text(e)}
	}
	return drift.Resolution{Untraced: drift.OriginDerived}
}

// varTraversal reads var.NAME[.more...] into the input and the path below it.
func varTraversal(t hcl.Traversal) (string, []drift.PathSegment, bool) {
	if len(t) < 2 || t.RootName() != "var" {
		return "", nil, false
	}
	a, ok := t[1].(hcl.TraverseAttr)
	if !ok {
		return "", nil, false
	}
	var below []drift.PathSegment
	for _, step := range t[2:] {
		switch s := step.(type) {
		case hcl.TraverseAttr:
			below = append(below, drift.PathSegment{Key: s.Name})
		default:
			return "", nil, false
		}
	}
	return a.Name, below, true
}

// oneVariable reports the input an expression reads when it reads exactly
// one (and nothing else but constants and functions).
func oneVariable(e hclsyntax.Expression) (string, bool) {
	name := ""
	for _, t := range e.Variables() {
		if t.RootName() != "var" || len(t) < 2 {
			return "", false
		}
		a, ok := t[1].(hcl.TraverseAttr)
		if !ok || (name != "" && a.Name != name) {
			return "", false
		}
		name = a.Name
	}
	return name, name != ""
}

func staticKey(e hclsyntax.Expression) (string, bool) {
	if k, ok := e.(*hclsyntax.ObjectConsKeyExpr); ok {
		if kw := hcl.ExprAsKeyword(k.Wrapped); kw != "" && !k.ForceNonLiteral {
			return kw, true
		}
		e = k.Wrapped
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type().FriendlyName() != "string" {
		return "", false
	}
	return v.AsString(), true
}

// text returns an expression's source, on one line.
func (pm *parsedModule) text(e hclsyntax.Expression) string {
	rng := e.Range()
	src := pm.src[rng.Filename]
	if rng.End.Byte > len(src) || rng.Start.Byte > rng.End.Byte {
		return ""
	}
	return strings.Join(strings.Fields(string(src[rng.Start.Byte:rng.End.Byte])), " ")
}
