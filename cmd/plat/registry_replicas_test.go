package main

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/internal/registrytest"
	"github.com/platdev/plat/internal/testtools"
)

// TestRegistryReplicaVersionsFresh runs two replicas of `plat registry serve`
// over a real PostgreSQL and a real S3-compatible store (versitygw). Replica A
// has the module's versions cached; a version published through replica B
// must appear on A within the version cache's TTL (registry.Config.CacheTTL,
// 1 s), and a version yanked through B must leave A's list as soon: A learns
// of B's writes only by asking the database again once its entry expires.
func TestRegistryReplicaVersionsFresh(t *testing.T) {
	testtools.Bin(t, "postgres")
	pg := registrytest.StartPostgres(t)
	s3 := registrytest.StartS3(t)
	dsn, bucket := pg.NewDatabase(t), s3.NewBucket(t)
	code, out, errs := platRun(t, nil, "registry", "token", "create", "--db", dsn, "--namespace", "acme", "--scope", "publish")
	if code != 0 {
		t.Fatalf("token create: %s", errs)
	}
	tok := strings.TrimSpace(out)
	args := []string{"--db", dsn, "--blob", bucket, "--access-log=false"}
	a, b := startServe(t, args...), startServe(t, args...)
	mod := t.TempDir()
	writeFiles(t, mod, demoModule)
	publish := func(srv *server, version string) {
		t.Helper()
		code, out, errs := platRun(t, map[string]string{"PLAT_TOKEN": tok},
			"module", "publish", mod, "--registry", "http://"+srv.hostport, "--namespace", "acme", "--name", "demo", "--system", "aws", "--version", version)
		if code != 0 {
			t.Fatalf("publish %s: exit %d: %s%s", version, code, out, errs)
		}
	}
	versions := func(srv *server) []string {
		t.Helper()
		resp, err := http.Get("http://" + srv.hostport + "/v1/modules/acme/demo/aws/versions")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("versions on %s: %s %s", srv.hostport, resp.Status, body)
		}
		var v struct {
			Modules []struct {
				Versions []struct{ Version string } `json:"versions"`
			} `json:"modules"`
		}
		if err := json.Unmarshal(body, &v); err != nil || len(v.Modules) != 1 {
			t.Fatalf("versions on %s: %v: %s", srv.hostport, err, body)
		}
		var out []string
		for _, x := range v.Modules[0].Versions {
			out = append(out, x.Version)
		}
		slices.Sort(out)
		return out
	}
	// waitFor polls A until its list is want, failing after bound: the TTL and
	// a generous margin for a loaded machine. It returns how long A was stale.
	waitFor := func(want []string) time.Duration {
		t.Helper()
		start := time.Now()
		const bound = 10 * time.Second
		for {
			got := versions(a)
			if slices.Equal(got, want) {
				return time.Since(start)
			}
			if time.Since(start) > bound {
				t.Fatalf("replica A still lists %v %v after B's change, want %v", got, bound, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	publish(a, "1.0.0")
	if got := versions(a); !slices.Equal(got, []string{"1.0.0"}) { // A caches [1.0.0]
		t.Fatalf("A after its own publish: %v", got)
	}
	publish(b, "1.1.0")
	t.Logf("A saw B's publish after %v", waitFor([]string{"1.0.0", "1.1.0"}))

	code, out, errs = platRun(t, map[string]string{"PLAT_TOKEN": tok},
		"module", "yank", "acme/demo/aws", "1.1.0", "--registry", "http://"+b.hostport, "--reason", "bad")
	if code != 0 {
		t.Fatalf("yank through B: exit %d: %s%s", code, out, errs)
	}
	t.Logf("A saw B's yank after %v", waitFor([]string{"1.0.0"}))
}
