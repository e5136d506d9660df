package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/platdev/plat/internal/testtools"
)

// TestScriptCompiler runs the scripts of plat render, validate, catalog and
// schema. They need no real tool, so they run in the fast tier (go test -short)
// too; scripts get $CRDS, the Upbound AWS provider's CRD directory, for the
// offline --crds checks, and $LOCALCAT, the local example catalog.
func TestScriptCompiler(t *testing.T) {
	crds := filepath.Join(testtools.SharedDir(t), "crds", "provider-aws")
	localCat := filepath.Join(testtools.RepoRoot(t), "examples", "catalogs", "local")
	p := scriptParams("testdata/script/compiler")
	p.Setup = func(e *testscript.Env) error {
		e.Setenv("CRDS", crds)
		e.Setenv("LOCALCAT", localCat)
		return nil
	}
	testscript.Run(t, p)
}

// TestPreCommitHook runs real pre-commit in a fresh git repository whose
// .pre-commit-config.yaml uses this repository (a clone of HEAD) as the hook
// source, on a passing and then a failing stack file.
// preCommit is what a test needs to run real pre-commit with this commit of
// plat as the hook source: a clone of the repository at HEAD (pre-commit builds
// plat from it with language: golang) and the environment pre-commit runs in.
type preCommit struct {
	bin, git, src, rev, tmp string
	env                     []string
}

func newPreCommit(t *testing.T) *preCommit {
	t.Helper()
	p := &preCommit{git: testtools.Bin(t, "git"), bin: testtools.Bin(t, "pre-commit"), tmp: t.TempDir()}
	root := testtools.RepoRoot(t)
	p.rev = strings.TrimSpace(p.must(t, root, p.git, "rev-parse", "HEAD"))
	p.src = filepath.Join(p.tmp, "plat-src")
	p.must(t, p.tmp, p.git, "clone", "--quiet", root, p.src)
	p.must(t, p.src, p.git, "checkout", "--quiet", p.rev)
	modCache := strings.TrimSpace(p.must(t, root, "go", "env", "GOMODCACHE"))
	p.env = []string{
		"PRE_COMMIT_HOME=" + filepath.Join(p.tmp, "pre-commit-home"),
		"GOMODCACHE=" + modCache, // reuse the module cache instead of downloading again
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
	}
	return p
}

// config is a .pre-commit-config.yaml using the plat-validate hook of the clone.
func (p *preCommit) config() string {
	return fmt.Sprintf("repos:\n  - repo: %s\n    rev: %s\n    hooks:\n      - id: plat-validate\n", p.src, p.rev)
}

func (p *preCommit) run(t *testing.T, dir string, env []string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), p.env...), env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out), code
}

func (p *preCommit) must(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	out, code := p.run(t, dir, nil, name, args...)
	if code != 0 {
		t.Fatalf("%s %v: exit %d\n%s", name, args, code, out)
	}
	return out
}

func TestPreCommitHook(t *testing.T) {
	p := newPreCommit(t)
	git, preCommit, tmp := p.git, p.bin, p.tmp
	run := func(dir string, env []string, name string, args ...string) (string, int) {
		t.Helper()
		return p.run(t, dir, env, name, args...)
	}
	must := func(dir string, name string, args ...string) string {
		t.Helper()
		return p.must(t, dir, name, args...)
	}

	repo := filepath.Join(tmp, "app")
	if err := os.MkdirAll(filepath.Join(repo, "svc"), 0o755); err != nil {
		t.Fatal(err)
	}
	must(repo, git, "init", "--quiet")
	config := p.config()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(repo, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".pre-commit-config.yaml", config)
	write("svc/platform.yaml", `apiVersion: plat/v1
kind: Stack
metadata: {name: svc, team: web, environment: dev, costCenter: CC-1000}
spec: {target: terraform, region: eu-west-1, resources: [{name: q, template: queue}]}
`)
	write("notes.yaml", "not: [a stack\n")
	must(repo, git, "add", "-A")

	var env []string
	out, code := run(repo, env, preCommit, "run", "--all-files")
	if code != 0 || !regexp.MustCompile(`plat validate\.+Passed`).MatchString(out) {
		t.Fatalf("pre-commit on a valid stack: exit %d\n%s", code, out)
	}

	write("svc/db.platform.yaml", `apiVersion: plat/v1
kind: Stack
metadata: {name: db, team: web, environment: dev, costCenter: CC-1000}
spec:
  target: terraform
  region: eu-west-1
  resources:
    - name: db
      template: postgres
      with:
        publiclyAccessible: true
`)
	must(repo, git, "add", "-A")
	out, code = run(repo, env, preCommit, "run", "--all-files")
	if code != 1 {
		t.Fatalf("pre-commit on a failing stack: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"plat validate",
		"Failed",
		"svc/db.platform.yaml:11:29: error: postgres.no-public-access: db: a database is never publicly accessible",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("pre-commit output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "notes.yaml") {
		t.Errorf("the hook looked at notes.yaml, which is not a stack file:\n%s", out)
	}
}
