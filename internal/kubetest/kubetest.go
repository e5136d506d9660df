// Package kubetest runs a real etcd and kube-apiserver on loopback ports for tests,
// the way a cluster without controllers behaves: CRDs are enforced, nothing
// reconciles. A test package shares one server (Shared) and stops it in TestMain
// (Main), because starting one costs a few seconds of a 2-core machine.
//
//	func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		srv := kubetest.Shared(t)
//		srv.ApplyCRDs(t, crdFiles...)
//		ns := srv.Namespace(t, "drift")
//		...
//	}
package kubetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/platdev/plat/internal/testtools"
	"github.com/platdev/plat/internal/yamlpos"
)

// Server is a running etcd + kube-apiserver pair.
type Server struct {
	// Config reaches the API server as a member of system:masters.
	Config *rest.Config
	// Kubeconfig is the path of a kubeconfig file naming this server, for
	// commands that read KUBECONFIG or --kubeconfig.
	Kubeconfig string
	// Dir holds the server's data, certificates and logs.
	Dir string

	etcd, apiserver *proc
	apiLog          string

	mu   sync.Mutex
	crds map[string]bool // CRD names known to be established
}

var (
	sharedMu  sync.Mutex
	shared    *Server
	sharedErr string
)

// Main runs the tests of a package and then stops the server Shared started, if
// any. Call it from TestMain: os.Exit(kubetest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Stop()
		if code == 0 {
			os.RemoveAll(shared.Dir)
		} else {
			fmt.Fprintf(os.Stderr, "kubetest: server data and logs kept in %s\n", shared.Dir)
		}
		shared = nil
	}
	return code
}

// Shared returns the package's server, starting it on first use. A package using
// it must call Main from TestMain so that the processes stop.
func Shared(t testing.TB) *Server {
	t.Helper()
	testtools.SkipShort(t, "kube-apiserver")
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		return shared
	}
	if sharedErr != "" {
		t.Fatalf("kubetest: shared server failed to start earlier: %s", sharedErr)
	}
	sharedErr = "start aborted"
	dir, err := os.MkdirTemp("", "plat-kubetest-")
	if err != nil {
		t.Fatal(err)
	}
	s, err := start(t, dir)
	if err != nil {
		sharedErr = err.Error()
		t.Fatalf("kubetest: %v", err)
	}
	sharedErr = ""
	shared = s
	return s
}

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	testtools.SkipShort(t, "kube-apiserver")
	s, err := start(t, t.TempDir())
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Stop kills the API server and etcd. It is safe to call more than once.
func (s *Server) Stop() {
	s.apiserver.stop()
	s.etcd.stop()
}

func start(t testing.TB, dir string) (*Server, error) {
	etcdBin := testtools.Bin(t, "etcd")
	apiBin := testtools.Bin(t, "kube-apiserver")

	s := &Server{Dir: dir, crds: map[string]bool{}}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	securePort := ports[2]

	// etcd's data is throwaway: keep it in memory when the machine has /dev/shm.
	etcdData := filepath.Join(dir, "etcd")
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "plat-etcd-"); err == nil {
			etcdData = d
			t.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	s.etcd, err = startProc(filepath.Join(dir, "etcd.log"), etcdBin,
		"--name=default",
		"--data-dir="+etcdData,
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		"--log-level=error",
		"--logger=zap",
	)
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}

	token := randomHex(16)
	key, err := writeServiceAccountKey(filepath.Join(dir, "sa.key"))
	if err != nil {
		s.Stop()
		return nil, err
	}
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(token+",admin,admin,system:masters\n"), 0o600); err != nil {
		s.Stop()
		return nil, err
	}
	certDir := filepath.Join(dir, "certs")
	s.apiLog = filepath.Join(dir, "kube-apiserver.log")
	s.apiserver, err = startProc(s.apiLog, apiBin,
		"--etcd-servers="+etcdURL,
		"--secure-port="+strconv.Itoa(securePort),
		"--bind-address=127.0.0.1",
		"--cert-dir="+certDir,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+key,
		"--service-account-signing-key-file="+key,
		"--token-auth-file="+tokens,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=0",
	)
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("start kube-apiserver: %w", err)
	}

	host := "https://127.0.0.1:" + strconv.Itoa(securePort)
	if err := waitReady(host, token, s.apiserver, 90*time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("kube-apiserver not ready: %w\n%s", err, tail(s.apiLog, 30))
	}
	// The self-signed serving certificate the server generated names 127.0.0.1;
	// trust exactly it rather than skipping verification.
	ca, err := os.ReadFile(filepath.Join(certDir, "apiserver.crt"))
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.Config = &rest.Config{
		Host:            host,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		QPS:             100,
		Burst:           200,
		// Deprecation warnings (Crossplane's XRD v1) are noise in test logs.
		WarningHandler: rest.NoWarnings{},
	}
	s.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(s.Kubeconfig, kubeconfig(host, token, ca), 0o600); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// proc is a child process whose exit is observed by one goroutine.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startProc(logFile, bin string, args ...string) (*proc, error) {
	c := exec.Command(bin, args...)
	// Never outlive the test binary, even when it is killed by a timeout.
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	c.Stdout = f
	c.Stderr = f
	err = c.Start()
	f.Close() // the child holds its own descriptor
	if err != nil {
		return nil, err
	}
	p := &proc{cmd: c, done: make(chan struct{})}
	go func() {
		p.err = c.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) stop() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

func waitReady(host, token string, p *proc, timeout time.Duration) error {
	client := &http.Client{
		Timeout: 2 * time.Second,
		// Only to poll /readyz: the serving certificate is read once the server is up.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("process exited: %w", p.err)
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err == nil {
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(b.String()))
		} else {
			last = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %v: %s", timeout, last)
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func writeServiceAccountKey(path string) (string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	return path, os.WriteFile(path, b, 0o600)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func kubeconfig(host, token string, ca []byte) []byte {
	cfg := map[string]any{
		"apiVersion": "v1",
		"kind":       "Config",
		"clusters": []any{map[string]any{"name": "kubetest", "cluster": map[string]any{
			"server": host, "certificate-authority-data": ca,
		}}},
		"users": []any{map[string]any{"name": "admin", "user": map[string]any{"token": token}}},
		"contexts": []any{map[string]any{"name": "kubetest", "context": map[string]any{
			"cluster": "kubetest", "user": "admin",
		}}},
		"current-context": "kubetest",
	}
	b, _ := yaml.Marshal(cfg)
	return b
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ApplyCRDs creates the CustomResourceDefinitions in files (YAML, one or more
// documents each; directories are read entirely) unless they exist, and waits
// until each is Established and its resource is served.
func (s *Server) ApplyCRDs(t testing.TB, files ...string) {
	t.Helper()
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		paths := []string{f}
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			paths = nil
			err := filepath.WalkDir(f, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
					paths = append(paths, p)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, doc := range yamlpos.SplitDocuments(b) {
				var crd apiextensionsv1.CustomResourceDefinition
				if err := yaml.Unmarshal(doc, &crd); err != nil {
					t.Fatalf("kubetest: %s: %v", p, err)
				}
				if crd.Kind != "CustomResourceDefinition" {
					continue
				}
				crds = append(crds, &crd)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, err := apiextensionsclient.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var pending []string
	for _, crd := range crds {
		if s.crds[crd.Name] {
			continue
		}
		_, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("kubetest: create CRD %s: %v", crd.Name, err)
		}
		pending = append(pending, crd.Name)
	}
	for _, name := range pending {
		if err := waitEstablished(ctx, cs, name); err != nil {
			t.Fatalf("kubetest: CRD %s: %v", name, err)
		}
		s.crds[name] = true
	}
	if len(pending) > 0 {
		if err := s.waitServed(ctx, crds); err != nil {
			t.Fatalf("kubetest: %v", err)
		}
	}
}

func waitEstablished(ctx context.Context, cs apiextensionsclient.Interface, name string) error {
	for {
		crd, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return nil
			}
			if c.Type == apiextensionsv1.NamesAccepted && c.Status == apiextensionsv1.ConditionFalse {
				return fmt.Errorf("names not accepted: %s", c.Message)
			}
		}
		select {
		case <-ctx.Done():
			return errors.New("not established in time")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitServed waits until discovery lists every served version of crds, so that
// clients using a RESTMapper find them right away.
func (s *Server) waitServed(ctx context.Context, crds []*apiextensionsv1.CustomResourceDefinition) error {
	cs, err := kubernetes.NewForConfig(s.Config)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(s.Config)
	if err != nil {
		return err
	}
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			gv := crd.Spec.Group + "/" + v.Name
			for {
				list, err := cs.Discovery().ServerResourcesForGroupVersion(gv)
				if err == nil && hasResource(list, crd.Spec.Names.Plural) {
					break
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("%s %s not served in time", gv, crd.Spec.Names.Plural)
				case <-time.After(100 * time.Millisecond):
				}
			}
			// Discovery can list a resource a moment before its handler serves it.
			gvr := schema.GroupVersionResource{Group: crd.Spec.Group, Version: v.Name, Resource: crd.Spec.Names.Plural}
			for {
				_, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1})
				if err == nil {
					break
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("list %s: %w", gvr, err)
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
	}
	return nil
}

func hasResource(l *metav1.APIResourceList, plural string) bool {
	for _, r := range l.APIResources {
		if r.Name == plural {
			return true
		}
	}
	return false
}

// Namespace creates a namespace with a unique name starting with prefix and
// deletes it when the test ends.
func (s *Server) Namespace(t testing.TB, prefix string) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("kubetest: create namespace: %v", err)
	}
	t.Cleanup(func() {
		// No namespace controller runs, so this only marks it terminating; that
		// is enough to keep tests apart.
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

// RetryNotFound calls fn until it returns something other than a NotFound
// error, for up to 10 seconds. Right after a CRD is created or its status
// changes, the API server swaps the resource's handler and may answer 404 for a
// moment, even after discovery lists it.
func RetryNotFound(fn func() error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := fn()
		if !apierrors.IsNotFound(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
