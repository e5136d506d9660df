package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/platdev/plat/internal/benchcmp"
)

// cost: plat validate --cost beside plat validate of a tree of 500 stacks of
// four resources each, a third of them dev stacks (which the shipped dev
// budget makes estimate anyway). Target: --cost under 1.1x.
func (b *bench) cost(ctx context.Context) error {
	n := 500
	if b.smoke {
		n = 5
	}
	tree := filepath.Join(b.work, "cost-tree")
	envs := []string{"dev", "staging", "prod"}
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
    - {name: db, template: postgres, with: {size: small, storageGB: 50}}
    - {name: files, template: bucket, with: {expireAfterDays: 30}}
    - {name: jobs, template: queue, with: {maxReceiveCount: 10}}
    - {name: sessions, template: cache, with: {nodes: 2}}
`, i, i%20, envs[i%3])
		if err := os.WriteFile(filepath.Join(dir, "platform.yaml"), []byte(src), 0o644); err != nil {
			return err
		}
	}
	stats, err := b.compare(ctx, fmt.Sprintf("Validate a tree of %d stacks, with and without the cost estimate", n), 1, 9,
		benchcmp.Command{Name: "plat validate", Args: []string{b.plat, "validate", tree}},
		benchcmp.Command{Name: "plat validate --cost", Args: []string{b.plat, "validate", "--cost", tree}},
	)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "validate --cost / validate = %.3f (target < 1.1).\n\n", ratio(stats[1], stats[0]))
	return nil
}
