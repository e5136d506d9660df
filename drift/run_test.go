package drift

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func mkStack(t *testing.T, files map[string]string) string {
	t.Helper()
	d := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestDetectKind(t *testing.T) {
	cases := []struct {
		files map[string]string
		kind  Kind
		err   string
	}{
		{map[string]string{"main.tf": ""}, KindTerraform, ""},
		{map[string]string{"main.tf.json": "{}"}, KindTerraform, ""},
		{map[string]string{"b.yaml": "---\napiVersion: v1\nkind: ConfigMap\n"}, KindCrossplane, ""},
		{map[string]string{"values.yaml": "replicas: 2\n"}, "", "not a Terraform or Crossplane stack"},
		{map[string]string{}, "", "not a Terraform or Crossplane stack"},
	}
	for _, c := range cases {
		k, err := DetectKind(mkStack(t, c.files))
		if k != c.kind || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%v: got %q %v", c.files, k, err)
		}
	}
	if _, err := DetectKind(filepath.Join(t.TempDir(), "nope")); err == nil || err.Error() != "no such directory" {
		t.Errorf("missing: %v", err)
	}
}

// TestRun checks ordering, the parallelism bound, per-stack timeouts, panicking
// into errors never happening, and ignore rules, with fake checkers.
func TestRun(t *testing.T) {
	var running, peak atomic.Int32
	tf := CheckerFunc(func(ctx context.Context, dir string) StackReport {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		switch filepath.Base(dir) {
		case "slow":
			<-ctx.Done()
			return Failed(context.Cause(ctx))
		case "drifted":
			return StackReport{Resources: []ResourceDrift{
				{Address: "b.x", Action: ActionChanged, Changes: []AttributeChange{{Path: "tags.z"}, {Path: "tags.a"}}},
				{Address: "a.x", Action: ActionDeleted},
				{Address: "aws_s3_bucket.logs", Action: ActionChanged, Changes: []AttributeChange{{Path: "tags.managed_by"}}},
			}}
		}
		time.Sleep(20 * time.Millisecond)
		return StackReport{}
	})
	root := t.TempDir()
	var dirs []string
	for _, name := range []string{"drifted", "c1", "slow", "c2", "c3", "c4"} {
		d := filepath.Join(root, name)
		os.Mkdir(d, 0o755)
		os.WriteFile(filepath.Join(d, "main.tf"), nil, 0o644)
		dirs = append(dirs, d)
	}
	os.WriteFile(filepath.Join(dirs[0], IgnoreFileName), []byte("aws_s3_bucket.*:tags.*\n"), 0o644)
	var events []Event
	r := Run(context.Background(), RunOptions{
		Dirs: dirs, Parallel: 2, Timeout: 200 * time.Millisecond,
		Checkers: map[Kind]Checker{KindTerraform: tf},
		Progress: func(e Event) { events = append(events, e) },
	})
	if p := peak.Load(); p > 2 {
		t.Errorf("peak concurrency %d > 2", p)
	}
	for i, s := range r.Stacks {
		if s.Dir != dirs[i] || s.Kind != KindTerraform {
			t.Errorf("stack %d: %s %s", i, s.Dir, s.Kind)
		}
	}
	d := r.Stacks[0]
	if d.Status != StatusDrifted || len(d.Resources) != 2 || d.Resources[0].Address != "a.x" || d.Resources[1].Changes[0].Path != "tags.a" || d.Ignored != 1 {
		t.Errorf("drifted stack: %+v", d)
	}
	if s := r.Stacks[2]; s.Status != StatusError || s.Error != "timed out after 200ms" {
		t.Errorf("slow stack: %+v", s)
	}
	if r.Summary != (Summary{Stacks: 6, Clean: 4, Drifted: 1, Errors: 1, DriftedResources: 2}) {
		t.Errorf("summary %+v", r.Summary)
	}
	if len(events) != 12 || events[11].Done != 6 || events[11].Total != 6 {
		t.Errorf("events: %d, last %+v", len(events), events[len(events)-1])
	}

	// No checker for a kind, and a cancelled context.
	xp := mkStack(t, map[string]string{"x.yaml": "apiVersion: v1\nkind: X\n"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = Run(ctx, RunOptions{Dirs: []string{xp}, Checkers: map[Kind]Checker{}})
	if s := r.Stacks[0]; s.Status != StatusError || !strings.Contains(s.Error, "not checked") {
		t.Errorf("cancelled: %+v", s)
	}
	r = Run(context.Background(), RunOptions{Dirs: []string{xp}})
	if s := r.Stacks[0]; s.Status != StatusError || !strings.Contains(s.Error, "crossplane stack: no checker") {
		t.Errorf("no checker: %+v", s)
	}
}

func TestIgnore(t *testing.T) {
	rules, err := ParseIgnore("x", strings.NewReader(`
# noise
aws_s3_bucket.*:tags.*
module.db.*
*:metadata.annotations.*
`))
	if err != nil {
		t.Fatal(err)
	}
	in := []ResourceDrift{
		{Address: "aws_s3_bucket.a", Action: ActionChanged, Changes: []AttributeChange{{Path: "tags.team"}, {Path: "acl"}}},
		{Address: "aws_s3_bucket.b", Action: ActionChanged, Changes: []AttributeChange{{Path: "tags.env"}}},
		{Address: "aws_s3_bucket.c", Action: ActionDeleted},
		{Address: "module.db.aws_db_instance.this[0]", Action: ActionDeleted},
		{Address: "module.dbx.aws_db_instance.this", Action: ActionDeleted},
		{Address: "v1/ConfigMap/ns/x", Action: ActionChanged, Changes: []AttributeChange{{Path: "metadata.annotations.a"}}},
	}
	out, n := rules.Apply(in)
	var got []string
	for _, r := range out {
		got = append(got, r.Address)
	}
	if strings.Join(got, " ") != "aws_s3_bucket.a aws_s3_bucket.c module.dbx.aws_db_instance.this" || n != 4 || len(out[0].Changes) != 1 || len(in[0].Changes) != 2 {
		t.Errorf("Apply: %v (%d dropped) %+v", got, n, out)
	}
	for _, bad := range []string{":tags", "a:", "a b"} {
		if _, err := ParseIgnore("f", strings.NewReader(bad)); err == nil || !strings.HasPrefix(err.Error(), "f:1: ") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	for _, c := range []struct {
		p, s string
		ok   bool
	}{{"*", "", true}, {"a*b*c", "aXbYc", true}, {"a*b", "ab.b", true}, {"a*b", "abc", false}, {"rule[0].*", "rule[0].x", true}, {"*.x", "a.y", false}} {
		if glob(c.p, c.s) != c.ok {
			t.Errorf("glob(%q, %q) != %v", c.p, c.s, c.ok)
		}
	}
}

func TestFormats(t *testing.T) {
	r := Report{SchemaVersion: SchemaVersion, Stacks: []StackReport{
		{Dir: "a|b", Kind: KindTerraform, Status: StatusDrifted, Resources: []ResourceDrift{
			{Address: "x.y", Action: ActionChanged, Changes: []AttributeChange{
				{Path: "p", Declared: "<old>", Live: "new|v"},
				{Path: "s", Declared: "leak-if-shown", Live: "x", Sensitive: true},
			}},
		}},
		{Dir: "e", Status: StatusError, Error: "tofu plan: Error: bad\n\nmore"},
	}}
	r.Summary = Summarize(r.Stacks)
	var b bytes.Buffer
	WriteText(&b, r)
	want := `a|b: drifted (1 resource)
  ~ x.y: changed
      p: "<old>" -> "new|v"
      s: (sensitive) -> (sensitive)
e: error
    tofu plan: Error: bad
    
    more
2 stacks: 1 drifted (1 resource), 0 clean, 1 error
`
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	WriteMarkdown(&b, r)
	md := b.String()
	if !strings.Contains(md, "<code>a&#124;b</code>") || !strings.Contains(md, `<code>"&lt;old&gt;"</code>`) || !strings.Contains(md, `<code>"new&#124;v"</code>`) || strings.Contains(md, "leak-if-shown") {
		t.Errorf("markdown:\n%s", md)
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error("ParseFormat(yaml) accepted")
	}
}

// TestRunAbandonsStuckCheck: a check that ignores its context (blocked in a
// system call, a tool that will not die) must not hold the pass, and with it
// drift check's exit or drift watch's next pass, past its timeout and grace;
// the same holds when the pass is cancelled (SIGTERM).
func TestRunAbandonsStuckCheck(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	stuck := CheckerFunc(func(context.Context, string) StackReport {
		<-release
		return StackReport{}
	})
	dir := mkStack(t, map[string]string{"main.tf": ""})
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		cancel  time.Duration // cancel the pass after this long; 0: never
		want    string
	}{
		{"timeout", 50 * time.Millisecond, 0, "timed out after 50ms; the check did not stop within 100ms and was abandoned"},
		{"cancelled", 0, 50 * time.Millisecond, "context canceled; the check did not stop within 100ms and was abandoned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel > 0 {
				time.AfterFunc(tc.cancel, cancel)
			}
			done := make(chan Report, 1)
			go func() {
				done <- Run(ctx, RunOptions{
					Dirs:     []string{dir},
					Timeout:  tc.timeout,
					Grace:    100 * time.Millisecond,
					Checkers: map[Kind]Checker{KindTerraform: stuck},
				})
			}()
			select {
			case r := <-done:
				if s := r.Stacks[0]; s.Status != StatusError || s.Error != tc.want {
					t.Errorf("got %s %q, want error %q", s.Status, s.Error, tc.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run still waiting for a stuck check after 5s")
			}
		})
	}
}
