package catalogcheck

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/platdev/plat/catalog"
)

func TestShippedCatalogPasses(t *testing.T) {
	if _, err := Check(context.Background(), catalog.FS); err != nil {
		t.Fatalf("the shipped catalog fails its own check: %v", err)
	}
}

func TestBrokenTemplateRefused(t *testing.T) {
	m := fstest.MapFS{}
	if err := copyFS(m); err != nil {
		t.Fatal(err)
	}
	src := string(m["bucket/template.cue"].Data)
	// A guardrail the defaults break: public buckets only.
	broken := strings.Replace(src, "violated: parameters.public", "violated: !parameters.public", 1)
	if broken == src {
		t.Fatal("the bucket template changed; update this test")
	}
	m["bucket/template.cue"] = &fstest.MapFile{Data: []byte(broken)}
	_, err := Check(context.Background(), m)
	if err == nil || !strings.Contains(err.Error(), "template bucket does not compile its defaults") {
		t.Fatalf("error %v", err)
	}
	m["bucket/template.cue"] = &fstest.MapFile{Data: []byte("name: ")}
	if _, err := Check(context.Background(), m); err == nil {
		t.Fatal("a catalog that does not load passed")
	}
}

func copyFS(m fstest.MapFS) error {
	return fsWalk(func(name string, data []byte) { m[name] = &fstest.MapFile{Data: data} })
}
