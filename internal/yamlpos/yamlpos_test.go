package yamlpos

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestSplitPath(t *testing.T) {
	got := SplitPath("spec.rule[0].tags[a.b].x")
	want := []string{"spec", "rule", "0", "tags", "a.b", "x"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q", got)
	}
}

func TestParse(t *testing.T) {
	src := "# c\n---\na: 1\nb: 1.5\nc: '2'\nd: 2027-01-31\ne: [x, {f: null}]\n---\n---\ng: true\n"
	ms, err := Parse("f.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 {
		t.Fatalf("got %d manifests", len(ms))
	}
	o := ms[0].Object
	if o["a"] != int64(1) || o["b"] != 1.5 || o["c"] != "2" || o["d"] != "2027-01-31" {
		t.Fatalf("scalars decoded as %#v", o)
	}
	if l, c := ms[0].Position("e[1].f"); l != 7 || c != 9 {
		t.Fatalf("e[1].f at %d:%d, want 7:9", l, c)
	}
	if l, _ := ms[0].Position("e[1].missing"); l != 7 {
		t.Fatalf("a missing field points at line %d, want its parent's line 7", l)
	}
	if _, err := Parse("bad.yaml", []byte("a: [\n")); err == nil {
		t.Fatal("no error for broken YAML")
	}
	if _, err := Parse("list.yaml", []byte("- a\n")); err == nil {
		t.Fatal("no error for a document that is not a mapping")
	}
}

func TestSplitDocuments(t *testing.T) {
	docs := SplitDocuments([]byte("a: 1\n---\n\n--- # c\nb: |\n  ---x\n...\n---\nc: 3\n"))
	if len(docs) != 3 {
		t.Fatalf("got %d docs: %q", len(docs), docs)
	}
}

// TestAliasBombs checks that documents whose aliases expand without bound, or
// contain themselves, are refused with an error instead of taking all memory or
// recursing forever.
func TestAliasBombs(t *testing.T) {
	var laughs strings.Builder
	laughs.WriteString("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		fmt.Fprintf(&laughs, "%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", name, name, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = name
	}
	for name, data := range map[string]string{
		"laughs.yaml": laughs.String(),
		"cycle.yaml":  "a: &x [*x]\n",
		"cycle2.yaml": "a: &x {b: {c: *x}}\n",
	} {
		if _, err := Parse(name, []byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error does not name the file: %v", name, err)
		}
	}
	// An ordinary alias still works.
	ms, err := Parse("ok.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, labels: &l {a: b}, annotations: *l}\n"))
	if err != nil || len(ms) != 1 {
		t.Fatalf("ordinary alias: %v", err)
	}
}

// FuzzParse feeds arbitrary bytes to the manifest parser: it may refuse them,
// but must neither panic nor run away.
func FuzzParse(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Secret\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("a: &a [1, 2]\nb: [*a, *a]\n"))
	f.Add([]byte("[[[[[]]]]]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := Parse("f.yaml", data)
		if err != nil {
			return
		}
		for _, m := range ms {
			_, _ = m.Position("metadata.name")
		}
	})
}

// TestMergeKeys checks YAML merge keys: the merged mapping's keys come in,
// the mapping's own keys win wherever they stand, and the first of a list of
// merged mappings wins.
func TestMergeKeys(t *testing.T) {
	docs, err := Decode("m.yaml", []byte("a: &a {x: 1, y: 2}\nb: &b {y: 3, z: 4}\nc:\n  x: 0\n  <<: [*a, *b]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := docs[0].Get("c").Go()
	want := map[string]any{"x": int64(0), "y": int64(2), "z": int64(4)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("c = %v, want %v", got, want)
	}
	if _, err := Decode("bad.yaml", []byte("c:\n  <<: 1\n")); err == nil {
		t.Fatal("a merge of a number was accepted")
	}
}
