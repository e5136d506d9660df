package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// replicas: two `plat registry serve` replicas over one PostgreSQL and one
// S3-compatible store (versitygw), each hit directly by wrk (no proxy in
// front), beside nginx serving the same versions JSON and archive as files
// (issue 16). Then 100,000 lookups at a fixed rate on one replica, with its RSS
// before and after.
func (b *bench) replicas(ctx context.Context) error {
	pgBin := "/usr/lib/postgresql/15/bin"
	pgDir := filepath.Join(b.work, "pg")
	if err := os.MkdirAll(pgDir, 0o700); err != nil {
		return err
	}
	asPG := func(name string, args ...string) *exec.Cmd {
		if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
			return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", filepath.Join(pgBin, name)}, args...)...)
		}
		return exec.CommandContext(ctx, filepath.Join(pgBin, name), args...)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(pgDir, uid, gid); err != nil {
			return err
		}
	}
	data := filepath.Join(pgDir, "data")
	if out, err := asPG("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	pgPort := freePort()
	opts := fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off", pgPort, pgDir)
	if out, err := asPG("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(pgDir, "log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s", err, out)
	}
	defer asPG("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").Run()
	dsn := "postgres://postgres@127.0.0.1:" + pgPort + "/postgres?sslmode=disable"

	s3Root := filepath.Join(b.work, "s3")
	if err := os.MkdirAll(filepath.Join(s3Root, "modules"), 0o755); err != nil {
		return err
	}
	s3Port := freePort()
	gw := exec.CommandContext(ctx, b.bin("versitygw"), "--access", "platbench", "--secret", "platbenchsecret", "--port", "127.0.0.1:"+s3Port, "--quiet", "posix", s3Root)
	if err := gw.Start(); err != nil {
		return fmt.Errorf("versitygw: %w", err)
	}
	defer func() { _ = gw.Process.Kill(); _ = gw.Wait() }()
	if err := waitHTTP(ctx, "http://127.0.0.1:"+s3Port+"/"); err != nil {
		return err
	}
	blob := "s3://modules?endpoint=http://127.0.0.1:" + s3Port + "&region=us-east-1&use_path_style=true"
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID=platbench", "AWS_SECRET_ACCESS_KEY=platbenchsecret", "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")

	tok, err := b.output(ctx, b.plat, "registry", "token", "create", "--db", dsn, "--namespace", "platform", "--scope", "publish")
	if err != nil {
		return err
	}
	type replica struct {
		base string
		cmd  *exec.Cmd
	}
	var reps []replica
	for i := range 2 {
		port := freePort()
		cmd := exec.CommandContext(ctx, b.plat, "registry", "serve", "--listen", "127.0.0.1:"+port, "--db", dsn, "--blob", blob, "--access-log=false")
		cmd.Env = env
		logf, err := os.Create(filepath.Join(b.work, fmt.Sprintf("replica%d.log", i)))
		if err != nil {
			return err
		}
		defer logf.Close()
		cmd.Stderr = logf
		if err := cmd.Start(); err != nil {
			return err
		}
		defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
		reps = append(reps, replica{"http://127.0.0.1:" + port, cmd})
	}
	for _, r := range reps {
		if err := waitHTTP(ctx, r.base+"/healthz"); err != nil {
			return err
		}
	}
	versions := 10
	if b.smoke {
		versions = 2
	}
	for i := range versions {
		cmd := exec.CommandContext(ctx, b.plat, "module", "publish", filepath.Join(b.root, "modules/bucket/aws"),
			"--registry", reps[i%2].base, "--namespace", "platform", "--name", "bucket", "--system", "aws", "--version", fmt.Sprintf("1.0.%d", i))
		cmd.Env = append(os.Environ(), "PLAT_TOKEN="+strings.TrimSpace(tok))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("publish: %w\n%s", err, out)
		}
	}

	versionsPath := "/v1/modules/platform/bucket/aws/versions"
	archivePath := "/v1/archives/platform/bucket/aws/1.0.0.tar.gz"
	static := filepath.Join(b.work, "replica-static")
	body, _, err := get(reps[0].base + versionsPath)
	if err != nil {
		return err
	}
	archive, _, err := get(reps[1].base + archivePath)
	if err != nil {
		return err
	}
	for p, content := range map[string][]byte{versionsPath: body, archivePath: archive} {
		f := filepath.Join(static, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f, content, 0o644); err != nil {
			return err
		}
	}
	nbase, stopNginx, err := b.nginx(ctx, "replica-nginx", static, fmt.Sprintf("location = %s { default_type application/json; }", versionsPath))
	if err != nil {
		return err
	}
	defer stopNginx()

	dur := "5s"
	if b.smoke {
		dur = "1s"
	}
	fmt.Fprintln(b.out, "### Registry replicas over PostgreSQL + S3 (wrk -t1 -c32 on each replica in turn, loopback)")
	fmt.Fprintln(b.out)
	fmt.Fprintln(b.out, "| request | replica | plat req/s | plat p99 | nginx req/s | nginx p99 | plat / nginx | plat RSS before → after |")
	fmt.Fprintln(b.out, "| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, c := range []struct{ name, path string }{{"version list", versionsPath}, {"archive fetch", archivePath}} {
		for i, r := range reps {
			before := rssKiB(r.cmd.Process.Pid)
			pr, err := b.wrk(ctx, dur, r.base+c.path)
			if err != nil {
				return err
			}
			after := rssKiB(r.cmd.Process.Pid)
			nr, err := b.wrk(ctx, dur, nbase+c.path)
			if err != nil {
				return err
			}
			fmt.Fprintf(b.out, "| %s | %c | %.0f | %.2f ms | %.0f | %.2f ms | %.2f | %.1f → %.1f MiB |\n",
				c.name, 'A'+i, pr.rps, pr.p99, nr.rps, nr.p99, pr.rps/nr.rps, float64(before)/1024, float64(after)/1024)
		}
	}
	fmt.Fprintln(b.out)

	loadgen := filepath.Join(b.work, "loadgen")
	if err := goBuild(ctx, loadgen, "./internal/benchcmp/loadgen"); err != nil {
		return err
	}
	rate, lgDur := "10000", "10s"
	if b.smoke {
		rate, lgDur = "1000", "1s"
	}
	pid := reps[0].cmd.Process.Pid
	before := rssKiB(pid)
	lg, err := b.output(ctx, loadgen, "-url", reps[0].base+versionsPath, "-rate", rate, "-duration", lgDur, "-conns", "32")
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "%s version lookups at a fixed %s/s on replica A (`loadgen -url URL -rate %s -duration %s -conns 32`), RSS %.1f → %.1f MiB:\n\n```\n%s```\n\n",
		map[bool]string{true: "1,000", false: "100,000"}[b.smoke], rate, rate, lgDur, float64(before)/1024, float64(rssKiB(pid))/1024, lg)
	fmt.Fprintf(b.out, "Whole-process: each replica is `plat registry serve --db postgres://... --blob s3://...?endpoint=versitygw --access-log=false`; nginx (`worker_processes auto`, `access_log off`) serves the same bytes as files. Targets: lookups per replica >= 0.8 of nginx, p99 < 5 ms; memory flat over 100,000 requests.\n\n")
	return nil
}
