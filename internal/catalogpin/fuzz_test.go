package catalogpin

import (
	"testing"
)

// FuzzParse feeds arbitrary bytes to the pin-file parser: it must never panic,
// and a pin it accepts must be valid and survive Marshal and Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("apiVersion: plat/v1\nkind: CatalogPin\nregistry: &a x\nname: *a\n"))
	f.Add([]byte("registry: \"http://h:1\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("f", data)
		if err != nil {
			return
		}
		if err := p.Check(); err != nil {
			t.Fatalf("accepted an invalid pin %+v: %v", p, err)
		}
		out, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse("f", out)
		if err != nil || *q != *p {
			t.Fatalf("round trip of %q: %+v %v", out, q, err)
		}
	})
}
