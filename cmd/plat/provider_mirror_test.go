package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/platdev/plat/internal/testtools"
)

// localProviderBin is the real hashicorp/local provider testtools builds.
func localProviderBin(t *testing.T) string {
	t.Helper()
	return filepath.Join(testtools.ProviderMirror(t), "registry.opentofu.org/hashicorp/local/1.4.0/linux_amd64/terraform-provider-local_v1.4.0")
}

// writeProviderZip zips the provider binary (and extra files) as a release
// archive: one executable at the root.
func writeProviderZip(t *testing.T, path, bin string, extra map[string]string) {
	t.Helper()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	h := &zip.FileHeader{Name: filepath.Base(bin), Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	for name, body := range extra {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

var lockH1 = regexp.MustCompile(`"(h1:[A-Za-z0-9+/=]+)"`)
var lockZH = regexp.MustCompile(`"(zh:[0-9a-f]{64})"`)

const localProviderConfig = `terraform {
  required_providers {
    local = {
      source  = "hashicorp/local"
      version = "1.4.0"
    }
  }
}
`

// packedMirror builds the layout `tofu providers mirror` writes for
// hashicorp/local 1.4.0 from the locally built provider, with the h1: hash
// real `tofu providers lock` computes for the zip, and returns the directory,
// the zip's path and its hashes.
func packedMirror(t *testing.T, tofu string) (dir, zipPath, h1, zh string) {
	t.Helper()
	dir = t.TempDir()
	pdir := filepath.Join(dir, "registry.opentofu.org", "hashicorp", "local")
	zipPath = filepath.Join(pdir, "terraform-provider-local_1.4.0_linux_amd64.zip")
	writeProviderZip(t, zipPath, localProviderBin(t), nil)

	work := t.TempDir()
	writeFiles(t, work, map[string]string{"main.tf": localProviderConfig})
	mustTF(t, tofu, work, mirrorEnv(t, ""), "providers", "lock", "-fs-mirror="+dir, "-platform=linux_amd64")
	lock, err := os.ReadFile(filepath.Join(work, ".terraform.lock.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	m := lockH1.FindSubmatch(lock)
	if m == nil {
		t.Fatalf("tofu providers lock wrote no h1: hash:\n%s", lock)
	}
	h1 = string(m[1])
	data, err := os.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	zh = "zh:" + hex.EncodeToString(sum[:])
	writeFiles(t, pdir, map[string]string{
		"index.json": `{"versions":{"1.4.0":{}}}`,
		"1.4.0.json": fmt.Sprintf(`{"archives":{"linux_amd64":{"url":"terraform-provider-local_1.4.0_linux_amd64.zip","hashes":[%q,%q]}}}`, h1, zh),
	})
	return dir, zipPath, h1, zh
}

// mirrorEnv is a hermetic tofu environment whose only provider source is
// the network mirror at mirrorURL ("" for none), with the given extra CLI
// configuration.
func mirrorEnv(t *testing.T, mirrorURL string, extra ...string) []string {
	t.Helper()
	home := t.TempDir()
	cfg := "provider_installation {\n  direct {\n    exclude = [\"*/*/*\"]\n  }\n}\n"
	if mirrorURL != "" {
		cfg = fmt.Sprintf("provider_installation {\n  network_mirror {\n    url = %q\n  }\n}\n", mirrorURL)
	}
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_INPUT=0"}
	for _, e := range extra {
		if strings.HasPrefix(e, "CONFIG=") {
			cfg += strings.TrimPrefix(e, "CONFIG=")
			continue
		}
		env = append(env, e)
	}
	rc := filepath.Join(home, "tofu.rc")
	if err := os.WriteFile(rc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return append(env, "TF_CLI_CONFIG_FILE="+rc)
}

// providerBlob returns the stored zip of the one published provider archive
// under the registry's data directory.
func providerBlob(t *testing.T, data string) string {
	t.Helper()
	var found []string
	filepath.WalkDir(filepath.Join(data, "archives", "providers"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".zip") {
			found = append(found, p)
		}
		return nil
	})
	if len(found) != 1 {
		t.Fatalf("stored provider archives = %v, want one", found)
	}
	return found[0]
}

// TestProviderMirrorTofu publishes the packed layout of the real
// hashicorp/local provider and has real tofu install it through the
// network_mirror protocol over TLS: the lock file records plat's h1: and zh:
// hashes (h1: equal to what tofu providers lock computes), a second init
// with the same lock file verifies them, and once the stored archive is
// changed behind the registry's back tofu refuses it. A repeat publish is
// refused (immutable), and so is an upload whose zip does not match its
// VERSION.json.
func TestProviderMirrorTofu(t *testing.T) {
	tofu := testtools.Bin(t, "tofu")
	packed, _, h1, zh := packedMirror(t, tofu)
	f := newFixture(t)
	srv := startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key)
	url := "https://" + srv.hostport
	penv := map[string]string{"PLAT_TOKEN": f.publishToken, "SSL_CERT_FILE": f.ca}

	code, out, errs := platRun(t, penv, "provider", "publish", packed, "--registry", url, "--namespace", "acme")
	if code != 0 || !strings.Contains(out, "published registry.opentofu.org/hashicorp/local 1.4.0 (linux_amd64)") {
		t.Fatalf("provider publish: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = platRun(t, penv, "provider", "publish", packed, "--registry", url, "--namespace", "acme")
	if code != 1 || !strings.Contains(errs, "409") || !strings.Contains(errs, "immutable") {
		t.Fatalf("repeat publish: exit %d, want 1 with 409\n%s%s", code, out, errs)
	}

	// Tampered upload: the zip no longer matches its VERSION.json.
	tampered := t.TempDir()
	os.CopyFS(tampered, os.DirFS(packed))
	tz := filepath.Join(tampered, "registry.opentofu.org/hashicorp/local/terraform-provider-local_1.4.0_linux_amd64.zip")
	writeProviderZip(t, tz, localProviderBin(t), map[string]string{"extra.txt": "not in the hashes"})
	code, out, errs = platRun(t, penv, "provider", "publish", tampered, "--registry", url, "--namespace", "acme")
	if code != 1 || !strings.Contains(errs, "1.4.0.json: linux_amd64") || !strings.Contains(errs, "does not match its declared hash") {
		t.Fatalf("tampered publish: exit %d, want 1 naming the mismatch\n%s%s", code, out, errs)
	}

	env := mirrorEnv(t, url+"/v1/providers/", "SSL_CERT_FILE="+f.ca)
	work := t.TempDir()
	writeFiles(t, work, map[string]string{"main.tf": localProviderConfig})
	t.Log(mustTF(t, tofu, work, env, "init", "-input=false", "-no-color"))
	lock, err := os.ReadFile(filepath.Join(work, ".terraform.lock.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(lock), `"`+h1+`"`) || !strings.Contains(string(lock), `"`+zh+`"`) {
		t.Fatalf("lock file lacks the mirror's hashes %s and %s:\n%s", h1, zh, lock)
	}
	if _, err := os.Stat(filepath.Join(work, ".terraform/providers/registry.opentofu.org/hashicorp/local/1.4.0/linux_amd64/terraform-provider-local_v1.4.0")); err != nil {
		t.Fatalf("provider not installed: %v", err)
	}
	// Same lock file, fresh .terraform: tofu downloads again and verifies.
	os.RemoveAll(filepath.Join(work, ".terraform"))
	mustTF(t, tofu, work, env, "init", "-input=false", "-no-color")

	// Replace the stored archive behind the registry's back with another
	// valid provider zip (the tampered one above); restart so no cached copy
	// is served.
	blob := providerBlob(t, f.data)
	bad, err := os.ReadFile(tz)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blob, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	srv.stop(t)
	srv2 := startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key, "--listen", srv.hostport)
	if srv2.hostport != srv.hostport {
		t.Fatalf("restarted on %s, want %s", srv2.hostport, srv.hostport)
	}
	os.RemoveAll(filepath.Join(work, ".terraform"))
	out2, err := runTF(t, tofu, work, env, "init", "-input=false", "-no-color")
	if err == nil {
		t.Fatalf("tofu init installed a tampered archive:\n%s", out2)
	}
	t.Logf("tampered archive refused:\n%s", out2)
	if !strings.Contains(out2, "checksum") {
		t.Errorf("tofu init failed for another reason than the checksum:\n%s", out2)
	}
	// Without a lock file too: the mirror's own hashes refuse it.
	fresh := t.TempDir()
	writeFiles(t, fresh, map[string]string{"main.tf": localProviderConfig})
	if out3, err := runTF(t, tofu, fresh, env, "init", "-input=false", "-no-color"); err == nil {
		t.Fatalf("tofu init without a lock file installed a tampered archive:\n%s", out3)
	}
}

// TestProviderMirrorUnpackedReadToken publishes the unpacked filesystem
// mirror layout (plat zips it) to a registry that requires read tokens:
// real tofu installs the provider with a read token of the owning namespace
// (archives through signed links), records the same h1: hash tofu computes
// for the packed zip, and is refused without a token.
func TestProviderMirrorUnpackedReadToken(t *testing.T) {
	tofu := testtools.Bin(t, "tofu")
	_, _, h1, _ := packedMirror(t, tofu)
	f := newFixture(t)
	srv := startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key, "--require-read-token")
	url := "https://" + srv.hostport
	unpacked := t.TempDir()
	os.CopyFS(filepath.Join(unpacked, "registry.opentofu.org"), os.DirFS(filepath.Join(testtools.ProviderMirror(t), "registry.opentofu.org")))
	code, out, errs := platRun(t, map[string]string{"PLAT_TOKEN": f.publishToken, "SSL_CERT_FILE": f.ca},
		"provider", "publish", unpacked, "--registry", url, "--namespace", "acme")
	if code != 0 {
		t.Fatalf("provider publish (unpacked): exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = platRun(t, nil, "registry", "token", "create", "--data", f.data, "--namespace", "acme", "--scope", "read")
	if code != 0 {
		t.Fatalf("token create: %s", errs)
	}
	readTok := strings.TrimSpace(out)

	work := t.TempDir()
	writeFiles(t, work, map[string]string{"main.tf": localProviderConfig})
	noTok := mirrorEnv(t, url+"/v1/providers/", "SSL_CERT_FILE="+f.ca)
	if out, err := runTF(t, tofu, work, noTok, "init", "-input=false", "-no-color"); err == nil {
		t.Fatalf("tofu init without a read token succeeded:\n%s", out)
	}
	withTok := mirrorEnv(t, url+"/v1/providers/", "SSL_CERT_FILE="+f.ca,
		fmt.Sprintf("CONFIG=credentials %q {\n  token = %q\n}\n", srv.hostport, readTok))
	mustTF(t, tofu, work, withTok, "init", "-input=false", "-no-color")
	lock, err := os.ReadFile(filepath.Join(work, ".terraform.lock.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(lock), `"`+h1+`"`) {
		t.Fatalf("lock file lacks h1 %s of plat's own zip:\n%s", h1, lock)
	}
	if lockZH.Find(lock) == nil {
		t.Errorf("lock file lacks the mirror's zh: hash:\n%s", lock)
	}
	var doc struct {
		Archives map[string]struct{ URL string }
	}
	getJSON(t, httpsClient(t, f.ca), url+"/v1/providers/registry.opentofu.org/hashicorp/local/1.4.0.json", readTok, &doc)
	if u := doc.Archives["linux_amd64"].URL; !strings.Contains(u, "grant=") {
		t.Errorf("archive URL %q carries no grant", u)
	}
}
