package record

import (
	"testing"
)

func TestLookup(t *testing.T) {
	fields := map[string]Origin{
		"metadata.labels":                   {Origin: OriginContext},
		"spec.forProvider.rule[0].x":        {Origin: OriginStack, Parameter: "x"},
		`spec.forProvider.tags["a.b"]`:      {Origin: OriginConstant},
		"spec.forProvider.allocatedStorage": {Origin: OriginStack, Parameter: "storageGB"},
	}
	for path, want := range map[string]struct {
		origin, rest string
		ok           bool
	}{
		"metadata.labels.team":               {OriginContext, "team", true},
		`metadata.labels["plat.dev/x"]`:      {OriginContext, `["plat.dev/x"]`, true},
		"spec.forProvider.rule[0].x":         {OriginStack, "", true},
		`spec.forProvider.tags["a.b"]`:       {OriginConstant, "", true},
		`spec.forProvider.tags["a.b"].c`:     {OriginConstant, "c", true},
		"spec.forProvider.allocatedStorageX": {"", "", false},
		"spec.forProvider.rule[1].x":         {"", "", false},
		"spec":                               {"", "", false},
	} {
		o, rest, ok := Lookup(fields, path)
		if ok != want.ok || o.Origin != want.origin || rest != want.rest {
			t.Errorf("Lookup(%q) = %+v %q %v, want %+v", path, o, rest, ok, want)
		}
	}
}

// FuzzParse: a render record is read from a stack's output directory, which
// may come from a pull request; any input parses or is refused with an error.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":"plat.dev/render-sources/v1","resources":[{"name":"a","inputs":{"x":{"origin":"stack"}}}]}`))
	f.Add([]byte(`{"schemaVersion":"v0"}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse("f", b)
		if err == nil {
			for _, res := range r.Resources {
				for _, o := range res.Objects {
					_ = o.Address()
					_, _, _ = Lookup(o.Fields, "a.b[0]")
				}
			}
		}
	})
}
