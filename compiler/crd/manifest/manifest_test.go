package manifest

import (
	"slices"
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
