package compiler_test

import (
	"strings"
	"testing"

	"github.com/platdev/plat/compiler"
)

// TestLoadStackYAMLValues checks the YAML values a stack file may not hold,
// each reported where it stands.
func TestLoadStackYAMLValues(t *testing.T) {
	for src, want := range map[string]string{
		"a: 99999999999999999999\n": "1:4: error: stack.invalid-value: number 99999999999999999999 is too large",
		"a:\n  b: .inf\n":           "2:6: error: stack.invalid-value: unsupported number .inf",
		"a: 1\nb: 2\na: 3\n":        `3:1: error: stack.duplicate-key: key "a" repeats the one on line 1`,
		strings.Repeat("[", 120) + strings.Repeat("]", 120) + "\n": "1:101: error: stack.unsupported: the stack file nests too deeply",
		"a: [\n": "1:1: error: stack.syntax: invalid YAML: did not find expected node content",
	} {
		_, diags := compiler.LoadStack("s.yaml", []byte(src))
		var got []string
		for _, d := range diags {
			got = append(got, d.String())
		}
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("%q: got %q, want %q", src, got, want)
		}
	}
	n, diags := compiler.LoadStack("s.yaml", []byte("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n"))
	if len(diags) > 0 || n.Get("c").Get("x").Int != 1 || n.Get("c").Get("y").Int != 2 {
		t.Fatalf("merge key: %v %v", n, diags)
	}
}
