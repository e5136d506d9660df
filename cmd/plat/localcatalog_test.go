package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platdev/plat/internal/testtools"
)

// TestLocalCatalogTofu takes the example catalog for providers that run
// anywhere (examples/catalogs/local) through the whole Terraform path with real
// clients: its approved modules published to a running plat registry serve,
// its example stack rendered against that registry, then real tofu init (modules
// from the registry, hashicorp/local 1.4.0 from a filesystem mirror), validate
// and apply; the files the note template promises exist, and a second plan
// finds nothing to do.
func TestLocalCatalogTofu(t *testing.T) {
	tofu := testtools.Bin(t, "tofu")
	mirror := testtools.ProviderMirror(t)
	root := testtools.RepoRoot(t)
	cat := filepath.Join(root, "examples", "catalogs", "local")

	f := newFixture(t)
	srv := startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key)
	for _, m := range []struct{ name, system string }{{"note", "local"}, {"marker", "terraform"}} {
		code, out, errs := platRun(t, map[string]string{"PLAT_TOKEN": f.publishToken, "SSL_CERT_FILE": f.ca},
			"module", "publish", filepath.Join(cat, "modules", m.name, m.system), "--registry", "https://"+srv.hostport,
			"--namespace", "acme", "--name", m.name, "--system", m.system, "--version", "1.0.0")
		if code != 0 {
			t.Fatalf("publish %s/%s: exit %d: %s%s", m.name, m.system, code, out, errs)
		}
	}

	stackFile := filepath.Join(cat, "example", "platform.yaml")
	if code, out, errs := platRun(t, nil, "validate", "--catalog", cat, stackFile); code != 0 {
		t.Fatalf("validate: exit %d: %s%s", code, out, errs)
	}
	outDir := t.TempDir()
	code, out, errs := platRun(t, nil, "render", "--catalog", cat, "-f", stackFile, "-o", outDir, "--registry", srv.hostport+"/acme")
	if code != 0 {
		t.Fatalf("render: exit %d: %s%s", code, out, errs)
	}
	dir := filepath.Join(outDir, "hello")
	versions, err := os.ReadFile(filepath.Join(dir, "versions.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(versions), `source  = "hashicorp/local"`) || strings.Contains(string(versions), "aws") {
		t.Fatalf("versions.tf does not require exactly hashicorp/local:\n%s", versions)
	}

	home := t.TempDir()
	rc := filepath.Join(home, "tofu.rc")
	cfg := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"*/*/*\"]\n  }\n  direct { exclude = [\"*/*/*\"] }\n}\n", mirror)
	if err := os.WriteFile(rc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TF_CLI_CONFIG_FILE=" + rc,
		"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_INPUT=0", "SSL_CERT_FILE=" + f.ca,
	}
	mustTF(t, tofu, dir, env, "fmt", "-check", "-no-color")
	t.Log(mustTF(t, tofu, dir, env, "init", "-input=false", "-no-color"))
	mustTF(t, tofu, dir, env, "validate", "-no-color")
	mustTF(t, tofu, dir, env, "apply", "-auto-approve", "-input=false", "-no-color")

	// What the stack asked for is on disk: the note's text and tags, with the
	// waived world-readable mode.
	note := filepath.Join(dir, "files", "hello-readme.txt")
	b, err := os.ReadFile(note)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "Rendered by plat from a stack file, applied by tofu.\n" {
		t.Errorf("note says %q", b)
	}
	if st, err := os.Stat(note); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("note mode: %v %v, want 0644", st.Mode().Perm(), err)
	}
	var tags map[string]string
	b, err = os.ReadFile(filepath.Join(dir, "files", "hello-readme.tags.json"))
	if err != nil || json.Unmarshal(b, &tags) != nil {
		t.Fatalf("tags file: %v: %s", err, b)
	}
	if tags["stack"] != "hello" || tags["team"] != "docs" || tags["managed-by"] != "plat" {
		t.Errorf("tags = %v", tags)
	}
	// The marker's prod default: two copies.
	if got := mustTF(t, tofu, dir, env, "output", "-raw", "release_summary"); got != "hello-release v1.2 x2" {
		t.Errorf("release_summary = %q", got)
	}

	cmd := exec.Command(tofu, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	cmd.Dir, cmd.Env = dir, env
	planOut, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("plan -detailed-exitcode after apply: %v (exit 2 means changes)\n%s", err, planOut)
	}

	// The same root module in the JSON syntax is accepted too.
	jsonDir := t.TempDir()
	if code, out, errs := platRun(t, nil, "render", "--catalog", cat, "-f", stackFile, "-o", jsonDir, "--format", "json", "--registry", srv.hostport+"/acme"); code != 0 {
		t.Fatalf("render --format json: exit %d: %s%s", code, out, errs)
	}
	mustTF(t, tofu, filepath.Join(jsonDir, "hello"), env, "init", "-input=false", "-no-color")
	mustTF(t, tofu, filepath.Join(jsonDir, "hello"), env, "validate", "-no-color")
}
