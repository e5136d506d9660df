package registry

import (
	"errors"
	"strings"
	"testing"
)

func TestParseInventory(t *testing.T) {
	good := `{"schema":"plat.inventory/v1","repository":"shop","stacks":[{"file":"a/platform.yaml","name":"a",
		"catalog":{"kind":"pin","namespace":"platform","name":"golden","version":"1.0.0"},
		"resources":[{"module":{"namespace":"platform","name":"postgres","system":"aws","version":"1.0.0"}},
		             {"module":{"namespace":"platform","name":"postgres","system":"aws","version":"1.0.0"}},
		             {"name":"x"}]}]}`
	uses, doc, err := parseInventory([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	// The pinned catalog and one use of postgres: two resources of one stack count once.
	if doc.Repository != "shop" || len(uses) != 2 || uses[0].Kind != "catalog" || uses[1].Name != "postgres" {
		t.Fatalf("uses %+v", uses)
	}
	for _, tc := range []struct{ doc, want string }{
		{`[]`, "not JSON"},
		{`{"schema":"plat.inventory/v2","repository":"shop"}`, `schema "plat.inventory/v2"`},
		{`{"schema":"plat.inventory/v1"}`, "repository is empty"},
		{`{"schema":"plat.inventory/v1","repository":"a\u0000b"}`, "control character"},
		{`{"schema":"plat.inventory/v1","repository":"` + strings.Repeat("r", 513) + `"}`, "longer than 512"},
		{`{"schema":"plat.inventory/v1","repository":"shop","stacks":[{"name":"a"}]}`, "stacks[0].file is empty"},
		{`{"schema":"plat.inventory/v1","repository":"shop","stacks":[{"file":"f","resources":[{"module":{"namespace":"P","name":"x","system":"aws","version":"1.0.0"}}]}]}`, "stacks[0].resources[0].module"},
		{`{"schema":"plat.inventory/v1","repository":"shop","stacks":[{"file":"f","catalog":{"kind":"pin","namespace":"p","name":"g","version":"latest"}}]}`, "stacks[0].catalog"},
	} {
		_, _, err := parseInventory([]byte(tc.doc))
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrInvalid with %q", tc.doc, err, tc.want)
		}
	}
}

// FuzzParseInventory: pushed documents are untrusted; parsing never panics
// and every use it accepts names a valid version.
func FuzzParseInventory(f *testing.F) {
	f.Add([]byte(`{"schema":"plat.inventory/v1","repository":"shop","stacks":[{"file":"a","resources":[{"module":{"namespace":"p","name":"n","system":"aws","version":"1.0.0"}}]}]}`))
	f.Add([]byte(`{"schema":"plat.inventory/v1","repository":"x","stacks":[{"file":"a","catalog":{"kind":"pin","namespace":"p","name":"g","version":"2.0.0-rc.1"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		uses, _, err := parseInventory(data)
		if err != nil {
			return
		}
		for _, u := range uses {
			if u.Version == "" || u.Namespace == "" || u.Name == "" || u.File == "" {
				t.Fatalf("accepted use %+v", u)
			}
		}
	})
}
