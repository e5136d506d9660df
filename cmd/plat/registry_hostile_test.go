package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/internal/testtools"
)

// startBinaryServe starts the real plat binary (`plat` on PATH is this test
// binary acting as plat) as `plat registry serve` on a loopback port with a new
// --data directory, and returns its address and a publish token for acme.
func startBinaryServe(t *testing.T) (plat, addr, tok string, cmd *exec.Cmd, log *testtools.SyncBuffer) {
	t.Helper()
	plat, err := exec.LookPath("plat")
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")
	out, err := exec.Command(plat, "registry", "token", "create", "--data", data, "--namespace", "acme", "--scope", "publish").Output()
	if err != nil {
		t.Fatal(err)
	}
	tok = strings.TrimSpace(string(out))
	log = &testtools.SyncBuffer{}
	cmd = exec.Command(plat, "registry", "serve", "--listen", "127.0.0.1:0", "--data", data)
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := listenRE.FindStringSubmatch(log.String()); m != nil {
			return plat, m[1], tok, cmd, log
		}
	}
	t.Fatalf("plat registry serve did not start:\n%s", log.String())
	return
}

type tarEntry struct {
	name string
	mode int64
	body string
	dir  bool
}

func tarGz(t *testing.T, level int, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, level)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		if e.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func upload(t *testing.T, addr, tok, module, version string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/modules/acme/"+module+"/aws/"+version, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRegistryBinaryDeepNesting is issue 17 finding 1: a tiny upload whose main.tf
// nests brackets 100,000 deep overflowed the goroutine stack in hclsyntax and
// killed the whole server. It must be refused with 400, naming the file, line and
// limit, and the server must go on serving.
func TestRegistryBinaryDeepNesting(t *testing.T) {
	plat, addr, tok, cmd, log := startBinaryServe(t)
	deep := "variable \"x\" { default = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + " }\n"
	cases := []struct {
		name string
		body []byte
	}{
		{"main.tf", tarGz(t, gzip.BestCompression, tarEntry{name: "main.tf", mode: 0o644, body: deep})},
		{"main.tf.json", tarGz(t, gzip.BestCompression, tarEntry{name: "main.tf", mode: 0o644, body: "variable \"y\" {}\n"}, tarEntry{name: "main.tf.json", mode: 0o644, body: `{"variable": {"x": {"default": ` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}}}`})},
	}
	for _, c := range cases {
		name, body := c.name, c.body
		t.Logf("%s: hostile archive of %d bytes", name, len(body))
		code, msg := upload(t, addr, tok, "deep", "1.0.0", body)
		if code != http.StatusBadRequest || !strings.Contains(msg, name+":1:") || !strings.Contains(msg, "more than 256 levels") {
			t.Fatalf("%s: upload = %d %s\nserver log:\n%s", name, code, msg, log.String())
		}
	}
	if cmd.ProcessState != nil {
		t.Fatalf("server exited: %v", cmd.ProcessState)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("healthz after the hostile uploads: %v\n%s", err, log.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz = %s", resp.Status)
	}
	mod := t.TempDir()
	writeFiles(t, mod, demoModule)
	pub := exec.Command(plat, "module", "publish", mod, "--registry", "http://"+addr, "--namespace", "acme", "--name", "demo", "--system", "aws", "--version", "1.0.0")
	pub.Env = append(os.Environ(), "PLAT_TOKEN="+tok)
	if out, err := pub.CombinedOutput(); err != nil {
		t.Fatalf("publish after the hostile uploads: %v\n%s", err, out)
	}
}

// TestRegistryBinaryModes is issue 17 finding 9: modes of uploaded entries
// (setuid 06777) reached .terraform/modules. The stored archive carries 0644 and
// 0755 only.
func TestRegistryBinaryModes(t *testing.T) {
	_, addr, tok, _, _ := startBinaryServe(t)
	body := tarGz(t, gzip.DefaultCompression,
		tarEntry{name: "main.tf", mode: 0o6777, body: "variable \"x\" {}\n"},
		tarEntry{name: "notes.txt", mode: 0o666, body: "x"},
		tarEntry{name: "sub/", mode: 0o1777, dir: true},
	)
	if code, msg := upload(t, addr, tok, "modes", "1.0.0", body); code != http.StatusCreated {
		t.Fatalf("upload = %d %s", code, msg)
	}
	got := downloadEntries(t, addr, "modes", "1.0.0")
	if want := "main.tf 755, notes.txt 644, sub/ 755"; strings.Join(got, ", ") != want {
		t.Errorf("downloaded modes = %s, want %s", strings.Join(got, ", "), want)
	}
}

// downloadEntries fetches a version's archive the way tofu does (download
// endpoint, then X-Terraform-Get) and lists its entries as "name mode".
func downloadEntries(t *testing.T, addr, module, version string) []string {
	t.Helper()
	dl := "http://" + addr + "/v1/modules/acme/" + module + "/aws/" + version + "/download"
	resp, err := http.Get(dl)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("X-Terraform-Get"))
	if err != nil || resp.Header.Get("X-Terraform-Get") == "" {
		t.Fatalf("download: %s, X-Terraform-Get %q", resp.Status, resp.Header.Get("X-Terraform-Get"))
	}
	base, _ := url.Parse(dl)
	resp, err = http.Get(base.ResolveReference(loc).String())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("archive (%s): %v", resp.Status, err)
	}
	tr := tar.NewReader(zr)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %o", h.Name, h.Mode))
	}
	return got
}

// TestRegistryBinaryPublishLeavesOutSecrets is issue 17 finding 15 end to end:
// terraform.tfvars, .env, crash.log and state never reach the registry, and
// publish says what it left out.
func TestRegistryBinaryPublishLeavesOutSecrets(t *testing.T) {
	plat, addr, tok, _, _ := startBinaryServe(t)
	mod := t.TempDir()
	writeFiles(t, mod, map[string]string{
		"main.tf": "variable \"x\" {}\n", "terraform.tfvars": "password = \"hunter2\"\n", ".env": "TOKEN=x\n",
		"crash.log": "Authorization: Bearer x\n", "terraform.tfstate": "{}", "secret.pem": "k", ".terraformignore": "*.pem\n",
	})
	pub := exec.Command(plat, "module", "publish", mod, "--registry", "http://"+addr, "--namespace", "acme", "--name", "secrets", "--system", "aws", "--version", "1.0.0")
	pub.Env = append(os.Environ(), "PLAT_TOKEN="+tok)
	var stderr bytes.Buffer
	pub.Stderr = &stderr
	if err := pub.Run(); err != nil {
		t.Fatalf("publish: %v\n%s", err, stderr.String())
	}
	if want := "plat: module publish: left out .env, crash.log, secret.pem, terraform.tfstate, terraform.tfvars\n"; stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
	if got, want := strings.Join(downloadEntries(t, addr, "secrets", "1.0.0"), ", "), ".terraformignore 644, main.tf 644"; got != want {
		t.Errorf("published archive = %s, want %s", got, want)
	}
}
