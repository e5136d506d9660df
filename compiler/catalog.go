package compiler

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"

	"github.com/platdev/plat/schemas"
)

// PlatformFile is the catalog file holding platform settings and org rules;
// templates live in TEMPLATE/TemplateFile.
const (
	PlatformFile = "platform.cue"
	TemplateFile = "template.cue"
)

// Registry is where rendered Terraform fetches modules from.
type Registry struct {
	Host      string // host[:port]
	Namespace string
}

// String renders HOST[:PORT]/NAMESPACE.
func (r Registry) String() string { return r.Host + "/" + r.Namespace }

// ParseRegistry parses HOST[:PORT]/NAMESPACE, the value of plat render --registry.
func ParseRegistry(s string) (Registry, error) {
	host, ns, ok := strings.Cut(s, "/")
	if !ok || host == "" || ns == "" || strings.Contains(ns, "/") || strings.ContainsAny(host, " \t@") || strings.Contains(host, "://") {
		return Registry{}, fmt.Errorf("registry %q: want HOST[:PORT]/NAMESPACE, e.g. registry.example.com/platform", s)
	}
	if !dnsLabel(ns) {
		return Registry{}, fmt.Errorf("registry %q: namespace %q is not a DNS label", s, ns)
	}
	return Registry{Host: host, Namespace: ns}, nil
}

func dnsLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0 && i < len(s)-1) {
			return false
		}
	}
	return true
}

// Platform holds the platform settings of a catalog.
type Platform struct {
	Registry  Registry          `json:"registry"`
	Regions   []string          `json:"regions"`
	AccountID string            `json:"accountId"`
	Terraform TerraformSettings `json:"terraform"`
	Budgets   Budgets           `json:"budgets"`
}

// TerraformSettings is what a catalog's rendered root modules require: the
// Terraform version constraint and the providers its modules use.
type TerraformSettings struct {
	RequiredVersion string `json:"required_version"`
	// Providers by local name. Their configuration is evaluated per stack, so
	// it is not held here.
	Providers map[string]Provider `json:"providers"`
}

// Provider is one Terraform provider a catalog declares.
type Provider struct {
	Source  string `json:"source"`
	Version string `json:"version"` // "" for any version
	// Blocks are the config settings written as nested blocks rather than
	// attributes (default_tags { ... }).
	Blocks []string `json:"blocks"`
}

// Guardrail describes one rule of a template (or an org rule).
type Guardrail struct {
	ID       string
	Severity Severity
	Message  string
	Hint     string
	// Path is the parameter the rule is about ("" when it is about the template).
	Path     string
	Waivable bool
}

// Template is one compiled golden-path template.
type Template struct {
	Name        string
	Description string
	// Parameters describes what a stack may set under with:.
	Parameters *Shape
	Guardrails []Guardrail
	Module     string
	System     string
	Version    string
	Outputs    []string
	// Providers are the local names (in the platform settings) of the
	// providers the template's module needs.
	Providers []string

	file  string
	value cue.Value
	// params is parametersOnly of the template; the zero Value when the whole
	// template is needed to evaluate its parameters. paramsContext lists the
	// context fields params reads (nil: possibly all of them).
	params        cue.Value
	paramsContext []string

	src     []byte                  // template.cue
	parsed  bool                    // src parses
	uses    map[string]int          // resources compiled per target
	targets map[string]cue.Value    // see instanceBase
	schemas map[string]paramSchema  // see Template.paramSchema
	origins map[string]cachedOrigin // see traceOrigin
	// evals holds evaluated resources by evalKey, evalSeen the keys seen
	// once (see maxEvals); evalContext the context fields their key holds,
	// per target (nil: not shareable).
	evals       map[string]*evaluated
	evalSeen    map[string]struct{}
	evalContext map[string][]string
}

func (c *Compiler) loadSchemas() error {
	var imports []ast.Decl
	var decls []ast.Decl
	ents, err := fs.ReadDir(schemas.FS, ".")
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".cue") {
			continue
		}
		src, err := fs.ReadFile(schemas.FS, e.Name())
		if err != nil {
			return err
		}
		f, err := parser.ParseFile("schemas/"+e.Name(), src, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, d := range f.Decls {
			switch d.(type) {
			case *ast.Package:
			case *ast.ImportDecl:
				imports = append(imports, d)
			default:
				decls = append(decls, d)
			}
		}
	}
	v := c.cc.BuildFile(&ast.File{Decls: append(imports, decls...)})
	if err := v.Err(); err != nil {
		return fmt.Errorf("schemas: %w", err)
	}
	c.schemas = v
	c.stackSchema = v.LookupPath(cue.MakePath(cue.Def("#Stack")))
	c.templateSchema = v.LookupPath(cue.MakePath(cue.Def("#Template")))
	return nil
}

// StackShape describes the stack file (for plat schema).
func (c *Compiler) StackShape() *Shape { return shapeOf(c.stackSchema, 0) }

func (c *Compiler) loadPlatform() error {
	src, err := fs.ReadFile(c.fsys, PlatformFile)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	v := c.cc.CompileBytes(src, cue.Filename(PlatformFile))
	if err := v.Err(); err != nil {
		return fmt.Errorf("catalog: %s", errorText(err))
	}
	c.file = v
	// Provider configs are evaluated per stack, from org.stack; a neutral stack
	// checks here that they evaluate at all, so a broken config is a catalog
	// error before any stack is compiled.
	probe := v.FillPath(pathOrgStack, c.cc.Encode(neutralStack.orgStack()))
	p := probe.LookupPath(pathPlatform).Unify(c.schemas.LookupPath(cue.MakePath(cue.Def("#Platform"))))
	if err := p.Validate(cue.Concrete(true)); err != nil {
		return fmt.Errorf("catalog: %s: platform settings: %s", PlatformFile, errorText(err))
	}
	if err := p.Decode(&c.platform); err != nil {
		return fmt.Errorf("catalog: %s: %w", PlatformFile, err)
	}
	if org := v.LookupPath(pathOrg); org.Exists() {
		c.org = v
		// Org guardrails are described once, without a stack.
		gs, err := guardrailsOf(org.LookupPath(pathGuardrails), false)
		if err != nil {
			return fmt.Errorf("catalog: %s: org guardrails: %w", PlatformFile, err)
		}
		c.orgRules = gs
	}
	if len(c.platform.Budgets.Environment)+len(c.platform.Budgets.Team) > 0 {
		c.orgRules = append(c.orgRules, budgetRule)
	}
	return nil
}

// Platform returns the catalog's platform settings.
func (c *Compiler) Platform() Platform { return c.platform }

// OrgGuardrails returns the org-wide rules of the catalog.
func (c *Compiler) OrgGuardrails() []Guardrail { return c.orgRules }

// TemplateNames lists the catalog's templates, sorted.
func (c *Compiler) TemplateNames() ([]string, error) {
	ents, err := fs.ReadDir(c.fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if _, err := fs.Stat(c.fsys, path.Join(e.Name(), TemplateFile)); err == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Template compiles (once) and returns the named template, with its
// parameters described (Parameters) for catalog listings. It returns
// ErrUnknownTemplate when the catalog has no such template.
func (c *Compiler) Template(name string) (*Template, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := c.template(name)
	if err != nil {
		return nil, err
	}
	if t.Parameters == nil {
		// Only listings need the description; compiles never read it.
		t.Parameters = shapeOf(t.value.LookupPath(pathParameters), 0)
		t.Parameters.Open = false // unknown parameters are always refused
	}
	return t, nil
}

func (c *Compiler) template(name string) (*Template, error) {
	if t, ok := c.templates[name]; ok {
		return t, nil
	}
	if !dnsLabel(name) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTemplate, name)
	}
	file := path.Join(name, TemplateFile)
	src, err := fs.ReadFile(c.fsys, file)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTemplate, name)
	}
	// Each build gets its own syntax tree: building resolves identifiers in
	// place, for the layout of that build.
	f, perr := parser.ParseFile(file, src, parser.ParseComments)
	if perr != nil {
		f = nil
	}
	// One evaluation of the template under its contract, #Template & {...}. A
	// template that fails, or names definitions the schemas would then supply,
	// takes the long way below, whose errors name the template's own paths.
	v := c.buildWith(f, nil, true)
	if v.Exists() && (v.Err() != nil || v.Validate() != nil) {
		v = cue.Value{}
	}
	if !v.Exists() {
		v = c.cc.CompileBytes(src, cue.Filename(file))
		if err := v.Err(); err != nil {
			return nil, fmt.Errorf("catalog: %s", errorText(err))
		}
		v = v.Unify(c.templateSchema)
		if err := v.Validate(); err != nil {
			return nil, fmt.Errorf("catalog: %s does not meet the template contract: %s", file, errorText(err))
		}
	}
	t := &Template{file: file, value: v, src: src, parsed: perr == nil}
	t.params, t.paramsContext = c.parametersOnly(t.syntax())
	var meta struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := v.LookupPath(pathName).Decode(&meta.Name); err != nil {
		return nil, fmt.Errorf("catalog: %s: name: %w", file, err)
	}
	if meta.Name != name {
		return nil, fmt.Errorf("catalog: %s: name is %q, want the folder name %q", file, meta.Name, name)
	}
	_ = v.LookupPath(pathDescription).Decode(&meta.Description)
	t.Name, t.Description = meta.Name, meta.Description
	gs, err := guardrailsOf(v.LookupPath(pathGuardrails), false)
	if err != nil {
		return nil, fmt.Errorf("catalog: %s: guardrails: %w", file, err)
	}
	t.Guardrails = gs
	tf := v.LookupPath(pathTerraform)
	for _, fd := range []struct {
		field string
		dst   *string
	}{{"module", &t.Module}, {"system", &t.System}, {"version", &t.Version}} {
		d, _ := tf.LookupPath(cue.MakePath(cue.Str(fd.field))).Default()
		if err := d.Decode(fd.dst); err != nil {
			if fd.field == "system" && !d.IsConcrete() {
				// Only a Terraform render needs it (see modules); a catalog for
				// the crossplane target may leave it out.
				continue
			}
			return nil, fmt.Errorf("catalog: %s: terraform.%s: %w", file, fd.field, err)
		}
	}
	if err := tf.LookupPath(pathOutputs).Decode(&t.Outputs); err != nil {
		return nil, fmt.Errorf("catalog: %s: terraform.outputs: %w", file, err)
	}
	if err := c.templateProviders(t, tf.LookupPath(pathProviders)); err != nil {
		return nil, err
	}
	c.templates[name] = t
	return t, nil
}

// templateProviders reads the providers a template's module needs and checks
// that the platform settings declare each of them.
func (c *Compiler) templateProviders(t *Template, list cue.Value) error {
	if !list.Exists() {
		return nil
	}
	if err := list.Decode(&t.Providers); err != nil {
		return fmt.Errorf("catalog: %s: terraform.providers: %s", t.file, errorText(err))
	}
	declared := slices.Sorted(maps.Keys(c.platform.Terraform.Providers))
	seen := map[string]bool{}
	for i, name := range t.Providers {
		at := t.file
		if p := list.LookupPath(cue.MakePath(cue.Index(i))).Pos(); p.IsValid() {
			at = p.String()
		}
		if seen[name] {
			return fmt.Errorf("catalog: %s: terraform.providers: %q is listed twice", at, name)
		}
		seen[name] = true
		if _, ok := c.platform.Terraform.Providers[name]; !ok {
			msg := fmt.Sprintf("catalog: %s: terraform.providers: unknown provider %q", at, name)
			if len(declared) == 0 {
				msg += fmt.Sprintf(" (%s declares no providers in platform.terraform.providers)", PlatformFile)
			} else {
				msg += fmt.Sprintf(" (%s declares %s)", PlatformFile, strings.Join(declared, ", "))
			}
			if sug := suggest(name, declared); sug != "" {
				msg += fmt.Sprintf("; did you mean %q?", sug)
			}
			return errors.New(msg)
		}
	}
	return nil
}

// guardrail is a guardrail as evaluated for one resource.
type guardrail struct {
	Guardrail
	violated bool
}

// guardrailsOf reads a list of guardrails. With eval, violated must be concrete.
func guardrailsOf(list cue.Value, eval bool) ([]Guardrail, error) {
	gs, err := evalGuardrails(list, eval)
	if err != nil {
		return nil, err
	}
	out := make([]Guardrail, len(gs))
	for i, g := range gs {
		out[i] = g.Guardrail
	}
	return out, nil
}

func evalGuardrails(list cue.Value, eval bool) ([]guardrail, error) {
	if !list.Exists() {
		return nil, nil
	}
	it, err := list.List()
	if err != nil {
		return nil, err
	}
	var out []guardrail
	for it.Next() {
		g := it.Value()
		var r guardrail
		str := func(f cue.Path) string {
			s, _ := g.LookupPath(f).Default()
			x, _ := s.String()
			return x
		}
		r.ID = str(pathID)
		if r.ID == "" {
			return nil, fmt.Errorf("a guardrail has no id")
		}
		if str(pathSeverity) == "warning" {
			r.Severity = SeverityWarning
		}
		r.Message, r.Hint, r.Path = str(pathMessage), str(pathHint), str(pathPath)
		w, _ := g.LookupPath(pathWaivable).Default()
		r.Waivable, _ = w.Bool()
		if eval {
			b, err := g.LookupPath(pathViolated).Bool()
			if err != nil {
				return nil, fmt.Errorf("guardrail %s: violated: %s", r.ID, errorText(err))
			}
			r.violated = b
			// Messages may interpolate parameters; keep the plain text otherwise.
		}
		out = append(out, r)
	}
	return out, nil
}

// errorText renders a CUE error with its positions on one line per error.
func errorText(err error) string {
	var parts []string
	for _, e := range cueerrors.Errors(err) {
		msg := e.Error()
		if ps := e.InputPositions(); len(ps) > 0 {
			msg = ps[0].String() + ": " + msg
		} else if p := e.Position(); p.IsValid() {
			msg = p.String() + ": " + msg
		}
		parts = append(parts, msg)
	}
	return strings.Join(parts, "; ")
}
