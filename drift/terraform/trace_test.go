package terraform

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/platdev/plat/compiler/record"
	"github.com/platdev/plat/drift"
)

const traceModule = `resource "aws_db_instance" "this" {
  allocated_storage = var.storage
  engine_version    = "${var.version}"
  port              = tonumber(var.port)
  identifier        = upper(var.name)
  tags              = var.tags
  username          = "app"
  description       = "${var.name}-${var.version}"
  content = {
    owner = var.owner
    deep  = { level = (var.level) }
  }
  list = [var.first, "x"]
  rule {
    sse = var.sse
  }
  rule {
    sse = "AES256"
  }
}
`

func traceFixture(t *testing.T) (string, *record.Record) {
	t.Helper()
	dir := t.TempDir()
	mod := filepath.Join(dir, ".terraform", "modules", "db")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(mod, "main.tf"), traceModule)
	write(filepath.Join(dir, ".terraform", "modules", "modules.json"),
		`{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"db","Source":"x","Dir":".terraform/modules/db"},{"Key":"evil","Source":"x","Dir":"../../etc"}]}`)
	rec := &record.Record{Resources: []record.Resource{{Name: "db"}, {Name: "evil"}}}
	return dir, rec
}

// TestResolver follows attributes of a module's resource back to its inputs:
// direct references, invertible conversions, functions of one input, object
// keys, list elements and nested blocks; what the module does not set is the
// provider's, what it sets from several inputs or none is derived.
func TestResolver(t *testing.T) {
	dir, rec := traceFixture(t)
	r := &Resolver{Env: map[string]string{}}
	const addr = "module.db.aws_db_instance.this"
	for _, tc := range []struct {
		address, path          string
		input, function, where string
		invertible             bool
		untraced               string
	}{
		{address: addr, path: "allocated_storage", input: "storage", where: "storage", invertible: true},
		{address: addr + "[0]", path: "allocated_storage", input: "storage", where: "storage", invertible: true},
		{address: addr, path: "engine_version", input: "version", where: "version", invertible: true},
		{address: addr, path: "port", input: "port", where: "port", function: "tonumber(var.port)", invertible: true},
		{address: addr, path: "identifier", input: "name", where: "name", function: "upper(var.name)"},
		{address: addr, path: "tags.team", input: "tags", where: "tags.team", invertible: true},
		{address: addr, path: `tags["kubernetes.io/name"]`, input: "tags", where: `tags["kubernetes.io/name"]`, invertible: true},
		{address: addr, path: "content.owner", input: "owner", where: "owner", invertible: true},
		{address: addr, path: "content.deep.level", input: "level", where: "level", invertible: true},
		{address: addr, path: "list[0]", input: "first", where: "first", invertible: true},
		{address: addr, path: "rule[0].sse", input: "sse", where: "sse", invertible: true},
		{address: addr, path: "rule[1].sse", untraced: drift.OriginDerived},
		{address: addr, path: "content.missing", untraced: drift.OriginProvider},
		{address: addr, path: "arn", untraced: drift.OriginProvider},
		{address: addr, path: "username", untraced: drift.OriginDerived},
		{address: addr, path: "description", untraced: drift.OriginDerived},
		{address: "module.db.aws_db_instance.other", path: "x", untraced: drift.OriginDerived},
		{address: "module.db.module.inner.aws_s3_bucket.b", path: "x", untraced: drift.OriginDerived},
		{address: "aws_s3_bucket.b", path: "x", untraced: drift.OriginDerived},
		{address: "module.nope.aws_db_instance.this", path: "x", untraced: drift.OriginDerived},
		{address: "module.evil.aws_db_instance.this", path: "allocated_storage", untraced: drift.OriginDerived},
		{address: addr, path: "tags[", untraced: drift.OriginDerived},
	} {
		got := r.Resolve(context.Background(), dir, rec, tc.address, tc.path)
		if got.Untraced != tc.untraced || got.Input != tc.input || got.Function != tc.function || got.Path != tc.where ||
			(got.Invert != nil) != tc.invertible || (tc.untraced == "" && got.Resource != "db") {
			t.Errorf("%s %s: %+v (invertible %v), want %+v", tc.address, tc.path, got, got.Invert != nil, tc)
		}
	}
}

// TestResolverBadModule leaves attributes of a module that does not parse, or
// nests too deep for the parser, untraced rather than failing.
func TestResolverBadModule(t *testing.T) {
	for name, src := range map[string]string{
		"syntax": `resource "a" "b" { x = `,
		"deep":   `resource "a" "b" { x = ` + repeat("[", 5000) + repeat("]", 5000) + " }\n",
	} {
		dir, rec := traceFixture(t)
		if err := os.WriteFile(filepath.Join(dir, ".terraform", "modules", "db", "main.tf"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		got := (&Resolver{Env: map[string]string{}}).Resolve(context.Background(), dir, rec, "module.db.a.b", "x")
		if got.Untraced != drift.OriginDerived {
			t.Errorf("%s: %+v", name, got)
		}
	}
}

func repeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for range n {
		b = append(b, s...)
	}
	return string(b)
}
