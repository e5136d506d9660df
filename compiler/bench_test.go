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
