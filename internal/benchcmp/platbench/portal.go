package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// portal: the developer portal's module page and search page under wrk beside
// the protocol's versions endpoint, on the same `plat registry serve` in the
// same run (issue 13). The registry holds the four shipped modules, each with
// its README, at several versions, and the shipped catalog. Targets: each page
// at least a third of the versions endpoint's requests per second, p99 under
// 20 ms, RSS flat.
func (b *bench) portal(ctx context.Context) error {
	srv, base, tok, err := b.serveRegistry(ctx, "portal")
	if err != nil {
		return err
	}
	defer srv.stop()
	versions := 10
	if b.smoke {
		versions = 2
	}
	env := append(os.Environ(), "PLAT_TOKEN="+tok)
	for _, m := range []string{"postgres", "bucket", "queue", "cache"} {
		for i := range versions {
			cmd := exec.CommandContext(ctx, b.plat, "module", "publish", filepath.Join(b.root, "modules", m, "aws"),
				"--registry", base, "--namespace", "platform", "--name", m, "--system", "aws", "--version", fmt.Sprintf("1.0.%d", i))
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("publish: %w\n%s", err, out)
			}
		}
	}
	cmd := exec.CommandContext(ctx, b.plat, "catalog", "publish", filepath.Join(b.root, "catalog"),
		"--registry", base, "--namespace", "platform", "--name", "golden", "--version", "1.0.0")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("catalog publish: %w\n%s", err, out)
	}

	dur := "10s"
	if b.smoke {
		dur = "1s"
	}
	cases := []struct{ name, path string }{
		{"versions endpoint", "/v1/modules/platform/postgres/aws/versions"},
		{"module page", "/modules/platform/postgres/aws"},
		{"search page", "/modules?q=postgres"},
	}
	for _, c := range cases { // every page answers before it is measured
		if _, _, err := get(base + c.path); err != nil {
			return err
		}
	}
	fmt.Fprintln(b.out, "### Portal pages beside the versions endpoint (wrk, 1 thread, 32 connections, loopback)")
	fmt.Fprintln(b.out)
	fmt.Fprintln(b.out, "| request | req/s | p99 | / versions endpoint | RSS before → after |")
	fmt.Fprintln(b.out, "| --- | --- | --- | --- | --- |")
	var floor float64
	for _, c := range cases {
		before := rssKiB(srv.cmd.Process.Pid)
		r, err := b.wrk(ctx, dur, base+c.path)
		if err != nil {
			return err
		}
		after := rssKiB(srv.cmd.Process.Pid)
		if floor == 0 {
			floor = r.rps
		}
		fmt.Fprintf(b.out, "| %s (`%s`) | %.0f | %.2f ms | %.2f | %.1f → %.1f MiB |\n",
			c.name, c.path, r.rps, r.p99, r.rps/floor, float64(before)/1024, float64(after)/1024)
	}
	fmt.Fprintln(b.out)
	fmt.Fprintf(b.out, "Targets: each page >= 1/3 of the versions endpoint's req/s, p99 < 20 ms, RSS flat. Command: `wrk -t1 -c32 -d%s --latency URL` against `plat registry serve --data DIR --access-log=false` (SQLite) holding 4 modules x %d versions with their READMEs and the shipped catalog (`go run ./internal/benchcmp/platbench -only portal`).\n\n", dur, versions)
	return nil
}
