package portal_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/store"
)

// hostileReadme tries every way into a page a README has.
const hostileReadme = `# Net <script>alert("h1")</script>

The network module: a <b>VPC</b> & "subnets".

<script>alert("readme")</script>

<img src="x.png" onerror="alert('img')">

<a href="javascript:alert('raw')">raw link</a>

[markdown link](javascript:alert('md')) and [vb](vbscript:msgbox) and [ok](https://example.com/docs)

![image](javascript:alert('image'))

<div onmouseover="alert('div')">hover</div>

## Usage

#### Deep heading

| a | b |
|---|---|
| 1 | 2 |
`

// seed fills e with modules, lifecycle marks, a catalog, an inventory and
// returns nothing; every page of the portal then has content.
func (e *env) seed() {
	e.t.Helper()
	ctx := context.Background()
	e.publish("acme", "net", "aws", "1.0.0", "# Net\n\nThe first network module.\n")
	e.publish("acme", "net", "aws", "1.1.0", hostileReadme)
	e.publish("acme", "net", "aws", "1.2.0", "# Net\n\nThe network module, again.\n")
	e.publish("acme", "db", "aws", "0.1.0", "")
	e.publish("other", "secret", "aws", "2.0.0", "# Secret\n\nOther's private module.\n")
	pub, _ := e.svc.Authenticate(ctx, e.tok["acme/publish"])
	k := func(v string) store.Key {
		return store.Key{Ref: store.Ref{Namespace: "acme", Name: "net", System: "aws"}, Version: v}
	}
	if err := e.svc.MarkModule(ctx, pub, k("1.0.0"), store.MarkDeprecated, registry.MarkRequest{Reason: "use 1.2 <now>"}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.MarkModule(ctx, pub, k("1.2.0"), store.MarkYanked, registry.MarkRequest{Reason: "broken"}); err != nil {
		e.t.Fatal(err)
	}
	files := map[string]string{}
	fs.WalkDir(catalog.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(catalog.FS, p)
			files[p] = string(b)
		}
		return nil
	})
	for _, ns := range []string{"acme", "other"} {
		tok, _ := e.svc.Authenticate(ctx, e.tok[ns+"/publish"])
		ck := store.CatalogKey{CatalogRef: store.CatalogRef{Namespace: ns, Name: "golden"}, Version: "1.0.0"}
		if _, err := e.svc.PublishCatalog(ctx, tok, ck, bytes.NewReader(tarGz(e.t, files))); err != nil {
			e.t.Fatalf("publish catalog: %v", err)
		}
	}
	day := func(n int) string { return time.Now().UTC().AddDate(0, 0, n).Format("2006-01-02") }
	inv := `{"schema": "plat.inventory/v1", "repository": "shop <repo>", "stacks": [
	  {"file": "stacks/checkout.yaml", "name": "checkout", "team": "payments <team>", "environment": "prod <env>",
	   "catalog": {"kind": "pin", "namespace": "acme", "name": "golden", "version": "1.0.0"},
	   "resources": [{"name": "orders<db>", "template": "postgres", "module": {"namespace": "acme", "name": "net", "system": "aws", "version": "1.1.0"}},
	                 {"name": "cache", "template": "cache", "module": {"namespace": "acme", "name": "db", "system": "aws", "version": "0.1.0"}},
	                 {"name": "junk", "template": "nope<x>"},
	                 {"name": "vault", "template": "bucket", "module": {"namespace": "other", "name": "secret", "system": "aws", "version": "2.0.0"}}],
	   "waivers": [{"guardrail": "encryption<g>", "resource": "orders<db>", "owner": "ann <ann@example.com>", "reason": "migrating <script>alert('w')</script>", "expires": "` + day(-1) + `"},
	               {"guardrail": "backup", "owner": "bob", "reason": "load test\nnext week", "expires": "` + day(3) + `"},
	               {"guardrail": "tags", "resource": "cache", "owner": "cy", "reason": "later", "expires": "` + day(40) + `"},
	               {"guardrail": "public-access", "resource": "vault", "owner": "dee", "reason": "secret waiver", "expires": "` + day(1) + `"}]},
	  {"file": "stacks/hidden.yaml", "name": "hidden",
	   "resources": [{"module": {"namespace": "other", "name": "secret", "system": "aws", "version": "2.0.0"}}]}]}`
	if _, err := e.svc.PushInventory(ctx, pub, strings.NewReader(inv)); err != nil {
		e.t.Fatalf("push inventory: %v", err)
	}
}

// writeDrift writes drift watch reports into dir: an old clean report and a
// newer drifted one for checkout, and one for a stack no inventory names.
func writeDrift(t *testing.T, dir string) {
	t.Helper()
	write := func(file string, at time.Time, st drift.StackReport) {
		r := drift.Report{SchemaVersion: drift.SchemaVersion, StartedAt: at, Stacks: []drift.StackReport{st}, Summary: drift.Summarize([]drift.StackReport{st})}
		f, err := os.Create(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := drift.WriteJSON(f, r); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	write("old-checkout.json", t0, drift.StackReport{Dir: "out/checkout", Kind: drift.KindTerraform, Status: drift.StatusClean})
	write("out__checkout.json", t0.Add(time.Hour), drift.StackReport{Dir: "out/checkout", Kind: drift.KindTerraform, Status: drift.StatusDrifted,
		Resources: []drift.ResourceDrift{{Address: "module.orders.aws_db_instance.this", Type: "aws_db_instance", Action: drift.ActionChanged,
			Changes: []drift.AttributeChange{{Path: "tags.team", Declared: "payments", Live: "<script>alert('drift')</script>"}}}}})
	write("out__lonely.json", t0, drift.StackReport{Dir: "out/lonely", Kind: drift.KindTerraform, Status: drift.StatusError, Error: "no state"})
	os.WriteFile(filepath.Join(dir, "not-a-report.json"), []byte(`{"schemaVersion": "other"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte(`{`), 0o644)
	os.WriteFile(filepath.Join(dir, ".announced-waivers.json"), []byte(`[]`), 0o644)
}
