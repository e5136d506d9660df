// Package testtools finds (and, the first time, builds) the real tools that plat's
// tests drive: OpenTofu, the hashicorp/local provider, kube-apiserver, etcd,
// pre-commit, PostgreSQL, versitygw, helm, Chromium, Node.js and the npm package
// @backstage/catalog-model. It runs scripts/tools.sh, which caches builds
// outside the source tree, so only the first call on a machine is slow. A test that
// needs a tool it cannot get fails; it never skips silently.
//
// Under go test -short (the fast tier) every lookup skips its test instead,
// naming the tool: "needs tofu (real tool); run without -short". The fast tier
// then runs exactly the tests that need no real tool, offline and without root,
// whatever this machine has installed. CI never passes -short.
//
// SyncBuffer is the log buffer the tests that start servers share.
package testtools

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	found = map[string]string{}
)

// RepoRoot returns the directory holding plat's go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/platdev/plat\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testtools: cannot find plat's go.mod above the working directory")
		}
		dir = parent
	}
}

// SharedDir returns ../shared beside the repository (docs, CRDs).
func SharedDir(t testing.TB) string {
	t.Helper()
	d := filepath.Join(filepath.Dir(RepoRoot(t)), "shared")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("testtools: shared directory: %v", err)
	}
	return d
}

// ToolsDir returns the cache directory scripts/tools.sh builds into.
func ToolsDir() string {
	if d := os.Getenv("PLAT_TOOLS_DIR"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "plat-tools")
}

// SkipShort skips t under go test -short, saying which real tool it needs.
// Every lookup in this package calls it; a test that needs a real tool it does
// not look up here (a server it starts itself, root) calls it directly.
func SkipShort(t testing.TB, tool string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs %s (real tool); run without -short", tool)
	}
}

// systemTools are installed from Debian packages and looked up on PATH (or in
// PostgreSQL's own bin directory).
var systemTools = map[string]bool{
	"etcd": true, "pre-commit": true, "git": true, "openssl": true,
	"initdb": true, "pg_ctl": true, "postgres": true,
	"wrk": true, "hyperfine": true, "nginx": true, "node": true, "chromium": true,
}

// Bin returns the absolute path of a real tool, building or installing it with
// scripts/tools.sh if this machine does not have it yet. Names: tofu,
// kube-apiserver, versitygw, helm, cue, conftest, staticcheck, and the Debian tools etcd,
// pre-commit, git, openssl, initdb, pg_ctl, postgres, chromium, wrk, hyperfine, nginx,
// and node (Node.js, from Debian when the machine has none).
func Bin(t testing.TB, name string) string {
	t.Helper()
	SkipShort(t, name)
	mu.Lock()
	defer mu.Unlock()
	if p, ok := found[name]; ok {
		return p
	}
	p := lookup(name)
	if p == "" {
		runTools(t, name)
		p = lookup(name)
	}
	if p == "" {
		t.Fatalf("testtools: %s is not available even after scripts/tools.sh %s", name, name)
	}
	found[name] = p
	return p
}

func lookup(name string) string {
	if systemTools[name] {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		p := filepath.Join("/usr/lib/postgresql/15/bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		return ""
	}
	p := filepath.Join(ToolsDir(), "bin", name)
	if _, err := os.Stat(p); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
	}
	return ""
}

func runTools(t testing.TB, target string) {
	t.Helper()
	script := filepath.Join(RepoRoot(t), "scripts", "tools.sh")
	cmd := exec.Command("bash", script, strings.ReplaceAll(target, "-", "_"))
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("testtools: scripts/tools.sh %s: %v\n%s", target, err, out.String())
	}
}

// Chromium returns the path of Debian's headless-capable chromium (installed by
// scripts/tools.sh chromium), for internal/browsertest. Under -short it skips
// the test, naming the tool.
func Chromium(t testing.TB) string {
	t.Helper()
	return Bin(t, "chromium")
}

// ProviderMirror returns a filesystem mirror directory holding the real
// hashicorp/local provider, for tofu's provider_installation block.
func ProviderMirror(t testing.TB) string {
	t.Helper()
	SkipShort(t, "the hashicorp/local provider")
	mu.Lock()
	defer mu.Unlock()
	m := filepath.Join(ToolsDir(), "mirror")
	bin := filepath.Join(m, "registry.opentofu.org/hashicorp/local/1.4.0/linux_amd64/terraform-provider-local_v1.4.0")
	if _, err := os.Stat(bin); err != nil {
		runTools(t, "provider_local")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("testtools: local provider missing after build: %v", err)
	}
	return m
}

// MirrorConfig writes a tofu CLI configuration (for TF_CLI_CONFIG_FILE) that
// installs providers only from ProviderMirror, never from the network, and
// returns its path.
func MirrorConfig(t testing.TB) string {
	t.Helper()
	rc := filepath.Join(t.TempDir(), "tofu.rc")
	cfg := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"*/*/*\"]\n  }\n  direct { exclude = [\"*/*/*\"] }\n}\n", ProviderMirror(t))
	if err := os.WriteFile(rc, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return rc
}

// HelmEnv returns the environment for running the real helm (Bin(t, "helm"))
// offline and without touching the user's helm setup: the process environment
// with HELM_CACHE_HOME, HELM_CONFIG_HOME and HELM_DATA_HOME in a temp dir.
func HelmEnv(t testing.TB) []string {
	t.Helper()
	d := t.TempDir()
	return append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(d, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(d, "config"),
		"HELM_DATA_HOME="+filepath.Join(d, "data"))
}

var (
	platjsonOnce sync.Once
	platjsonDir  string
	platjsonErr  error
)

// PlatJSONMirror returns a filesystem mirror directory holding the test-only
// plat/platjson provider (internal/testprovider) as registry.opentofu.org/
// plat/platjson 0.1.0, built once per test process.
func PlatJSONMirror(t testing.TB) string {
	t.Helper()
	SkipShort(t, "the platjson test provider (go build) and tofu")
	platjsonOnce.Do(func() {
		dir, err := os.MkdirTemp("", "plat-platjson-mirror-")
		if err != nil {
			platjsonErr = err
			return
		}
		out := filepath.Join(dir, "registry.opentofu.org/plat/platjson/0.1.0/linux_amd64/terraform-provider-platjson_v0.1.0")
		cmd := exec.Command("go", "build", "-o", out, "./internal/testprovider")
		cmd.Dir = RepoRoot(t)
		if b, err := cmd.CombinedOutput(); err != nil {
			platjsonErr = fmt.Errorf("build the platjson test provider: %v\n%s", err, b)
			return
		}
		platjsonDir = dir
	})
	if platjsonErr != nil {
		t.Fatal(platjsonErr)
	}
	return platjsonDir
}

// BackstageCatalogModelVersion is the @backstage/catalog-model version
// BackstageNodePath installs.
const BackstageCatalogModelVersion = "1.10.1"

// BackstageNodePath returns a node_modules directory holding the real npm
// package @backstage/catalog-model (for NODE_PATH), installing it with
// scripts/tools.sh the first time; Bin(t, "node") runs the scripts.
func BackstageNodePath(t testing.TB) string {
	t.Helper()
	SkipShort(t, "@backstage/catalog-model (npm)")
	mu.Lock()
	defer mu.Unlock()
	d := filepath.Join(ToolsDir(), "npm", "backstage-catalog-model-"+BackstageCatalogModelVersion, "node_modules")
	pkg := filepath.Join(d, "@backstage", "catalog-model", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		runTools(t, "backstage_catalog_model")
	}
	if _, err := os.Stat(pkg); err != nil {
		t.Fatalf("testtools: @backstage/catalog-model missing after scripts/tools.sh: %v", err)
	}
	return d
}
