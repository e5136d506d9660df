package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/platdev/plat/internal/benchcmp"
)

// validate: plat validate of a 4-resource stack against cue vet of the same stack
// with the same definitions and guardrails as CUE constraints, and conftest with the
// guardrails as Rego.
func (b *bench) validate(ctx context.Context) error {
	peers := filepath.Join(b.root, "internal/benchcmp/peers")
	stack := filepath.Join(peers, "stack.yaml")
	stats, err := b.compare(ctx, "Validate one 4-resource stack", 3, 21,
		benchcmp.Command{Name: "plat validate", Args: []string{b.plat, "validate", stack}},
		benchcmp.Command{Name: "cue vet", Args: []string{b.bin("cue"), "vet", "-d", "#Stack", "./cue/", "stack.yaml"}, Dir: peers},
		benchcmp.Command{Name: "conftest test", Args: []string{b.bin("conftest"), "test", "--no-color", "-p", "rego", "stack.yaml"}, Dir: peers},
	)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "plat / cue vet = %.2f (target <= 1.2); plat / conftest = %.2f (target < 1).\n\n",
		ratio(stats[0], stats[1]), ratio(stats[0], stats[2]))

	// How much of that is process start-up: plat links the Kubernetes, registry
	// and drift libraries for its other commands and initialises them on every
	// start. leanvalidate is the same validate in a binary holding only the
	// compiler (a measuring instrument, not shipped).
	lean := filepath.Join(b.work, "leanvalidate")
	if err := goBuild(ctx, lean, "./internal/benchcmp/leanvalidate"); err != nil {
		return err
	}
	stats, err = b.compare(ctx, "Where the validate time goes: process start-up", 3, 21,
		benchcmp.Command{Name: "plat --help", Args: []string{b.plat, "--help"}},
		benchcmp.Command{Name: "cue help", Args: []string{b.bin("cue"), "help"}},
		benchcmp.Command{Name: "leanvalidate --help (compiler-only build)", Args: []string{lean, "--help"}},
		benchcmp.Command{Name: "leanvalidate validate (compiler-only build)", Args: []string{lean, "validate", stack}},
		benchcmp.Command{Name: "cue vet", Args: []string{b.bin("cue"), "vet", "-d", "#Stack", "./cue/", "stack.yaml"}, Dir: peers},
	)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "The compiler-only build validates at %.2f of cue vet; plat's start-up alone is %.2f of cue's.\n\n",
		ratio(stats[3], stats[4]), ratio(stats[0], stats[1]))

	// What offline CRD validation adds to validating the 4-template Crossplane example
	// (target: under 50 ms). CRDs are those a provider package ships.
	crds := filepath.Join(filepath.Dir(b.root), "shared", "crds", "provider-aws")
	xp := filepath.Join(b.root, "examples", "analytics", "platform.yaml")
	cache := filepath.Join(b.work, "crd-cache-home")
	stats, err = b.compare(ctx, "Validate the 4-template Crossplane example, with and without offline CRD validation", 3, 15,
		benchcmp.Command{Name: "plat validate", Args: []string{b.plat, "validate", xp}},
		benchcmp.Command{Name: "plat validate --crds", Args: []string{b.plat, "validate", "--crds", crds, xp}, Env: []string{"HOME=" + cache}},
	)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "--crds adds %.1f ms (target < 50 ms).\n\n", ms(stats[1].Median())-ms(stats[0].Median()))
	return nil
}

// render: plat render of 10, 100 and 1,000 resources against cue export of the same
// templates and inputs, the floor for any CUE-based compiler.
func (b *bench) render(ctx context.Context) error {
	sizes := []int{10, 100, 1000}
	if b.smoke {
		sizes = []int{10}
	}
	fmt.Fprintln(b.out, "### Render N resources (terraform target)")
	fmt.Fprintln(b.out)
	fmt.Fprintln(b.out, "| resources | plat render | cue export | plat / cue | plat peak RSS | plat per resource |")
	fmt.Fprintln(b.out, "| --- | --- | --- | --- | --- | --- |")
	var cmds []string
	for _, n := range sizes {
		dir := filepath.Join(b.work, fmt.Sprintf("render-%d", n))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		stack, err := writeStack(dir, n)
		if err != nil {
			return err
		}
		if err := b.writeCUEPeer(dir, n); err != nil {
			return err
		}
		plat := benchcmp.Command{Name: "plat render", Args: []string{b.plat, "render", "-f", stack, "-o", filepath.Join(dir, "out")}}
		cue := benchcmp.Command{Name: "cue export", Args: []string{b.bin("cue"), "export", "-e", "out", "--out", "json", "peer.cue"}, Dir: dir}
		runs := 9
		if n >= 1000 {
			runs = 5
		}
		w, r := b.runs(1, runs)
		stats, err := benchcmp.Run(ctx, []benchcmp.Command{plat, cue}, w, r)
		if err != nil {
			return err
		}
		fmt.Fprintf(b.out, "| %d | %.1f ms | %.1f ms | %.2f | %.1f MiB | %.2f ms |\n", n,
			ms(stats[0].Median()), ms(stats[1].Median()), ratio(stats[0], stats[1]),
			float64(stats[0].PeakRSS())/(1<<20), ms(stats[0].Median())/float64(n))
		cmds = append(cmds, plat.String(), cue.String())
	}
	fmt.Fprintln(b.out)
	fmt.Fprintln(b.out, "Target: within 1.5x of cue export, linear growth, 1,000 resources under 5 s. Commands (stack and peer generated by platbench in a scratch directory):")
	fmt.Fprintln(b.out)
	fmt.Fprintln(b.out, "```sh")
	for _, c := range cmds {
		fmt.Fprintln(b.out, c)
	}
	fmt.Fprintln(b.out, "```")
	fmt.Fprintln(b.out)
	return nil
}

// templates cycled through by generated stacks, with inputs that pass every guardrail.
var genTemplates = []struct {
	name string
	with map[string]any
}{
	{"postgres", map[string]any{"size": "medium", "version": "16", "storageGB": 100}},
	{"bucket", map[string]any{"expireAfterDays": 30}},
	{"queue", map[string]any{"fifo": false, "maxReceiveCount": 10}},
	{"cache", map[string]any{"engine": "valkey", "size": "small", "nodes": 2}},
}

func resName(i int) string { return fmt.Sprintf("r%04d", i) }

// writeStack writes a stack of n resources cycling through the templates.
func writeStack(dir string, n int) (string, error) {
	var s strings.Builder
	s.WriteString("apiVersion: plat/v1\nkind: Stack\nmetadata:\n  name: bench\n  team: payments\n  environment: prod\n  costCenter: CC-1234\nspec:\n  target: terraform\n  region: eu-west-1\n  resources:\n")
	for i := range n {
		t := genTemplates[i%len(genTemplates)]
		fmt.Fprintf(&s, "    - name: %s\n      template: %s\n      with:\n", resName(i), t.name)
		for _, k := range slices.Sorted(maps.Keys(t.with)) {
			fmt.Fprintf(&s, "        %s: %s\n", k, yamlScalar(t.with[k]))
		}
	}
	p := filepath.Join(dir, "platform.yaml")
	return p, os.WriteFile(p, []byte(s.String()), 0o644)
}

func yamlScalar(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// writeCUEPeer writes peer.cue: each shipped template turned into a definition,
// and out holding, per resource, the template unified with the same context and
// parameters plat fills in, exporting what plat renders from (the Terraform
// inputs, the Crossplane resources and every guardrail's verdict).
func (b *bench) writeCUEPeer(dir string, n int) error {
	imports := map[string]bool{}
	var defs []ast.Decl
	for _, t := range genTemplates {
		src := filepath.Join(b.root, "catalog", t.name, "template.cue")
		f, err := parser.ParseFile(src, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		var body []ast.Decl
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.Package:
			case *ast.ImportDecl:
				for _, spec := range d.Specs {
					imports[spec.Path.Value] = true
				}
			default:
				body = append(body, d)
			}
		}
		// The contract computes cost.monthly, which a template's guardrails may read.
		body = append(body, &ast.Field{Label: ast.NewIdent("cost"), Constraint: token.OPTION, Value: ast.NewIdent("#Cost")})
		defs = append(defs, &ast.Field{Label: ast.NewIdent("#" + t.name), Value: &ast.StructLit{Elts: body}})
	}
	// The cost definitions of the template contract, as plat unifies them.
	schema, err := parser.ParseFile(filepath.Join(b.root, "schemas", "template.cue"), nil)
	if err != nil {
		return err
	}
	for _, d := range schema.Decls {
		switch d := d.(type) {
		case *ast.ImportDecl:
			for _, spec := range d.Specs {
				imports[spec.Path.Value] = true
			}
		case *ast.Field:
			if id, ok := d.Label.(*ast.Ident); ok && (id.Name == "#Cost" || id.Name == "#CostItem" || id.Name == "#HoursPerMonth") {
				defs = append(defs, d)
			}
		}
	}
	var s strings.Builder
	s.WriteString("package peer\n\n")
	paths := make([]string, 0, len(imports))
	for p := range imports {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(&s, "import %s\n", p)
	}
	for _, d := range defs {
		out, err := format.Node(d)
		if err != nil {
			return err
		}
		s.Write(out)
		s.WriteString("\n")
	}
	tags := `{team: "payments", environment: "prod", costCenter: "CC-1234", stack: "bench", "managed-by": "plat"}`
	s.WriteString("out: {\n")
	for i := range n {
		t := genTemplates[i%len(genTemplates)]
		var params []string
		for _, k := range slices.Sorted(maps.Keys(t.with)) {
			params = append(params, fmt.Sprintf("%s: %s", k, yamlScalar(t.with[k])))
		}
		fmt.Fprintf(&s, "\t%q: {\n\t\tlet X = #%s & {\n\t\t\tcontext: {stack: \"bench\", resource: %q, name: \"bench-%s\", team: \"payments\", environment: \"prod\", costCenter: \"CC-1234\", region: \"eu-west-1\", namespace: \"payments\", accountId: \"123456789012\", tags: %s, labels: %s}\n\t\t\tparameters: {%s}\n\t\t}\n\t\tterraform: X.terraform\n\t\tcrossplane: X.crossplane\n\t\tviolated: [for g in X.guardrails {g.violated}]\n\t}\n",
			resName(i), t.name, resName(i), resName(i), tags, tags, strings.Join(params, ", "))
	}
	s.WriteString("}\n")
	return os.WriteFile(filepath.Join(dir, "peer.cue"), []byte(s.String()), 0o644)
}

func ms(d interface{ Nanoseconds() int64 }) float64 { return float64(d.Nanoseconds()) / 1e6 }
