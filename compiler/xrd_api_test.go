package compiler_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/compiler/xrd"
)

// TestXRD checks the compiler's XRD of a shipped template and of an unknown one.
func TestXRD(t *testing.T) {
	c, err := compiler.New(catalogFS())
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.XRD("postgres", xrd.Options{Group: "platform.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := res.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: CompositeResourceDefinition\n", "  name: postgreses.platform.example.com\n", "postgres.no-public-access"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("XRD lacks %q:\n%s", want, b)
		}
	}
	if _, err := c.XRD("nosuch", xrd.Options{}); !errors.Is(err, compiler.ErrUnknownTemplate) {
		t.Errorf("unknown template: %v", err)
	}
}
