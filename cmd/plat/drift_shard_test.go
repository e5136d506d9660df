package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/internal/testtools"
)

// TestDriftShardsBinary is issue 12's test of sharded drift: 40 real tofu
// stacks (30 of the built-in terraform_data, 10 hashicorp/local files) checked
// as 4 shards by 4 real plat processes at once, merged by a fifth: the merged
// report equals (apart from timings and shard fields) one unsharded pass over
// the same stacks, with drift in some stacks. Then one stack breaks, its shard
// is run again, and the merged report has the broken stack as an error and
// exits 1.
func TestDriftShardsBinary(t *testing.T) {
	plat, err := exec.LookPath("plat")
	if err != nil {
		t.Fatal(err)
	}
	tofu := testtools.Bin(t, "tofu")
	root := t.TempDir()
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+testtools.MirrorConfig(t), "CHECKPOINT_DISABLE=1",
		"PLAT_TF_BINARY="+tofu, "PLAT_DRIFT_PASS=", "JOB_COMPLETION_INDEX=")
	const total = 40
	var dirs []string
	for i := range total {
		d := fmt.Sprintf("stacks/s%02d", i)
		tf := fmt.Sprintf("resource \"terraform_data\" \"d\" {\n  input = {stack = %d}\n}\n", i)
		if i%4 == 0 {
			tf = fmt.Sprintf("resource \"local_file\" \"f\" {\n  filename = \"${path.module}/f.txt\"\n  content  = \"stack %d\"\n}\n", i)
		}
		writeFile(t, filepath.Join(root, d, "main.tf"), tf)
		dirs = append(dirs, d)
	}
	// Set up with one shared plugin cache, two stacks at a time; inits one at a
	// time so they never race on the cache.
	setupEnv := append(slices.Clone(env), "TF_PLUGIN_CACHE_DIR="+t.TempDir())
	var initMu sync.Mutex
	work := make(chan string)
	errs := make(chan error, total)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				for _, args := range [][]string{{"init", "-input=false"}, {"apply", "-auto-approve", "-input=false"}} {
					if args[0] == "init" {
						initMu.Lock()
					}
					cmd := exec.Command(tofu, args...)
					cmd.Dir, cmd.Env = filepath.Join(root, d), setupEnv
					out, err := cmd.CombinedOutput()
					if args[0] == "init" {
						initMu.Unlock()
					}
					if err != nil {
						errs <- fmt.Errorf("tofu %s in %s: %v\n%s", args[0], d, err, out)
						break
					}
				}
			}
		}()
	}
	for _, d := range dirs {
		work <- d
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Drift behind tofu's back: two files gone, one rewritten.
	for _, i := range []int{0, 8, 20} {
		f := filepath.Join(root, dirs[i], "f.txt")
		if i == 20 {
			writeFile(t, f, "changed by hand")
			continue
		}
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (int, string) {
		cmd := exec.Command(plat, args...)
		cmd.Dir, cmd.Env = root, env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			return ee.ExitCode(), stderr.String()
		case err != nil:
			t.Fatal(err)
		}
		return 0, stderr.String()
	}

	if code, stderr := run(append([]string{"drift", "check", "-q", "--parallel", "2", "--format", "json", "-o", "whole.json"}, dirs...)...); code != 2 {
		t.Fatalf("unsharded pass exited %d, want 2\n%s", code, stderr)
	}
	whole := readReport(t, filepath.Join(root, "whole.json"))
	if whole.Summary != (drift.Summary{Stacks: total, Drifted: 3, Clean: total - 3, DriftedResources: 3}) {
		t.Fatalf("unsharded summary %+v", whole.Summary)
	}

	// Four shards, four processes, at once.
	const n = 4
	shardArgs := func(i int) []string {
		return append([]string{"drift", "check", "-q", "--shard", fmt.Sprintf("%d/%d", i, n), "--pass", "e2e-1",
			"--parallel", "1", "--format", "json", "-o", fmt.Sprintf("r%d.json", i)}, dirs...)
	}
	codes := make([]int, n)
	stderrs := make([]string, n)
	var shardsWG sync.WaitGroup
	for i := range n {
		shardsWG.Add(1)
		go func() {
			defer shardsWG.Done()
			codes[i], stderrs[i] = run(shardArgs(i)...)
		}()
	}
	shardsWG.Wait()
	covered := map[string]int{}
	shardOf := map[string]int{}
	var reports []string
	for i := range n {
		r := readReport(t, filepath.Join(root, fmt.Sprintf("r%d.json", i)))
		want := 0
		if r.Summary.Drifted > 0 {
			want = 2
		}
		if codes[i] != want {
			t.Errorf("shard %d exited %d, want %d\n%s", i, codes[i], want, stderrs[i])
		}
		if r.Pass != "e2e-1" || r.Shard == nil || r.Shard.Index != i || r.Shard.Count != n || !slices.Equal(r.Shard.PassStacks, dirs) {
			t.Fatalf("shard %d: pass %q shard %+v", i, r.Pass, r.Shard)
		}
		for _, s := range r.Stacks {
			covered[s.Dir]++
			shardOf[s.Dir] = i
		}
		t.Logf("shard %d/%d: %d stacks", i, n, len(r.Stacks))
		reports = append(reports, fmt.Sprintf("r%d.json", i))
	}
	for _, d := range dirs {
		if covered[d] != 1 {
			t.Errorf("%s checked by %d shards", d, covered[d])
		}
	}

	if code, stderr := run(append([]string{"drift", "merge", "--format", "json", "-o", "merged.json"}, reports...)...); code != 2 {
		t.Fatalf("merge exited %d, want 2\n%s", code, stderr)
	}
	merged := readReport(t, filepath.Join(root, "merged.json"))
	if merged.Pass != "e2e-1" || merged.Merged == nil || len(merged.Merged.Shards) != n {
		t.Errorf("merged: pass %q merged %+v", merged.Pass, merged.Merged)
	}
	if !reflect.DeepEqual(untimed(merged), untimed(whole)) {
		t.Fatalf("merged report differs from the unsharded pass:\nmerged: %+v\nwhole:  %+v", untimed(merged), untimed(whole))
	}

	// A stack breaks; its shard is run again (as a Job retries a failed
	// index) and the merged report has it as an error: exit 1.
	broken := dirs[13]
	writeFile(t, filepath.Join(root, broken, "main.tf"), "resource \"terraform_data\" \"d\" {\n  input =\n}\n")
	k := shardOf[broken]
	if code, stderr := run(shardArgs(k)...); code != 1 {
		t.Fatalf("shard %d with a broken stack exited %d, want 1\n%s", k, code, stderr)
	}
	code, stderr := run(append([]string{"drift", "merge", "--format", "json", "-o", "merged-broken.json"}, reports...)...)
	if code != 1 {
		t.Fatalf("merge with a broken stack exited %d, want 1\n%s", code, stderr)
	}
	mb := readReport(t, filepath.Join(root, "merged-broken.json"))
	if mb.Summary != (drift.Summary{Stacks: total, Drifted: 3, Clean: total - 4, Errors: 1, DriftedResources: 3}) {
		t.Errorf("merged summary with a broken stack: %+v", mb.Summary)
	}
	for i, s := range untimed(mb).Stacks {
		if s.Dir == broken {
			if s.Status != drift.StatusError || !strings.Contains(s.Error, "main.tf") {
				t.Errorf("broken stack in the merged report: %+v", s)
			}
			continue
		}
		if !reflect.DeepEqual(s, untimed(whole).Stacks[i]) {
			t.Errorf("stack %s changed: %+v", s.Dir, s)
		}
	}
}

func readReport(t *testing.T, path string) drift.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := drift.ParseReport(path, b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// untimed clears what differs between two passes over the same stacks:
// timings, and the pass and shard fields.
func untimed(r drift.Report) drift.Report {
	r.StartedAt, r.DurationMS, r.Pass, r.Shard, r.Merged = time.Time{}, 0, "", nil, nil
	r.Stacks = slices.Clone(r.Stacks)
	for i := range r.Stacks {
		r.Stacks[i].DurationMS = 0
	}
	return r
}
