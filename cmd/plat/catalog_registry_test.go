package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platdev/plat/internal/testtools"
)

// copyCatalog copies the shipped catalog (the repository's catalog/ CUE files)
// into a new directory, pointing its registry at host/acme, and applies edit
// to postgres/template.cue.
func copyCatalog(t *testing.T, host string, edit func(string) string) string {
	t.Helper()
	src := filepath.Join(testtools.RepoRoot(t), "catalog")
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".cue") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		s := string(b)
		if rel == "platform.cue" {
			s = strings.Replace(s, `host:      "registry.example.com"`, fmt.Sprintf("host:      %q", host), 1)
			s = strings.Replace(s, `namespace: "platform"`, `namespace: "acme"`, 1)
		}
		if rel == filepath.Join("postgres", "template.cue") && edit != nil {
			s = edit(s)
		}
		writeFiles(t, dst, map[string]string{rel: s})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

const pinnedStack = `apiVersion: plat/v1
kind: Stack
metadata: {name: orders, team: web, environment: dev, costCenter: CC-1000}
spec: {target: terraform, region: eu-west-1, resources: [{name: db, template: postgres}]}
`

// TestCatalogPublishPinOffline publishes two catalog versions to a real
// `plat registry serve` over TLS, pins one in an application repository,
// renders and validates with the registry stopped, bumps the pin and sees the
// rendered module version move; then the bad inputs.
func TestCatalogPublishPinOffline(t *testing.T) {
	f := newFixture(t)
	srv := startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key)
	url := "https://" + srv.hostport
	cache := t.TempDir()
	env := map[string]string{"PLAT_TOKEN": f.publishToken, "SSL_CERT_FILE": f.ca, "PLAT_CACHE_DIR": cache}

	// The module the catalog's postgres template pins, deprecated: a render
	// through the catalog warns, naming the template and the reason.
	f.publish(t, url, demoModule, "postgres", "1.0.0")
	if code, out, errs := platRun(t, env, "module", "deprecate", "acme/postgres/aws", "1.0.0", "--registry", url, "--reason", "use 1.1.0, it encrypts backups"); code != 0 {
		t.Fatalf("module deprecate: exit %d\n%s%s", code, out, errs)
	}

	v1 := copyCatalog(t, srv.hostport, nil)
	v2 := copyCatalog(t, srv.hostport, func(s string) string {
		out := strings.Replace(s, `version:   "1.0.0"`, `version:   "1.1.0"`, 1)
		if out == s {
			t.Fatal("postgres template has no module version 1.0.0 to bump; update the test")
		}
		return out
	})
	for _, c := range []struct{ dir, version string }{{v1, "1.0.0"}, {v2, "1.1.0"}} {
		code, out, errs := platRun(t, env, "catalog", "publish", c.dir, "--registry", url, "--namespace", "acme", "--name", "golden", "--version", c.version)
		if code != 0 || !strings.Contains(out, "published catalog acme/golden "+c.version) || !strings.Contains(out, "sha256:") {
			t.Fatalf("catalog publish %s: exit %d\n%s%s", c.version, code, out, errs)
		}
	}
	code, _, errs := platRun(t, env, "catalog", "publish", v1, "--registry", url, "--namespace", "acme", "--name", "golden", "--version", "1.0.0")
	if code != 1 || !strings.Contains(errs, "409") {
		t.Fatalf("republish: exit %d, want 1 with 409\n%s", code, errs)
	}

	// The listing carries digests.
	var listing struct {
		Versions []struct{ Version, Digest string }
	}
	getJSON(t, httpsClient(t, f.ca), url+"/api/v1/catalogs/acme/golden", "", &listing)
	if len(listing.Versions) != 2 || listing.Versions[0].Version != "1.0.0" || !strings.HasPrefix(listing.Versions[0].Digest, "sha256:") {
		t.Fatalf("listing %+v", listing)
	}

	app := t.TempDir()
	os.Mkdir(filepath.Join(app, ".git"), 0o755)
	writeFiles(t, app, map[string]string{"svc/platform.yaml": pinnedStack})
	t.Chdir(filepath.Join(app, "svc"))
	code, out, errs := platRun(t, env, "catalog", "pin", url+"/acme/golden@1.0.0")
	if code != 0 {
		t.Fatalf("catalog pin: exit %d\n%s%s", code, out, errs)
	}
	pinFile := filepath.Join(app, "plat-catalog.yaml")
	pin, err := os.ReadFile(pinFile)
	if err != nil || !strings.Contains(string(pin), "version: 1.0.0") || !strings.Contains(string(pin), listing.Versions[0].Digest) {
		t.Fatalf("pin file at the git root: %v\n%s", err, pin)
	}

	srv.stop(t) // offline from here on
	render := func(want string) {
		t.Helper()
		out := t.TempDir()
		code, _, errs := platRun(t, env, "render", "-f", "platform.yaml", "-o", out)
		if code != 0 {
			t.Fatalf("render: exit %d\n%s", code, errs)
		}
		if !strings.Contains(errs, "template postgres uses module acme/postgres/aws 1.0.0, which is deprecated: use 1.1.0, it encrypts backups") && want == "1.0.0" {
			t.Errorf("render through the pinned catalog did not warn about the deprecated module:\n%s", errs)
		}
		b, err := os.ReadFile(filepath.Join(out, "orders", "main.tf"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), fmt.Sprintf("%q", want)) || !strings.Contains(string(b), srv.hostport+"/acme/postgres/aws") {
			t.Fatalf("rendered main.tf does not pin module version %s from the test registry:\n%s", want, b)
		}
	}
	render("1.0.0")
	if code, _, errs := platRun(t, env, "validate", "."); code != 0 {
		t.Fatalf("validate offline: exit %d\n%s", code, errs)
	}

	// Bump the pin (registry back on the same data, a new port).
	srv = startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key)
	url2 := "https://" + srv.hostport
	if code, out, errs := platRun(t, env, "catalog", "pin", url2+"/acme/golden@1.1.0"); code != 0 {
		t.Fatalf("catalog pin 1.1.0: exit %d\n%s%s", code, out, errs)
	}
	srv.stop(t)
	out2 := t.TempDir()
	if code, _, errs := platRun(t, env, "render", "-f", "platform.yaml", "-o", out2); code != 0 {
		t.Fatalf("render 1.1.0: exit %d\n%s", code, errs)
	} else if b, _ := os.ReadFile(filepath.Join(out2, "orders", "main.tf")); !strings.Contains(string(b), `"1.1.0"`) {
		t.Fatalf("the module version did not move to 1.1.0:\n%s", b)
	}

	// A tampered cache entry is refused, naming the reference.
	entries, _ := filepath.Glob(filepath.Join(cache, "catalogs", "*", "catalog.tar.gz"))
	if len(entries) != 2 {
		t.Fatalf("cache entries %v", entries)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(e)
		b[len(b)-1] ^= 1
		os.WriteFile(e, b, 0o644)
	}
	code, _, errs = platRun(t, env, "validate", ".")
	if code != 2 || !strings.Contains(errs, "acme/golden@1.1.0") || !strings.Contains(errs, "the entry was changed") {
		t.Fatalf("tampered cache: exit %d, want 2\n%s", code, errs)
	}

	// An unreachable registry with an empty cache: exit 2, naming the reference.
	env["PLAT_CACHE_DIR"] = t.TempDir()
	code, _, errs = platRun(t, env, "validate", ".")
	if code != 2 || !strings.Contains(errs, "acme/golden@1.1.0 is not in the cache") || !strings.Contains(errs, "cannot be reached") {
		t.Fatalf("empty cache, registry stopped: exit %d, want 2\n%s", code, errs)
	}

	// A pin with a typo: the key's line:col.
	good, _ := os.ReadFile(pinFile)
	os.WriteFile(pinFile, bytes.Replace(good, []byte("namespace:"), []byte("namespce:"), 1), 0o644)
	code, _, errs = platRun(t, env, "validate", ".")
	if code != 2 || !strings.Contains(errs, `plat-catalog.yaml:5:1: unknown key "namespce"`) {
		t.Fatalf("pin typo: exit %d, want 2\n%s", code, errs)
	}
	os.WriteFile(pinFile, good, 0o644)

	srv = startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key)
	url3 := "https://" + srv.hostport
	// An unknown version.
	code, _, errs = platRun(t, env, "catalog", "pin", url3+"/acme/golden@9.9.9")
	if code != 1 || !strings.Contains(errs, "acme/golden@9.9.9: the registry has no such version") {
		t.Fatalf("unknown version: exit %d, want 1\n%s", code, errs)
	}
	if b, _ := os.ReadFile(pinFile); !bytes.Equal(b, good) {
		t.Fatalf("a refused pin changed the pin file:\n%s", b)
	}
	// A digest mismatch: nothing cached.
	bad := strings.NewReplacer(srv2host(good), srv.hostport, listing.Versions[1].Digest, "sha256:"+strings.Repeat("0", 64)).Replace(string(good))
	os.WriteFile(pinFile, []byte(bad), 0o644)
	code, _, errs = platRun(t, env, "validate", ".")
	if code != 2 || !strings.Contains(errs, "the registry's archive has digest "+listing.Versions[1].Digest) {
		t.Fatalf("digest mismatch: exit %d, want 2\n%s", code, errs)
	}
	if ents, _ := os.ReadDir(filepath.Join(env["PLAT_CACHE_DIR"], "catalogs")); len(ents) != 0 {
		t.Fatalf("a refused download left %v in the cache", ents)
	}

	// A catalog archive with a hostile path, sent past the CLI's own checks.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "../platform.cue", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	tw.Write([]byte("{}"))
	tw.Close()
	zw.Close()
	req, _ := http.NewRequest(http.MethodPost, url3+"/api/v1/catalogs/acme/golden/2.0.0", &buf)
	req.Header.Set("Authorization", "Bearer "+f.publishToken)
	resp, err := httpsClient(t, f.ca).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("hostile archive: status %d, want 400", resp.StatusCode)
	}
	getJSON(t, httpsClient(t, f.ca), url3+"/api/v1/catalogs/acme/golden", "", &listing)
	if len(listing.Versions) != 2 {
		t.Fatalf("a refused upload was listed: %+v", listing)
	}
}

// srv2host returns the registry host[:port] written in a pin file.
func srv2host(pin []byte) string {
	for _, l := range strings.Split(string(pin), "\n") {
		if r, ok := strings.CutPrefix(l, "registry: "); ok {
			return strings.TrimPrefix(strings.Trim(r, `"`), "https://")
		}
	}
	return ""
}
