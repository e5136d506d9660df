// Package registrytest starts the real servers the registry's scale-out backend is
// tested against: PostgreSQL (initdb + pg_ctl, as the postgres user when running
// as root) and versitygw (an S3-compatible gateway over a directory). Both listen
// on loopback ports only and are stopped when the test ends.
package registrytest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/platdev/plat/internal/testtools"
)

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// asPostgres runs a PostgreSQL tool, as the postgres user when we are root
// (PostgreSQL refuses to run as root).
func asPostgres(t testing.TB, bin string, args ...string) *exec.Cmd {
	t.Helper()
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

// Postgres is a throwaway PostgreSQL cluster.
type Postgres struct {
	port int
	n    atomic.Int64
}

// StartPostgres starts a cluster in a temporary directory and stops it (and
// removes the directory) when the test ends.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	initdb, pgctl := testtools.Bin(t, "initdb"), testtools.Bin(t, "pg_ctl")
	testtools.Bin(t, "postgres")
	dir, err := os.MkdirTemp("", "plat-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	run := func(cmd *exec.Cmd) {
		t.Helper()
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
		}
	}
	run(asPostgres(t, initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"))
	p := &Postgres{port: freePort(t)}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", p.port, dir)
	run(asPostgres(t, pgctl, "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"))
	t.Cleanup(func() {
		cmd := asPostgres(t, pgctl, "-D", data, "-m", "immediate", "-w", "stop")
		cmd.Dir = dir
		cmd.Run()
	})
	return p
}

// DSN returns the URL of database db.
func (p *Postgres) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

// NewDatabase creates an empty database and returns its URL.
func (p *Postgres) NewDatabase(t testing.TB) string {
	t.Helper()
	db, err := sql.Open("pgx", p.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := fmt.Sprintf("t%d", p.n.Add(1))
	if _, err := db.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return p.DSN(name)
}

// S3 is a running versitygw.
type S3 struct {
	Endpoint string // http://127.0.0.1:PORT
	Access   string
	Secret   string
	root     string
	n        atomic.Int64
}

// StartS3 starts versitygw over a temporary directory. Its credentials are put in
// the AWS_* environment of the test (which is what s3blob reads).
func StartS3(t *testing.T) *S3 {
	t.Helper()
	bin := testtools.Bin(t, "versitygw")
	s := &S3{Access: "plattestaccess", Secret: "plattestsecretkey", root: t.TempDir()}
	port := freePort(t)
	s.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	var log bytes.Buffer
	cmd := exec.Command(bin, "--access", s.Access, "--secret", s.Secret, "--port", fmt.Sprintf("127.0.0.1:%d", port), "--quiet", "posix", s.root)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("versitygw exited: %s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not start: %v\n%s", err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", s.Access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.Secret)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(s.root, "no-aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(s.root, "no-aws-credentials"))
	return s
}

// NewBucket creates an empty bucket (a directory of the posix backend) and
// returns its s3:// URL for gocloud.dev/blob.
func (s *S3) NewBucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("bucket%d", s.n.Add(1))
	if err := os.Mkdir(filepath.Join(s.root, name), 0o755); err != nil {
		t.Fatal(err)
	}
	return s.URL(name)
}

// URL returns the s3:// URL of bucket name.
func (s *S3) URL(name string) string {
	return fmt.Sprintf("s3://%s?endpoint=%s&region=us-east-1&use_path_style=true", name, s.Endpoint)
}
