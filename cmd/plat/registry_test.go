package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/platdev/plat/internal/cli"
	"github.com/platdev/plat/internal/registrytest"
	"github.com/platdev/plat/internal/testtools"
	"github.com/platdev/plat/registry/archive"
)

// TestRegistryScripts runs the registry's CLI scripts (token create, publish and
// serve error paths).
func TestRegistryScripts(t *testing.T) {
	p := scriptParams(filepath.Join("testdata", "script", "registry"))
	testscript.Run(t, p)
}

// platRun runs one plat command line in-process with only the given environment.
func platRun(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb testtools.SyncBuffer
	e := &cli.Env{
		Stdin:  strings.NewReader(""),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
		Log:    slog.New(slog.NewTextHandler(&errb, nil)),
	}
	code = cli.Run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

// server is a `plat registry serve` running in-process.
type server struct {
	hostport string // 127.0.0.1:PORT
	log      *testtools.SyncBuffer
	cancel   context.CancelFunc
	done     chan int
}

var listenRE = regexp.MustCompile(`msg="plat registry listening" url=https?://([0-9.:]+)`)

// startServe runs `plat registry serve --listen 127.0.0.1:0 ARGS...` and waits
// until it listens.
func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{log: &testtools.SyncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	e := &cli.Env{
		Stdin: strings.NewReader(""), Stdout: s.log, Stderr: s.log,
		Getenv: func(string) string { return "" },
		Log:    slog.New(slog.NewTextHandler(s.log, nil)),
	}
	go func() {
		s.done <- cli.Run(ctx, e, append([]string{"registry", "serve", "--listen", "127.0.0.1:0"}, args...))
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := listenRE.FindStringSubmatch(s.log.String()); m != nil {
			s.hostport = m[1]
			break
		}
		select {
		case code := <-s.done:
			t.Fatalf("registry serve exited with %d before listening:\n%s", code, s.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry serve did not start:\n%s", s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// binServer is one `plat registry serve` process of the real binary.
type binServer struct {
	base string
	cmd  *exec.Cmd
	log  *testtools.SyncBuffer
}

// startServeBinary runs the real binary plat as `plat registry serve --listen
// 127.0.0.1:0 --data DATA ARGS...` and waits until it listens; the test's
// cleanup interrupts it.
func startServeBinary(t *testing.T, plat, data string, args ...string) *binServer {
	t.Helper()
	s := &binServer{log: &testtools.SyncBuffer{}}
	s.cmd = exec.Command(plat, append([]string{"registry", "serve", "--listen", "127.0.0.1:0", "--data", data}, args...)...)
	s.cmd.Stderr = s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := listenRE.FindStringSubmatch(s.log.String()); m != nil {
			s.base = "http://" + m[1]
			return s
		}
	}
	t.Fatalf("plat registry serve did not start:\n%s", s.log.String())
	return nil
}

func (s *binServer) stop() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(os.Interrupt)
		_ = s.cmd.Wait()
	}
}

// stop cancels the server (as SIGINT/SIGTERM do) and checks it exits cleanly.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case code := <-s.done:
		if code != 0 {
			t.Errorf("registry serve exited with %d:\n%s", code, s.log.String())
		}
	case <-time.After(40 * time.Second):
		t.Errorf("registry serve did not stop")
	}
}

// testCA writes a CA and a server certificate for 127.0.0.1 and localhost into dir.
func testCA(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "plat test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	writePEM(t, caFile, "CERTIFICATE", caDER)
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	return caFile, certFile, keyFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// demoModule is a module whose only resource is the built-in terraform_data, so
// tofu needs no provider.
var demoModule = map[string]string{
	"main.tf": `variable "name" {
  type        = string
  description = "What to call the thing."
}

variable "size" {
  type    = number
  default = 3
}

resource "terraform_data" "thing" {
  input = "${var.name}-${var.size}"
}

output "value" {
  description = "The thing's value."
  value       = terraform_data.thing.output
}
`,
	"README.md":          "# demo\n\nA demo module that needs no provider.\n",
	".terraform/junk.tf": "this is not HCL and must not be published",
	"terraform.tfstate":  "{}",
}

// rootModule calls the demo module from the registry at source.
func rootModule(source string) map[string]string {
	return map[string]string{"main.tf": fmt.Sprintf(`module "demo" {
  source  = %q
  version = "1.0.0"
  name    = "hello"
}

output "value" {
  value = module.demo.value
}
`, source)}
}

// tofuEnv is a hermetic environment for tofu/terraform: temp HOME, plugin cache
// and CLI config; no inherited tokens; nothing that reaches the internet.
func tofuEnv(t *testing.T, cliConfig string, extra ...string) []string {
	t.Helper()
	home := t.TempDir()
	cfg := filepath.Join(home, "tofu.rc")
	cfg2 := cliConfig + `
provider_installation {
  direct {
    exclude = ["*/*/*"]
  }
}
`
	if err := os.WriteFile(cfg, []byte(cfg2), 0o600); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(home, "plugin-cache")
	os.MkdirAll(cache, 0o755)
	env := []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"TF_CLI_CONFIG_FILE=" + cfg,
		"TF_PLUGIN_CACHE_DIR=" + cache,
		"TF_IN_AUTOMATION=1",
		"CHECKPOINT_DISABLE=1",
		"TF_INPUT=0",
	}
	return append(env, extra...)
}

func runTF(t *testing.T, bin, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustTF runs bin and fails the test if it fails.
func mustTF(t *testing.T, bin, dir string, env []string, args ...string) string {
	t.Helper()
	out, err := runTF(t, bin, dir, env, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return out
}

// applyDemo runs init, apply and output in a fresh root module calling source.
func applyDemo(t *testing.T, bin, source string, env []string) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, rootModule(source))
	t.Log(mustTF(t, bin, dir, env, "init", "-input=false", "-no-color"))
	mustTF(t, bin, dir, env, "apply", "-auto-approve", "-input=false", "-no-color")
	out := mustTF(t, bin, dir, env, "output", "-raw", "value")
	if out != "hello-3" {
		t.Fatalf("module output = %q, want hello-3", out)
	}
	// The archive was unpacked without the skipped files.
	if _, err := os.Stat(filepath.Join(dir, ".terraform", "modules", "demo", "terraform.tfstate")); !os.IsNotExist(err) {
		t.Errorf("state file was published with the module (stat err %v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".terraform", "modules", "demo", "main.tf")); err != nil {
		t.Errorf("module not unpacked: %v", err)
	}
}

// registryFixture mints a publish token and publishes the demo module.
type registryFixture struct {
	data, ca, cert, key string
	publishToken        string
}

func newFixture(t *testing.T) *registryFixture {
	t.Helper()
	dir := t.TempDir()
	f := &registryFixture{data: filepath.Join(dir, "data")}
	f.ca, f.cert, f.key = testCA(t, dir)
	code, out, errs := platRun(t, nil, "registry", "token", "create", "--data", f.data, "--namespace", "acme", "--scope", "publish")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, errs)
	}
	f.publishToken = strings.TrimSpace(out)
	return f
}

func (f *registryFixture) publish(t *testing.T, url string, files map[string]string, name, version string) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	code, out, errs := platRun(t, map[string]string{"PLAT_TOKEN": f.publishToken, "SSL_CERT_FILE": f.ca},
		"module", "publish", dir, "--registry", url, "--namespace", "acme", "--name", name, "--system", "aws", "--version", version)
	if code != 0 {
		t.Fatalf("publish: exit %d: %s%s", code, out, errs)
	}
}

// TestRegistryTofuTLS publishes a module over HTTPS and has real tofu init and
// apply a root module that calls it by registry address; then restarts the server
// on the same data and checks everything (and the download count) is still there.
func TestRegistryTofuTLS(t *testing.T) {
	tofu := testtools.Bin(t, "tofu")
	f := newFixture(t)
	srv := startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key)
	f.publish(t, "https://"+srv.hostport, demoModule, "demo", "1.0.0")

	env := tofuEnv(t, "", "SSL_CERT_FILE="+f.ca)
	applyDemo(t, tofu, srv.hostport+"/acme/demo/aws", env)
	srv.stop(t)

	srv2 := startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key)
	c := httpsClient(t, f.ca)
	var d struct {
		Downloads int64
		Root      struct {
			Inputs []struct {
				Name     string
				Required bool
			}
		}
	}
	getJSON(t, c, "https://"+srv2.hostport+"/v1/modules/acme/demo/aws/1.0.0", "", &d)
	if d.Downloads < 1 {
		t.Errorf("downloads after restart = %d, want >= 1", d.Downloads)
	}
	if len(d.Root.Inputs) != 2 || d.Root.Inputs[0].Name != "name" || !d.Root.Inputs[0].Required {
		t.Errorf("inputs after restart = %+v", d.Root.Inputs)
	}
	applyDemo(t, tofu, srv2.hostport+"/acme/demo/aws", env)
}

// TestRegistryTofuReadToken requires read tokens: tofu gets one through a
// credentials block and fetches the archive through the signed grant; without the
// token tofu init fails.
func TestRegistryTofuReadToken(t *testing.T) {
	tofu := testtools.Bin(t, "tofu")
	f := newFixture(t)
	const tokenTTL = 2 * time.Second
	srv := startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key, "--require-read-token", "--token-cache-ttl", tokenTTL.String())
	f.publish(t, "https://"+srv.hostport, demoModule, "demo", "1.0.0")
	code, out, errs := platRun(t, nil, "registry", "token", "create", "--data", f.data, "--namespace", "acme", "--scope", "read")
	if code != 0 {
		t.Fatalf("token create: %s", errs)
	}
	readTok := strings.TrimSpace(out)

	dir := t.TempDir()
	writeFiles(t, dir, rootModule(srv.hostport+"/acme/demo/aws"))
	noTok := tofuEnv(t, "", "SSL_CERT_FILE="+f.ca)
	if out, err := runTF(t, tofu, dir, noTok, "init", "-input=false", "-no-color"); err == nil {
		t.Fatalf("tofu init without a token succeeded:\n%s", out)
	} else if !strings.Contains(out, "401") && !strings.Contains(strings.ToLower(out), "unauthorized") {
		t.Errorf("tofu init without a token failed for another reason:\n%s", out)
	}

	withTok := tofuEnv(t, fmt.Sprintf("credentials %q {\n  token = %q\n}\n", srv.hostport, readTok), "SSL_CERT_FILE="+f.ca)
	applyDemo(t, tofu, srv.hostport+"/acme/demo/aws", withTok)

	// Revoked while the server runs: the same token is refused once the
	// server's cached lookup of it has expired.
	if code, out, errs := platRun(t, nil, "registry", "token", "revoke", "--data", f.data, readTok); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("token revoke: exit %d\n%s%s", code, out, errs)
	}
	time.Sleep(tokenTTL + 200*time.Millisecond)
	dir = t.TempDir()
	writeFiles(t, dir, rootModule(srv.hostport+"/acme/demo/aws"))
	if out, err := runTF(t, tofu, dir, withTok, "init", "-input=false", "-no-color"); err == nil {
		t.Fatalf("tofu init with a revoked token succeeded:\n%s", out)
	} else if !strings.Contains(out, "401") && !strings.Contains(strings.ToLower(out), "unauthorized") {
		t.Errorf("tofu init with a revoked token failed for another reason:\n%s", out)
	}
}

// TestRegistryTerraformReadToken is TestRegistryTofuReadToken with Terraform,
// which never sends the token when it fetches the archive: the grant in the
// download location must carry it.
func TestRegistryTerraformReadToken(t *testing.T) {
	tf := testtools.Bin(t, "terraform") // built from source by scripts/tools.sh
	f := newFixture(t)
	srv := startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key, "--require-read-token")
	f.publish(t, "https://"+srv.hostport, demoModule, "demo", "1.0.0")
	code, out, errs := platRun(t, nil, "registry", "token", "create", "--data", f.data, "--namespace", "acme", "--scope", "read")
	if code != 0 {
		t.Fatalf("token create: %s", errs)
	}
	env := tofuEnv(t, fmt.Sprintf("credentials %q {\n  token = %q\n}\n", srv.hostport, strings.TrimSpace(out)), "SSL_CERT_FILE="+f.ca)
	applyDemo(t, tf, srv.hostport+"/acme/demo/aws", env)
}

// TestRegistryTofuPlainHTTP serves plain HTTP and points tofu at it with a CLI
// config host block, which skips discovery.
func TestRegistryTofuPlainHTTP(t *testing.T) {
	tofu := testtools.Bin(t, "tofu")
	f := newFixture(t)
	srv := startServe(t, "--data", f.data)
	f.publish(t, "http://"+srv.hostport, demoModule, "demo", "1.0.0")
	env := tofuEnv(t, fmt.Sprintf("host \"registry.plat.test\" {\n  services = {\n    \"modules.v1\" = \"http://%s/v1/modules/\"\n  }\n}\n", srv.hostport))
	applyDemo(t, tofu, "registry.plat.test/acme/demo/aws", env)

	// plat module publish also takes the token from TF_TOKEN_<host>, as tofu does.
	dir := t.TempDir()
	writeFiles(t, dir, demoModule)
	code, out, errs := platRun(t, map[string]string{"TF_TOKEN_127_0_0_1": f.publishToken},
		"module", "publish", dir, "--registry", "http://"+srv.hostport, "--namespace", "acme", "--name", "demo", "--system", "aws", "--version", "1.1.0")
	if code != 0 || !strings.Contains(out, "published acme/demo/aws 1.1.0") {
		t.Fatalf("publish with TF_TOKEN_127_0_0_1: exit %d: %s%s", code, out, errs)
	}
	code, _, errs = platRun(t, nil,
		"module", "publish", dir, "--registry", "http://"+srv.hostport, "--namespace", "acme", "--name", "demo", "--system", "aws", "--version", "1.2.0")
	if code != 1 || !strings.Contains(errs, "401 Unauthorized") {
		t.Fatalf("publish without a token: exit %d: %s", code, errs)
	}
}

func httpsClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func getJSON(t *testing.T, c *http.Client, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, body)
	}
}

// TestRegistryApprovedModules publishes the four approved modules at 1.0.0, renders
// the shop example stack against the test registry with `plat render --registry`,
// and has real tofu fetch every module of the rendered stack with `tofu get`.
func TestRegistryApprovedModules(t *testing.T) {
	tofu := testtools.Bin(t, "tofu")
	root := testtools.RepoRoot(t)
	f := newFixture(t)
	code, out, errs := platRun(t, nil, "registry", "token", "create", "--data", f.data, "--namespace", "platform", "--scope", "publish")
	if code != 0 {
		t.Fatalf("token create: %s", errs)
	}
	tok := strings.TrimSpace(out)
	srv := startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key)
	templates := []string{"bucket", "cache", "postgres", "queue"}
	for _, tmpl := range templates {
		code, out, errs := platRun(t, map[string]string{"PLAT_TOKEN": tok, "SSL_CERT_FILE": f.ca},
			"module", "publish", filepath.Join(root, "modules", tmpl, "aws"), "--registry", "https://"+srv.hostport,
			"--namespace", "platform", "--name", tmpl, "--system", "aws", "--version", "1.0.0")
		if code != 0 {
			t.Fatalf("publish %s: exit %d: %s%s", tmpl, code, out, errs)
		}
	}
	outDir := t.TempDir()
	code, out, errs = platRun(t, nil, "render", "-f", filepath.Join(root, "examples", "shop", "platform.yaml"), "-o", outDir, "--registry", srv.hostport+"/platform")
	if code != 0 {
		t.Fatalf("render: exit %d: %s%s", code, out, errs)
	}
	stack := filepath.Join(outDir, "checkout")
	env := tofuEnv(t, "", "SSL_CERT_FILE="+f.ca)
	mustTF(t, tofu, stack, env, "get", "-no-color")
	b, err := os.ReadFile(filepath.Join(stack, ".terraform", "modules", "modules.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mods struct {
		Modules []struct{ Key, Source, Version, Dir string }
	}
	if err := json.Unmarshal(b, &mods); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, m := range mods.Modules {
		if m.Key == "" {
			continue
		}
		if m.Version != "1.0.0" {
			t.Errorf("module %s fetched at %q", m.Key, m.Version)
		}
		got[m.Source] = true
		if _, err := os.Stat(filepath.Join(stack, m.Dir, "main.tf")); err != nil {
			t.Errorf("module %s not unpacked: %v", m.Key, err)
		}
	}
	for _, tmpl := range templates {
		if src := srv.hostport + "/platform/" + tmpl + "/aws"; !got[src] {
			t.Errorf("tofu get did not fetch %s (got %v)", src, got)
		}
	}
	// The details endpoint documents each approved module from its HCL.
	var d struct {
		Root struct {
			Inputs  []struct{ Name string }
			Outputs []struct{ Name string }
		}
	}
	getJSON(t, httpsClient(t, f.ca), "https://"+srv.hostport+"/v1/modules/platform/postgres/aws/1.0.0", "", &d)
	if len(d.Root.Inputs) == 0 || len(d.Root.Outputs) == 0 {
		t.Errorf("postgres module documented without inputs or outputs: %+v", d)
	}
}

// TestRegistryScaleOut runs two stateless replicas of `plat registry serve` over a
// real PostgreSQL and a real S3-compatible store (versitygw), with read tokens:
// a module published through one replica is fetched by tofu through the other,
// whose download grant must verify on the first (the signing key is shared
// through the database).
func TestRegistryScaleOut(t *testing.T) {
	tofu := testtools.Bin(t, "tofu")
	pg := registrytest.StartPostgres(t)
	s3 := registrytest.StartS3(t)
	dsn, bucket := pg.NewDatabase(t), s3.NewBucket(t)
	dir := t.TempDir()
	ca, cert, key := testCA(t, dir)

	code, out, errs := platRun(t, nil, "registry", "token", "create", "--db", dsn, "--namespace", "acme", "--scope", "publish")
	if code != 0 {
		t.Fatalf("token create: %s", errs)
	}
	pubTok := strings.TrimSpace(out)
	code, out, errs = platRun(t, nil, "registry", "token", "create", "--db", dsn, "--namespace", "acme", "--scope", "read")
	if code != 0 {
		t.Fatalf("token create: %s", errs)
	}
	readTok := strings.TrimSpace(out)

	args := []string{"--db", dsn, "--blob", bucket, "--tls-cert", cert, "--tls-key", key, "--require-read-token"}
	a := startServe(t, args...)
	b := startServe(t, args...)

	mod := t.TempDir()
	writeFiles(t, mod, demoModule)
	code, out, errs = platRun(t, map[string]string{"PLAT_TOKEN": pubTok, "SSL_CERT_FILE": ca},
		"module", "publish", mod, "--registry", "https://"+a.hostport, "--namespace", "acme", "--name", "demo", "--system", "aws", "--version", "1.0.0")
	if code != 0 {
		t.Fatalf("publish: exit %d: %s%s", code, out, errs)
	}
	// Versions are immutable across replicas too.
	code, _, errs = platRun(t, map[string]string{"PLAT_TOKEN": pubTok, "SSL_CERT_FILE": ca},
		"module", "publish", mod, "--registry", "https://"+b.hostport, "--namespace", "acme", "--name", "demo", "--system", "aws", "--version", "1.0.0")
	if code != 1 || !strings.Contains(errs, "409") {
		t.Fatalf("republish through the other replica: exit %d: %s", code, errs)
	}

	// A download location from replica B works on replica A.
	c := httpsClient(t, ca)
	req, _ := http.NewRequest("GET", "https://"+b.hostport+"/v1/modules/acme/demo/aws/1.0.0/download", nil)
	req.Header.Set("Authorization", "Bearer "+readTok)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("X-Terraform-Get")
	if resp.StatusCode != 204 || loc == "" {
		t.Fatalf("download on B: %s %q", resp.Status, loc)
	}
	resp, err = c.Get("https://" + a.hostport + loc)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("B's grant on A: %s", resp.Status)
	}

	env := tofuEnv(t, fmt.Sprintf("credentials %q {\n  token = %q\n}\n", b.hostport, readTok), "SSL_CERT_FILE="+ca)
	applyDemo(t, tofu, b.hostport+"/acme/demo/aws", env)
}

// TestRegistryBinarySIGTERM runs the real plat binary (`plat` on PATH is this test
// binary acting as plat): serve, publish, then SIGTERM while an upload is half
// sent. The upload must still complete (201), the server must exit 0, and the
// version must be there after a restart.
func TestRegistryBinarySIGTERM(t *testing.T) {
	plat, err := exec.LookPath("plat")
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")
	tokOut, err := exec.Command(plat, "registry", "token", "create", "--data", data, "--namespace", "acme", "--scope", "publish").Output()
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(tokOut))
	serve := func() (*exec.Cmd, *testtools.SyncBuffer, string) {
		var log testtools.SyncBuffer
		cmd := exec.Command(plat, "registry", "serve", "--listen", "127.0.0.1:0", "--data", data)
		cmd.Stderr = &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if m := listenRE.FindStringSubmatch(log.String()); m != nil {
				return cmd, &log, m[1]
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("plat registry serve did not start:\n%s", log.String())
		return nil, nil, ""
	}
	cmd, log, addr := serve()

	mod := t.TempDir()
	writeFiles(t, mod, demoModule)
	pub := exec.Command(plat, "module", "publish", mod, "--registry", "http://"+addr, "--namespace", "acme", "--name", "demo", "--system", "aws", "--version", "1.0.0")
	pub.Env = append(os.Environ(), "PLAT_TOKEN="+tok)
	if out, err := pub.CombinedOutput(); err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}

	// Start an upload of 1.1.0 and stop halfway.
	files := map[string]string{"main.tf": "variable \"x\" {}\n"}
	dir := t.TempDir()
	writeFiles(t, dir, files)
	archiveBytes, err := archive.Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/modules/acme/demo/aws/1.1.0 HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", addr, tok, len(archiveBytes))
	conn.Write(archiveBytes[:len(archiveBytes)/2])
	time.Sleep(100 * time.Millisecond) // the server is now reading the body
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	conn.Write(archiveBytes[len(archiveBytes)/2:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight upload during shutdown: %v\n%s", err, log.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("in-flight upload during shutdown: %s", resp.Status)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("plat registry serve after SIGTERM: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "plat registry stopped") {
		t.Fatalf("no clean stop in the log:\n%s", log.String())
	}

	_, _, addr = serve()
	resp, err = http.Get("http://" + addr + "/v1/modules/acme/demo/aws/versions")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"1.0.0"`) || !strings.Contains(string(body), `"1.1.0"`) {
		t.Fatalf("versions after restart: %s", body)
	}
}

// TestRegistryTokenHashOnly checks that token create stores the SHA-256 of the
// token and never the token itself.
func TestRegistryTokenHashOnly(t *testing.T) {
	data := t.TempDir()
	code, out, errs := platRun(t, nil, "registry", "token", "create", "--data", data, "--namespace", "acme", "--scope", "read")
	if code != 0 {
		t.Fatalf("token create: %s", errs)
	}
	secret := strings.TrimSpace(out)
	sum := sha256.Sum256([]byte(secret))
	var all []byte
	filepath.WalkDir(data, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			all = append(all, b...)
		}
		return nil
	})
	if bytes.Contains(all, []byte(secret)) || bytes.Contains(all, []byte(strings.TrimPrefix(secret, "plat_"))) {
		t.Fatal("the token itself is stored")
	}
	if !bytes.Contains(all, []byte(hex.EncodeToString(sum[:]))) {
		t.Fatal("the token's SHA-256 is not stored")
	}
}
