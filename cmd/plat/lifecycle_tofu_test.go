package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platdev/plat/internal/testtools"
)

// installedVersion is the version of module "demo" tofu recorded in dir.
func installedVersion(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ".terraform", "modules", "modules.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Modules []struct{ Key, Version string } }
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, x := range m.Modules {
		if x.Key == "demo" {
			return x.Version
		}
	}
	t.Fatalf("no module demo in %s", b)
	return ""
}

func demoRoot(source, constraint string) map[string]string {
	return map[string]string{"main.tf": fmt.Sprintf("module \"demo\" {\n  source  = %q\n  version = %q\n  name    = \"x\"\n}\n", source, constraint)}
}

// TestModuleYankTofu yanks a module version on a real `plat registry serve`
// and has real tofu resolve a ~> constraint past it, while a working
// directory that already uses the yanked version keeps initialising and its
// exact download location still answers.
func TestModuleYankTofu(t *testing.T) {
	tofu := testtools.Bin(t, "tofu")
	f := newFixture(t)
	srv := startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key)
	url := "https://" + srv.hostport
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0"} {
		f.publish(t, url, demoModule, "demo", v)
	}
	env := tofuEnv(t, "", "SSL_CERT_FILE="+f.ca)
	source := srv.hostport + "/acme/demo/aws"

	// Before the yank, an exact pin of 1.2.0 installs.
	pinned := t.TempDir()
	writeFiles(t, pinned, demoRoot(source, "1.2.0"))
	mustTF(t, tofu, pinned, env, "init", "-input=false", "-no-color")

	penv := map[string]string{"PLAT_TOKEN": f.publishToken, "SSL_CERT_FILE": f.ca}
	if code, out, errs := platRun(t, penv, "module", "yank", "acme/demo/aws", "1.2.0", "--registry", url, "--reason", "drops data"); code != 0 || !strings.Contains(out, "is yanked") {
		t.Fatalf("module yank: exit %d\n%s%s", code, out, errs)
	}
	// Without a token: refused, exit 1.
	if code, _, errs := platRun(t, map[string]string{"SSL_CERT_FILE": f.ca}, "module", "yank", "acme/demo/aws", "1.1.0", "--registry", url); code != 1 || !strings.Contains(errs, "401") {
		t.Fatalf("yank without a token: exit %d\n%s", code, errs)
	}

	fresh := t.TempDir()
	writeFiles(t, fresh, demoRoot(source, "~> 1.0"))
	mustTF(t, tofu, fresh, env, "init", "-input=false", "-no-color")
	if v := installedVersion(t, fresh); v != "1.1.0" {
		t.Fatalf("tofu picked %s for ~> 1.0 with 1.2.0 yanked, want 1.1.0", v)
	}
	// The working directory that uses 1.2.0 still initialises, and the
	// version's download endpoint still answers.
	mustTF(t, tofu, pinned, env, "init", "-input=false", "-no-color")
	if v := installedVersion(t, pinned); v != "1.2.0" {
		t.Fatalf("pinned dir has %s, want 1.2.0", v)
	}
	c := httpsClient(t, f.ca)
	resp, err := c.Get(url + "/v1/modules/acme/demo/aws/1.2.0/download")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("X-Terraform-Get") == "" {
		t.Fatalf("download of the yanked version: %d %v", resp.StatusCode, resp.Header)
	}
	var d struct {
		Yanked *struct{ Reason string }
	}
	getJSON(t, c, url+"/v1/modules/acme/demo/aws/1.2.0", "", &d)
	if d.Yanked == nil || d.Yanked.Reason != "drops data" {
		t.Fatalf("details of the yanked version: %+v", d)
	}

	// An exact pin in a fresh directory: tofu resolves every constraint from
	// the versions list, which no longer has 1.2.0 (documented in docs/registry.md).
	exact := t.TempDir()
	writeFiles(t, exact, demoRoot(source, "1.2.0"))
	if out, err := runTF(t, tofu, exact, env, "init", "-input=false", "-no-color"); err == nil || !strings.Contains(out, "newest available\nversion is 1.1.0") {
		t.Fatalf("fresh exact pin of the yanked version: err %v (want tofu's unresolvable-constraint error)\n%s", err, out)
	}

	// Undo: 1.2.0 is picked again.
	if code, _, errs := platRun(t, penv, "module", "yank", "acme/demo/aws", "1.2.0", "--registry", url, "--undo"); code != 0 {
		t.Fatalf("undo: exit %d\n%s", code, errs)
	}
	again := t.TempDir()
	writeFiles(t, again, demoRoot(source, "~> 1.0"))
	mustTF(t, tofu, again, env, "init", "-input=false", "-no-color")
	if v := installedVersion(t, again); v != "1.2.0" {
		t.Fatalf("after undo tofu picked %s, want 1.2.0", v)
	}
}
