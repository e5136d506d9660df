package compiler

import (
	"context"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/platdev/plat/catalog"
)

// TestParametersOnly checks that every shipped template has a parameters-only
// part (so compiles evaluate each template once per resource), and that a
// template whose parameters read a field the part leaves out falls back to the
// whole template with the same diagnostics.
func TestParametersOnly(t *testing.T) {
	platform, err := fs.ReadFile(catalog.FS, PlatformFile)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		PlatformFile: {Data: platform},
		// note's default reads description, which the parameters-only part drops;
		// the import is used by crossplane only, which it drops too.
		"ref/template.cue": {Data: []byte(`package catalog

import "strings"

name:        "ref"
description: "a reference"
context:     _
parameters: {
	// A note.
	note: *description | =~"^[a-z ]+$"
	// Replicas.
	replicas: *[if context.environment == "prod" {2}, 1][0] | int & >=1 & <=5
}
guardrails: [{
	id:       "ref.replicas"
	severity: "error"
	path:     "replicas"
	message:  "prod runs two replicas"
	hint:     "set replicas: 2"
	violated: context.environment == "prod" && parameters.replicas < 2
}]
terraform: {
	module:    "ref"
	providers: ["aws"]
	version:   "1.0.0"
	inputs: {note: parameters.note, replicas: parameters.replicas}
	outputs: []
}
crossplane: resources: [{
	apiVersion: "v1"
	kind:       "ConfigMap"
	metadata: {name: context.name, namespace: context.namespace, labels: context.labels}
	spec: note: strings.ToUpper(parameters.note)
}]
`)},
		// The same template with a literal default: its parameters-only part builds.
		"lit/template.cue": {Data: []byte(`package catalog

import "strings"

name:        "lit"
description: "a literal"
context:     _
parameters: {
	// A note.
	note: *"a literal" | =~"^[a-z ]+$"
	// Replicas.
	replicas: *[if context.environment == "prod" {2}, 1][0] | int & >=1 & <=5
}
guardrails: [{
	id:       "lit.replicas"
	severity: "error"
	path:     "replicas"
	message:  "prod runs two replicas"
	hint:     "set replicas: 2"
	violated: context.environment == "prod" && parameters.replicas < 2
}]
terraform: {
	module:    "lit"
	providers: ["aws"]
	version:   "1.0.0"
	inputs: {note: parameters.note, replicas: parameters.replicas}
	outputs: []
}
crossplane: resources: [{
	apiVersion: "v1"
	kind:       "ConfigMap"
	metadata: {name: context.name, namespace: context.namespace, labels: context.labels}
	spec: note: strings.ToUpper(parameters.note)
}]
`)},
	}
	for _, tc := range []struct {
		fsys    fs.FS
		name    string
		partial bool
	}{
		{catalog.FS, "postgres", true}, {catalog.FS, "bucket", true}, {catalog.FS, "queue", true}, {catalog.FS, "cache", true},
		{fsys, "lit", true}, {fsys, "ref", false},
	} {
		c, err := New(tc.fsys)
		if err != nil {
			t.Fatal(err)
		}
		tm, err := c.Template(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := tm.params.Exists(); got != tc.partial {
			t.Errorf("%s: parameters-only part built: %v, want %v", tc.name, got, tc.partial)
		}
	}

	stack := func(tmpl, with string) []byte {
		return []byte("apiVersion: plat/v1\nkind: Stack\nmetadata:\n  name: s\n  team: t\n  environment: prod\n  costCenter: CC-1234\nspec:\n  target: terraform\n  region: eu-west-1\n  resources:\n    - name: r\n      template: " + tmpl + "\n      with:\n" + with)
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, with := range []string{
		"        replicas: 2\n",
		"        replicas: 1\n",
		"        replicas: 9\n        note: \"Upper\"\n",
		"        replica: 2\n",
	} {
		var got [2]Diagnostics
		for i, tmpl := range []string{"ref", "lit"} {
			c, err := New(fsys)
			if err != nil {
				t.Fatal(err)
			}
			_, got[i] = c.Compile(context.Background(), Input{Stacks: []Source{{Name: "s.yaml", Data: stack(tmpl, with)}}, Now: now})
			for j := range got[i] {
				got[i][j].ID = stripTemplate(got[i][j].ID)
			}
		}
		if !reflect.DeepEqual(got[0], got[1]) {
			t.Errorf("with:\n%sthe whole template gives\n%v\nthe parameters-only part gives\n%v", with, got[0], got[1])
		}
	}
}

func stripTemplate(id string) string {
	for _, p := range []string{"ref.", "lit."} {
		if len(id) > len(p) && id[:len(p)] == p {
			return "T." + id[len(p):]
		}
	}
	return id
}

// TestTemplateErrors checks that templates are refused with errors in the
// template's own terms, and that schema definitions are not visible to them.
func TestTemplateErrors(t *testing.T) {
	platform, err := fs.ReadFile(catalog.FS, PlatformFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ src, want string }{
		{`name: "bad"
description: "x"
parameters: {}
guardrails: []
terraform: {module: "bad", version: "1.0", outputs: []}
crossplane: resources: []
`, `catalog: bad/template.cue does not meet the template contract: bad/template.cue:7:37: terraform.version: invalid value "1.0"`},
		{`name: #DNSLabel & "bad"
description: "x"
parameters: {}
guardrails: []
terraform: {module: "bad", version: "1.0.0", outputs: []}
crossplane: resources: []
`, `catalog: bad/template.cue:3:7: name: reference "#DNSLabel" not found`},
		{`name: "bad"
description: "x"
extra: 1
parameters: {}
guardrails: []
terraform: {module: "bad", version: "1.0.0", outputs: []}
crossplane: resources: []
`, `catalog: bad/template.cue does not meet the template contract: `},
	} {
		c, err := New(fstest.MapFS{PlatformFile: {Data: platform}, "bad/template.cue": {Data: []byte("package catalog\n\n" + tc.src)}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Template("bad")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("got %v, want an error starting %q", err, tc.want)
		}
	}
}

func TestContextFields(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string
	}{
		{`context: _, parameters: a: *context.environment | string, terraform: x: context.region`, []string{"environment"}},
		{`context: _, parameters: a: "\(context.name)-\(context.team)"`, []string{"name", "team"}},
		{`context: _, parameters: a: int`, []string{}},
		{`context: _, let C = context, parameters: a: C.name`, nil},
		{`context: _, parameters: {context: string, a: context}`, nil},
		{`context: _, _h: context, parameters: a: _h.name`, nil},
	} {
		f, err := parser.ParseFile("t.cue", tc.src)
		if err != nil {
			t.Fatal(err)
		}
		keep := func(d ast.Decl) bool {
			fd, ok := d.(*ast.Field)
			return !ok || fd.Label.(*ast.Ident).Name != "terraform"
		}
		if got := contextFields(f, keep); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.src, got, tc.want)
		}
	}
}

// TestInstanceBase checks that compiling resources against a template without
// the other target's branch gives the same files and diagnostics as against the
// whole template, for both targets.
func TestInstanceBase(t *testing.T) {
	clean := map[string][]string{
		"postgres": {"", "        size: medium\n        storageGB: 100\n"},
		"bucket":   {"", "        expireAfterDays: 30\n        encryption: aes256\n"},
		"queue":    {"", "        fifo: true\n"},
		"cache":    {"", "        engine: redis\n        size: large\n"},
	}
	broken := map[string][]string{
		"postgres": {"        backupRetentionDays: 7\n", "        publiclyAccessible: true\n"},
		"bucket":   {"        public: true\n"},
		"queue":    {"        maxReceiveCount: 0\n"},
		"cache":    {"        nodes: 1\n"},
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, target := range []string{"terraform", "crossplane"} {
		for _, withs := range []map[string][]string{clean, broken} {
			isClean := len(withs["queue"]) == len(clean["queue"]) && withs["queue"][0] == clean["queue"][0]
			var b strings.Builder
			b.WriteString("apiVersion: plat/v1\nkind: Stack\nmetadata:\n  name: s\n  team: t\n  environment: prod\n  costCenter: CC-1234\nspec:\n  target: " + target + "\n  region: eu-west-1\n  resources:\n")
			for i := range 40 {
				tmpl := []string{"postgres", "bucket", "queue", "cache"}[i%4]
				ws := withs[tmpl]
				fmt.Fprintf(&b, "    - name: r%d\n      template: %s\n", i, tmpl)
				if w := ws[(i/4)%len(ws)]; w != "" {
					b.WriteString("      with:\n" + w)
				}
			}
			in := Input{Stacks: []Source{{Name: "s.yaml", Data: []byte(b.String())}}, Now: now}
			pruned := 0
			compile := func(after int) (*Result, Diagnostics) {
				defer func(old int) { prunedAfter = old }(prunedAfter)
				prunedAfter = after
				c, err := New(catalog.FS)
				if err != nil {
					t.Fatal(err)
				}
				res, diags := c.Compile(context.Background(), in)
				for _, tm := range c.templates {
					if tm.targets[target].Exists() {
						pruned++
					}
				}
				return res, diags
			}
			wantRes, wantDiags := compile(1 << 30)
			if pruned != 0 {
				t.Fatalf("%s: pruned with prunedAfter = 1<<30", target)
			}
			gotRes, gotDiags := compile(0)
			// Every shipped template's guardrails read terraform.inputs, so only
			// the terraform target can drop a branch (crossplane); the crossplane
			// target falls back to the whole templates.
			if (pruned > 0) != (target == "terraform") {
				t.Errorf("%s: %d templates pruned", target, pruned)
			}
			if !reflect.DeepEqual(gotDiags, wantDiags) {
				t.Errorf("%s: diagnostics differ:\n%v\nwant\n%v", target, gotDiags, wantDiags)
			}
			if !reflect.DeepEqual(gotRes, wantRes) {
				t.Errorf("%s: rendered files differ", target)
			}
			if len(wantDiags) == 0 && len(wantRes.Files()) == 0 {
				t.Errorf("%s: nothing rendered", target)
			}
			if (len(wantDiags) == 0) != isClean {
				t.Errorf("%s: diagnostics %v", target, wantDiags)
			}
		}
	}
}

// TestParamsDecls: the parameters-only part keeps the hidden fields and
// definitions the parameters reach, through each other too, and drops those
// only other fields read.
func TestParamsDecls(t *testing.T) {
	src := `context: _
parameters: {a: _a, b: #B}
_a: _deep
_deep: context.environment
#B: string
_meta: {name: context.name}
terraform: x: _meta
let L = _viaLet
_viaLet: 1
`
	f, err := parser.ParseFile("t.cue", src)
	if err != nil {
		t.Fatal(err)
	}
	keep := paramsDecls(f)
	var kept []string
	for _, d := range f.Decls {
		if !keep(d) {
			continue
		}
		switch d := d.(type) {
		case *ast.Field:
			kept = append(kept, d.Label.(*ast.Ident).Name)
		case *ast.LetClause:
			kept = append(kept, "let "+d.Ident.Name)
		}
	}
	if want := []string{"context", "parameters", "_a", "_deep", "#B", "let L", "_viaLet"}; !reflect.DeepEqual(kept, want) {
		t.Errorf("kept %q, want %q", kept, want)
	}
	if got := contextFields(f, keep); !reflect.DeepEqual(got, []string{"environment"}) {
		t.Errorf("context fields %q, want [environment]", got)
	}
}
