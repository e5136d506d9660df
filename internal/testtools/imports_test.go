package testtools

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoProductPackageImportsTesttools checks that no product package (a
// non-test file outside internal/) imports this package: it builds tools and
// imports testing, which a product binary must not carry.
func TestNoProductPackageImportsTesttools(t *testing.T) {
	root := RepoRoot(t)
	const self = "github.com/platdev/plat/internal/testtools"
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "internal" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		// A conformance suite (a package named *test, such as storetest) is a
		// harness itself: only tests import it.
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || strings.HasSuffix(filepath.Base(filepath.Dir(p)), "test") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			harness := strings.HasPrefix(path, "github.com/platdev/plat/") && strings.HasSuffix(path, "test")
			if path == self || harness || path == "testing" || strings.HasPrefix(path, "testing/") {
				t.Errorf("%s imports %s; a product package must not import a test harness", rel, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
