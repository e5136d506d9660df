package compiled_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/backstage"
	"github.com/platdev/plat/internal/backstage/bstest"
	"github.com/platdev/plat/internal/backstage/compiled"
	"github.com/platdev/plat/internal/pipeline"
	"github.com/platdev/plat/internal/testtools"
)

// render compiles the stack files (paths relative to the repository root)
// with the catalog in catalogDir ("" the embedded one) and returns their
// entities as catalog-info.yaml.
func render(t *testing.T, catalogDir string, cat backstage.CatalogID, files ...string) []byte {
	t.Helper()
	root := testtools.RepoRoot(t)
	t.Chdir(root)
	c, err := pipeline.LoadCompiler(catalogDir)
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := pipeline.ReadStacks(files)
	if err != nil {
		t.Fatal(err)
	}
	res, diags := c.Compile(context.Background(), compiler.Input{Stacks: srcs})
	if diags.HasErrors() {
		t.Fatalf("compile: %v", diags)
	}
	stacks, err := compiled.Stacks(res, c, nil, cat)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := compiled.GoldenPaths(c, cat, "")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := backstage.Encode(&buf, backstage.Entities(stacks, paths, backstage.Options{BaseURL: "https://" + c.Platform().Registry.Host})); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join(testtools.RepoRoot(t), "internal", "backstage", "compiled", "testdata", name)
	if os.Getenv("PLAT_UPDATE") != "" {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (PLAT_UPDATE=1 writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("entities differ from %s (PLAT_UPDATE=1 regenerates):\n%s", name, got)
	}
}

var examples = []struct {
	golden, catalog string
	id              backstage.CatalogID
	files           []string
}{
	{"examples.catalog-info.yaml", "", backstage.CatalogID{Kind: backstage.CatalogEmbedded},
		[]string{"examples/shop/platform.yaml", "examples/analytics/platform.yaml"}},
	{"local.catalog-info.yaml", "examples/catalogs/local", backstage.CatalogID{Kind: backstage.CatalogDir},
		[]string{"examples/catalogs/local/example/platform.yaml"}},
}

// TestExamplesGolden pins the entities of the example stacks.
func TestExamplesGolden(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex.golden, func(t *testing.T) {
			got := render(t, ex.catalog, ex.id, ex.files...)
			golden(t, ex.golden, got)
			if again := render(t, ex.catalog, ex.id, ex.files...); !bytes.Equal(got, again) {
				t.Error("two runs over the same stacks differ")
			}
		})
	}
}

// TestExamplesValidWithCatalogModel checks every emitted entity with the real
// npm @backstage/catalog-model validators.
func TestExamplesValidWithCatalogModel(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex.golden, func(t *testing.T) {
			bstest.Valid(t, render(t, ex.catalog, ex.id, ex.files...))
		})
	}
}

// TestCatalogModelRejectsBrokenEntities proves the check can fail: entities
// plat emits, each broken in one way, are refused by the real validators.
func TestCatalogModelRejectsBrokenEntities(t *testing.T) {
	docs := bstest.Docs(t, render(t, "", examples[0].id, examples[0].files...))
	pick := func(kind string) map[string]any {
		for _, d := range docs {
			if d["kind"] == kind {
				return d
			}
		}
		t.Fatalf("no %s entity", kind)
		return nil
	}
	clone := func(m map[string]any) map[string]any {
		return bstest.Docs(t, []byte(mustYAML(t, m)))[0]
	}
	noOwner := clone(pick(backstage.KindResource))
	delete(noOwner["spec"].(map[string]any), "owner")
	longName := clone(pick(backstage.KindSystem))
	longName["metadata"].(map[string]any)["name"] = strings.Repeat("a", 64)
	noDefinition := clone(pick(backstage.KindAPI))
	delete(noDefinition["spec"].(map[string]any), "definition")
	for name, e := range map[string]map[string]any{"resource without spec.owner": noOwner, "system with a 64-character name": longName, "API without spec.definition": noDefinition} {
		t.Run(name, func(t *testing.T) {
			report, ok := bstest.Run(t, []map[string]any{e})
			if ok || !strings.HasPrefix(report, "invalid ") {
				t.Fatalf("validator accepted a broken entity:\n%s", report)
			}
		})
	}
}
