// Package bstest checks Backstage entities in tests with the real npm package
// @backstage/catalog-model (internal/backstage/testdata/validate-entities.js,
// run by the real node). Tests only: it imports internal/testtools.
package bstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/platdev/plat/internal/testtools"
)

// Docs decodes multi-document YAML into one value per document.
func Docs(t testing.TB, data []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []map[string]any
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("entities are not YAML: %v", err)
		}
		out = append(out, m)
	}
}

// Run validates entities with the real catalog model and returns the
// script's report (one line per entity) and whether every entity passed.
func Run(t testing.TB, entities []map[string]any) (string, bool) {
	t.Helper()
	node := testtools.Bin(t, "node")
	nodePath := testtools.BackstageNodePath(t)
	doc, err := json.Marshal(entities)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(testtools.RepoRoot(t), "internal", "backstage", "testdata", "validate-entities.js")
	cmd := exec.Command(node, script)
	cmd.Env = append(cmd.Environ(), "NODE_PATH="+nodePath)
	cmd.Stdin = bytes.NewReader(doc)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("node %s: %v\n%s", script, err, out.String())
	}
	return out.String(), err == nil
}

// Valid fails t unless every entity of the YAML passes the real catalog
// model, and checks that the report names each one.
func Valid(t testing.TB, data []byte) {
	t.Helper()
	docs := Docs(t, data)
	if len(docs) == 0 {
		t.Fatal("no entities")
	}
	report, ok := Run(t, docs)
	if !ok {
		t.Fatalf("@backstage/catalog-model refuses entities:\n%s", report)
	}
	if n := strings.Count(report, "ok "); n != len(docs) {
		t.Fatalf("validator reported %d entities as ok, want %d:\n%s", n, len(docs), report)
	}
}
