package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/platdev/plat/internal/benchcmp"
)

// inventory: plat diff (against a copy of the shipped catalog that bumps the
// bucket module and tightens prod backup retention) and plat inventory
// beside plat validate of the same tree, at 100 and 500 stacks of four
// resources. Targets: diff under 2.5x one validate, both linear in stacks.
func (b *bench) inventory(ctx context.Context) error {
	newCat := filepath.Join(b.work, "catalog-next")
	if err := copyCatalog(filepath.Join(b.root, "catalog"), newCat, map[string][2]string{
		"postgres/template.cue": {"parameters.backupRetentionDays < 14", "parameters.backupRetentionDays < 21"},
		"bucket/template.cue":   {`version:   "1.0.0"`, `version:   "1.1.0"`},
	}); err != nil {
		return err
	}
	sizes := []int{100, 500}
	if b.smoke {
		sizes = []int{4, 8}
	}
	medians := map[string][]float64{}
	for _, n := range sizes {
		tree := filepath.Join(b.work, fmt.Sprintf("inventory-tree-%d", n))
		if err := writeTree(tree, n); err != nil {
			return err
		}
		stats, err := b.compare(ctx, fmt.Sprintf("plat diff and plat inventory beside plat validate, %d stacks", n), 1, 5,
			benchcmp.Command{Name: "plat validate", Args: []string{b.plat, "validate", tree}},
			benchcmp.Command{Name: "plat diff --catalog NEW", Args: []string{b.plat, "diff", "--catalog", newCat, tree}, OK: []int{0, 1}},
			benchcmp.Command{Name: "plat inventory --format json", Args: []string{b.plat, "inventory", "--format", "json", "--out", filepath.Join(b.work, "none"), tree}},
		)
		if err != nil {
			return err
		}
		for i, k := range []string{"validate", "diff", "inventory"} {
			medians[k] = append(medians[k], cpuMs(stats[i]))
		}
		fmt.Fprintf(b.out, "%d stacks: diff / validate = %.2f (target < 2.5), inventory / validate = %.2f; CPU time (user+sys, median) %.0f / %.0f / %.0f ms.\n\n", n,
			ratio(stats[1], stats[0]), ratio(stats[2], stats[0]), cpuMs(stats[0]), cpuMs(stats[1]), cpuMs(stats[2]))
	}
	scale := float64(sizes[1]) / float64(sizes[0])
	fmt.Fprintf(b.out, "CPU time from %d to %d stacks (%.0fx): validate %.2fx, diff %.2fx, inventory %.2fx (linear: about %.0fx).\n\n",
		sizes[0], sizes[1], scale, medians["validate"][1]/medians["validate"][0], medians["diff"][1]/medians["diff"][0],
		medians["inventory"][1]/medians["inventory"][0], scale)
	return nil
}

// writeTree writes n stacks: a quarter prod with postgres keeping backups 14
// days (they break under the new catalog), all with a bucket (whose files
// change), a queue and a cache.
func writeTree(tree string, n int) error {
	envs := []string{"prod", "dev", "staging", "dev"}
	for i := range n {
		dir := filepath.Join(tree, fmt.Sprintf("team%02d", i%20), fmt.Sprintf("s%03d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		src := fmt.Sprintf(`apiVersion: plat/v1
kind: Stack
metadata: {name: s%03d, team: team%02d, environment: %s, costCenter: CC-1234}
spec:
  target: terraform
  region: eu-west-1
  resources:
    - {name: db, template: postgres, with: {size: small, storageGB: 50, backupRetentionDays: 14}}
    - {name: files, template: bucket, with: {expireAfterDays: 30}}
    - {name: jobs, template: queue, with: {maxReceiveCount: 10}}
    - {name: sessions, template: cache, with: {nodes: 2}}
`, i, i%20, envs[i%4])
		if err := os.WriteFile(filepath.Join(dir, "platform.yaml"), []byte(src), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// copyCatalog copies the catalog directory src to dst, applying to each file
// named in edits its one old -> new replacement.
func copyCatalog(src, dst string, edits map[string][2]string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if e, ok := edits[filepath.ToSlash(rel)]; ok {
			if strings.Count(string(b), e[0]) != 1 {
				return fmt.Errorf("%s: %q is not there once", rel, e[0])
			}
			b = []byte(strings.Replace(string(b), e[0], e[1], 1))
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}

// cpuMs is the median CPU time (user+sys) of a command's runs, in ms: less
// moved by other work on the machine than wall time.
func cpuMs(s benchcmp.Stats) float64 {
	var xs []float64
	for _, x := range s.Samples {
		xs = append(xs, ms(x.CPUUser+x.CPUSys))
	}
	slices.Sort(xs)
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)/2]
}
