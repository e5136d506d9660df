package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/internal/benchcmp"
)

// shard: sharded drift (issue 12) of 40 real tofu stacks as 2 shards, 2 plat
// processes at once with --parallel 1 each, then plat drift merge, against one
// plat drift check --parallel 2 pass over the same stacks. Hashing 40 stack
// names into 2 shards rarely splits them 20/20, and the larger shard sets the
// wall time; a third command runs the same stacks under names that do split
// 20/20 (symlinks), which isolates what sharding itself costs.
func (b *bench) shard(ctx context.Context) error {
	total := 40
	if b.smoke {
		total = 4
	}
	tofu, env, dirs, err := b.tofuStacks(ctx, "shard-stacks", total)
	if err != nil {
		return err
	}
	names := make([]string, len(dirs))
	for i, d := range dirs {
		names[i] = filepath.Base(d)
	}
	stacksDir := filepath.Dir(dirs[0])
	out := filepath.Join(b.work, "shard-out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}

	// The same stacks under names that hash 20/20 (deterministic: the first
	// prefix b0-, b1-, ... that does).
	balDir := filepath.Join(b.work, "shard-balanced")
	if err := os.MkdirAll(balDir, 0o755); err != nil {
		return err
	}
	var balanced []string
	for k := 0; ; k++ {
		balanced = balanced[:0]
		for _, n := range names {
			balanced = append(balanced, fmt.Sprintf("b%d-%s", k, n))
		}
		if len(drift.Select(balanced, drift.Shard{Index: 0, Count: 2}, "")) == len(balanced)/2 {
			break
		}
	}
	for i, n := range balanced {
		if err := os.Symlink(dirs[i], filepath.Join(balDir, n)); err != nil {
			return err
		}
	}

	whole := benchcmp.Command{Name: fmt.Sprintf("plat drift check --parallel 2 (%d stacks)", total), Dir: stacksDir, Env: env,
		Args: append([]string{b.plat, "drift", "check", "--parallel", "2", "--quiet", "--tofu", tofu, "--format", "json", "-o", filepath.Join(out, "whole.json")}, names...)}
	// Two shard processes at once, then the merge.
	script := fmt.Sprintf(`o=%[1]s
%[2]s drift check --shard 0/2 --pass bench --parallel 1 --quiet --tofu %[3]s --format json -o $o/r0.json "$@" & a=$!
%[2]s drift check --shard 1/2 --pass bench --parallel 1 --quiet --tofu %[3]s --format json -o $o/r1.json "$@" & b=$!
wait $a && wait $b && %[2]s drift merge --format json -o $o/merged.json $o/r0.json $o/r1.json`, out, b.plat, tofu)
	split := func(list []string) string {
		return fmt.Sprintf("%d/%d", len(drift.Select(list, drift.Shard{Index: 0, Count: 2}, "")), len(drift.Select(list, drift.Shard{Index: 1, Count: 2}, "")))
	}
	sharded := benchcmp.Command{Name: fmt.Sprintf("2 shards x --parallel 1 + merge (hash split %s)", split(names)), Dir: stacksDir, Env: env,
		Args: append([]string{"bash", "-c", script, "bash"}, names...)}
	even := benchcmp.Command{Name: fmt.Sprintf("2 shards x --parallel 1 + merge (names that split %s)", split(balanced)), Dir: balDir, Env: env,
		Args: append([]string{"bash", "-c", script, "bash"}, balanced...)}
	stats, err := b.compare(ctx, fmt.Sprintf("Sharded drift over %d stacks (issue 12)", total), 1, 3, whole, sharded, even)
	if err != nil {
		return err
	}

	// The last merged report covers as many stacks as the unsharded one, with
	// the same outcome.
	merged, err := readBenchReport(filepath.Join(out, "merged.json"))
	if err != nil {
		return err
	}
	unsharded, err := readBenchReport(filepath.Join(out, "whole.json"))
	if err != nil {
		return err
	}
	if merged.Summary != unsharded.Summary || len(merged.Stacks) != total {
		return fmt.Errorf("merged summary %+v, unsharded %+v", merged.Summary, unsharded.Summary)
	}
	largest := slices.Max([]int{len(drift.Select(names, drift.Shard{Index: 0, Count: 2}, "")), len(drift.Select(names, drift.Shard{Index: 1, Count: 2}, ""))})
	fmt.Fprintf(b.out, "sharded (hash split) / --parallel 2 = %.3f, where the uneven split alone would give %.2f (largest shard %d of %d stacks); sharded (even split) / --parallel 2 = %.3f (target: overhead < 5%%, i.e. <= 1.05).\n\n",
		ratio(stats[1], stats[0]), float64(largest)/(float64(total)/2), largest, total, ratio(stats[2], stats[0]))
	return nil
}

func readBenchReport(path string) (drift.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return drift.Report{}, err
	}
	return drift.ParseReport(path, b)
}
