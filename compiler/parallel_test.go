package compiler_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/platdev/plat/compiler"
)

// mixedTree is n stacks of both targets where some break in different ways:
// an invalid parameter, a guardrail error, an unknown template, a warning, a
// waiver that expires soon, and stack names used twice (the second use, in
// input order, is the one reported).
func mixedTree(t *testing.T, n int) []compiler.Source {
	t.Helper()
	srcs := examples(t)
	for i := range n {
		name := fmt.Sprintf("s%03d", i)
		if i%9 == 8 {
			name = fmt.Sprintf("s%03d", i-5) // a duplicate of an earlier stack
		}
		env, target := []string{"prod", "dev", "staging"}[i%3], []string{"terraform", "crossplane"}[i%2]
		res := "    - {name: db, template: postgres, with: {size: small}}\n    - {name: files, template: bucket, with: {expireAfterDays: 30}}\n"
		switch i % 7 {
		case 1:
			res += "    - {name: q, template: queue, with: {fifo: maybe}}\n"
		case 3:
			res += "    - {name: web, template: bucket, with: {public: true}}\n"
		case 4:
			res += "    - {name: c, template: cahce}\n"
		case 5:
			res += "    - {name: big, template: postgres, with: {size: large, storageGB: 2000}}\n"
		case 6:
			res += "    - {name: web, template: bucket, with: {public: true}}\n  waivers:\n    - {guardrail: bucket.public-needs-waiver, resource: web, reason: site, owner: a@example.com, expires: 2026-06-05}\n"
		}
		srcs = append(srcs, compiler.Source{Name: fmt.Sprintf("team%d/%s/platform.yaml", i%4, name), Data: fmt.Appendf(nil,
			"apiVersion: plat/v1\nkind: Stack\nmetadata: {name: %s, team: team%d, environment: %s, costCenter: CC-1234}\nspec:\n  target: %s\n  region: eu-west-1\n  resources:\n%s",
			name, i%4, env, target, res)})
	}
	return srcs
}

// TestCompileParallelMatchesCompile compiles one tree with Compile and with
// CompileParallel on 1 to 8 workers: result and diagnostics are the same,
// in the same order, whatever the number of workers.
func TestCompileParallelMatchesCompile(t *testing.T) {
	srcs := mixedTree(t, 40)
	for _, validate := range []bool{false, true} {
		in := compiler.Input{Stacks: srcs, Now: now, Validate: validate, Cost: true, WaiverWarning: 14 * 24 * 3600e9}
		want, wantDiags := newCompiler(t).Compile(context.Background(), in)
		if wantDiags.Errors() < 10 || len(wantDiags) == wantDiags.Errors() || len(want.Stacks) < 10 || len(want.Costs) < 10 {
			t.Fatalf("the tree should mix errors, warnings and clean stacks: %d errors, %d diagnostics, %d stacks, %d costs",
				wantDiags.Errors(), len(wantDiags), len(want.Stacks), len(want.Costs))
		}
		dup := false
		for _, d := range wantDiags {
			dup = dup || d.ID == compiler.IDDuplicateStack
		}
		if !dup {
			t.Fatal("no duplicate stack reported")
		}
		for _, workers := range []int{1, 2, 3, 8} {
			got, gotDiags := newCompiler(t).CompileParallel(context.Background(), in, workers)
			if !reflect.DeepEqual(gotDiags, wantDiags) {
				t.Errorf("validate=%v, %d workers: diagnostics differ:\n got %v\nwant %v", validate, workers, gotDiags, wantDiags)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("validate=%v, %d workers: results differ", validate, workers)
			}
		}
	}
}

// TestCompileEachMatchesCompile: CompileEach hands over, in input order, the
// stacks Compile returns, reports clean until the first stack with an error,
// holds none in its result, and gives Compile's diagnostics and costs.
func TestCompileEachMatchesCompile(t *testing.T) {
	srcs := mixedTree(t, 40)
	in := compiler.Input{Stacks: srcs, Now: now, Cost: true}
	want, wantDiags := newCompiler(t).Compile(context.Background(), in)
	index := map[string]int{}
	for i, s := range srcs {
		index[s.Name] = i
	}
	firstErr := len(srcs)
	for _, d := range wantDiags {
		if d.Severity == compiler.SeverityError && index[d.File] < firstErr {
			firstErr = index[d.File]
		}
	}
	if firstErr == 0 || firstErr == len(srcs) {
		t.Fatalf("the tree should begin with clean stacks and then fail: first error in stack %d", firstErr)
	}
	for _, workers := range []int{1, 2, 3} {
		var got []*compiler.Stack
		var sawClean, sawDirty bool
		res, diags := newCompiler(t).CompileEach(context.Background(), in, workers, func(st *compiler.Stack, clean bool) {
			got = append(got, st)
			if wantClean := index[st.Source] < firstErr; clean != wantClean {
				t.Errorf("%d workers: %s: clean %v, want %v", workers, st.Source, clean, wantClean)
			}
			sawClean, sawDirty = sawClean || clean, sawDirty || !clean
		})
		if !reflect.DeepEqual(got, want.Stacks) {
			t.Errorf("%d workers: emitted %d stacks, not Compile's %d", workers, len(got), len(want.Stacks))
		}
		if !sawClean || !sawDirty {
			t.Errorf("%d workers: clean and not clean should both be seen: %v %v", workers, sawClean, sawDirty)
		}
		if len(res.Stacks) != 0 || !reflect.DeepEqual(res.Costs, want.Costs) || !reflect.DeepEqual(diags, wantDiags) {
			t.Errorf("%d workers: result holds %d stacks, or costs or diagnostics differ", workers, len(res.Stacks))
		}
	}
}

// TestCompileParallelCanceled: a canceled compile ends with plat.canceled, as
// Compile does, and returns.
func TestCompileParallelCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, diags := newCompiler(t).CompileParallel(ctx, compiler.Input{Stacks: mixedTree(t, 10), Now: now}, 2)
	if len(res.Stacks) != 0 || len(diags) != 1 || diags[0].ID != "plat.canceled" {
		t.Fatalf("got %d stacks, diagnostics %v", len(res.Stacks), diags)
	}
}

// TestCheckMemoSameDiagnostics: a compiler that has checked many stacks
// (remembering their valid values) reports a broken stack exactly as a fresh
// one does.
func TestCheckMemoSameDiagnostics(t *testing.T) {
	bad := compiler.Source{Name: "bad/platform.yaml", Data: []byte(`apiVersion: plat/v1
kind: Stack
metadata: {name: s001, team: team1, environment: prd, costCenter: CC-12345, owner: x}
spec:
  target: terraform
  region: eu-west-1
  resources:
    - {name: db, template: postgres, with: {size: small}}
    - {name: Files, template: bucket, with: {expireAfterDays: 30}}
    - {name: q, template: queue, with: {fifo: 1}}
`)}
	in := compiler.Input{Stacks: []compiler.Source{bad}, Now: now, Validate: true}
	_, want := newCompiler(t).Compile(context.Background(), in)
	if want.Errors() < 4 {
		t.Fatalf("want several errors, got %v", want)
	}
	c := newCompiler(t)
	c.Compile(context.Background(), compiler.Input{Stacks: mixedTree(t, 20), Now: now, Validate: true})
	if _, got := c.Compile(context.Background(), in); !reflect.DeepEqual(got, want) {
		t.Errorf("after other stacks:\n got %v\nwant %v", got, want)
	}
}
