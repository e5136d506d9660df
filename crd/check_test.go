package crd

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/platdev/plat/internal/yamlpos"
)

// TestCheckFiles checks that errors come back per file, positioned in the
// file's YAML, with their diagnostic ids, and that a clean file has none.
func TestCheckFiles(t *testing.T) {
	s := loadProvider(t)
	var files []File
	for _, name := range []string{"valid/queue.yaml", "invalid/misspelt-root.yaml", "invalid/type-string-for-bool.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		ms, err := yamlpos.Parse(name, b)
		if err != nil {
			t.Fatal(err)
		}
		f := File{Path: name, Data: b}
		for _, m := range ms {
			f.Objects = append(f.Objects, m.Object)
		}
		files = append(files, f)
	}
	got := s.CheckFiles(files)
	if len(got) != 3 || len(got[0]) != 0 {
		t.Fatalf("errors per file: %v", got)
	}
	ids := map[string]bool{}
	for _, errs := range got[1:] {
		for _, e := range errs {
			if e.File == "" || e.Line == 0 || e.Column == 0 {
				t.Errorf("error without a position: %+v", e)
			}
			ids[e.ID()] = true
		}
	}
	if !ids["crd.unknown-field"] || !ids["crd.type"] {
		t.Errorf("ids %v, want crd.unknown-field and crd.type", ids)
	}
}
