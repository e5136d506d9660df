package terraform

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/drift"
)

func TestReadPlan(t *testing.T) {
	const planJSON = `{
  "format_version": "1.2",
  "resource_drift": [
    {"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b",
     "change": {"actions": ["update"],
       "before": {"tags": {"team": "a", "env": "prod"}, "rule": [{"x": 1, "y": [1, 2]}], "password": "pw-before-1", "note": "uses pw-after-22 inline", "labels": null, "same": "s"},
       "after":  {"tags": {"team": "b"}, "rule": [{"x": 2, "y": [1]}], "password": "pw-after-22", "note": "uses pw-after-22 inline", "labels": {}, "same": "s"},
       "before_sensitive": {"password": true}, "after_sensitive": {"password": true}}},
    {"address": "module.db.aws_db_instance.this", "mode": "managed", "type": "aws_db_instance", "name": "this",
     "change": {"actions": ["delete"], "before": {"pw": "deleted-secret"}, "after": null, "before_sensitive": {"pw": true}, "after_sensitive": false}},
    {"address": "aws_instance.moved", "previous_address": "aws_instance.old", "mode": "managed", "type": "aws_instance", "name": "moved",
     "change": {"actions": ["no-op"], "before": {"a": 1}, "after": {"a": 1}}},
    {"address": "data.x.y", "mode": "data", "type": "x", "name": "y", "change": {"actions": ["read"]}},
    {"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k",
     "change": {"actions": ["update"], "before": {"policy": {"a": "old-policy"}}, "after": {"policy": {"a": "new-policy"}},
       "before_sensitive": true, "after_sensitive": true}}
  ]
}`
	got := readPlan(t, planJSON)
	want := []drift.ResourceDrift{
		{Address: "aws_kms_key.k", Type: "aws_kms_key", Action: drift.ActionChanged, Changes: []drift.AttributeChange{
			{Path: "policy", Declared: drift.Masked, Live: drift.Masked, Sensitive: true},
		}},
		{Address: "aws_s3_bucket.b", Type: "aws_s3_bucket", Action: drift.ActionChanged, Changes: []drift.AttributeChange{
			{Path: "labels", Declared: nil, Live: map[string]any{}},
			{Path: "password", Declared: drift.Masked, Live: drift.Masked, Sensitive: true},
			{Path: "rule[0].x", Declared: json.Number("1"), Live: json.Number("2")},
			{Path: "rule[0].y[1]", Declared: json.Number("2"), Live: nil},
			{Path: "tags.env", Declared: "prod", Live: nil},
			{Path: "tags.team", Declared: "a", Live: "b"},
		}},
		{Address: "module.db.aws_db_instance.this", Type: "aws_db_instance", Action: drift.ActionDeleted},
	}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Errorf("ReadPlan:\n got %#v\nwant %#v", got, want)
	}
	b, _ := json.Marshal(got)
	for _, s := range []string{"pw-before-1", "pw-after-22", "deleted-secret", "old-policy", "new-policy"} {
		if strings.Contains(string(b), s) {
			t.Errorf("secret %q in %s", s, b)
		}
	}
	// "note" is unchanged, so it only shows when it differs; check the scrubber
	// directly on a differing value as well.
	d := differ{secrets: new(drift.Secrets)}
	d.secrets.Add("pw-after-22")
	d.diff("", map[string]any{"n": "x pw-after-22"}, map[string]any{"n": "y"}, nil, nil)
	if d.changes[0].Declared != "x (sensitive)" {
		t.Errorf("scrub: %v", d.changes)
	}
}

func TestCleanDiagnostics(t *testing.T) {
	in := `
Error: Invalid expression

  on main.tf line 2, in resource "local_file" "x":
   2:   sensitive_content = "topsecret" +
   3: }

Expected the start of an expression, but found an invalid expression token.

Error: Invalid value

  on main.tf line 9:
   9:   x = var.password
    ├────────────────
    │ var.password is "hunter2"

Bad.
`
	got := CleanDiagnostics(in)
	for _, leak := range []string{"topsecret", "hunter2"} {
		if strings.Contains(got, leak) {
			t.Errorf("%q kept:\n%s", leak, got)
		}
	}
	for _, keep := range []string{"Error: Invalid expression", "on main.tf line 2", "Expected the start", "Error: Invalid value", "Bad."} {
		if !strings.Contains(got, keep) {
			t.Errorf("%q dropped:\n%s", keep, got)
		}
	}
}

// fakeTofu writes a shell script standing in for tofu: it answers `version` and
// runs body for everything else. Only for error paths; see e2e_test.go for real tofu.
func fakeTofu(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tofu")
	script := `#!/bin/sh
if [ "$1" = version ]; then echo '{"terraform_version":"1.10.6","platform":"linux_amd64","provider_selections":{}}'; exit 0; fi
` + body + "\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func tfStack(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	os.Mkdir(filepath.Join(d, ".terraform"), 0o755)
	os.WriteFile(filepath.Join(d, "main.tf"), []byte("# empty\n"), 0o644)
	return d
}

func runOne(c drift.Checker, timeout time.Duration, dir string) drift.StackReport {
	r := drift.Run(context.Background(), drift.RunOptions{Dirs: []string{dir}, Timeout: timeout,
		Checkers: map[drift.Kind]drift.Checker{drift.KindTerraform: c}})
	return r.Stacks[0]
}

func TestCheckErrorPaths(t *testing.T) {
	dir := tfStack(t)
	cases := []struct {
		name    string
		opts    Options
		timeout time.Duration
		want    string
		within  time.Duration
	}{
		{"no binary", Options{}, 0, "no tofu or terraform binary found", time.Second},
		{"missing binary", Options{Binary: "/nonexistent/tofu"}, 0, "/nonexistent/tofu: no such file", time.Second},
		{"crash", Options{Binary: fakeTofu(t, `echo "Error: provider crashed" >&2; exit 1`)}, 0, "tofu plan: Error: provider crashed", 5 * time.Second},
		{"timeout", Options{Binary: fakeTofu(t, `exec sleep 30`), InterruptGrace: time.Second}, 500 * time.Millisecond, "timed out after 500ms", 5 * time.Second},
		{"bad json", Options{Binary: fakeTofu(t, `case "$1" in show) echo '{"format_version":"9.0"}';; esac; exit 0`)}, 0, "tofu show: ", 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.TempDir = t.TempDir()
			c := New(tc.opts)
			defer c.Close()
			start := time.Now()
			s := runOne(c, tc.timeout, dir)
			if s.Status != drift.StatusError || !strings.Contains(s.Error, tc.want) {
				t.Errorf("got %s %q, want error containing %q", s.Status, s.Error, tc.want)
			}
			if e := time.Since(start); e > tc.within {
				t.Errorf("took %s", e)
			}
		})
	}
}

func TestFindBinary(t *testing.T) {
	fake := fakeTofu(t, "exit 0")
	if p, err := FindBinary(fake, "/elsewhere"); err != nil || p != fake {
		t.Errorf("flag: %q %v", p, err)
	}
	if p, err := FindBinary("", fake); err != nil || p != fake {
		t.Errorf("env: %q %v", p, err)
	}
	if _, err := FindBinary("/nonexistent/tofu", ""); err == nil || !strings.Contains(err.Error(), "/nonexistent/tofu") {
		t.Errorf("missing flag binary: %v", err)
	}
	// A relative path is resolved against the working directory now: tofu runs
	// in the stack's directory (issue 17, finding 14).
	t.Chdir(filepath.Dir(filepath.Dir(fake)))
	rel := filepath.Join(".", filepath.Base(filepath.Dir(fake)), filepath.Base(fake))
	if p, err := FindBinary(rel, ""); err != nil || p != fake {
		t.Errorf("relative flag %s: %q %v, want %q", rel, p, err, fake)
	}
	if p, err := FindBinary("", rel); err != nil || p != fake {
		t.Errorf("relative env %s: %q %v, want %q", rel, p, err, fake)
	}
	t.Setenv("PATH", filepath.Dir(fake))
	if p, err := FindBinary("", ""); err != nil || p != fake {
		t.Errorf("PATH: %q %v", p, err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := FindBinary("", ""); err != ErrNoBinary {
		t.Errorf("nothing on PATH: %v", err)
	}
}
