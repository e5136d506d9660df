package crd

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/testtools"
)

// renderExample compiles the 4-template example stack for the crossplane target
// and returns its objects.
func renderExample(b *testing.B) []map[string]any {
	b.Helper()
	src, err := os.ReadFile(filepath.Join(testtools.RepoRoot(b), "examples", "analytics", "platform.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := compiler.New(catalog.FS)
	if err != nil {
		b.Fatal(err)
	}
	res, diags := c.Compile(context.Background(), compiler.Input{Stacks: []compiler.Source{{Name: "platform.yaml", Data: src}}})
	if diags.HasErrors() || len(res.Stacks) != 1 || res.Stacks[0].Target != "crossplane" {
		b.Fatalf("example does not compile to one crossplane stack: %v", diags)
	}
	var objs []map[string]any
	for _, f := range res.Files() {
		objs = append(objs, f.Objects...)
	}
	return objs
}

// BenchmarkValidateCRDs is what --crds adds to plat validate for the
// 4-template example: indexing the provider's CRD directory, parsing and
// compiling only the kinds the stack emits, and validating every object. Each
// iteration starts from nothing, as a plat process does.
func BenchmarkValidateCRDs(b *testing.B) {
	objs := renderExample(b)
	dir := providerCRDs(b)
	b.ReportMetric(float64(len(objs)), "objects")
	for b.Loop() {
		s, err := LoadDir(dir)
		if err != nil {
			b.Fatal(err)
		}
		s.Prepare(objs) // as plat validate --crds does
		for _, o := range objs {
			if errs := s.Validate(o); len(errs) != 0 {
				b.Fatal(errs)
			}
		}
	}
}

// BenchmarkValidateCRDsWarm validates the same objects against an already
// loaded Set (a long-running process, or a second stack in one invocation).
func BenchmarkValidateCRDsWarm(b *testing.B) {
	objs := renderExample(b)
	s, err := LoadDir(providerCRDs(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, o := range objs {
			if errs := s.Validate(o); len(errs) != 0 {
				b.Fatal(errs)
			}
		}
	}
}

// BenchmarkLoadDir is the cost of indexing the CRD directory alone.
func BenchmarkLoadDir(b *testing.B) {
	dir := providerCRDs(b)
	for b.Loop() {
		if _, err := LoadDir(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateCRDsCached is BenchmarkValidateCRDs with the decoded-CRD
// cache plat validate uses already filled by an earlier run.
func BenchmarkValidateCRDsCached(b *testing.B) {
	objs := renderExample(b)
	dir := providerCRDs(b)
	cache := b.TempDir()
	s, err := LoadDir(dir, WithCache(cache))
	if err != nil {
		b.Fatal(err)
	}
	s.Prepare(objs) // fills the cache
	for b.Loop() {
		s, err := LoadDir(dir, WithCache(cache))
		if err != nil {
			b.Fatal(err)
		}
		s.Prepare(objs)
		for _, o := range objs {
			if errs := s.Validate(o); len(errs) != 0 {
				b.Fatal(errs)
			}
		}
	}
}
