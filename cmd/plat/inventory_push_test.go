package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/internal/testtools"
)

// TestInventoryPushUsage runs the real plat binary as the registry and as
// the client: modules are published, an application repository's inventory
// is pushed with a publish token, and the usage API and /metrics answer
// which stacks use each version; a second push replaces the first.
func TestInventoryPushUsage(t *testing.T) {
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
	platformTok, appsTok, readTok := token("platform", "publish"), token("apps", "publish"), token("apps", "read")

	base := startServeBinary(t, plat, data).base
	apps := t.TempDir()
	cacheDir := t.TempDir()
	run := func(env []string, args ...string) (int, string) {
		cmd := exec.Command(plat, args...)
		cmd.Dir = apps
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "PLAT_TOKEN=") && !strings.HasPrefix(kv, "TF_TOKEN_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "PLAT_CACHE_DIR="+cacheDir)
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, string(out)
	}
	for _, m := range []string{"postgres", "bucket"} {
		if code, out := run([]string{"PLAT_TOKEN=" + platformTok}, "module", "publish", filepath.Join(root, "modules", m, "aws"),
			"--registry", base, "--namespace", "platform", "--name", m, "--system", "aws", "--version", "1.0.0"); code != 0 {
			t.Fatalf("publish %s: exit %d: %s", m, code, out)
		}
	}
	// One download of postgres 1.0.0, as tofu init would make.
	if resp, err := http.Get(base + "/v1/modules/platform/postgres/aws/1.0.0/download"); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("download: %v %v", resp, err)
	}

	// The application repository pins the shipped catalog, published as
	// platform/golden 1.0.0.
	if code, out := run([]string{"PLAT_TOKEN=" + platformTok}, "catalog", "publish", filepath.Join(root, "catalog"),
		"--registry", base, "--namespace", "platform", "--name", "golden", "--version", "1.0.0"); code != 0 {
		t.Fatalf("catalog publish: exit %d: %s", code, out)
	}
	os.Mkdir(filepath.Join(apps, ".git"), 0o755)
	if code, out := run(nil, "catalog", "pin", base+"/platform/golden@1.0.0"); code != 0 {
		t.Fatalf("catalog pin: exit %d: %s", code, out)
	}

	stack := func(name, resources string) {
		p := filepath.Join(apps, name, "platform.yaml")
		os.MkdirAll(filepath.Dir(p), 0o755)
		body := "apiVersion: plat/v1\nkind: Stack\nmetadata:\n  name: " + name + "\n  team: web\n  environment: dev\n  costCenter: CC-1000\n" +
			"spec:\n  target: terraform\n  region: eu-west-1\n  resources:\n" + resources
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stack("a", "    - name: db\n      template: postgres\n    - name: files\n      template: bucket\n    - name: more-files\n      template: bucket\n")
	stack("b", "    - name: db\n      template: postgres\n")
	stack("c", "    - name: jobs\n      template: queue\n")

	if code, out := run([]string{"PLAT_TOKEN=" + appsTok}, "inventory", "--push", "--registry", base, "--repository", "shop", "--format", "json", apps); code != 0 ||
		!strings.Contains(out, "pushed the inventory of 3 stacks (repository shop)") || !strings.Contains(out, `"kind": "pin"`) {
		t.Fatalf("inventory --push: exit %d: %s", code, out)
	}

	type usage struct {
		Kind     string
		Versions []struct {
			Version   string
			Count     int
			Downloads *int64
			Stacks    []struct{ Owner, Repository, File, Stack string }
		}
	}
	get := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	var pg usage
	get("/api/v1/usage/modules/platform/postgres/aws", &pg)
	if len(pg.Versions) != 1 || pg.Versions[0].Version != "1.0.0" || pg.Versions[0].Count != 2 ||
		pg.Versions[0].Stacks[0].Stack != "a" || pg.Versions[0].Stacks[1].Stack != "b" ||
		pg.Versions[0].Stacks[0].Owner != "apps" || pg.Versions[0].Stacks[0].Repository != "shop" {
		t.Fatalf("postgres usage: %+v", pg)
	}
	var golden usage
	get("/api/v1/usage/catalogs/platform/golden", &golden)
	if golden.Kind != "catalog" || len(golden.Versions) != 1 || golden.Versions[0].Version != "1.0.0" || golden.Versions[0].Count != 3 {
		t.Fatalf("catalog usage: %+v", golden)
	}
	var bk usage
	get("/api/v1/usage/modules/platform/bucket/aws", &bk)
	if len(bk.Versions) != 1 || bk.Versions[0].Count != 1 { // two bucket resources, one stack
		t.Fatalf("bucket usage: %+v", bk)
	}
	// Downloads per version are flushed to the store every few seconds.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		get("/api/v1/usage/modules/platform/postgres/aws", &pg)
		if d := pg.Versions[0].Downloads; d != nil && *d == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres 1.0.0 downloads never reached 1: %+v", pg.Versions[0].Downloads)
		}
	}
	metric := func() map[string]string {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		m := map[string]string{}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "plat_registry_stacks_using{") {
				i := strings.LastIndex(l, " ")
				m[l[:i]] = l[i+1:]
			}
		}
		return m
	}
	m := metric()
	want := map[string]string{
		`plat_registry_stacks_using{kind="catalog",name="golden",namespace="platform",version="1.0.0"}`:      "3",
		`plat_registry_stacks_using{kind="module",name="bucket/aws",namespace="platform",version="1.0.0"}`:   "1",
		`plat_registry_stacks_using{kind="module",name="cache/aws",namespace="platform",version="1.0.0"}`:    "",
		`plat_registry_stacks_using{kind="module",name="postgres/aws",namespace="platform",version="1.0.0"}`: "2",
		`plat_registry_stacks_using{kind="module",name="queue/aws",namespace="platform",version="1.0.0"}`:    "1",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("metric %s = %q, want %q (all: %v)", k, m[k], v, m)
		}
	}

	// A second push of the same repository replaces the first.
	os.RemoveAll(filepath.Join(apps, "a"))
	os.RemoveAll(filepath.Join(apps, "b"))
	if code, out := run([]string{"PLAT_TOKEN=" + appsTok}, "inventory", "--push", "--registry", base, "--repository", "shop", apps); code != 0 {
		t.Fatalf("second push: exit %d: %s", code, out)
	}
	get("/api/v1/usage/modules/platform/postgres/aws", &pg)
	if len(pg.Versions) != 1 || pg.Versions[0].Count != 0 || len(pg.Versions[0].Stacks) != 0 {
		t.Fatalf("postgres usage after the second push: %+v", pg)
	}
	if m := metric(); len(m) != 2 {
		t.Errorf("metrics after the second push: %v, want only the catalog and queue", m)
	}

	// A push needs a publish token.
	if code, out := run(nil, "inventory", "--push", "--registry", base, "--repository", "shop", apps); code != 2 || !strings.Contains(out, "401 Unauthorized") {
		t.Errorf("push without a token: exit %d: %s", code, out)
	}
	if code, out := run([]string{"PLAT_TOKEN=" + readTok}, "inventory", "--push", "--registry", base, "--repository", "shop", apps); code != 2 || !strings.Contains(out, "403 Forbidden") {
		t.Errorf("push with a read token: exit %d: %s", code, out)
	}
}
