package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// registry: wrk against `plat registry serve` (embedded SQLite store) and against
// nginx serving the same protocol responses as static files, the floor for any
// registry. Same machine, same run, same wrk settings.
func (b *bench) registry(ctx context.Context) error {
	srv, base, tok, err := b.serveRegistry(ctx, "registry")
	if err != nil {
		return err
	}
	defer srv.stop()
	versions := 10
	if b.smoke {
		versions = 2
	}
	for i := range versions {
		cmd := exec.CommandContext(ctx, b.plat, "module", "publish", filepath.Join(b.root, "modules/bucket/aws"),
			"--registry", base, "--namespace", "platform", "--name", "bucket", "--system", "aws", "--version", fmt.Sprintf("1.0.%d", i))
		cmd.Env = append(os.Environ(), "PLAT_TOKEN="+tok)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("publish: %w\n%s", err, out)
		}
	}

	// The static floor serves byte-identical bodies captured from plat.
	versionsPath := "/v1/modules/platform/bucket/aws/versions"
	downloadPath := "/v1/modules/platform/bucket/aws/1.0.0/download"
	static := filepath.Join(b.work, "static")
	body, _, err := get(base + versionsPath)
	if err != nil {
		return err
	}
	_, loc, err := get(base + downloadPath)
	if err != nil {
		return err
	}
	archiveURL := loc
	if !strings.HasPrefix(loc, "http") {
		archiveURL = base + loc
	}
	archive, _, err := get(archiveURL)
	if err != nil {
		return err
	}
	for p, content := range map[string][]byte{versionsPath: body, "/archive.tar.gz": archive} {
		f := filepath.Join(static, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f, content, 0o644); err != nil {
			return err
		}
	}
	nbase, stopNginx, err := b.nginx(ctx, "nginx", static,
		fmt.Sprintf("location = %s { default_type application/json; }\n    location = %s { add_header X-Terraform-Get /archive.tar.gz; return 204; }", versionsPath, downloadPath))
	if err != nil {
		return err
	}
	defer stopNginx()

	dur := "10s"
	if b.smoke {
		dur = "1s"
	}
	fmt.Fprintln(b.out, "### Registry lookups and downloads (wrk, 1 thread, 32 connections, loopback)")
	fmt.Fprintln(b.out)
	fmt.Fprintln(b.out, "| request | plat req/s | plat p99 | nginx req/s | nginx p99 | plat / nginx throughput | plat RSS before → after |")
	fmt.Fprintln(b.out, "| --- | --- | --- | --- | --- | --- | --- |")
	for _, c := range []struct{ name, plat, nginx string }{
		{"version list", base + versionsPath, nbase + versionsPath},
		{"download (X-Terraform-Get)", base + downloadPath, nbase + downloadPath},
		{"archive fetch", archiveURL, nbase + "/archive.tar.gz"},
	} {
		before := rssKiB(srv.cmd.Process.Pid)
		pr, err := b.wrk(ctx, dur, c.plat)
		if err != nil {
			return err
		}
		after := rssKiB(srv.cmd.Process.Pid)
		nr, err := b.wrk(ctx, dur, c.nginx)
		if err != nil {
			return err
		}
		fmt.Fprintf(b.out, "| %s | %.0f | %.2f ms | %.0f | %.2f ms | %.2f | %.1f → %.1f MiB |\n",
			c.name, pr.rps, pr.p99, nr.rps, nr.p99, pr.rps/nr.rps, float64(before)/1024, float64(after)/1024)
	}
	fmt.Fprintln(b.out)

	// wrk runs closed-loop (as fast as it can), which says little about latency at a
	// given load; the fixed-rate generator holds exactly the target rate.
	loadgen := filepath.Join(b.work, "loadgen")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", loadgen, "./internal/benchcmp/loadgen").CombinedOutput(); err != nil {
		return fmt.Errorf("build loadgen: %w\n%s", err, out)
	}
	before := rssKiB(srv.cmd.Process.Pid)
	lg, err := b.output(ctx, loadgen, "-url", base+versionsPath, "-rate", "10000", "-duration", dur, "-conns", "32")
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "At a fixed 10,000 version lookups/s (`go run ./internal/benchcmp/loadgen -url URL -rate 10000 -duration %s -conns 32`), plat RSS %.1f → %.1f MiB:\n\n```\n%s```\n\n",
		dur, float64(before)/1024, float64(rssKiB(srv.cmd.Process.Pid))/1024, lg)
	fmt.Fprintf(b.out, "Targets: >= 10,000 lookups/s, p99 < 10 ms, within 2x of the static floor. Command: `wrk -t1 -c32 -d%s --latency URL` against `plat registry serve --data DIR --access-log=false` (SQLite) and nginx (`worker_processes auto`, `access_log off`).\n\n", dur)
	return nil
}

// nginx starts nginx (worker_processes auto, access log off) serving root, with
// the given location blocks, its files under b.work/name; stop ends it.
func (b *bench) nginx(ctx context.Context, name, root, locations string) (base string, stop func(), err error) {
	dir := filepath.Join(b.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	port := freePort()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`daemon off;
worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %[1]s/nginx-body;
  proxy_temp_path %[1]s/nginx-proxy;
  fastcgi_temp_path %[1]s/nginx-fastcgi;
  uwsgi_temp_path %[1]s/nginx-uwsgi;
  scgi_temp_path %[1]s/nginx-scgi;
  server {
    listen 127.0.0.1:%[2]s;
    root %[3]s;
    %[4]s
  }
}
`, dir, port, root, locations)), 0o644); err != nil {
		return "", nil, err
	}
	ngx := exec.CommandContext(ctx, b.bin("nginx"), "-c", conf, "-p", dir)
	ngx.Stderr = os.Stderr
	if err := ngx.Start(); err != nil {
		return "", nil, fmt.Errorf("nginx: %w", err)
	}
	stop = func() { _ = ngx.Process.Signal(os.Interrupt); _ = ngx.Wait() }
	base = "http://127.0.0.1:" + port
	if err := waitHTTP(ctx, base+"/"); err != nil {
		stop()
		return "", nil, err
	}
	return base, stop, nil
}

type wrkResult struct {
	rps float64
	p99 float64 // ms
}

var (
	rpsRe = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p99Re = regexp.MustCompile(`\n\s+99%\s+([0-9.]+)(us|ms|s)`)
	errRe = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: .*`)
)

func (b *bench) wrk(ctx context.Context, dur, url string) (wrkResult, error) {
	out, err := b.output(ctx, b.bin("wrk"), "-t1", "-c32", "-d"+dur, "--latency", url)
	if err != nil {
		return wrkResult{}, err
	}
	if m := errRe.FindString(out); m != "" {
		resp, _ := http.Get(url)
		if resp != nil {
			resp.Body.Close()
			m += " (now: " + resp.Status + ")"
		}
		return wrkResult{}, fmt.Errorf("wrk %s: %s", url, m)
	}
	m, p := rpsRe.FindStringSubmatch(out), p99Re.FindStringSubmatch(out)
	if m == nil || p == nil {
		return wrkResult{}, fmt.Errorf("wrk output not understood:\n%s", out)
	}
	rps, _ := strconv.ParseFloat(m[1], 64)
	v, _ := strconv.ParseFloat(p[1], 64)
	switch p[2] {
	case "us":
		v /= 1000
	case "s":
		v *= 1000
	}
	return wrkResult{rps: rps, p99: v}, nil
}

func (b *bench) output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, errb.String())
	}
	return string(out), nil
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func waitHTTP(ctx context.Context, url string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not come up", url)
}

// get returns the body and the X-Terraform-Get header of a GET.
func get(url string) ([]byte, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return nil, "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, resp.Header.Get("X-Terraform-Get"), err
}

// rssKiB reads a process's resident set size.
func rssKiB(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// server is a `plat registry serve` that platbench started.
type server struct{ cmd *exec.Cmd }

// stop interrupts the server and waits for it to exit.
func (s server) stop() { _ = s.cmd.Process.Signal(os.Interrupt); _ = s.cmd.Wait() }

// serveRegistry starts `plat registry serve` on a free loopback port over a
// new SQLite data directory WORK/NAME-data, access logs off (the static floor
// logs nothing either; its stderr goes to TMP/platbench-NAME.log), waits for
// /healthz, and returns it with its base URL and a publish token for the
// platform namespace.
func (b *bench) serveRegistry(ctx context.Context, name string) (srv server, base, token string, err error) {
	data := filepath.Join(b.work, name+"-data")
	tok, err := b.output(ctx, b.plat, "registry", "token", "create", "--data", data, "--namespace", "platform", "--scope", "publish")
	if err != nil {
		return server{}, "", "", err
	}
	port := freePort()
	base = "http://127.0.0.1:" + port
	cmd := exec.CommandContext(ctx, b.plat, "registry", "serve", "--listen", "127.0.0.1:"+port, "--data", data, "--access-log=false")
	log, err := os.Create(filepath.Join(os.TempDir(), "platbench-"+name+".log"))
	if err != nil {
		return server{}, "", "", err
	}
	defer log.Close() // the child holds its own descriptor
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		return server{}, "", "", err
	}
	srv = server{cmd: cmd}
	if err := waitHTTP(ctx, base+"/healthz"); err != nil {
		srv.stop()
		return server{}, "", "", err
	}
	return srv, base, strings.TrimSpace(tok), nil
}
