package drift

import (
	"crypto/sha256"
	"fmt"
	"math"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func stackNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("stacks/team-%d/s%04d", i%7, i)
	}
	return out
}

func assign(keys []string, n int) map[string]int {
	m := make(map[string]int, len(keys))
	for _, k := range keys {
		m[k] = ShardOf(k, n)
	}
	return m
}

// TestShardOfDocumentedRule recomputes the rule docs/drift.md gives (highest
// big-endian SHA-256 prefix of "key\nI" wins) independently, so the assignment
// cannot change without the documentation, and pods of different plat builds
// agree.
func TestShardOfDocumentedRule(t *testing.T) {
	for _, key := range append(stackNames(200), "", "a", "stacks/ünïcode", "../outside") {
		for _, n := range []int{1, 2, 3, 4, 7, 16} {
			want, best := 0, new(big.Int)
			for i := range n {
				sum := sha256.Sum256([]byte(key + "\n" + fmt.Sprint(i)))
				score := new(big.Int).SetBytes(sum[:8])
				if i == 0 || score.Cmp(best) > 0 {
					want, best = i, score
				}
			}
			if got := ShardOf(key, n); got != want {
				t.Fatalf("ShardOf(%q, %d) = %d, want %d", key, n, got, want)
			}
		}
	}
	// The sha256sum example in docs/drift.md.
	if got := ShardOf("stacks/a", 4); got != 3 {
		t.Errorf("ShardOf(stacks/a, 4) = %d, docs/drift.md says 3", got)
	}
}

// TestShardPartition: with 1,000 stacks every stack is in exactly one shard,
// and the shards are about equally large.
func TestShardPartition(t *testing.T) {
	dirs := stackNames(1000)
	for _, n := range []int{1, 2, 4, 10} {
		seen := map[string]int{}
		for i := range n {
			part := Select(dirs, Shard{Index: i, Count: n}, "")
			// binomial(1000, 1/n): within 5 standard deviations of the mean
			mean := 1000.0 / float64(n)
			sd := math.Sqrt(1000 * (1 / float64(n)) * (1 - 1/float64(n)))
			if d := float64(len(part)) - mean; d > 5*sd+0.5 || -d > 5*sd+0.5 {
				t.Errorf("N=%d: shard %d has %d stacks, want about %.0f", n, i, len(part), mean)
			}
			prev := -1
			for _, d := range part {
				seen[d]++
				idx := indexOf(dirs, d)
				if idx <= prev {
					t.Fatalf("N=%d: shard %d is not in the given order at %s", n, i, d)
				}
				prev = idx
			}
		}
		for _, d := range dirs {
			if seen[d] != 1 {
				t.Fatalf("N=%d: %s is in %d shards", n, d, seen[d])
			}
		}
	}
}

// TestShardStability: adding one stack to 1,000 moves none of the others (a
// stack's shard depends only on its own path), and adding a shard moves about
// 1/(N+1) of the stacks, all of them to the new shard.
func TestShardStability(t *testing.T) {
	dirs := stackNames(1000)
	const n = 4
	before := assign(dirs, n)
	after := assign(append(dirs, "stacks/new"), n)
	moved := 0
	for _, d := range dirs {
		if before[d] != after[d] {
			moved++
		}
	}
	if moved != 0 {
		t.Errorf("adding one stack to 1,000 moved %d others", moved)
	}
	if s := after["stacks/new"]; s < 0 || s >= n {
		t.Errorf("new stack in shard %d", s)
	}

	grown := assign(dirs, n+1)
	moved = 0
	for _, d := range dirs {
		if before[d] != grown[d] {
			moved++
			if grown[d] != n {
				t.Fatalf("%s moved from shard %d to %d, not to the new shard %d", d, before[d], grown[d], n)
			}
		}
	}
	// About 1000/(n+1) = 200; binomial sd ~12.6.
	if moved < 140 || moved > 260 {
		t.Errorf("going from %d to %d shards moved %d of 1000 stacks, want about 200", n, n+1, moved)
	}
}

func TestStackKey(t *testing.T) {
	wd := filepath.FromSlash("/work/repo")
	for _, tc := range []struct{ dir, wd, want string }{
		{"stacks/a", wd, "stacks/a"},
		{"./stacks/a/", wd, "stacks/a"},
		{"stacks//a", wd, "stacks/a"},
		{"/work/repo/stacks/a", wd, "stacks/a"},
		{"/elsewhere/a", wd, "../../elsewhere/a"},
		{".", wd, "."},
		{"./stacks/a/", "", "stacks/a"},
	} {
		if got := StackKey(tc.dir, tc.wd); got != tc.want {
			t.Errorf("StackKey(%q, %q) = %q, want %q", tc.dir, tc.wd, got, tc.want)
		}
	}
	// The same checkout in two places shards alike.
	a := Select([]string{"/pod1/src/x", "/pod1/src/y", "/pod1/src/z"}, Shard{0, 2}, "/pod1/src")
	b := Select([]string{"/pod2/src/x", "/pod2/src/y", "/pod2/src/z"}, Shard{0, 2}, "/pod2/src")
	for i := range a {
		a[i] = strings.TrimPrefix(a[i], "/pod1")
	}
	for i := range b {
		b[i] = strings.TrimPrefix(b[i], "/pod2")
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("pods disagree: %v vs %v", a, b)
	}
}

func TestParseShard(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == JobIndexEnv {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		in, env string
		want    Shard
		err     string
	}{
		{in: "0/1", want: Shard{0, 1}},
		{in: "3/4", want: Shard{3, 4}},
		{in: "env/4", env: "2", want: Shard{2, 4}},
		{in: "4/4", err: `shard "4/4": I must be 0 to 3 (N-1), got 4`},
		{in: "0/0", err: `shard "0/0": N must be 1 to 10000`},
		{in: "1", err: `shard "1": want I/N`},
		{in: "", err: `shard "": want I/N`},
		{in: "a/4", err: `shard "a/4": I "a" is not a number`},
		{in: "-1/4", err: `shard "-1/4": I "-1" is not a number`},
		{in: "1/x", err: `shard "1/x": N "x" is not a number`},
		{in: "1/", err: `shard "1/": N is empty`},
		{in: "01/4", err: `I "01" has a leading zero`},
		{in: "1/4/5", err: `N "4/5" is not a number`},
		{in: "0/99999999999999999999", err: `is too large`},
		{in: "env/4", err: `shard "env/4": $JOB_COMPLETION_INDEX is not set`},
		{in: "env/4", env: "4", err: `shard "env/4" ($JOB_COMPLETION_INDEX="4"): I must be 0 to 3 (N-1), got 4`},
		{in: "env/4", env: "two", err: `($JOB_COMPLETION_INDEX="two"): I "two" is not a number`},
		{in: "ENV/4", env: "1", err: `I "ENV" is not a number`},
	} {
		got, err := ParseShard(tc.in, env(tc.env))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseShard(%q): %v", tc.in, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("ParseShard(%q) = %v, want %v", tc.in, got, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseShard(%q, env %q) error %v, want %q", tc.in, tc.env, err, tc.err)
		}
	}
}

func TestPassID(t *testing.T) {
	id := NewPassID(time.Date(2026, 12, 2, 1, 35, 14, 0, time.UTC))
	if !strings.HasPrefix(id, "20261202T013514Z-") || len(id) != len("20261202T013514Z-")+8 {
		t.Errorf("NewPassID = %q", id)
	}
	if err := ValidPassID(id); err != nil {
		t.Error(err)
	}
	now := time.Now()
	if a, b := NewPassID(now), NewPassID(now); a == b {
		t.Errorf("two generated pass ids are equal: %s", a)
	}
	for _, bad := range []string{"", "a b", "x/y", strings.Repeat("a", 129), "naïve", "$(id)"} {
		if ValidPassID(bad) == nil {
			t.Errorf("ValidPassID(%q) accepted", bad)
		}
	}
	for _, good := range []string{"drift-28961234", "nightly_2026.12.02", "run:42"} {
		if err := ValidPassID(good); err != nil {
			t.Errorf("ValidPassID(%q): %v", good, err)
		}
	}
}

// FuzzParseShard: any --shard value and index either parses to a valid shard
// that prints back as itself, or is an error; never a panic.
func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/1", "3/4", "env/4", "4/4", "a/b", "/", "1/0", "9999/10000"} {
		f.Add(s, "2")
	}
	f.Fuzz(func(t *testing.T, s, idx string) {
		got, err := ParseShard(s, func(string) string { return idx })
		if err != nil {
			return
		}
		if got.Count < 1 || got.Count > MaxShards || got.Index < 0 || got.Index >= got.Count {
			t.Fatalf("ParseShard(%q) = %v: not a valid shard", s, got)
		}
		if !strings.HasPrefix(s, "env/") && got.String() != s {
			t.Fatalf("ParseShard(%q) = %v", s, got)
		}
	})
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
