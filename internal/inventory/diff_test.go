package inventory

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/internal/pipeline"
)

// TestDiffShortcutMatchesCompilingBoth proves the shortcut (a stack whose
// templates are unchanged compiles once) against compiling every stack
// twice, on a tree where some stacks use only unchanged templates, some a
// changed one, and some an unknown one.
func TestDiffShortcutMatchesCompilingBoth(t *testing.T) {
	dir := t.TempDir()
	newCat := filepath.Join(dir, "cat")
	err := fs.WalkDir(catalog.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(catalog.FS, p)
		if p == "bucket/template.cue" {
			b = []byte(strings.Replace(string(b), `version:   "1.0.0"`, `version:   "1.1.0"`, 1))
		}
		os.MkdirAll(filepath.Join(newCat, filepath.Dir(p)), 0o755)
		return os.WriteFile(filepath.Join(newCat, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	templates := []string{"queue", "bucket", "cache", "buckett"}
	for i := 0; i < 12; i++ {
		p := filepath.Join(dir, "apps", fmt.Sprintf("s%02d", i), "platform.yaml")
		os.MkdirAll(filepath.Dir(p), 0o755)
		src := fmt.Sprintf("apiVersion: plat/v1\nkind: Stack\nmetadata: {name: s%02d, team: t, environment: dev, costCenter: CC-1000}\n"+
			"spec:\n  target: terraform\n  region: eu-west-1\n  resources:\n    - {name: r, template: %s}\n", i, templates[i%4])
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	paths, err := pipeline.FindStacks([]string{filepath.Join(dir, "apps")})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := DirCatalog(newCat)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := Diff(context.Background(), paths, DiffOptions{New: nc, Diff: true})
	if err != nil {
		t.Fatal(err)
	}
	slow, err := Diff(context.Background(), paths, DiffOptions{New: nc, Diff: true, compileBoth: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("the shortcut changes the report:\nfast %+v\nslow %+v", fast, slow)
	}
	// The tree is not trivial: bucket stacks change, unknown templates are broken.
	if fast.Summary.FilesChange != 3 || fast.Summary.Broken != 3 || fast.Summary.Unchanged != 6 {
		t.Fatalf("summary %+v", fast.Summary)
	}
}
