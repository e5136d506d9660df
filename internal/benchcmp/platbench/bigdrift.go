package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/platdev/plat/internal/benchcmp"
)

// bigdrift: one stack of 1,000 resources (issue 16) through plat drift check,
// against what it stands for: tofu plan -refresh-only -out + tofu show -json of
// the same directory, alternating. Half the resources are hashicorp/local files,
// half documents of the test-only platjson provider (which drift in place,
// attribute by attribute); one in 20 of each is changed behind tofu's back. The
// memory figure is plat's own peak RSS (children left out), beside the size of
// tofu show's JSON.
func (b *bench) bigdrift(ctx context.Context) error {
	n := 1000
	if b.smoke {
		n = 20
	}
	tofu := b.bin("tofu")
	env, err := b.platjsonMirror(ctx, "bigdrift")
	if err != nil {
		return err
	}
	big, err := bigStack(ctx, tofu, env, filepath.Join(b.work, "bigdrift", "big"), n)
	if err != nil {
		return err
	}
	small, err := bigStack(ctx, tofu, env, filepath.Join(b.work, "bigdrift", "small"), 20)
	if err != nil {
		return err
	}
	plan := filepath.Join(b.work, "bigdrift", "big.tfplan")
	platCmd := func(dir string) benchcmp.Command {
		return benchcmp.Command{Name: "plat drift check", OK: []int{2}, Env: env,
			Args: []string{b.plat, "drift", "check", "--quiet", "--tofu", tofu, dir}}
	}
	tofuCmd := benchcmp.Command{Name: "tofu plan -refresh-only -out + tofu show -json", Env: env, Dir: big,
		Args: []string{"bash", "-c", fmt.Sprintf(`%s plan -refresh-only -input=false -lock-timeout=30s -out=%s >/dev/null && %s show -json %s >/dev/null`, tofu, plan, tofu, plan)}}
	stats, err := b.compare(ctx, fmt.Sprintf("Drift of one stack of %d resources (%d drifted)", n, 2*((n+19)/20)), 1, 5, platCmd(big), tofuCmd)
	if err != nil {
		return err
	}
	// What plat's JSON input weighs: tofu show -json of the plan just written.
	show := exec.CommandContext(ctx, tofu, "show", "-json", plan)
	show.Dir, show.Env = big, append(os.Environ(), env...)
	js, err := show.Output()
	if err != nil {
		return fmt.Errorf("tofu show: %w", err)
	}
	k := 3
	if b.smoke {
		k = 1
	}
	own, err := ownUsage(platCmd(big), k)
	if err != nil {
		return err
	}
	ownSmall, err := ownUsage(platCmd(small), k)
	if err != nil {
		return err
	}
	// The same with the collector at Go's default (GOGC=100) rather than
	// plat's 32 MiB start-up heap goal (internal/startheap), under which a
	// short command never collects and its peak RSS is what it allocated.
	gc := func(c benchcmp.Command) benchcmp.Command {
		c.Env = append(append([]string{}, c.Env...), "GOGC=100")
		return c
	}
	ownGC, err := ownUsage(gc(platCmd(big)), k)
	if err != nil {
		return err
	}
	ownGCSmall, err := ownUsage(gc(platCmd(small)), k)
	if err != nil {
		return err
	}
	overhead := stats[0].Median() - stats[1].Median()
	fmt.Fprintf(b.out, "plat's overhead in wall time: %.0f ms, %.1f%% of tofu's %.0f ms (target: under 5%%). ", ms(overhead), 100*float64(overhead)/float64(stats[1].Median()), ms(stats[1].Median()))
	fmt.Fprintf(b.out, "plat's own process (tofu left out; ptrace exit stop, least CPU and largest RSS of %d runs): %.0f ms CPU for %d resources, %.0f ms for 20, %.1f%% of tofu's wall time.\n\n",
		k, ms(own.CPU), n, ms(ownSmall.CPU), 100*float64(own.CPU)/float64(stats[1].Median()))
	fmt.Fprintf(b.out, "tofu show's JSON: %.2f MiB. plat's own peak RSS: %.1f MiB for %d resources, %.1f MiB for 20; the %d-resource stack adds %.1f MiB, %.2fx the JSON (target: under 2x).\n\n",
		float64(len(js))/(1<<20), float64(own.PeakRSS)/(1<<20), n, float64(ownSmall.PeakRSS)/(1<<20), n, float64(own.PeakRSS-ownSmall.PeakRSS)/(1<<20), float64(own.PeakRSS-ownSmall.PeakRSS)/float64(len(js)))
	fmt.Fprintf(b.out, "With GOGC=100: %.1f MiB and %.1f MiB; the stack adds %.1f MiB, %.2fx the JSON.\n\n",
		float64(ownGC.PeakRSS)/(1<<20), float64(ownGCSmall.PeakRSS)/(1<<20), float64(ownGC.PeakRSS-ownGCSmall.PeakRSS)/(1<<20), float64(ownGC.PeakRSS-ownGCSmall.PeakRSS)/float64(len(js)))
	return nil
}

// ownUsage measures c's own process k times: the least CPU, the largest RSS.
func ownUsage(c benchcmp.Command, k int) (benchcmp.Own, error) {
	var o benchcmp.Own
	for i := range k {
		u, err := benchcmp.OwnUsage(c)
		if err != nil {
			return o, err
		}
		if i == 0 || u.CPU < o.CPU {
			o.CPU = u.CPU
		}
		o.PeakRSS = max(o.PeakRSS, u.PeakRSS)
	}
	return o, nil
}

// platjsonMirror builds the test-only platjson provider into a mirror beside the
// cached hashicorp/local one and returns the environment tofu installs
// providers from them with.
func (b *bench) platjsonMirror(ctx context.Context, name string) ([]string, error) {
	mirror := filepath.Join(b.work, name+"-mirror")
	prov := filepath.Join(mirror, "registry.opentofu.org/plat/platjson/0.1.0/linux_amd64/terraform-provider-platjson_v0.1.0")
	if err := goBuild(ctx, prov, "./internal/testprovider"); err != nil {
		return nil, err
	}
	rc := filepath.Join(b.work, name+"-tofu.rc")
	cfg := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.opentofu.org/hashicorp/*"]
  }
  filesystem_mirror {
    path    = %q
    include = ["registry.opentofu.org/plat/*"]
  }
  direct { exclude = ["*/*/*"] }
}
`, filepath.Join(b.tools, "mirror"), mirror)
	if err := os.WriteFile(rc, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	return []string{"TF_CLI_CONFIG_FILE=" + rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1"}, nil
}

// bigStack writes a stack of n resources into dir (local_file and
// platjson_document alternating), applies it, and changes one in 20 of each
// kind behind tofu's back: files are rewritten (tofu reports them deleted),
// documents get two changed attributes (content.team, rules[0].port).
func bigStack(ctx context.Context, tofu string, env []string, dir string, n int) (string, error) {
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return "", err
	}
	var tf strings.Builder
	tf.WriteString("terraform {\n  required_providers {\n    local    = { source = \"hashicorp/local\" }\n    platjson = { source = \"plat/platjson\" }\n  }\n}\n")
	for i := range n {
		if i%2 == 0 {
			fmt.Fprintf(&tf, `
resource "local_file" "f%04d" {
  filename        = "${path.module}/data/f%04d.txt"
  content         = "file %d of the big stack\n"
  file_permission = "0644"
}
`, i, i, i)
			continue
		}
		fmt.Fprintf(&tf, `
resource "platjson_document" "d%04d" {
  path    = "${path.module}/data/d%04d.json"
  content = { team = "payments", env = "prod", owner = "team-%d", tier = "backend" }
  rules   = [{ name = "http", port = 80 }, { name = "https", port = 443 }]
}
`, i, i, i%7)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(tf.String()), 0o644); err != nil {
		return "", err
	}
	for _, args := range [][]string{{"init", "-input=false"}, {"apply", "-auto-approve", "-input=false"}} {
		cmd := exec.CommandContext(ctx, tofu, args...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("tofu %s in %s: %w\n%s", args[0], dir, err, out)
		}
	}
	for i := 0; i < n; i += 20 {
		if err := os.WriteFile(filepath.Join(dir, "data", fmt.Sprintf("f%04d.txt", i)), []byte("edited\n"), 0o644); err != nil {
			return "", err
		}
		doc := filepath.Join(dir, "data", fmt.Sprintf("d%04d.json", i+1))
		raw, err := os.ReadFile(doc)
		if err != nil {
			return "", err
		}
		var d map[string]any
		if err := json.Unmarshal(raw, &d); err != nil {
			return "", err
		}
		d["content"].(map[string]any)["team"] = "search"
		d["rules"].([]any)[0].(map[string]any)["port"] = 8080
		if raw, err = json.Marshal(d); err != nil {
			return "", err
		}
		if err := os.WriteFile(doc, raw, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}
