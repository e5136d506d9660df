package registry

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
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

// TestParseInventoryWaivers: waivers are kept, their text made one bounded
// line; odd waiver text never refuses a push.
func TestParseInventoryWaivers(t *testing.T) {
	long := strings.Repeat("é", maxStackField)
	doc := `{"schema":"plat.inventory/v1","repository":"shop","stacks":[{"file":"a","name":"a","waivers":[
		{"guardrail":"g","resource":"r","owner":"o","reason":"two\nlines\u0000 and\ttabs","expires":"2026-01-02","daysLeft":3},
		{"guardrail":"` + long + `","reason":"\ufffd"}]}]}`
	_, d, err := parseInventory([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	ws := d.Stacks[0].Waivers
	if len(ws) != 2 || ws[0] != (StackWaiver{Guardrail: "g", Resource: "r", Owner: "o", Reason: "two lines and tabs", Expires: "2026-01-02"}) {
		t.Fatalf("waivers %+v", ws)
	}
	if g := ws[1].Guardrail; len(g) > maxStackField || !strings.HasSuffix(g, "…") || !utf8.ValidString(g) || ws[1].Reason != "" {
		t.Errorf("long guardrail %d bytes %q, reason %q", len(g), g[len(g)-8:], ws[1].Reason)
	}
	many := `{"schema":"plat.inventory/v1","repository":"shop","stacks":[{"file":"a","waivers":[` +
		strings.TrimSuffix(strings.Repeat(`{"guardrail":"g"},`, maxStackWaivers+5), ",") + `]}]}`
	if _, d, err = parseInventory([]byte(many)); err != nil || len(d.Stacks[0].Waivers) != maxStackWaivers {
		t.Errorf("many waivers: %v, %d kept", err, len(d.Stacks[0].Waivers))
	}
}

// FuzzParseInventory: pushed documents are untrusted; parsing never panics
// and every use it accepts names a valid version.
func FuzzParseInventory(f *testing.F) {
	f.Add([]byte(`{"schema":"plat.inventory/v1","repository":"shop","stacks":[{"file":"a","resources":[{"module":{"namespace":"p","name":"n","system":"aws","version":"1.0.0"}}]}]}`))
	f.Add([]byte(`{"schema":"plat.inventory/v1","repository":"x","stacks":[{"file":"a","catalog":{"kind":"pin","namespace":"p","name":"g","version":"2.0.0-rc.1"}}]}`))
	f.Add([]byte(`{"schema":"plat.inventory/v1","repository":"x","stacks":[{"file":"a","waivers":[{"guardrail":"g\n","reason":"\u0000é"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		uses, doc, err := parseInventory(data)
		if err != nil {
			return
		}
		for _, st := range doc.Stacks {
			for _, w := range st.Waivers {
				for _, f := range []string{w.Guardrail, w.Resource, w.Owner, w.Reason, w.Expires} {
					if len(f) > maxStackField || !utf8.ValidString(f) || strings.ContainsFunc(f, unicode.IsControl) {
						t.Fatalf("kept waiver text %q", f)
					}
				}
			}
		}
		for _, u := range uses {
			if u.Version == "" || u.Namespace == "" || u.Name == "" || u.File == "" {
				t.Fatalf("accepted use %+v", u)
			}
		}
	})
}
