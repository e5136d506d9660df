package terraform_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/drift/terraform"
	"github.com/platdev/plat/internal/testtools"
)

// realTofu is the environment for driving the real OpenTofu binary against a
// filesystem mirror holding hashicorp/local and the test-only plat/platjson
// provider (built here from internal/testprovider).
type realTofu struct {
	bin string
	env map[string]string
}

var (
	tofuOnce sync.Once
	tofu     realTofu
	tofuErr  error
)

func setupTofu(t *testing.T) realTofu {
	t.Helper()
	// Skip before the Once: a skip inside it would leave it done and empty.
	testtools.SkipShort(t, "tofu")
	tofuOnce.Do(func() {
		bin := testtools.Bin(t, "tofu")
		local := testtools.ProviderMirror(t)
		root := testtools.RepoRoot(t)
		dir, err := os.MkdirTemp("", "plat-drift-mirror-")
		if err != nil {
			tofuErr = err
			return
		}
		mirror := filepath.Join(dir, "mirror")
		out := filepath.Join(mirror, "registry.opentofu.org/plat/platjson/0.1.0/linux_amd64/terraform-provider-platjson_v0.1.0")
		cmd := exec.Command("go", "build", "-o", out, "./internal/testprovider")
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			tofuErr = fmt.Errorf("build test provider: %v\n%s", err, b)
			return
		}
		rc := filepath.Join(dir, "tofu.rc")
		cfg := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.opentofu.org/hashicorp/*", "registry.terraform.io/hashicorp/*"]
  }
  filesystem_mirror {
    path    = %q
    include = ["registry.opentofu.org/plat/*"]
  }
  direct { exclude = ["*/*/*"] }
}
`, local, mirror)
		if err := os.WriteFile(rc, []byte(cfg), 0o644); err != nil {
			tofuErr = err
			return
		}
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		delete(env, "TF_PLUGIN_CACHE_DIR")
		delete(env, "TF_DATA_DIR")
		env["TF_CLI_CONFIG_FILE"] = rc
		env["CHECKPOINT_DISABLE"] = "1"
		tofu = realTofu{bin: bin, env: env}
	})
	if tofuErr != nil {
		t.Fatal(tofuErr)
	}
	return tofu
}

func (rt realTofu) environ() []string {
	var out []string
	for k, v := range rt.env {
		out = append(out, k+"="+v)
	}
	return out
}

// run runs the real tofu in dir; tests use it to set stacks up.
func (rt realTofu) run(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(rt.bin, args...)
	cmd.Dir = dir
	cmd.Env = rt.environ()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tofu %s in %s: %v\n%s", strings.Join(args, " "), dir, err, b)
	}
}

// stack writes main.tf into a new directory and applies it.
func (rt realTofu) stack(t *testing.T, parent, name, mainTF string) string {
	t.Helper()
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "main.tf"), mainTF)
	rt.run(t, dir, "init", "-input=false")
	rt.run(t, dir, "apply", "-auto-approve", "-input=false")
	return dir
}

func (rt realTofu) checker(t *testing.T, opts terraform.Options) *terraform.Checker {
	opts.Binary = rt.bin
	opts.Env = rt.env
	opts.TempDir = t.TempDir()
	c := terraform.New(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func stateHash(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// allFormats renders r in every format, for leak checks.
func allFormats(t *testing.T, r drift.Report) string {
	t.Helper()
	var b bytes.Buffer
	for _, f := range drift.Formats {
		if err := drift.Write(&b, r, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func run(c drift.Checker, dirs ...string) drift.Report {
	return drift.Run(context.Background(), drift.RunOptions{
		Dirs: dirs, Parallel: 2, Timeout: 2 * time.Minute,
		Checkers: map[drift.Kind]drift.Checker{drift.KindTerraform: c},
	})
}

const localStack = `
resource "local_file" "plain" {
  filename = "${path.module}/plain.txt"
  content  = "declared"
}
resource "local_file" "secret" {
  filename          = "${path.module}/secret.txt"
  sensitive_content = "s3cr3t-local-value"
}
output "greeting" { value = "hello" }
`

// TestLocalProviderDrift drives real tofu and hashicorp/local: files edited or
// removed behind tofu's back are reported as deleted outside, in the right stack,
// while state files stay byte-identical and the sensitive_content never shows.
func TestLocalProviderDrift(t *testing.T) {
	rt := setupTofu(t)
	root := t.TempDir()
	edited := rt.stack(t, root, "edited", localStack)
	clean := rt.stack(t, root, "clean", localStack)
	removed := rt.stack(t, root, "removed", localStack)
	writeFile(t, filepath.Join(edited, "secret.txt"), "tampered")
	if err := os.Remove(filepath.Join(removed, "plain.txt")); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for _, d := range []string{edited, clean, removed} {
		before[d] = stateHash(t, d)
	}

	r := run(rt.checker(t, terraform.Options{}), edited, clean, removed)

	want := []struct {
		dir      string
		status   drift.Status
		resource string
	}{
		{edited, drift.StatusDrifted, "local_file.secret"},
		{clean, drift.StatusClean, ""},
		{removed, drift.StatusDrifted, "local_file.plain"},
	}
	for i, w := range want {
		s := r.Stacks[i]
		if s.Dir != w.dir || s.Status != w.status || s.Kind != drift.KindTerraform {
			t.Fatalf("stack %d: got %s %s %s (%s), want %s %s", i, s.Dir, s.Kind, s.Status, s.Error, w.dir, w.status)
		}
		if w.resource != "" {
			if len(s.Resources) != 1 || s.Resources[0].Address != w.resource || s.Resources[0].Action != drift.ActionDeleted || s.Resources[0].Type != "local_file" {
				t.Errorf("%s: resources %+v, want %s deleted", w.dir, s.Resources, w.resource)
			}
		}
		if got := stateHash(t, w.dir); got != before[w.dir] {
			t.Errorf("%s: state file changed by a drift check", w.dir)
		}
		if _, err := os.Stat(filepath.Join(w.dir, ".terraform.tfstate.lock.info")); err == nil {
			t.Errorf("%s: lock info left behind", w.dir)
		}
		if m, _ := filepath.Glob(filepath.Join(w.dir, "*.tfplan")); len(m) > 0 {
			t.Errorf("%s: plan file written into the working directory: %v", w.dir, m)
		}
	}
	if r.Summary != (drift.Summary{Stacks: 3, Clean: 1, Drifted: 2, DriftedResources: 2}) {
		t.Errorf("summary %+v", r.Summary)
	}
	if out := allFormats(t, r); strings.Contains(out, "s3cr3t-local-value") {
		t.Errorf("sensitive_content leaked into a report:\n%s", out)
	}
}

const docStack = `
terraform {
  required_providers {
    platjson = { source = "plat/platjson" }
  }
}
variable "token" {
  type      = string
  sensitive = true
  default   = "tok-declared-9f8e7d"
}
resource "platjson_document" "doc" {
  path    = "${path.module}/doc.json"
  content = { team = "payments", env = "prod", "kubernetes.io/name" = "api" }
  rules   = [{ name = "http", port = 80 }, { name = "https", port = 443 }]
  secret  = "hunter2-declared-secret"
}
resource "platjson_document" "untouched" {
  path    = "${path.module}/untouched.json"
  content = { team = "payments" }
}
resource "platjson_document" "derived" {
  path    = "${path.module}/derived.json"
  content = { auth = var.token }
}
`

// editDoc rewrites a platjson document on disk, as someone would by hand.
func editDoc(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	edit(d)
	b, _ = json.Marshal(d)
	writeFile(t, path, string(b))
}

// TestAttributeDrift uses the test-only platjson provider so that real tofu
// reports in-place drift: every changed leaf attribute is listed with declared and
// live values, sensitive values are masked in every format.
func TestAttributeDrift(t *testing.T) {
	rt := setupTofu(t)
	dir := rt.stack(t, t.TempDir(), "docs", docStack)
	editDoc(t, filepath.Join(dir, "doc.json"), func(d map[string]any) {
		c := d["content"].(map[string]any)
		c["team"] = "search"
		c["owner"] = "bob"
		delete(c, "env")
		c["kubernetes.io/name"] = "web"
		d["rules"].([]any)[1].(map[string]any)["port"] = 8443
		d["secret"] = "live-leaked-secret-value"
	})
	editDoc(t, filepath.Join(dir, "derived.json"), func(d map[string]any) {
		d["content"].(map[string]any)["auth"] = "tok-live-1a2b3c"
	})
	hash := stateHash(t, dir)

	r := run(rt.checker(t, terraform.Options{}), dir)
	s := r.Stacks[0]
	if s.Status != drift.StatusDrifted {
		t.Fatalf("status %s (%s), want drifted", s.Status, s.Error)
	}
	got := map[string][]drift.AttributeChange{}
	for _, res := range s.Resources {
		if res.Action != drift.ActionChanged || res.Type != "platjson_document" {
			t.Errorf("%s: action %s type %s", res.Address, res.Action, res.Type)
		}
		got[res.Address] = res.Changes
	}
	if _, ok := got["platjson_document.untouched"]; ok || len(s.Resources) != 2 {
		t.Errorf("resources %v, want doc and derived only", s.Resources)
	}
	wantDoc := []drift.AttributeChange{
		{Path: "content.env", Declared: "prod", Live: nil},
		{Path: "content.owner", Declared: nil, Live: "bob"},
		{Path: "content.team", Declared: "payments", Live: "search"},
		{Path: `content["kubernetes.io/name"]`, Declared: "api", Live: "web"},
		{Path: "rules[1].port", Declared: json.Number("443"), Live: json.Number("8443")},
		{Path: "secret", Declared: drift.Masked, Live: drift.Masked, Sensitive: true},
	}
	if fmt.Sprint(got["platjson_document.doc"]) != fmt.Sprint(wantDoc) {
		t.Errorf("doc changes:\n got %v\nwant %v", got["platjson_document.doc"], wantDoc)
	}
	wantDerived := []drift.AttributeChange{{Path: "content.auth", Declared: drift.Masked, Live: drift.Masked, Sensitive: true}}
	if fmt.Sprint(got["platjson_document.derived"]) != fmt.Sprint(wantDerived) {
		t.Errorf("derived changes:\n got %v\nwant %v", got["platjson_document.derived"], wantDerived)
	}
	if stateHash(t, dir) != hash {
		t.Error("state file changed by a drift check")
	}
	out := allFormats(t, r)
	for _, secret := range []string{"hunter2-declared-secret", "live-leaked-secret-value", "tok-declared-9f8e7d", "tok-live-1a2b3c"} {
		if strings.Contains(out, secret) {
			t.Errorf("secret %q leaked into a report", secret)
		}
	}
}

// TestInitWhenNeeded checks stacks whose .terraform was removed: the checker
// initialises them (serially) before planning, and still finds drift.
func TestInitWhenNeeded(t *testing.T) {
	rt := setupTofu(t)
	root := t.TempDir()
	var dirs []string
	for i := range 3 {
		d := rt.stack(t, root, fmt.Sprintf("s%d", i), localStack)
		if err := os.RemoveAll(filepath.Join(d, ".terraform")); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	os.Remove(filepath.Join(dirs[1], "plain.txt"))
	r := run(rt.checker(t, terraform.Options{}), dirs...)
	for i, s := range r.Stacks {
		want := drift.StatusClean
		if i == 1 {
			want = drift.StatusDrifted
		}
		if s.Status != want {
			t.Errorf("%s: %s (%s), want %s", s.Dir, s.Status, s.Error, want)
		}
	}
}

// holdStateLock has a real tofu process hold the stack's state lock, the way a
// concurrent apply would: `tofu console` locks the state until its input ends.
func (rt realTofu) holdStateLock(t *testing.T, dir string) (release func()) {
	t.Helper()
	cmd := exec.Command(rt.bin, "console")
	cmd.Dir = dir
	cmd.Env = rt.environ()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	release = func() {
		stdin.Close()
		cmd.Wait()
	}
	info := filepath.Join(dir, ".terraform.tfstate.lock.info")
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(info); err == nil {
			return release
		}
	}
	release()
	t.Fatal("tofu console did not take the state lock")
	return nil
}

// TestLockHeld: a held state lock is waited on for --lock-timeout, then the
// stack is an error while other stacks are still checked; once released, the
// stack checks cleanly and no lock is left behind.
func TestLockHeld(t *testing.T) {
	rt := setupTofu(t)
	root := t.TempDir()
	locked := rt.stack(t, root, "locked", localStack)
	other := rt.stack(t, root, "other", localStack)
	hash := stateHash(t, locked)
	release := rt.holdStateLock(t, locked)
	c := rt.checker(t, terraform.Options{LockTimeout: 2 * time.Second})
	start := time.Now()
	r := run(c, locked, other)
	elapsed := time.Since(start)
	release()
	if s := r.Stacks[0]; s.Status != drift.StatusError || !strings.Contains(s.Error, "state lock") {
		t.Errorf("locked stack: %s %q, want a state lock error", s.Status, s.Error)
	}
	if elapsed < 2*time.Second {
		t.Errorf("returned after %s, before the lock timeout", elapsed)
	}
	if s := r.Stacks[1]; s.Status != drift.StatusClean {
		t.Errorf("other stack: %s %s", s.Status, s.Error)
	}
	if r := run(c, locked); r.Stacks[0].Status != drift.StatusClean {
		t.Errorf("after release: %s %s", r.Stacks[0].Status, r.Stacks[0].Error)
	}
	if stateHash(t, locked) != hash {
		t.Error("state changed")
	}

	// A stack timeout shorter than the lock timeout interrupts tofu while it
	// waits; tofu exits and leaves no lock, so the next check succeeds.
	release = rt.holdStateLock(t, locked)
	r = drift.Run(context.Background(), drift.RunOptions{
		Dirs: []string{locked}, Timeout: time.Second,
		Checkers: map[drift.Kind]drift.Checker{drift.KindTerraform: rt.checker(t, terraform.Options{LockTimeout: time.Minute, InterruptGrace: 5 * time.Second})},
	})
	release()
	if s := r.Stacks[0]; s.Status != drift.StatusError || !strings.Contains(s.Error, "timed out after 1s") {
		t.Errorf("timed-out stack: %s %q", s.Status, s.Error)
	}
	if r := run(c, locked); r.Stacks[0].Status != drift.StatusClean {
		t.Errorf("after interrupted check: %s %s", r.Stacks[0].Status, r.Stacks[0].Error)
	}
}

// TestBadStacks: broken HCL, a directory that is not a stack and a missing one
// are errors for those stacks only; HCL source lines (which may hold secrets)
// never reach the report.
func TestBadStacks(t *testing.T) {
	rt := setupTofu(t)
	root := t.TempDir()
	good := rt.stack(t, root, "good", localStack)
	broken := filepath.Join(root, "broken")
	os.MkdirAll(broken, 0o755)
	writeFile(t, filepath.Join(broken, "main.tf"), `resource "local_file" "x" {
  sensitive_content = "broken-hcl-secret" +
}
`)
	notStack := filepath.Join(root, "docs")
	os.MkdirAll(notStack, 0o755)
	writeFile(t, filepath.Join(notStack, "README.md"), "# hi\n")
	missing := filepath.Join(root, "missing")

	r := run(rt.checker(t, terraform.Options{}), broken, notStack, missing, good)
	wantErr := []string{"tofu init: ", "not a Terraform or Crossplane stack", "no such directory"}
	for i, w := range wantErr {
		if s := r.Stacks[i]; s.Status != drift.StatusError || !strings.Contains(s.Error, w) {
			t.Errorf("%s: %s %q, want error containing %q", s.Dir, s.Status, s.Error, w)
		}
	}
	if !strings.Contains(r.Stacks[0].Error, "main.tf line 2") {
		t.Errorf("broken HCL error does not point at the file and line: %q", r.Stacks[0].Error)
	}
	if s := r.Stacks[3]; s.Status != drift.StatusClean {
		t.Errorf("good stack: %s %s", s.Status, s.Error)
	}
	if out := allFormats(t, r); strings.Contains(out, "broken-hcl-secret") {
		t.Errorf("HCL source leaked into the report:\n%s", out)
	}
}

const maskStack = `
terraform {
  required_providers {
    platjson = { source = "plat/platjson" }
  }
}
variable "creds" {
  type      = map(string)
  sensitive = true
  default   = { "admin-alice" = "pw\"alice<77" }
}
variable "pin" {
  type      = number
  sensitive = true
  default   = 4242
}
variable "code" {
  type      = string
  sensitive = true
  default   = "k9"
}
resource "platjson_document" "creds" {
  path    = "${path.module}/creds.json"
  content = var.creds
}
resource "platjson_document" "pinned" {
  path  = "${path.module}/pinned.json"
  rules = [{ name = "pin", port = var.pin }]
}
resource "platjson_document" "plain" {
  path    = "${path.module}/plain.json"
  content = { team = "payments", code = var.code }
  rules   = [{ name = "http", port = 80 }]
}
`

// TestMaskingEndToEnd copies secrets, behind tofu's back, into places tofu
// does not mark (a map key, a port, base64 and JSON-escaped text, a short
// value) and changes a sensitive map's keys: real tofu's plan must not let any
// of them into a report.
func TestMaskingEndToEnd(t *testing.T) {
	rt := setupTofu(t)
	dir := rt.stack(t, t.TempDir(), "mask", maskStack)
	const secret = `pw"alice<77`
	jsonForm, _ := json.Marshal(map[string]string{"pw": secret})
	editDoc(t, filepath.Join(dir, "creds.json"), func(d map[string]any) {
		d["content"] = map[string]any{"admin-alice": "pw-new", "backdoor-eve": "x"}
	})
	editDoc(t, filepath.Join(dir, "plain.json"), func(d map[string]any) {
		c := d["content"].(map[string]any)
		c[secret] = "key"
		c["b64"] = base64.StdEncoding.EncodeToString([]byte(secret))
		c["j"] = string(jsonForm)
		c["short"] = "k9"
		d["rules"].([]any)[0].(map[string]any)["port"] = 4242
	})
	r := run(rt.checker(t, terraform.Options{}), dir)
	s := r.Stacks[0]
	if s.Status != drift.StatusDrifted || len(s.Resources) != 2 {
		t.Fatalf("status %s (%s), resources %v", s.Status, s.Error, s.Resources)
	}
	got := map[string]string{}
	for _, res := range s.Resources {
		for _, c := range res.Changes {
			got[res.Address+" "+c.Path] = drift.FormatValue(c.Live)
		}
	}
	want := map[string]string{
		"platjson_document.creds content":                `"(sensitive)"`,
		`platjson_document.plain content["(sensitive)"]`: `"key"`,
		"platjson_document.plain content.b64":            `"(sensitive)"`,
		"platjson_document.plain content.j":              `"{\"pw\":\"(sensitive)\"}"`,
		"platjson_document.plain content.short":          `"(sensitive)"`,
		"platjson_document.plain rules[0].port":          `"(sensitive)"`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("changes:\n got %v\nwant %v", got, want)
	}
	out := allFormats(t, r)
	for _, leak := range []string{"alice", "backdoor", "pw-new", "4242", "k9", base64.StdEncoding.EncodeToString([]byte(secret))[:12], `\u003c77`} {
		if strings.Contains(out, leak) {
			t.Errorf("%q leaked into a report:\n%s", leak, out)
		}
	}
}

// TestOnlyPlanAndShow: a check runs tofu plan and tofu show and nothing else
// (no version probe); init only where the directory needs it.
func TestOnlyPlanAndShow(t *testing.T) {
	rt := setupTofu(t)
	root := t.TempDir()
	ready := rt.stack(t, root, "ready", localStack)
	fresh := rt.stack(t, root, "fresh", localStack)
	if err := os.RemoveAll(filepath.Join(fresh, ".terraform")); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(root, "tofu.log")
	wrapper := filepath.Join(root, "tofu")
	writeFile(t, wrapper, fmt.Sprintf("#!/bin/sh\necho \"$(basename \"$PWD\") $1\" >> %s\nexec %s \"$@\"\n", log, rt.bin))
	if err := os.Chmod(wrapper, 0o755); err != nil {
		t.Fatal(err)
	}
	c := terraform.New(terraform.Options{Binary: wrapper, Env: rt.env, TempDir: t.TempDir()})
	defer c.Close()
	for _, d := range []string{ready, fresh} {
		if sr := c.Check(context.Background(), d); sr.Error != "" {
			t.Fatalf("%s: %s", d, sr.Error)
		}
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if want := "ready plan\nready show\nfresh init\nfresh plan\nfresh show\n"; string(b) != want {
		t.Errorf("tofu ran:\n%swant:\n%s", b, want)
	}
}
