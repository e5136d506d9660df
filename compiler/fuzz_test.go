package compiler_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/platdev/plat/compiler"
)

// FuzzLoadStack feeds arbitrary bytes to the stack loader and the whole compile:
// neither may panic, and every diagnostic must carry a position.
func FuzzLoadStack(f *testing.F) {
	for _, p := range []string{"../examples/shop/platform.yaml", "../examples/analytics/platform.yaml"} {
		if b, err := os.ReadFile(filepath.FromSlash(p)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(head + "    - name: db\n      template: postgres\n      with: {size: huge}\n"))
	f.Add([]byte("a: [\n"))
	f.Add([]byte(""))
	f.Add([]byte("---\na: 1\n---\nb: 2\n"))
	f.Add([]byte("a: &x [*x]\n"))
	c, err := compiler.New(catalogFS())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"platform.yaml", "stack.cue"} {
			n, diags := compiler.LoadStack(name, data)
			if n == nil && len(diags) == 0 {
				t.Fatalf("%s: no stack and no diagnostics", name)
			}
			for _, d := range diags {
				if d.Line < 1 || d.Col < 1 || d.File != name {
					t.Fatalf("%s: diagnostic without position: %+v", name, d)
				}
			}
		}
		_, diags := c.Compile(context.Background(), compiler.Input{Stacks: []compiler.Source{{Name: "platform.yaml", Data: data}}, Now: now})
		for _, d := range diags {
			if d.File != "platform.yaml" && d.ID != compiler.IDDuplicateStack {
				t.Fatalf("diagnostic outside the stack file: %+v", d)
			}
		}
	})
}
