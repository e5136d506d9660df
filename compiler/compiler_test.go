package compiler_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/compiler/record"
	"github.com/platdev/plat/internal/testtools"
)

// now is the fixed "today" of these tests, so waiver expiry is deterministic.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func newCompiler(t testing.TB) *compiler.Compiler {
	t.Helper()
	c, err := compiler.New(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func examples(t testing.TB) []compiler.Source {
	t.Helper()
	root := testtools.RepoRoot(t)
	paths, err := filepath.Glob(filepath.Join(root, "examples", "*", "platform.yaml"))
	if err != nil || len(paths) < 2 {
		t.Fatalf("examples: %v (%d found)", err, len(paths))
	}
	var srcs []compiler.Source
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		srcs = append(srcs, compiler.Source{Name: filepath.ToSlash(rel), Data: b})
	}
	return srcs
}

// TestGolden renders every example in both Terraform syntaxes and compares the
// files with testdata/golden; PLAT_UPDATE=1 rewrites them.
func TestGolden(t *testing.T) {
	checkGolden(t, newCompiler(t), examples(t), filepath.Join("testdata", "golden"))
}

// TestGoldenLocalCatalog does the same for the example stack of the local
// example catalog (examples/catalogs/local), a catalog whose providers are not
// AWS, into testdata/golden/local.
func TestGoldenLocalCatalog(t *testing.T) {
	root := testtools.RepoRoot(t)
	c, err := compiler.New(os.DirFS(filepath.Join(root, "examples", "catalogs", "local")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "examples", "catalogs", "local", "example", "platform.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, c, []compiler.Source{{Name: "examples/catalogs/local/example/platform.yaml", Data: b}}, filepath.Join("testdata", "golden", "local"))
}

func checkGolden(t *testing.T, c *compiler.Compiler, srcs []compiler.Source, base string) {
	t.Helper()
	for _, format := range []struct {
		name string
		f    compiler.Format
	}{{"hcl", compiler.FormatHCL}, {"json", compiler.FormatJSON}} {
		res, diags := c.Compile(context.Background(), compiler.Input{Stacks: srcs, Now: now, Format: format.f})
		if diags.HasErrors() {
			t.Fatalf("examples do not compile:\n%v", diags)
		}
		dir := filepath.Join(base, format.name)
		if os.Getenv("PLAT_UPDATE") != "" {
			os.RemoveAll(dir)
		}
		want := map[string]bool{}
		for _, f := range res.Files() {
			p := filepath.Join(dir, filepath.FromSlash(f.Path))
			want[p] = true
			if os.Getenv("PLAT_UPDATE") != "" {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(p)
			if err != nil {
				t.Errorf("%s: %v (run PLAT_UPDATE=1 go test ./compiler/)", f.Path, err)
				continue
			}
			if !bytes.Equal(got, f.Data) {
				t.Errorf("%s differs from %s; run PLAT_UPDATE=1 go test ./compiler/ and review the diff", f.Path, p)
			}
			if !bytes.Contains(f.Data, []byte(compiler.Header)) || !bytes.Contains(f.Data, []byte("examples/")) {
				t.Errorf("%s: header does not say it is generated from its stack file", f.Path)
			}
		}
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !want[p] {
				t.Errorf("golden file %s is not rendered any more", p)
			}
			return nil
		})
	}
}

// TestDeterministic compiles the same input twice with fresh compilers.
func TestDeterministic(t *testing.T) {
	var outs [2][]compiler.File
	for i := range outs {
		res, diags := newCompiler(t).Compile(context.Background(), compiler.Input{Stacks: examples(t), Now: now})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		outs[i] = res.Files()
	}
	if len(outs[0]) != len(outs[1]) {
		t.Fatal("different file sets")
	}
	for i := range outs[0] {
		if outs[0][i].Path != outs[1][i].Path || !bytes.Equal(outs[0][i].Data, outs[1][i].Data) {
			t.Errorf("%s: output differs between runs", outs[0][i].Path)
		}
	}
}

// TestTofuFmt checks the rendered Terraform of every example with a real tofu.
func TestTofuFmt(t *testing.T) {
	tofu := testtools.Bin(t, "tofu")
	res, diags := newCompiler(t).Compile(context.Background(), compiler.Input{Stacks: examples(t), Now: now})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	dir := t.TempDir()
	n := 0
	for _, f := range res.Files() {
		if !strings.HasSuffix(f.Path, ".tf") {
			continue
		}
		n++
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 {
		t.Fatal("no terraform rendered from the examples")
	}
	cmd := exec.Command(tofu, "fmt", "-check", "-diff", "-recursive", dir)
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tofu fmt -check: %v\n%s", err, out)
	}
}

func compileOne(t *testing.T, src string) (*compiler.Result, compiler.Diagnostics) {
	t.Helper()
	return newCompiler(t).Compile(context.Background(), compiler.Input{
		Stacks: []compiler.Source{{Name: "platform.yaml", Data: []byte(src)}}, Now: now})
}

const head = `apiVersion: plat/v1
kind: Stack
metadata:
  name: checkout
  team: payments
  environment: prod
  costCenter: CC-1234
spec:
  target: terraform
  region: eu-west-1
  resources:
`

// TestDiagnostics checks ids and line:col of representative problems.
func TestDiagnostics(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // "line:col id"
	}{
		{"range and enum and typo", head + `    - name: db
      template: postgres
      with:
        storageGB: 3000
        sise: small
        version: 16
`, []string{"15:20 stack.invalid-value", "16:9 stack.unknown-field", "17:18 stack.type"}},
		{"public bucket", head + `    - name: assets
      template: bucket
      with:
        public: true
`, []string{"15:17 bucket.public-needs-waiver"}},
		{"waived", head + `    - name: assets
      template: bucket
      with:
        public: true
  waivers:
    - guardrail: bucket.public-needs-waiver
      resource: assets
      reason: website
      owner: a@example.com
      expires: 2026-06-01
`, nil},
		{"expired waiver", head + `    - name: assets
      template: bucket
      with:
        public: true
  waivers:
    - guardrail: bucket.public-needs-waiver
      resource: assets
      reason: website
      owner: a@example.com
      expires: 2026-05-31
`, []string{"15:17 bucket.public-needs-waiver", "21:16 waiver.expired"}},
		{"prod defaults are compliant", head + `    - name: db
      template: postgres
    - name: c
      template: cache
    - name: q
      template: queue
`, nil},
		{"prod guardrails", head + `    - name: db
      template: postgres
      with:
        backupRetentionDays: 7
        deletionProtection: false
    - name: c
      template: cache
      with:
        nodes: 1
`, []string{"15:30 postgres.prod-backup-retention", "16:29 postgres.prod-deletion-protection", "20:16 cache.prod-failover"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := compileOne(t, tc.src)
			var got []string
			for _, d := range diags {
				if d.File != "platform.yaml" {
					t.Errorf("diagnostic in %q, want platform.yaml", d.File)
				}
				got = append(got, strings.Join([]string{strconv.Itoa(d.Line) + ":" + strconv.Itoa(d.Col), d.ID}, " "))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s\nfull:\n%v", strings.Join(got, "\n"), strings.Join(tc.want, "\n"), diags)
			}
		})
	}
}

func catalogFS() fs.FS { return catalog.FS }

// TestValidateMatchesRender checks that Input.Validate reports exactly what a
// render reports, and leaves out only the Terraform files.
func TestValidateMatchesRender(t *testing.T) {
	srcs := examples(t)
	for i, s := range []string{
		head + "    - name: db\n      template: postgres\n      with:\n        storageGB: 3000\n        sise: small\n",
		head + "    - name: assets\n      template: bucket\n      with:\n        public: true\n",
		head + "    - name: db\n      template: postgres\n      with:\n        backupRetentionDays: 7\n    - name: c\n      template: cache\n",
		strings.Replace(head, "terraform", "crossplane", 1) + "    - name: q\n      template: queue\n    - name: x\n      template: nope\n",
	} {
		srcs = append(srcs, compiler.Source{Name: "case" + strconv.Itoa(i) + ".yaml", Data: []byte(s)})
	}
	for _, src := range srcs {
		in := compiler.Input{Stacks: []compiler.Source{src}, Now: now}
		res, want := newCompiler(t).Compile(context.Background(), in)
		in.Validate = true
		vres, got := newCompiler(t).Compile(context.Background(), in)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: validate reports\n%v\nrender reports\n%v", src.Name, got, want)
		}
		if len(vres.Stacks) != len(res.Stacks) {
			t.Fatalf("%s: validate compiled %d stacks, render %d", src.Name, len(vres.Stacks), len(res.Stacks))
		}
		for i, s := range vres.Stacks {
			if s.Target == "terraform" && len(s.Files) > 0 {
				t.Errorf("%s: validate produced Terraform files", src.Name)
			}
			if s.Target == "crossplane" && !reflect.DeepEqual(s.Files, withoutRecord(res.Stacks[i].Files)) {
				t.Errorf("%s: validate produced other Crossplane files than render", src.Name)
			}
		}
	}
}

// withoutRecord drops the render record, which validate does not build.
func withoutRecord(fs []compiler.File) []compiler.File {
	var out []compiler.File
	for _, f := range fs {
		if path.Base(f.Path) != record.FileName {
			out = append(out, f)
		}
	}
	return out
}
