package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/internal/testtools"
)

// TestRegistryServePortal runs the plat binary's `registry serve` with
// --require-read-token and --drift-reports, publishes a module with `plat
// module publish`, logs in on the portal with a read token as a browser form
// would, and reads the module and drift pages.
func TestRegistryServePortal(t *testing.T) {
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
	pubTok, readTok := token("platform", "publish"), token("platform", "read")
	reports := t.TempDir()
	f, err := os.Create(filepath.Join(reports, "out__checkout.json"))
	if err != nil {
		t.Fatal(err)
	}
	st := drift.StackReport{Dir: "out/checkout", Kind: drift.KindTerraform, Status: drift.StatusDrifted,
		Resources: []drift.ResourceDrift{{Address: "aws_s3_bucket.this", Action: drift.ActionChanged, Changes: []drift.AttributeChange{{Path: "tags.team", Declared: "a", Live: "b"}}}}}
	drift.WriteJSON(f, drift.Report{SchemaVersion: drift.SchemaVersion, StartedAt: time.Now(), Stacks: []drift.StackReport{st}})
	f.Close()

	base := startServeBinary(t, plat, data, "--require-read-token", "--drift-reports", reports).base
	pub := exec.Command(plat, "module", "publish", filepath.Join(root, "modules", "bucket", "aws"),
		"--registry", base, "--namespace", "platform", "--name", "bucket", "--system", "aws", "--version", "1.0.0")
	pub.Env = append(os.Environ(), "PLAT_TOKEN="+pubTok)
	if out, err := pub.CombinedOutput(); err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string, http.Header) {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if code, _, h := get("/modules/platform/bucket/aws"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login?next=") {
		t.Fatalf("before login: %d %q", code, h.Get("Location"))
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(url.Values{"token": {readTok}, "next": {"/modules/platform/bucket/aws"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/modules/platform/bucket/aws" {
		t.Fatalf("login: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	code, body, h := get("/modules/platform/bucket/aws")
	if code != http.StatusOK || !strings.Contains(body, "<h1>platform/bucket/aws</h1>") || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("module page: %d\n%s", code, body)
	}
	// The report was read from --drift-reports; no inventory gives the stack
	// to the login's namespace, so it is counted, not shown.
	if code, body, _ := get("/drift"); code != http.StatusOK || strings.Contains(body, "out/checkout") || !strings.Contains(body, "1 report is of stacks your login does not see") {
		t.Errorf("drift page: %d\n%s", code, body)
	}
	// A real `plat inventory --push` of a stack using the bucket module: its
	// page shows the team, environment, template and module links, the
	// waiver with its expiry marked, and the drift report, now that the
	// stack names the login's namespace.
	stacks := t.TempDir()
	expires := time.Now().UTC().AddDate(0, 0, 5).Format("2006-01-02")
	stackFile := `apiVersion: plat/v1
kind: Stack
metadata:
  name: checkout
  team: payments
  environment: prod
  costCenter: CC-1
spec:
  target: terraform
  region: eu-west-1
  resources:
    - name: receipts
      template: bucket
      with:
        versioning: false
  waivers:
    - guardrail: bucket.prod-versioning
      resource: receipts
      reason: receipts are re-creatable
      owner: payments@example.com
      expires: "` + expires + `"
`
	if err := os.WriteFile(filepath.Join(stacks, "platform.yaml"), []byte(stackFile), 0o644); err != nil {
		t.Fatal(err)
	}
	push := exec.Command(plat, "inventory", "--push", "--registry", base, "--repository", "shop", stacks)
	push.Env = append(os.Environ(), "PLAT_TOKEN="+pubTok)
	if out, err := push.CombinedOutput(); err != nil || !strings.Contains(string(out), "pushed the inventory of 1 stack") {
		t.Fatalf("inventory --push: %v\n%s", err, out)
	}
	code, body, _ = get("/stacks/checkout")
	for _, want := range []string{"<dd>payments</dd>", "<dd>prod</dd>", `<a href="/paths/embedded/bucket">bucket</a>`,
		`<a href="/modules/platform/bucket/aws/1.0.0">platform/bucket/aws 1.0.0</a>`, "receipts are re-creatable", "payments@example.com",
		`<span class="badge expiring">expires in 5 days</span>`, "tags.team"} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("stack page after a push: %d, lacks %q\n%s", code, want, body)
		}
	}
	for _, p := range []string{"/paths/embedded/bucket", "/modules/platform/bucket/aws/1.0.0", "/stacks"} {
		if code, _, _ := get(p); code != http.StatusOK {
			t.Errorf("%s: %d", p, code)
		}
	}

	// The API beside the portal still answers tofu's requests.
	r2, _ := http.NewRequest(http.MethodGet, base+"/v1/modules/platform/bucket/aws/versions", nil)
	r2.Header.Set("Authorization", "Bearer "+readTok)
	resp, err = http.DefaultClient.Do(r2)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("versions API: %d", resp.StatusCode)
	}
}
