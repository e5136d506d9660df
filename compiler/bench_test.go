package compiler_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/platdev/plat/compiler"
)

// stackOf returns a stack with n resources cycling through the four templates.
func stackOf(n int) []byte {
	var b strings.Builder
	b.WriteString(head)
	templates := []string{"postgres", "bucket", "queue", "cache"}
	for i := range n {
		fmt.Fprintf(&b, "    - name: r%d\n      template: %s\n", i, templates[i%4])
		if i%4 == 0 {
			b.WriteString("      with:\n        size: medium\n        storageGB: 100\n")
		}
	}
	return []byte(b.String())
}

// BenchmarkValidate4 is what `plat validate` of a 4-resource stack costs inside
// the process: loading the catalog (schemas, platform settings, the four
// templates) and compiling the stack, as a fresh process does.
func BenchmarkValidate4(b *testing.B) {
	src := stackOf(4)
	for b.Loop() {
		c, err := compiler.New(catalogFS())
		if err != nil {
			b.Fatal(err)
		}
		_, diags := c.Compile(context.Background(), compiler.Input{Stacks: []compiler.Source{{Name: "platform.yaml", Data: src}}, Now: now, Validate: true})
		if diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}

// benchRender measures what one `plat render` of an n-resource stack costs
// inside the process: a new compiler over the shipped catalog, then the compile,
// as each CLI run constructs them. Reusing one compiler would measure a warmed
// path (templates loaded and pruned once) that a real render never takes.
func benchRender(b *testing.B, n int) {
	src := stackOf(n)
	in := compiler.Input{Stacks: []compiler.Source{{Name: "platform.yaml", Data: src}}, Now: now}
	for b.Loop() {
		c, err := compiler.New(catalogFS())
		if err != nil {
			b.Fatal(err)
		}
		res, diags := c.Compile(context.Background(), in)
		if diags.HasErrors() || len(res.Files()) == 0 {
			b.Fatal(diags)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/resource")
}

func BenchmarkRender10(b *testing.B)   { benchRender(b, 10) }
func BenchmarkRender100(b *testing.B)  { benchRender(b, 100) }
func BenchmarkRender1000(b *testing.B) { benchRender(b, 1000) }

// treeOf returns n four-resource stacks, a quarter of them prod, the shape
// of platbench's trees.
func treeOf(n int) []compiler.Source {
	envs := []string{"prod", "dev", "staging", "dev"}
	srcs := make([]compiler.Source, n)
	for i := range srcs {
		srcs[i] = compiler.Source{Name: fmt.Sprintf("team%02d/s%04d/platform.yaml", i%20, i), Data: fmt.Appendf(nil, `apiVersion: plat/v1
kind: Stack
metadata: {name: s%04d, team: team%02d, environment: %s, costCenter: CC-1234}
spec:
  target: terraform
  region: eu-west-1
  resources:
    - {name: db, template: postgres, with: {size: small, storageGB: 50, backupRetentionDays: 14}}
    - {name: files, template: bucket, with: {expireAfterDays: 30}}
    - {name: jobs, template: queue, with: {maxReceiveCount: 10}}
    - {name: sessions, template: cache, with: {nodes: 2}}
`, i, i%20, envs[i%4])}
	}
	return srcs
}

// BenchmarkValidateTree500 is what `plat validate DIR` of 500 stacks costs
// inside the process: a fresh compiler, as a process starts with, then every
// stack.
func BenchmarkValidateTree500(b *testing.B) {
	in := compiler.Input{Stacks: treeOf(500), Now: now, Validate: true}
	for b.Loop() {
		c, err := compiler.New(catalogFS())
		if err != nil {
			b.Fatal(err)
		}
		if _, diags := c.Compile(context.Background(), in); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
