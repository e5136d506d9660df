package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/internal/testtools"
)

// traceLoop is a stack of the platjson test catalog (testdata/catalogs/platjson)
// taken through the real loop: its module published to a running plat
// registry serve, the stack rendered against it, real tofu init (module from
// the registry, plat/platjson from a filesystem mirror) and apply.
type traceLoop struct {
	tofu, cat, stackFile, dir string
	env                       []string
	driftEnv                  map[string]string
	registry                  string
}

func newTraceLoop(t *testing.T) *traceLoop {
	t.Helper()
	tofu := testtools.Bin(t, "tofu")
	pj := testtools.PlatJSONMirror(t)
	cat, err := filepath.Abs(filepath.Join("testdata", "catalogs", "platjson"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	srv := startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key)
	code, out, errs := platRun(t, map[string]string{"PLAT_TOKEN": f.publishToken, "SSL_CERT_FILE": f.ca},
		"module", "publish", filepath.Join(cat, "modules", "settings", "platjson"), "--registry", "https://"+srv.hostport,
		"--namespace", "acme", "--name", "settings", "--system", "platjson", "--version", "1.0.0")
	if code != 0 {
		t.Fatalf("publish: exit %d: %s%s", code, out, errs)
	}
	// The stack file is copied, so plat drift accept may edit it.
	work := t.TempDir()
	stackFile := filepath.Join(work, "platform.yaml")
	b, err := os.ReadFile(filepath.Join(cat, "stack", "platform.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stackFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	l := &traceLoop{tofu: tofu, cat: cat, stackFile: stackFile, registry: srv.hostport + "/acme"}
	l.render(t, work)
	l.dir = filepath.Join(work, "out", "shop")

	home := t.TempDir()
	rc := filepath.Join(home, "tofu.rc")
	cfg := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"registry.opentofu.org/plat/*\"]\n  }\n  direct { exclude = [\"*/*/*\"] }\n}\n", pj)
	if err := os.WriteFile(rc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	l.env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TF_CLI_CONFIG_FILE=" + rc,
		"TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_INPUT=0", "SSL_CERT_FILE=" + f.ca}
	mustTF(t, tofu, l.dir, l.env, "init", "-input=false", "-no-color")
	mustTF(t, tofu, l.dir, l.env, "apply", "-auto-approve", "-input=false", "-no-color")
	l.driftEnv = map[string]string{}
	return l
}

// render renders the stack file into work/out, from work (so the record
// names the stack file platform.yaml, as a user in that directory would).
func (l *traceLoop) render(t *testing.T, work string) {
	t.Helper()
	t.Chdir(work)
	code, out, errs := platRun(t, nil, "render", "--catalog", l.cat, "-f", "platform.yaml", "-o", "out", "--registry", l.registry)
	if code != 0 {
		t.Fatalf("render: exit %d: %s%s", code, out, errs)
	}
}

// editDocument changes the platjson document's content on disk, behind tofu's back.
func (l *traceLoop) editDocument(t *testing.T, edit map[string]string) {
	t.Helper()
	p := filepath.Join(l.dir, "..", "shop-config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	content := doc["content"].(map[string]any)
	for k, v := range edit {
		content[k] = v
	}
	b, _ = json.Marshal(doc)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// check runs plat drift check in format f and returns exit code and stdout.
func (l *traceLoop) check(t *testing.T, format string) (int, string) {
	t.Helper()
	code, out, errs := platRun(t, l.driftEnv, "drift", "check", "-q", "--tofu", l.tofu, "--catalog", l.cat, "--format", format, l.dir)
	if code != 2 {
		t.Fatalf("drift check --format %s: exit %d, want 2 (drift)\n%s%s", format, code, out, errs)
	}
	return code, out
}

func changesOf(t *testing.T, out string) map[string]drift.AttributeChange {
	t.Helper()
	var r drift.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]drift.AttributeChange{}
	for _, s := range r.Stacks {
		for _, res := range s.Resources {
			if res.Address != "module.config.platjson_document.this" {
				t.Errorf("drifted resource %s", res.Address)
			}
			for _, c := range res.Changes {
				got[c.Path] = c
			}
		}
	}
	return got
}

// TestDriftTraceTofu changes live state behind tofu's back and checks that
// plat drift check names the stack file's line and the parameter of every
// change that traces back to it, marks the others, and reports a change that
// breaks a guardrail as a violation, in every format.
func TestDriftTraceTofu(t *testing.T) {
	l := newTraceLoop(t)
	l.editDocument(t, map[string]string{"owner": "bob", "replicas": "3", "banner": "BOSS", "tier": "solo", "format": "v2", "public": "true"})

	_, out := l.check(t, "json")
	got := changesOf(t, out)
	stack := func(path string) drift.StackField {
		c, ok := got[path]
		if !ok || c.Stack == nil {
			t.Fatalf("%s: no stack field: %+v", path, c)
		}
		return *c.Stack
	}
	// owner: direct, set in the stack file at line 15, column 16.
	if s := stack("content.owner"); s.File != "platform.yaml" || s.Line != 15 || s.Col != 16 || s.Resource != "config" ||
		s.Parameter != "owner" || s.Declared != "alice" || s.Live != "bob" {
		t.Errorf("content.owner: %+v", s)
	}
	// replicas: tostring(var.replicas) is inverted back to a number.
	if s := stack("content.replicas"); s.Line != 16 || s.Col != 19 || s.Parameter != "replicas" ||
		fmt.Sprint(s.Declared) != "2" || fmt.Sprint(s.Live) != "3" || got["content.replicas"].Function != "tostring(var.replicas)" {
		t.Errorf("content.replicas: %+v %+v", s, got["content.replicas"])
	}
	// banner: upper(var.owner) is a function of owner, not inverted.
	if s := stack("content.banner"); s.Parameter != "owner" || s.Live != nil || got["content.banner"].Function != "upper(var.owner)" {
		t.Errorf("content.banner: %+v %+v", s, got["content.banner"])
	}
	// public: not set in the stack, so the template's default; the live value
	// breaks settings.never-public. The stack field points at with: (line 14).
	pub := got["content.public"]
	if s := stack("content.public"); pub.Origin != drift.OriginDefault || s.Line != 14 || s.Col != 7 || s.Declared != false || s.Live != true {
		t.Errorf("content.public: %+v %+v", s, pub)
	}
	if g := pub.Guardrail; g == nil || g.ID != "settings.never-public" || g.Severity != "error" || g.Message != "config: settings are never public" {
		t.Errorf("content.public guardrail: %+v", pub.Guardrail)
	}
	// Derived by the template (tier from replicas) and fixed by the module
	// (format): untraced, marked.
	for _, p := range []string{"content.tier", "content.format"} {
		c := got[p]
		if c.Traced == nil || *c.Traced || c.Origin != drift.OriginDerived || c.Stack != nil {
			t.Errorf("%s: traced %v origin %q stack %+v, want untraced derived", p, c.Traced, c.Origin, c.Stack)
		}
	}
	for p, c := range got {
		if p != "content.public" && c.Guardrail != nil {
			t.Errorf("%s: guardrail %+v", p, c.Guardrail)
		}
	}

	_, text := l.check(t, "text")
	t.Logf("text report:\n%s", text)
	for _, want := range []string{
		"~ module.config.platjson_document.this: changed",
		`platform.yaml:15:16: config.owner: declared "alice", live "bob"`,
		"platform.yaml:16:19: config.replicas: declared 2, live 3",
		`platform.yaml:14:7: config.public (not set: the template's default): declared false, live true`,
		"!! GUARDRAIL VIOLATED (error) settings.never-public: config: settings are never public",
		`content.format: "v1" -> "v2" (untraced: derived by the template or module)`,
		"!! 1 guardrail violation on live state",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
	_, md := l.check(t, "markdown")
	for _, want := range []string{"| stack file |", "<code>platform.yaml:15:16: config.owner: declared &quot;alice&quot;", ":rotating_light: **guardrail error <code>settings.never-public</code>**"} {
		if !strings.Contains(strings.ReplaceAll(md, `"`, "&quot;"), want) {
			t.Errorf("markdown report lacks %q:\n%s", want, md)
		}
	}

	// Without the record's tracing (PLAT_DRIFT_TRACE=off) the same drift is
	// reported without trace fields.
	l.driftEnv["PLAT_DRIFT_TRACE"] = "off"
	_, out = l.check(t, "json")
	for p, c := range changesOf(t, out) {
		if c.Stack != nil || c.Traced != nil || c.Guardrail != nil {
			t.Errorf("tracing off: %s still traced: %+v", p, c)
		}
	}
}

// TestDriftAcceptLoopTofu closes the loop with real tofu: drift check, then
// plat drift accept --write edits the stack file, a re-render picks the value
// up and tofu plan -detailed-exitcode finds nothing to do. A live value that
// breaks a guardrail is refused by accept and leaves the stack file as it is.
func TestDriftAcceptLoopTofu(t *testing.T) {
	l := newTraceLoop(t)
	work := filepath.Dir(l.stackFile)

	// A guardrail-breaking change first: refused, nothing written.
	l.editDocument(t, map[string]string{"public": "true"})
	before, err := os.ReadFile(l.stackFile)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := platRun(t, nil, "drift", "accept", "-q", "--write", "--tofu", l.tofu, "--catalog", l.cat, l.dir)
	if code != 1 || !strings.Contains(out+errs, "settings.never-public") {
		t.Fatalf("accept of a guardrail-breaking value: exit %d, want 1 naming settings.never-public\n%s%s", code, out, errs)
	}
	if after, _ := os.ReadFile(l.stackFile); string(after) != string(before) {
		t.Fatalf("refused accept changed the stack file:\n%s", after)
	}
	l.editDocument(t, map[string]string{"public": "false"})

	// A change within the guardrails: adopted.
	l.editDocument(t, map[string]string{"replicas": "3"})
	_, report := l.check(t, "text")
	if !strings.Contains(report, "platform.yaml:16:19: config.replicas: declared 2, live 3") {
		t.Fatalf("drift check does not name the stack field:\n%s", report)
	}
	code, out, errs = platRun(t, nil, "drift", "accept", "-q", "--write", "--tofu", l.tofu, "--catalog", l.cat, l.dir)
	if code != 0 {
		t.Fatalf("drift accept --write: exit %d\n%s%s", code, out, errs)
	}
	got, err := os.ReadFile(l.stackFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "        owner: alice\n        replicas: 3\n") {
		t.Fatalf("stack file after accept:\n%s", got)
	}
	l.render(t, work)
	if out, err := runTF(t, l.tofu, l.dir, l.env, "plan", "-detailed-exitcode", "-input=false", "-no-color"); err != nil {
		t.Fatalf("tofu plan -detailed-exitcode after accept and re-render: %v (exit 2 means changes)\n%s", err, out)
	}
	// Until tofu next writes the state it still holds the old value; an apply
	// with nothing to change records the live one, and then nothing drifts.
	mustTF(t, l.tofu, l.dir, l.env, "apply", "-auto-approve", "-input=false", "-no-color")
	if code, out, errs := platRun(t, nil, "drift", "check", "-q", "--tofu", l.tofu, "--catalog", l.cat, l.dir); code != 0 {
		t.Fatalf("drift check after accept: exit %d\n%s%s", code, out, errs)
	}
}
