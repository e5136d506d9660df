package compiler

import (
	"context"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"

	"github.com/platdev/plat/catalog"
)

// memoCatalog is the shipped catalog plus three templates: shared, whose
// parameter keeps its kind (1, 1.0, "1") into the outputs, and two whose
// outputs read context fields beyond environment and region: named reads
// context.name in its Terraform inputs through a hidden field, and strict
// constrains context itself (so every stack's own evaluation decides).
func memoCatalog(t *testing.T) fs.FS {
	t.Helper()
	fsys := fstest.MapFS{}
	err := fs.WalkDir(catalog.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(catalog.FS, p)
		fsys[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := func(name, ctx, label string) []byte {
		return fmt.Appendf(nil, `package catalog

name:        %q
description: "test"
context:     %s
parameters: {
	// Size.
	size: *1 | int | float | string
}
_label: %s
guardrails: [{
	id:       "%s.big"
	severity: "warning"
	path:     "size"
	message:  "size \(parameters.size) in \(context.environment)"
	hint:     "smaller"
	violated: context.environment == "prod"
}]
terraform: {
	module:    %q
	providers: ["aws"]
	version:   "1.0.0"
	inputs: {label: _label, size: parameters.size, env: context.environment}
	outputs: []
}
crossplane: resources: [{
	apiVersion: "v1"
	kind:       "ConfigMap"
	metadata: {name: context.name, namespace: context.namespace, labels: context.labels}
}]
`, name, ctx, label, name, name)
	}
	fsys["shared/template.cue"] = &fstest.MapFile{Data: tmpl("shared", "_", `"x"`)}
	fsys["named/template.cue"] = &fstest.MapFile{Data: tmpl("named", "_", `context.name + "-x"`)}
	fsys["strict/template.cue"] = &fstest.MapFile{Data: tmpl("strict", `{name: =~"^s00[0-4]-"}`, `"x"`)}
	return fsys
}

// memoTree is n stacks of both targets and three environments whose
// resources repeat the same parameters across stacks, with parameters that
// differ only in their kind (1, 1.0, "1"), usage assumptions, a guardrail
// error and a parameter error.
func memoTree(n int) []Source {
	var srcs []Source
	for i := range n {
		env, target := []string{"prod", "dev", "staging"}[i%3], []string{"terraform", "crossplane"}[(i/3)%2]
		size := []string{"1", "1.0", `"1"`, "2"}[(i/6)%4]
		res := fmt.Sprintf(`    - {name: db, template: postgres, with: {size: small, storageGB: 50}}
    - {name: files, template: bucket, with: {expireAfterDays: 30}}
    - {name: logs, template: bucket, with: {expireAfterDays: 30}, usage: {storageGB: %d}}
    - {name: jobs, template: queue, with: {maxReceiveCount: 10}}
    - {name: sessions, template: cache}
    - {name: sh, template: shared, with: {size: %s}}
    - {name: n, template: named, with: {size: %s}}
    - {name: st, template: strict, with: {size: %s}}
`, 10+i%2, size, size, size)
		if i%5 == 4 {
			res += "    - {name: web, template: bucket, with: {public: true}}\n"
		}
		if i%7 == 6 {
			res += "    - {name: bad, template: postgres, with: {storageGB: 5}}\n"
		}
		srcs = append(srcs, Source{Name: fmt.Sprintf("s%03d/platform.yaml", i), Data: fmt.Appendf(nil,
			"apiVersion: plat/v1\nkind: Stack\nmetadata: {name: s%03d, team: team%d, environment: %s, costCenter: CC-1234}\nspec:\n  target: %s\n  region: eu-west-1\n  resources:\n%s",
			i, i%2, env, target, res)})
	}
	return srcs
}

// TestEvalMemoSameResult compiles a tree with one compiler, whose templates
// reuse evaluations across stacks, and stack by stack with the memo off:
// the same files, costs and diagnostics, for render and validate.
func TestEvalMemoSameResult(t *testing.T) {
	fsys := memoCatalog(t)
	srcs := memoTree(48) // every combination twice: an evaluation is kept when its key comes again
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, validate := range []bool{false, true} {
		in := Input{Stacks: srcs, Now: now, Validate: validate, Cost: true}
		c, err := New(fsys)
		if err != nil {
			t.Fatal(err)
		}
		got, gotDiags := c.Compile(context.Background(), in)
		hits := 0
		for _, tm := range c.templates {
			hits += len(tm.evals)
		}
		if hits == 0 || hits >= 8*len(srcs)/2 {
			t.Errorf("validate=%v: %d evaluations kept for %d stacks", validate, hits, len(srcs))
		}
		if n := len(c.templates["named"].evals); n != 0 {
			t.Errorf("named reads context.name, whose key no two stacks share: %d evaluations kept, want none", n)
		}
		// For terraform, one per parameter and environment (1, 1.0, "1" and 2
		// in three environments), each coming twice; for crossplane, whose
		// objects are named after the stack, none: no key comes twice.
		if n := len(c.templates["shared"].evals); n != 12 {
			t.Errorf("shared: %d evaluations kept, want 12", n)
		}
		if n := len(c.templates["strict"].evals); n != 0 {
			t.Errorf("strict constrains context: %d evaluations kept, want none", n)
		}

		func() {
			defer func(old int) { maxEvals = old }(maxEvals)
			maxEvals = 0
			want, wantDiags := &Result{}, Diagnostics{}
			for _, src := range srcs {
				one := in
				one.Stacks = []Source{src}
				c, err := New(fsys)
				if err != nil {
					t.Fatal(err)
				}
				r, d := c.Compile(context.Background(), one)
				want.Stacks = append(want.Stacks, r.Stacks...)
				want.Costs = append(want.Costs, r.Costs...)
				wantDiags = append(wantDiags, d...)
			}
			if wantDiags.Errors() == 0 || len(wantDiags) == wantDiags.Errors() || len(want.Stacks) == 0 {
				t.Fatalf("the tree should mix errors, warnings and clean stacks: %v", wantDiags)
			}
			if !reflect.DeepEqual(gotDiags, wantDiags) {
				t.Errorf("validate=%v: diagnostics differ:\n got %v\nwant %v", validate, gotDiags, wantDiags)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("validate=%v: results differ", validate)
			}
		}()
	}
}

// TestEvalContextFields: the memo key holds the context fields a target's
// outputs, guardrails and cost read, through hidden fields too; none of the
// shipped templates reads more than environment and region for terraform.
func TestEvalContextFields(t *testing.T) {
	for _, tc := range []struct {
		src, target string
		want        []string
	}{
		{`context: _, _h: context.name, terraform: x: _h, crossplane: y: context.team`, "terraform", []string{"name"}},
		{`context: _, _h: context.name, terraform: x: _h, crossplane: y: context.team`, "crossplane", []string{"team"}},
		{`context: _, _h: context.name, terraform: x: 1`, "terraform", []string{}},
		{`context: {name: string}, terraform: x: 1`, "terraform", nil},
		{`context: _, terraform: x: crossplane.y, crossplane: y: context.name`, "terraform", nil},
		{`context: _, terraform: x: context, crossplane: y: 1`, "terraform", nil},
		{`context: _, terraform: x: 1`, "other", nil},
	} {
		f, err := parser.ParseFile("t.cue", tc.src)
		if err != nil {
			t.Fatal(err)
		}
		if got := evalContextFields(f, tc.target); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s (%s): got %q, want %q", tc.src, tc.target, got, tc.want)
		}
	}
	c, err := New(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"postgres", "bucket", "queue", "cache"} {
		tm, err := c.template(name)
		if err != nil {
			t.Fatal(err)
		}
		got := evalContextFields(tm.syntax(), "terraform")
		for _, f := range got {
			if f != "environment" && f != "region" {
				t.Errorf("%s reads context.%s for terraform", name, f)
			}
		}
		if got == nil {
			t.Errorf("%s: evaluations not shared for terraform", name)
		}
	}
}

// TestDecodeAnyMatchesDecode: where decodeAny, decodeMap and decodeStrings
// say ok, they give what cue's Decode gives; where Decode would fail or give
// a big number, they say not ok.
func TestDecodeAnyMatchesDecode(t *testing.T) {
	cc := cuecontext.New()
	for _, tc := range []struct {
		src string
		ok  bool
	}{
		{`{a: 1, b: 1.5, c: "s", d: true, e: null, f: [1, [2, {x: "y"}]], g: [], h: {}}`, true},
		{`{a: *1 | int, b: *"x" | string, _hidden: 1, #def: 2, opt?: 3, n: {m: *[1] | [...int]}}`, true},
		{`*{a: 1} | {b: 2}`, true},
		{`{a: 100000000000000000000000}`, false},
		{`{a: int}`, false},
		{`{a: [1, string]}`, false},
		{`{a: 'bytes'}`, false},
		{`[1, 2]`, false},
	} {
		v := cc.CompileString(tc.src)
		var want map[string]any
		werr := v.Decode(&want)
		got, ok := decodeMap(v)
		if ok != tc.ok {
			t.Errorf("%s: ok %v, want %v (Decode: %v)", tc.src, ok, tc.ok, werr)
			continue
		}
		if ok && (werr != nil || !reflect.DeepEqual(got, want)) {
			t.Errorf("%s: got %#v, Decode gives %#v, %v", tc.src, got, want, werr)
		}
		var wantAny any
		aerr := v.Decode(&wantAny)
		if a, aok := decodeAny(v); aok && (aerr != nil || !reflect.DeepEqual(a, wantAny)) || !aok && aerr == nil && !strings.Contains(tc.src, "1000000") && !strings.Contains(tc.src, "'") {
			t.Errorf("%s: decodeAny %#v, %v; Decode gives %#v, %v", tc.src, a, aok, wantAny, aerr)
		}
	}
	for _, tc := range []struct {
		src string
		ok  bool
	}{
		{`{a: "x", b: *"y" | string, _h: 1}`, true},
		{`{a: "x", b: 1}`, false},
		{`{a: string}`, false},
	} {
		v := cc.CompileString(tc.src)
		want := map[string]string{}
		werr := v.Decode(&want)
		got, ok := decodeStrings(v)
		if ok != tc.ok || ok && (werr != nil || !reflect.DeepEqual(got, want)) {
			t.Errorf("%s: got %v, %v; Decode gives %v, %v", tc.src, got, ok, want, werr)
		}
	}
}
