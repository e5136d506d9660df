package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeChecker drifts stacks whose name ends in 3, fails those ending in 7.
var fakeChecker = CheckerFunc(func(_ context.Context, dir string) StackReport {
	switch {
	case strings.HasSuffix(dir, "7"):
		return Failed(errors.New("tofu plan: broken"))
	case strings.HasSuffix(dir, "3"):
		return StackReport{Resources: []ResourceDrift{{Address: "local_file.f", Type: "local_file", Action: ActionChanged,
			Changes: []AttributeChange{{Path: "content", Declared: "a", Live: dir}}}}}
	}
	return StackReport{}
})

// tfStacks makes n Terraform stack directories under a temporary working
// directory and returns it and the stacks, relative to it.
func tfStacks(t *testing.T, n int) (wd string, dirs []string) {
	t.Helper()
	wd = t.TempDir()
	for i := range n {
		d := fmt.Sprintf("stacks/s%02d", i)
		if err := os.MkdirAll(filepath.Join(wd, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(wd, d, "main.tf"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	t.Chdir(wd)
	return wd, dirs
}

// shardReports runs each of n shards over dirs as plat drift check --shard does.
func shardReports(t *testing.T, wd string, dirs []string, n int, pass string) []NamedReport {
	t.Helper()
	var out []NamedReport
	for i := range n {
		s := Shard{Index: i, Count: n}
		mine := Select(dirs, s, wd)
		r := Run(context.Background(), RunOptions{Dirs: mine, Parallel: 2, Checkers: map[Kind]Checker{KindTerraform: fakeChecker}})
		r.Pass = pass
		r.Shard = &ShardInfo{Index: i, Count: n, Stacks: mine, PassStacks: dirs}
		// Through JSON, as merge reads them.
		var buf bytes.Buffer
		if err := WriteJSON(&buf, r); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("r%d.json", i)
		pr, err := ParseReport(name, buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, NamedReport{Name: name, Report: pr})
	}
	return out
}

// untimed clears what differs between two passes over the same stacks:
// timings, and the pass and shard fields.
func untimed(r Report) Report {
	r.StartedAt, r.DurationMS, r.Pass, r.Shard, r.Merged = time.Time{}, 0, "", nil, nil
	r.Stacks = append([]StackReport(nil), r.Stacks...)
	for i := range r.Stacks {
		r.Stacks[i].DurationMS = 0
	}
	return r
}

// TestMergeEqualsUnsharded: merging 4 shards' reports (in any order) gives the
// report of one unsharded pass, apart from timings and shard fields, errors
// and drift included.
func TestMergeEqualsUnsharded(t *testing.T) {
	wd, dirs := tfStacks(t, 40)
	whole := Run(context.Background(), RunOptions{Dirs: dirs, Parallel: 2, Checkers: map[Kind]Checker{KindTerraform: fakeChecker}})
	var buf bytes.Buffer
	if err := WriteJSON(&buf, whole); err != nil {
		t.Fatal(err)
	}
	whole, _ = ParseReport("whole.json", buf.Bytes())

	reports := shardReports(t, wd, dirs, 4, "p1")
	reports[0], reports[3] = reports[3], reports[0]
	merged, err := Merge(reports)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(untimed(merged), untimed(whole)) {
		t.Errorf("merged report differs from the unsharded pass:\nmerged %+v\nwhole  %+v", untimed(merged), untimed(whole))
	}
	if merged.Summary.Errors != 4 || merged.Summary.Drifted != 4 || merged.Summary.Clean != 32 {
		t.Errorf("summary %+v", merged.Summary)
	}
	if merged.Pass != "p1" || merged.Merged == nil || len(merged.Merged.Shards) != 4 || merged.Shard != nil {
		t.Errorf("merge fields: pass %q merged %+v shard %+v", merged.Pass, merged.Merged, merged.Shard)
	}
	total := 0
	for i, s := range merged.Merged.Shards {
		if s.Index != i {
			t.Errorf("merged.shards[%d].index = %d", i, s.Index)
		}
		total += s.Stacks
	}
	if total != 40 {
		t.Errorf("merged shards cover %d stacks", total)
	}
}

// TestMergeEmptyShard: a shard with no stacks is valid and merges.
func TestMergeEmptyShard(t *testing.T) {
	wd, dirs := tfStacks(t, 2)
	reports := shardReports(t, wd, dirs, 8, "p")
	empty := 0
	for _, r := range reports {
		if len(r.Report.Stacks) == 0 {
			empty++
		}
	}
	if empty < 6 {
		t.Fatalf("%d empty shards of 8 over 2 stacks", empty)
	}
	merged, err := Merge(reports)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Stacks) != 2 || merged.Stacks[0].Dir != dirs[0] || merged.Stacks[1].Dir != dirs[1] {
		t.Errorf("stacks %+v", merged.Stacks)
	}
}

func TestMergeRefusals(t *testing.T) {
	wd, dirs := tfStacks(t, 12)
	base := func() []NamedReport { return shardReports(t, wd, dirs, 3, "p1") }
	whole := Run(context.Background(), RunOptions{Dirs: dirs, Checkers: map[Kind]Checker{KindTerraform: fakeChecker}})
	for _, tc := range []struct {
		name   string
		change func([]NamedReport) []NamedReport
		want   []string
	}{
		{"different passes", func(r []NamedReport) []NamedReport {
			r[1].Report.Pass = "p2"
			return r
		}, []string{`reports of different passes: pass "p1" in r0.json, r2.json; pass "p2" in r1.json`}},
		{"missing shard", func(r []NamedReport) []NamedReport { return []NamedReport{r[0], r[2]} },
			[]string{"missing shard 1 of 3 (indexes 0 to 2)"}},
		{"two missing", func(r []NamedReport) []NamedReport { return r[1:2] },
			[]string{"missing shard 0, 2 of 3"}},
		{"duplicated shard", func(r []NamedReport) []NamedReport {
			return append(r, NamedReport{Name: "copy.json", Report: r[2].Report})
		}, []string{"shard 2/3 given twice: r2.json, copy.json"}},
		{"mismatched N", func(r []NamedReport) []NamedReport {
			r[2].Report.Shard.Count = 4
			return r
		}, []string{"mismatched shard counts: N=3 in r0.json, r1.json; N=4 in r2.json"}},
		{"not a shard report", func(r []NamedReport) []NamedReport {
			return append(r, NamedReport{Name: "whole.json", Report: whole})
		}, []string{`whole.json: not a shard report (no "shard"`}},
		{"a merged report", func(r []NamedReport) []NamedReport {
			m, err := Merge(base())
			if err != nil {
				t.Fatal(err)
			}
			return append(r[:2], NamedReport{Name: "merged.json", Report: m})
		}, []string{"merged.json: not a shard report but a merged one"}},
		{"other schema", func(r []NamedReport) []NamedReport {
			r[0].Report.SchemaVersion = "plat.dev/drift-report/v9"
			return r
		}, []string{`r0.json: schemaVersion "plat.dev/drift-report/v9", want "plat.dev/drift-report/v1"`}},
		{"no pass", func(r []NamedReport) []NamedReport {
			r[0].Report.Pass = ""
			return r
		}, []string{"r0.json: shard report without a pass"}},
		{"bad index", func(r []NamedReport) []NamedReport {
			r[0].Report.Shard.Index = 3
			return r
		}, []string{"r0.json: shard 3/3 is not a valid I/N"}},
		{"stacks list does not match", func(r []NamedReport) []NamedReport {
			r[1].Report.Stacks = r[1].Report.Stacks[1:]
			return r
		}, []string{"r1.json: shard.stacks (", "does not match the report's stacks"}},
		{"stack covered by no shard", func(r []NamedReport) []NamedReport {
			for i := range r {
				r[i].Report.Shard.PassStacks = append(append([]string(nil), dirs...), "stacks/ghost")
			}
			return r
		}, []string{"stack stacks/ghost is covered by no shard"}},
		{"different stacks given", func(r []NamedReport) []NamedReport {
			r[2].Report.Shard.PassStacks = append(append([]string(nil), dirs...), "stacks/new")
			return r
		}, []string{"r0.json and r2.json were given different stacks (only in the second: stacks/new)"}},
		{"stack covered twice", func(r []NamedReport) []NamedReport {
			s := r[0].Report.Stacks[0]
			r[1].Report.Stacks = append(r[1].Report.Stacks, s)
			r[1].Report.Shard.Stacks = append(r[1].Report.Shard.Stacks, s.Dir)
			return r
		}, []string{"is in the pass 1 times but covered 2 times (r0.json, r1.json)"}},
		{"several problems at once", func(r []NamedReport) []NamedReport {
			r[0].Report.Shard = nil
			r[1].Report.SchemaVersion = "x"
			return r
		}, []string{"r0.json: not a shard report", `r1.json: schemaVersion "x"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Merge(tc.change(base()))
			if err == nil {
				t.Fatal("merged")
			}
			if !errors.Is(err, ErrNotMergeable) {
				t.Errorf("error does not wrap ErrNotMergeable: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
	if _, err := Merge(nil); err == nil {
		t.Error("merged nothing")
	}
}

func TestParseReportErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "r.json: empty file, want a JSON drift report"},
		{"{\n  \"schemaVersion\": \"x\",\n  \"stacks\": [\n", "r.json:4:1: truncated JSON"},
		{"{\n  \"summary\": {\"stacks\": \"two\"}}", `r.json:2:30: summary.stacks: want int, got JSON string`},
		{"{\n  x}", "r.json:2:3: invalid character 'x'"},
		{"{} {}", "r.json:1:4: unexpected text after the report"},
		{`{"shard": {"index": 1.5}}`, "r.json:1:24: shard.index: want int, got JSON number 1.5"},
	} {
		_, err := ParseReport("r.json", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseReport(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
	if _, err := ParseReport("r.json", []byte("{}\n\n")); err != nil {
		t.Errorf("trailing space: %v", err)
	}
}

// FuzzParseReport: any bytes either parse or give an error naming the file;
// and whatever parses either merges alone into a report that encodes, or is
// refused. Never a panic.
func FuzzParseReport(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":"plat.dev/drift-report/v1","pass":"p","shard":{"index":0,"count":1,"stacks":["a"],"passStacks":["a"]},"stacks":[{"dir":"a","status":"clean"}]}`))
	f.Add([]byte(`{"schemaVersion":"plat.dev/drift-report/v1","pass":"p","shard":{"index":0,"count":1,"stacks":["a","a"],"passStacks":["a","a"]},"stacks":[{"dir":"a"},{"dir":"a"}]}`))
	f.Add([]byte(`{"shard":{"index":-1,"count":0}}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReport("f.json", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		m, err := Merge([]NamedReport{{Name: "f.json", Report: r}})
		if err != nil {
			return
		}
		if err := WriteJSON(&bytes.Buffer{}, m); err != nil {
			var ue *json.UnsupportedValueError
			if !errors.As(err, &ue) {
				t.Fatal(err)
			}
		}
		if len(m.Stacks) != len(r.Shard.PassStacks) {
			t.Fatalf("merged %d stacks of %d", len(m.Stacks), len(r.Shard.PassStacks))
		}
	})
}
