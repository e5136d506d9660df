package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platdev/plat/internal/backstage/bstest"
	"github.com/platdev/plat/internal/testtools"
)

// TestRegistryBackstageEntities runs the real plat binary as a registry that
// requires read tokens and as its clients: a catalog is published, an
// application repository's inventory is pushed, and
// /backstage/catalog-info.yaml serves each token the entities it may read,
// every one accepted by the real npm @backstage/catalog-model.
func TestRegistryBackstageEntities(t *testing.T) {
	testtools.BackstageNodePath(t) // skips under -short, before anything starts
	plat, err := exec.LookPath("plat")
	if err != nil {
		t.Fatal(err)
	}
	root := testtools.RepoRoot(t)
	data := filepath.Join(t.TempDir(), "data")
	token := func(ns, scope string) string {
		out, err := exec.Command(plat, "registry", "token", "create", "--data", data, "--namespace", ns, "--scope", scope).Output()
		if err != nil {
			t.Fatalf("token create: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	platformTok, platformRead, appsTok, appsRead := token("platform", "publish"), token("platform", "read"), token("apps", "publish"), token("apps", "read")
	base := startServeBinary(t, plat, data, "--require-read-token").base
	apps := t.TempDir()
	run := func(tok string, args ...string) {
		t.Helper()
		cmd := exec.Command(plat, args...)
		cmd.Dir = apps
		cmd.Env = append(os.Environ(), "PLAT_TOKEN="+tok, "PLAT_CACHE_DIR="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("plat %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run(platformTok, "catalog", "publish", filepath.Join(root, "catalog"), "--registry", base, "--namespace", "platform", "--name", "golden", "--version", "1.0.0")
	for _, ex := range []string{"shop", "analytics"} {
		b, err := os.ReadFile(filepath.Join(root, "examples", ex, "platform.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(apps, ex), 0o755)
		if err := os.WriteFile(filepath.Join(apps, ex, "platform.yaml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(appsTok, "inventory", "--push", "--registry", base, "--repository", "shop-repo", ".")

	get := func(tok string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+"/backstage/catalog-info.yaml", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if code, _, _ := get(""); code != http.StatusUnauthorized {
		t.Fatalf("without a token: %d, want 401", code)
	}
	code, ctype, body := get(appsRead)
	if code != http.StatusOK || ctype != "application/yaml" {
		t.Fatalf("apps token: %d %s\n%s", code, ctype, body)
	}
	for _, want := range []string{
		"\n  name: checkout\n", "\n  name: checkout-orders-db\n", "\n  owner: group:payments\n", "\n  system: analytics\n",
		"plat.dev/stack-file: shop/platform.yaml\n", "plat.dev/region: eu-west-1\n",
		"backstage.io/view-url: " + base + "/modules/platform/postgres/aws/1.0.0\n",
		"\n  name: plat-postgres\n", // the embedded catalog's golden paths
	} {
		if !strings.Contains(body, want) {
			t.Errorf("apps token: entities lack %q", want)
		}
	}
	if strings.Contains(body, "platform-golden-") {
		t.Error("apps token sees the platform namespace's catalog")
	}
	bstest.Valid(t, []byte(body))

	_, _, pbody := get(platformRead)
	if !strings.Contains(pbody, "\n  name: platform-golden-postgres\n") || strings.Contains(pbody, "name: checkout") {
		t.Errorf("platform token: want the golden catalog's paths and no apps stacks:\n%s", pbody)
	}
	bstest.Valid(t, []byte(pbody))
}
