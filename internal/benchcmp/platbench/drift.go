package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/platdev/plat/internal/benchcmp"
)

// drift: plat drift check --parallel 2 over real tofu stacks (one local_file each)
// against what a shell script does with the same tofu: a sequential loop and an
// `xargs -P 2` loop of `tofu plan -refresh-only -out=PLAN` + `tofu show -json PLAN`.
func (b *bench) drift(ctx context.Context) error {
	total := 100
	if b.smoke {
		total = 2
	}
	tofu, env, all, err := b.tofuStacks(ctx, "stacks", total)
	if err != nil {
		return err
	}
	plans := filepath.Join(b.work, "plans")
	if err := os.MkdirAll(plans, 0o755); err != nil {
		return err
	}
	// One stack, as a script would check it.
	one := fmt.Sprintf(`d=$1; p=%s/$(basename $d).plan; cd $d && %s plan -refresh-only -input=false -lock-timeout=30s -out=$p >/dev/null && %s show -json $p >/dev/null`, plans, tofu, tofu)
	platCmd := func(dirs []string) benchcmp.Command {
		return benchcmp.Command{Name: fmt.Sprintf("plat drift check --parallel 2 (%d stacks)", len(dirs)),
			Args: append([]string{b.plat, "drift", "check", "--parallel", "2", "--quiet", "--tofu", tofu}, dirs...), Env: env}
	}
	n := 20
	if b.smoke {
		n = 2
	}
	twenty := all[:n]
	seq := benchcmp.Command{Name: "sequential tofu loop", Env: env,
		Args: []string{"bash", "-c", fmt.Sprintf(`one() { %s; }; for d in "$@"; do one "$d"; done`, one), "bash"}}
	seq.Args = append(seq.Args, twenty...)
	xargs := benchcmp.Command{Name: "xargs -P 2 tofu loop", Env: env,
		Args: []string{"bash", "-c", fmt.Sprintf(`printf '%%s\n' "$@" | xargs -P 2 -I{} bash -c '%s' _ {}`, strings.ReplaceAll(one, "'", `'\''`)), "bash"}}
	xargs.Args = append(xargs.Args, twenty...)
	stats, err := b.compare(ctx, fmt.Sprintf("Drift over %d stacks", n), 1, 5, platCmd(twenty), xargs, seq)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "plat / xargs -P 2 = %.3f (target: overhead < 5%%, i.e. <= 1.05); sequential / plat = %.2fx (what two stacks at a time gain on this machine; not a target).\n\n",
		ratio(stats[0], stats[1]), ratio(stats[2], stats[0]))

	// Growth: 1 -> 100 stacks.
	fmt.Fprintln(b.out, "Growth of `plat drift check --parallel 2`:")
	fmt.Fprintln(b.out)
	fmt.Fprintln(b.out, "| stacks | median | per stack | peak RSS |")
	fmt.Fprintln(b.out, "| --- | --- | --- | --- |")
	for _, k := range []int{1, 10, 20, 50, 100} {
		if k > total {
			break
		}
		w, r := b.runs(0, 3)
		st, err := benchcmp.Run(ctx, []benchcmp.Command{platCmd(all[:k])}, w, r)
		if err != nil {
			return err
		}
		fmt.Fprintf(b.out, "| %d | %.0f ms | %.0f ms | %.1f MiB |\n", k, ms(st[0].Median()), ms(st[0].Median())/float64(k), float64(st[0].PeakRSS())/(1<<20))
	}
	fmt.Fprintln(b.out)
	return nil
}

// tofuStacks writes n real tofu stacks of one local_file each under
// $WORK/sub (s000, s001, ...), initialised and applied, and returns the tofu
// binary, the environment that installs providers from the cached mirror only,
// and the stack directories.
func (b *bench) tofuStacks(ctx context.Context, sub string, n int) (tofu string, env, dirs []string, err error) {
	tofu = b.bin("tofu")
	mirror := filepath.Join(b.tools, "mirror")
	rc := filepath.Join(b.work, "tofu.rc")
	if err := os.WriteFile(rc, []byte(fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["*/*/*"]
  }
  direct { exclude = ["*/*/*"] }
}
`, mirror)), 0o644); err != nil {
		return "", nil, nil, err
	}
	env = []string{"TF_CLI_CONFIG_FILE=" + rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1"}
	for i := range n {
		d := filepath.Join(b.work, sub, fmt.Sprintf("s%03d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", nil, nil, err
		}
		tf := fmt.Sprintf("resource \"local_file\" \"f\" {\n  filename = \"${path.module}/f.txt\"\n  content  = \"stack %d\"\n}\n", i)
		if err := os.WriteFile(filepath.Join(d, "main.tf"), []byte(tf), 0o644); err != nil {
			return "", nil, nil, err
		}
		for _, args := range [][]string{{"init", "-input=false"}, {"apply", "-auto-approve", "-input=false"}} {
			cmd := exec.CommandContext(ctx, tofu, args...)
			cmd.Dir, cmd.Env = d, append(os.Environ(), env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				return "", nil, nil, fmt.Errorf("tofu %s in %s: %w\n%s", args[0], d, err, out)
			}
		}
		dirs = append(dirs, d)
	}
	return tofu, env, dirs, nil
}
