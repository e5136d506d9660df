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

// trace: what following drift back to the stack file costs (issue 10):
// plat drift check of 20 drifted stacks of the platjson test catalog with
// tracing (render record, module HCL, guardrails on live values) against the
// same run with PLAT_DRIFT_TRACE=off, alternating, in one run.
func (b *bench) trace(ctx context.Context) error {
	tofu := b.bin("tofu")
	cat := filepath.Join(b.root, "cmd", "plat", "testdata", "catalogs", "platjson")
	mirror := filepath.Join(b.work, "trace-mirror")
	prov := filepath.Join(mirror, "registry.opentofu.org/plat/platjson/0.1.0/linux_amd64/terraform-provider-platjson_v0.1.0")
	if err := goBuild(ctx, prov, "./internal/testprovider"); err != nil {
		return err
	}
	rc := filepath.Join(b.work, "trace-tofu.rc")
	if err := os.WriteFile(rc, []byte(fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"registry.opentofu.org/plat/*\"]\n  }\n  direct { exclude = [\"*/*/*\"] }\n}\n", mirror)), 0o644); err != nil {
		return err
	}
	env := []string{"TF_CLI_CONFIG_FILE=" + rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1"}
	n := 20
	if b.smoke {
		n = 2
	}
	src, err := os.ReadFile(filepath.Join(cat, "stack", "platform.yaml"))
	if err != nil {
		return err
	}
	work := filepath.Join(b.work, "trace")
	var dirs []string
	for i := range n {
		name := fmt.Sprintf("t%02d", i)
		stack := filepath.Join(work, name+".platform.yaml")
		if err := os.MkdirAll(work, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(stack, []byte(strings.Replace(string(src), "name: shop", "name: "+name, 1)), 0o644); err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, b.plat, "render", "--catalog", cat, "-f", filepath.Base(stack), "-o", "out")
		cmd.Dir = work
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("render %s: %w\n%s", name, err, out)
		}
		d := filepath.Join(work, "out", name)
		// The module from a directory inside the stack rather than a registry
		// (no registry to run here): what tracing reads is the same.
		mainTF := filepath.Join(d, "main.tf")
		tf, err := os.ReadFile(mainTF)
		if err != nil {
			return err
		}
		s := strings.Replace(string(tf), `source  = "registry.example.com/platform/settings/platjson"`, `source  = "./mod"`, 1)
		s = strings.Replace(s, "  version = \"1.0.0\"\n", "", 1)
		if err := os.WriteFile(mainTF, []byte(s), 0o644); err != nil {
			return err
		}
		if err := os.CopyFS(filepath.Join(d, "mod"), os.DirFS(filepath.Join(cat, "modules", "settings", "platjson"))); err != nil {
			return err
		}
		for _, args := range [][]string{{"init", "-input=false"}, {"apply", "-auto-approve", "-input=false"}} {
			cmd := exec.CommandContext(ctx, tofu, args...)
			cmd.Dir, cmd.Env = d, append(os.Environ(), env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("tofu %s in %s: %w\n%s", args[0], d, err, out)
			}
		}
		// Drift behind tofu's back: three traced changes, one breaking a guardrail.
		doc := filepath.Join(work, "out", name+"-config.json")
		b2, err := os.ReadFile(doc)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(b2, &m); err != nil {
			return err
		}
		c := m["content"].(map[string]any)
		c["owner"], c["replicas"], c["public"] = "bob", "3", "true"
		b2, _ = json.Marshal(m)
		if err := os.WriteFile(doc, b2, 0o644); err != nil {
			return err
		}
		dirs = append(dirs, d)
	}
	check := func(name string, extra ...string) benchcmp.Command {
		return benchcmp.Command{Name: name, OK: []int{2}, Env: append(append([]string{}, env...), extra...),
			Args: append([]string{b.plat, "drift", "check", "--parallel", "2", "--quiet", "--tofu", tofu, "--catalog", cat, "--format", "json"}, dirs...)}
	}
	stats, err := b.compare(ctx, fmt.Sprintf("Drift over %d drifted stacks, with and without tracing", n), 1, 7,
		check("plat drift check (tracing)"), check("plat drift check (PLAT_DRIFT_TRACE=off)", "PLAT_DRIFT_TRACE=off"))
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "tracing / no tracing = %.3f (target: under 2%% apart, i.e. <= 1.02).\n\n", ratio(stats[0], stats[1]))
	return nil
}
