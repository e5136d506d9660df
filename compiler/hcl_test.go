package compiler

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestFastHCL checks that the fast HCL writers produce exactly what hclwrite
// produces, or step aside: on the shapes plat renders and on random values
// around them.
func TestFastHCL(t *testing.T) {
	strs := []string{"", "a", "eu-west-1", `quote " and \ backslash`, "${interp}", "%{directive}", "$${x}", "tab\there",
		"new\nline", "ünïcødé", "日本", "emoji 🎉", "trailing space ", " ", "a=b", "{", "}", "[x]", "#", "//", "null"}
	names := []string{"a", "name", "engine_version", "backup_retention_period", "x-y", "managed-by", "a.b", "1x", "with space",
		"ünï", `q"q`, "costCenter", "averyveryverylongattributenamethatgoesonandon"}
	scalars := []cty.Value{cty.True, cty.False, cty.NullVal(cty.DynamicPseudoType), cty.NullVal(cty.String),
		cty.NumberIntVal(0), cty.NumberIntVal(-5), cty.NumberIntVal(100), cty.NumberFloatVal(1.5), cty.NumberFloatVal(-0.25),
		cty.NumberFloatVal(1e21), cty.NumberVal(new(big.Float).SetInt(new(big.Int).Lsh(big.NewInt(1), 80)))}
	for _, s := range strs {
		scalars = append(scalars, cty.StringVal(s))
	}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	value := func(depth int) cty.Value {
		switch n := r.IntN(10); {
		case n < 6 || depth > 1:
			return scalars[r.IntN(len(scalars))]
		case n < 8:
			m := map[string]cty.Value{}
			for range r.IntN(4) {
				m[pick(names)] = cty.StringVal(pick(strs))
			}
			if len(m) == 0 {
				return cty.MapValEmpty(cty.String)
			}
			return cty.MapVal(m)
		case n < 9:
			m := map[string]cty.Value{}
			for range r.IntN(4) {
				m[pick(names)] = scalars[r.IntN(len(scalars))]
			}
			return cty.ObjectVal(m)
		default:
			return cty.TupleVal([]cty.Value{cty.StringVal(pick(strs)), cty.NumberIntVal(1)})
		}
	}
	fast := 0
	const rounds = 3000
	for i := range rounds {
		var mods []hclModule
		for range r.IntN(4) {
			m := hclModule{name: pick(names), source: pick(strs), version: pick(strs), outputs: []string{pick(names), pick(names)}[:r.IntN(3)]}
			seen := map[string]bool{} // inputs are map keys: unique
			for range r.IntN(6) {
				if n := pick(names); !seen[n] {
					seen[n] = true
					m.inputs = append(m.inputs, hclAttr{n, value(0)})
				}
			}
			mods = append(mods, m)
		}
		tags := value(1)
		if i%3 == 0 {
			// Mostly the shapes plat renders: identifiers and scalars.
			tags = cty.MapVal(map[string]cty.Value{"team": cty.StringVal(pick(strs)), "managed-by": cty.StringVal("plat")})
			for j := range mods {
				mods[j].name = fmt.Sprintf("r%d", j)
				for k := range mods[j].inputs {
					mods[j].inputs[k].val = scalars[r.IntN(len(scalars))]
				}
			}
		}
		region := pick(strs)
		if got, ok := fastMainTF(region, tags, mods); ok {
			fast++
			if want := hclwriteMainTF(region, tags, mods); string(got) != string(want) {
				t.Fatalf("main.tf differs from hclwrite's\ngot:\n%s\nwant:\n%s", got, want)
			}
		}
		if got, ok := fastOutputsTF(mods); ok {
			if want := hclwriteOutputsTF(mods); string(got) != string(want) {
				t.Fatalf("outputs.tf differs from hclwrite's\ngot:\n%s\nwant:\n%s", got, want)
			}
		}
	}
	if fast < rounds/4 {
		t.Errorf("the fast writer took only %d of %d files", fast, rounds)
	}
}
