package drift

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/platdev/plat/compiler/record"
)

type fakeResolver map[string]Resolution

func (f fakeResolver) Resolve(_ context.Context, _ string, _ *record.Record, address, path string) Resolution {
	return f[address+" "+path]
}

type fakeRails struct{ got map[string]any }

func (f *fakeRails) CheckGuardrails(_ context.Context, _ *record.Record, res *record.Resource, override map[string]any) ([]Guardrail, error) {
	f.got = override
	if override["public"] == true {
		return []Guardrail{{ID: "x.never-public", Severity: "error", Message: "never public", Parameter: "public"}}, nil
	}
	return nil, nil
}

func writeRecord(t *testing.T, dir string, r *record.Record) {
	t.Helper()
	r.SchemaVersion = record.SchemaVersion
	b, err := record.Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, record.FileName), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTrace checks the steps after a Resolver: input -> parameter -> stack
// field, the default case, untraced origins, and guardrails re-evaluated with
// the live values attached to the change of the guardrail's parameter.
func TestTrace(t *testing.T) {
	dir := t.TempDir()
	writeRecord(t, dir, &record.Record{Source: "platform.yaml", Resources: []record.Resource{{
		Name: "app", Template: "x", Line: 12, Col: 7,
		Parameters: map[string]record.Param{
			"size":   {Value: json.Number("10"), Set: true, Line: 13, Col: 15},
			"public": {Value: false},
			"tags":   {Value: map[string]any{"a": "b"}, Set: true, Line: 14, Col: 15},
		},
		Inputs: map[string]record.Origin{
			"size":   {Origin: record.OriginStack, Parameter: "size", Line: 13, Col: 15},
			"public": {Origin: record.OriginDefault, Parameter: "public"},
			"tags":   {Origin: record.OriginStack, Parameter: "tags", Line: 14, Col: 15},
			"tier":   {Origin: record.OriginDerived, Parameters: []string{"size"}},
		},
	}}})
	res := Resolution{Resource: "app", Invert: Identity}
	at := func(path string) Resolution { r := res; r.Path = path; r.Input = path; return r }
	rails := &fakeRails{}
	tr := &Tracer{Resolvers: map[Kind]Resolver{KindTerraform: fakeResolver{
		"m size":   at("size"),
		"m public": at("public"),
		"m tags.a": at("tags.a"),
		"m tier":   at("tier"),
		"m id":     {Untraced: OriginProvider},
		"m ghost":  at("ghost"),
	}}, Guardrails: rails}
	sr := StackReport{Resources: []ResourceDrift{{Address: "m", Changes: []AttributeChange{
		{Path: "size", Declared: json.Number("10"), Live: json.Number("20")},
		{Path: "public", Declared: false, Live: true},
		{Path: "tags.a", Declared: "b", Live: "c"},
		{Path: "tier", Declared: "s", Live: "l"},
		{Path: "id", Declared: "1", Live: "2"},
		{Path: "ghost", Declared: "1", Live: "2"},
	}}}}
	tr.Trace(context.Background(), dir, KindTerraform, &sr)
	cs := sr.Resources[0].Changes
	if s := cs[0].Stack; s == nil || *s != (StackField{File: "platform.yaml", Line: 13, Col: 15, Resource: "app", Parameter: "size", Declared: json.Number("10"), Live: json.Number("20")}) || cs[0].Traced != nil {
		t.Errorf("size: %+v %+v", cs[0], cs[0].Stack)
	}
	if s := cs[1].Stack; s == nil || s.Line != 12 || s.Col != 7 || cs[1].Origin != OriginDefault || s.Live != true {
		t.Errorf("public: %+v %+v", cs[1], s)
	}
	if g := cs[1].Guardrail; g == nil || *g != (GuardrailViolation{ID: "x.never-public", Severity: "error", Message: "app: never public"}) {
		t.Errorf("public guardrail: %+v", g)
	}
	if s := cs[2].Stack; s == nil || s.Parameter != "tags" || s.Live != nil {
		t.Errorf("tags.a (below a parameter: not mapped back): %+v", s)
	}
	for i, want := range map[int]string{3: OriginDerived, 4: OriginProvider, 5: OriginProvider} {
		if c := cs[i]; c.Stack != nil || c.Traced == nil || *c.Traced || c.Origin != want {
			t.Errorf("%s: %+v, want untraced %s", c.Path, c, want)
		}
	}
	if want := map[string]any{"size": json.Number("20"), "public": true}; !reflect.DeepEqual(rails.got, want) {
		t.Errorf("guardrails checked with %v, want %v", rails.got, want)
	}

	// A directory without a record is left alone.
	sr2 := StackReport{Resources: []ResourceDrift{{Address: "m", Changes: []AttributeChange{{Path: "size"}}}}}
	tr.Trace(context.Background(), t.TempDir(), KindTerraform, &sr2)
	if c := sr2.Resources[0].Changes[0]; c.Stack != nil || c.Traced != nil {
		t.Errorf("no record: %+v", c)
	}
	var nilTracer *Tracer
	nilTracer.Trace(context.Background(), dir, KindTerraform, &sr2)
}

func TestSplitPath(t *testing.T) {
	for p, want := range map[string][]PathSegment{
		"a.b":               {{Key: "a"}, {Key: "b"}},
		"rule[0].x":         {{Key: "rule"}, {Index: 0, IsIndex: true}, {Key: "x"}},
		`tags["a.b/c"]`:     {{Key: "tags"}, {Key: "a.b/c"}},
		`tags["q\"]"].z[2]`: {{Key: "tags"}, {Key: `q"]`}, {Key: "z"}, {Index: 2, IsIndex: true}},
	} {
		got, ok := SplitPath(p)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitPath(%q) = %v %v, want %v", p, got, ok, want)
		}
		if back := JoinPath(got); back != p {
			t.Errorf("JoinPath(SplitPath(%q)) = %q", p, back)
		}
	}
	for _, p := range []string{"", "a[", `a["x`, "a[x]", `a["x"`} {
		if got, ok := SplitPath(p); ok {
			t.Errorf("SplitPath(%q) = %v, want refusal", p, got)
		}
	}
}

// FuzzSplitPath: attribute paths come from live state; any input is split or
// refused, never a panic, and what splits joins back to a path that splits
// the same.
func FuzzSplitPath(f *testing.F) {
	for _, s := range []string{"a.b", "rule[0].x", `tags["a.b"]`, `x["\""]`, "[", "a]["} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		segs, ok := SplitPath(p)
		if !ok {
			return
		}
		again, ok := SplitPath(JoinPath(segs))
		if !ok || !reflect.DeepEqual(again, segs) {
			t.Fatalf("%q -> %v -> %q -> %v", p, segs, JoinPath(segs), again)
		}
	})
}
