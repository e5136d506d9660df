package modules

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/testtools"
)

// approved lists the module directories every shipped template relies on.
var approved = []string{"postgres/aws", "bucket/aws", "queue/aws", "cache/aws"}

// TestTofuFmt runs the real `tofu fmt -check` over every module.
func TestTofuFmt(t *testing.T) {
	tofu := testtools.Bin(t, "tofu")
	cmd := exec.Command(tofu, "fmt", "-check", "-recursive", "-diff", ".")
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tofu fmt -check: %v\n%s", err, out)
	}
}

// module is what the static check learns from one module's HCL.
type module struct {
	variables map[string]*hclsyntax.Block
	outputs   map[string]*hclsyntax.Block
	locals    map[string]bool
	resources map[string]bool // "type.name"
	exprs     []hclsyntax.Expression
}

func load(t *testing.T, dir string) *module {
	t.Helper()
	m := &module{
		variables: map[string]*hclsyntax.Block{},
		outputs:   map[string]*hclsyntax.Block{},
		locals:    map[string]bool{},
		resources: map[string]bool{},
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no .tf files (%v)", dir, err)
	}
	for _, name := range []string{"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: missing %s", dir, name)
		}
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s", diags.Error())
		}
		for _, b := range file.Body.(*hclsyntax.Body).Blocks {
			switch b.Type {
			case "variable":
				m.variables[b.Labels[0]] = b
			case "output":
				m.outputs[b.Labels[0]] = b
			case "resource":
				m.resources[b.Labels[0]+"."+b.Labels[1]] = true
			case "locals":
				for name := range b.Body.Attributes {
					m.locals[name] = true
				}
			}
			collect(b, &m.exprs)
		}
	}
	return m
}

// collect gathers the expressions of a block that may reference other objects;
// a variable's type is a type expression, checked on its own.
func collect(b *hclsyntax.Block, into *[]hclsyntax.Expression) {
	for name, a := range b.Body.Attributes {
		if b.Type == "variable" && name == "type" {
			continue
		}
		*into = append(*into, a.Expr)
	}
	for _, inner := range b.Body.Blocks {
		collect(inner, into)
	}
}

// TestModulesStatic checks, without the AWS provider (which cannot be had here),
// what `tofu validate` would: every reference resolves to a declared variable, local
// or resource, every variable is used and typed and documented, every output is
// documented, and the provider requirement is pinned.
func TestModulesStatic(t *testing.T) {
	for _, dir := range approved {
		t.Run(dir, func(t *testing.T) {
			m := load(t, dir)
			used := map[string]bool{}
			for _, e := range m.exprs {
				for _, tr := range e.Variables() {
					root := tr.RootName()
					switch root {
					case "var":
						name := attrName(tr)
						if m.variables[name] == nil {
							t.Errorf("%s: reference to undeclared variable var.%s", tr.SourceRange(), name)
						}
						used[name] = true
					case "local":
						if name := attrName(tr); !m.locals[name] {
							t.Errorf("%s: reference to undeclared local.%s", tr.SourceRange(), name)
						}
					case "each", "count", "path", "terraform", "self":
					default:
						if strings.HasPrefix(root, "aws_") {
							if r := root + "." + attrName(tr); !m.resources[r] {
								t.Errorf("%s: reference to undeclared resource %s", tr.SourceRange(), r)
							}
							continue
						}
						t.Errorf("%s: unexpected reference %q", tr.SourceRange(), root)
					}
				}
			}
			var names []string
			for name := range m.variables {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				b := m.variables[name]
				if !used[name] {
					t.Errorf("variable %q is declared but never used", name)
				}
				if _, ok := b.Body.Attributes["description"]; !ok {
					t.Errorf("variable %q has no description", name)
				}
				typ, ok := b.Body.Attributes["type"]
				if !ok {
					t.Errorf("variable %q has no type", name)
					continue
				}
				if _, diags := typeexpr.TypeConstraint(typ.Expr); diags.HasErrors() {
					t.Errorf("variable %q: %s", name, diags.Error())
				}
			}
			for name, b := range m.outputs {
				if _, ok := b.Body.Attributes["description"]; !ok {
					t.Errorf("output %q has no description", name)
				}
			}
			for _, want := range []string{"name", "tags"} {
				if m.variables[want] == nil {
					t.Errorf("every approved module takes %q", want)
				}
			}
		})
	}
}

func attrName(tr hcl.Traversal) string {
	if len(tr) < 2 {
		return ""
	}
	if a, ok := tr[1].(hcl.TraverseAttr); ok {
		return a.Name
	}
	return ""
}

// TestCatalogMatchesModules renders the example stacks with the shipped catalog and
// checks every module call against the approved module it names: each argument is a
// declared variable, and every variable without a default is passed.
func TestCatalogMatchesModules(t *testing.T) {
	comp, err := compiler.New(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	root := testtools.RepoRoot(t)
	stacks, err := filepath.Glob(filepath.Join(root, "examples", "*", "platform.yaml"))
	if err != nil || len(stacks) == 0 {
		t.Fatalf("no example stacks: %v", err)
	}
	seen := map[string]bool{}
	for _, path := range stacks {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Render every example for Terraform, whatever its own target.
		src = []byte(strings.Replace(string(src), "target: crossplane", "target: terraform", 1))
		res, diags := comp.Compile(context.Background(), compiler.Input{Stacks: []compiler.Source{{Name: path, Data: src}}})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", path, diags)
		}
		for _, f := range res.Files() {
			if filepath.Base(f.Path) != "main.tf" {
				continue
			}
			file, d := hclsyntax.ParseConfig(f.Data, f.Path, hcl.InitialPos)
			if d.HasErrors() {
				t.Fatalf("%s: %s", f.Path, d.Error())
			}
			for _, b := range file.Body.(*hclsyntax.Body).Blocks {
				if b.Type != "module" {
					continue
				}
				v, _ := b.Body.Attributes["source"].Expr.Value(nil)
				parts := strings.Split(v.AsString(), "/")
				dir := strings.Join(parts[len(parts)-2:], "/") // <template>/<system>
				seen[dir] = true
				m := load(t, dir)
				for name, a := range b.Body.Attributes {
					if name == "source" || name == "version" {
						continue
					}
					if m.variables[name] == nil {
						t.Errorf("%s: module %q passes %q, which modules/%s does not declare", a.SrcRange, b.Labels[0], name, dir)
					}
				}
				for name, vb := range m.variables {
					if _, hasDefault := vb.Body.Attributes["default"]; hasDefault {
						continue
					}
					if _, passed := b.Body.Attributes[name]; !passed {
						t.Errorf("%s: module %q does not pass required variable %q of modules/%s", b.DefRange(), b.Labels[0], name, dir)
					}
				}
			}
		}
	}
	for _, dir := range approved {
		if !seen[dir] {
			t.Errorf("no example stack calls modules/%s", dir)
		}
	}
}
