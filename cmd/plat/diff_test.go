package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/internal/inventory"
)

// copyShippedCatalog writes the shipped catalog into dir, changing each
// file named in edits by its old -> new replacement (which must occur once).
func copyShippedCatalog(t *testing.T, dir string, edits map[string][2]string) {
	t.Helper()
	done := map[string]bool{}
	err := fs.WalkDir(catalog.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(catalog.FS, p)
		if err != nil {
			return err
		}
		if e, ok := edits[p]; ok {
			if n := strings.Count(string(b), e[0]); n != 1 {
				return fmt.Errorf("%s: %q occurs %d times, want once", p, e[0], n)
			}
			b = []byte(strings.Replace(string(b), e[0], e[1], 1))
			done[p] = true
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range edits {
		if !done[p] {
			t.Fatalf("catalog has no %s", p)
		}
	}
}

// TestDiffBlastRadius runs plat diff over 64 generated stacks against a copy
// of the shipped catalog that tightens postgres.prod-backup-retention (14 ->
// 21 days) and bumps the bucket module (1.0.0 -> 1.1.0). The stacks come in
// four kinds by index i % 4:
//
//	0: prod postgres keeping backups 14 days       -> breaks
//	1: prod postgres keeping backups 30 days       -> unchanged
//	2: dev bucket (and a queue)                    -> files change (module 1.1.0)
//	3: dev queue                                   -> unchanged
//
// so the stacks that break and those whose files change are known from the
// generator alone.
func TestDiffBlastRadius(t *testing.T) {
	dir := t.TempDir()
	newCat := filepath.Join(dir, "catalog-next")
	copyShippedCatalog(t, newCat, map[string][2]string{
		"postgres/template.cue": {"parameters.backupRetentionDays < 14", "parameters.backupRetentionDays < 21"},
		"bucket/template.cue":   {`version:   "1.0.0"`, `version:   "1.1.0"`},
	})
	const n = 64
	var wantBreaks, wantFiles []string
	retentionLine := 0
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("app-%03d", i)
		env, resources := "dev", ""
		switch i % 4 {
		case 0, 1:
			days := 14
			if i%4 == 1 {
				days = 30
			}
			env = "prod"
			resources = fmt.Sprintf("    - name: db\n      template: postgres\n      with:\n        backupRetentionDays: %d\n", days)
		case 2:
			resources = "    - name: files\n      template: bucket\n    - name: jobs\n      template: queue\n"
		case 3:
			resources = "    - name: jobs\n      template: queue\n"
		}
		stack := fmt.Sprintf("apiVersion: plat/v1\nkind: Stack\nmetadata:\n  name: %s\n  team: team-%d\n  environment: %s\n  costCenter: CC-%04d\nspec:\n  target: terraform\n  region: eu-west-1\n  resources:\n%s",
			name, i%5, env, 1000+i, resources)
		if i%4 == 0 {
			wantBreaks = append(wantBreaks, name)
			lines := strings.Split(stack, "\n")
			retentionLine = slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "backupRetentionDays") }) + 1
		}
		if i%4 == 2 {
			wantFiles = append(wantFiles, name)
		}
		p := filepath.Join(dir, "apps", fmt.Sprintf("team-%d", i%5), name, "platform.yaml")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(stack), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	code, out, errs := platRun(t, nil, "diff", "--catalog", newCat, "--format", "json", filepath.Join(dir, "apps"))
	if code != 1 {
		t.Fatalf("plat diff: exit %d, want 1 (stacks break)\n%s", code, errs)
	}
	var rep inventory.DiffReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if len(rep.Stacks) != n {
		t.Fatalf("report has %d stacks, want %d", len(rep.Stacks), n)
	}
	var gotBreaks, gotFiles []string
	for _, s := range rep.Stacks {
		switch s.Verdict {
		case inventory.VerdictBreaks:
			gotBreaks = append(gotBreaks, s.Name)
			if len(s.New) != 1 || s.New[0].ID != "postgres.prod-backup-retention" || s.New[0].Severity != "error" || s.New[0].Line != retentionLine {
				t.Errorf("%s: new diagnostics %+v, want one postgres.prod-backup-retention error on line %d", s.Name, s.New, retentionLine)
			}
		case inventory.VerdictChanges:
			gotFiles = append(gotFiles, s.Name)
			if len(s.Files) != 1 || s.Files[0].Path != s.Name+"/main.tf" || s.Files[0].Change != inventory.FileChanged {
				t.Errorf("%s: files %+v, want %s/main.tf changed", s.Name, s.Files, s.Name)
			}
			if len(s.Modules) != 1 || s.Modules[0].Resource != "files" || s.Modules[0].From.Version != "1.0.0" || s.Modules[0].To.Version != "1.1.0" {
				t.Errorf("%s: module changes %+v, want files 1.0.0 -> 1.1.0", s.Name, s.Modules)
			}
		case inventory.VerdictUnchanged:
		default:
			t.Errorf("%s: verdict %s", s.Name, s.Verdict)
		}
	}
	slices.Sort(gotBreaks)
	slices.Sort(gotFiles)
	if !slices.Equal(gotBreaks, wantBreaks) {
		t.Errorf("stacks that break: %v\nwant %v", gotBreaks, wantBreaks)
	}
	if !slices.Equal(gotFiles, wantFiles) {
		t.Errorf("stacks whose files change: %v\nwant %v", gotFiles, wantFiles)
	}
	if rep.Summary.Breaks != n/4 || rep.Summary.FilesChange != n/4 || rep.Summary.Unchanged != n/2 {
		t.Errorf("summary %+v", rep.Summary)
	}

	// The same report as text names the same stacks, and the output order
	// does not depend on scheduling: a second run is byte for byte the same.
	_, text1, _ := platRun(t, nil, "diff", "--catalog", newCat, filepath.Join(dir, "apps"))
	_, text2, _ := platRun(t, nil, "diff", "--catalog", newCat, filepath.Join(dir, "apps"))
	if text1 != text2 {
		t.Errorf("two runs differ:\n%s\n---\n%s", text1, text2)
	}
	for _, name := range wantBreaks {
		if !strings.Contains(text1, "("+name+"): breaks\n") {
			t.Errorf("text report does not say %s breaks", name)
		}
	}
}
