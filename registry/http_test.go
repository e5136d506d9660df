package registry_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/serve"
	"github.com/platdev/plat/registry/store"
)

type testRegistry struct {
	url  string
	svc  *registry.Service
	st   store.Store
	data string
	tok  map[string]string // "ns/scope" -> secret
}

func newTestRegistry(t testing.TB, cfg registry.Config) *testRegistry {
	t.Helper()
	data := t.TempDir()
	st, err := serve.OpenStore(context.Background(), serve.StoreConfig{DataDir: data, ArchiveCache: serve.DefaultArchiveCache}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := registry.NewService(context.Background(), st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.NewHandler(svc, registry.HandlerOptions{}))
	t.Cleanup(srv.Close)
	r := &testRegistry{url: srv.URL, svc: svc, st: st, data: data, tok: map[string]string{}}
	for _, ns := range []string{"acme", "other"} {
		for _, sc := range []store.Scope{store.ScopePublish, store.ScopeRead} {
			secret, hash, _ := auth.NewToken()
			if err := st.CreateToken(context.Background(), store.Token{Hash: hash, Namespace: ns, Scope: sc, CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			r.tok[ns+"/"+string(sc)] = secret
		}
	}
	return r
}

func tarGz(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(len(body)), Mode: 0o644})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

var goodArchive = map[string]string{
	"main.tf": `variable "region" {
  type        = string
  description = "AWS region."
  default     = "eu-west-1"
}

variable "name" {
  type = string
}

output "id" {
  description = "The ID."
  value       = var.name
}
`,
	"README.md": "# Network\n\nA VPC with private subnets.\n",
}

func (r *testRegistry) do(t testing.TB, method, path, token string, body []byte, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, r.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (r *testRegistry) publish(t testing.TB, token, path string, archive []byte) (int, string) {
	t.Helper()
	resp, b := r.do(t, http.MethodPost, "/api/v1/modules/"+path, token, archive)
	return resp.StatusCode, string(b)
}

func archiveFiles(t testing.TB, data string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(data, "archives"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestHTTPProtocol(t *testing.T) {
	r := newTestRegistry(t, registry.Config{})
	if code, body := r.publish(t, r.tok["acme/publish"], "acme/network/aws/1.0.0", tarGz(t, goodArchive)); code != 201 {
		t.Fatalf("publish: %d %s", code, body)
	}
	if code, body := r.publish(t, r.tok["acme/publish"], "acme/network/aws/1.10.0", tarGz(t, goodArchive)); code != 201 {
		t.Fatalf("publish: %d %s", code, body)
	}
	if code, body := r.publish(t, r.tok["acme/publish"], "acme/network/aws/1.2.0", tarGz(t, goodArchive)); code != 201 {
		t.Fatalf("publish: %d %s", code, body)
	}

	resp, body := r.do(t, "GET", "/.well-known/terraform.json", "", nil)
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"modules.v1":"/v1/modules/"}` {
		t.Fatalf("discovery: %d %s", resp.StatusCode, body)
	}
	resp, body = r.do(t, "GET", "/v1/modules/acme/network/aws/versions", "", nil)
	want := `{"modules":[{"source":"acme/network/aws","versions":[{"version":"1.0.0"},{"version":"1.2.0"},{"version":"1.10.0"}]}]}`
	if resp.StatusCode != 200 || string(body) != want {
		t.Fatalf("versions: %d %s", resp.StatusCode, body)
	}
	if resp, _ := r.do(t, "GET", "/v1/modules/acme/nope/aws/versions", "", nil); resp.StatusCode != 404 {
		t.Fatalf("versions of unknown module: %d", resp.StatusCode)
	}

	// Download: 204 + X-Terraform-Get by default, JSON for clients asking for it.
	resp, _ = r.do(t, "GET", "/v1/modules/acme/network/aws/1.2.0/download", "", nil)
	loc := resp.Header.Get("X-Terraform-Get")
	if resp.StatusCode != 204 || loc != "/v1/archives/acme/network/aws/1.2.0.tar.gz" {
		t.Fatalf("download: %d %q", resp.StatusCode, loc)
	}
	resp, body = r.do(t, "GET", "/v1/modules/acme/network/aws/1.2.0/download", "", nil, "Accept", "application/json")
	var lj struct{ Location string }
	json.Unmarshal(body, &lj)
	if resp.StatusCode != 200 || lj.Location != loc || resp.Header.Get("X-Terraform-Get") != loc {
		t.Fatalf("download as JSON: %d %s", resp.StatusCode, body)
	}
	if resp, _ := r.do(t, "GET", "/v1/modules/acme/network/aws/9.9.9/download", "", nil); resp.StatusCode != 404 {
		t.Fatalf("download of unknown version: %d", resp.StatusCode)
	}
	resp, _ = r.do(t, "GET", "/v1/modules/acme/network/aws/download", "", nil)
	if resp.Header.Get("X-Terraform-Get") != "/v1/archives/acme/network/aws/1.10.0.tar.gz" {
		t.Fatalf("download latest: %q", resp.Header.Get("X-Terraform-Get"))
	}

	// go-getter asks with HEAD first, then GET.
	resp, _ = r.do(t, "HEAD", loc, "", nil)
	if resp.StatusCode != 200 || resp.ContentLength <= 0 || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("HEAD archive: %d len %d", resp.StatusCode, resp.ContentLength)
	}
	resp, body = r.do(t, "GET", loc, "", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, tarGz(t, goodArchive)) && len(body) == 0 {
		t.Fatalf("GET archive: %d", resp.StatusCode)
	}
	if _, err := archive.Validate(body, archive.DefaultLimits); err != nil {
		t.Fatalf("served archive: %v", err)
	}

	// Details, latest, list, search.
	var d registry.ModuleDetails
	resp, body = r.do(t, "GET", "/v1/modules/acme/network/aws/1.2.0", "", nil)
	if err := json.Unmarshal(body, &d); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("details: %d %s", resp.StatusCode, body)
	}
	if d.Version != "1.2.0" || d.Description != "A VPC with private subnets." || !strings.Contains(d.Root.Readme, "# Network") ||
		len(d.Root.Inputs) != 2 || len(d.Root.Outputs) != 1 || fmt.Sprint(d.Versions) != "[1.0.0 1.2.0 1.10.0]" {
		t.Fatalf("details = %+v", d)
	}
	in := d.Root.Inputs
	if in[0].Name != "name" || !in[0].Required || in[0].Type != "string" ||
		in[1].Name != "region" || in[1].Required || in[1].Default != `"eu-west-1"` || in[1].Description != "AWS region." {
		t.Fatalf("inputs = %+v", in)
	}
	if d.Root.Outputs[0].Name != "id" || d.Root.Outputs[0].Description != "The ID." {
		t.Fatalf("outputs = %+v", d.Root.Outputs)
	}
	resp, body = r.do(t, "GET", "/v1/modules/acme/network/aws", "", nil)
	json.Unmarshal(body, &d)
	if resp.StatusCode != 200 || d.Version != "1.10.0" {
		t.Fatalf("latest: %d %s", resp.StatusCode, body)
	}
	r.publish(t, r.tok["other/publish"], "other/queue/aws/0.1.0", tarGz(t, goodArchive))
	for path, want := range map[string]string{
		"/v1/modules":                              "acme/network/aws/1.10.0 other/queue/aws/0.1.0",
		"/v1/modules/acme":                         "acme/network/aws/1.10.0",
		"/v1/modules/search?q=queue":               "other/queue/aws/0.1.0",
		"/v1/modules/search?q=VPC":                 "acme/network/aws/1.10.0 other/queue/aws/0.1.0",
		"/v1/modules/search?q=zzz":                 "",
		"/v1/modules?limit=1&offset=1":             "other/queue/aws/0.1.0",
		"/v1/modules/search?q=aws&namespace=other": "other/queue/aws/0.1.0",
	} {
		var l registry.ModuleList
		resp, body := r.do(t, "GET", path, "", nil)
		if err := json.Unmarshal(body, &l); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		var ids []string
		for _, m := range l.Modules {
			ids = append(ids, m.ID)
		}
		if strings.Join(ids, " ") != want {
			t.Errorf("%s = %v, want %s", path, ids, want)
		}
	}

	// Downloads are counted (flushed in batches).
	r.svc.Flush(context.Background())
	_, body = r.do(t, "GET", "/v1/modules/acme/network/aws/1.2.0", "", nil)
	json.Unmarshal(body, &d)
	if d.Downloads != 2 {
		t.Fatalf("downloads of 1.2.0 = %d, want 2", d.Downloads)
	}

	_, body = r.do(t, "GET", "/metrics", "", nil)
	for _, want := range []string{
		`plat_registry_http_requests_total{code="200",route="versions"} 1`,
		`plat_registry_downloads_total 3`,
		`plat_registry_uploads_total{result="published"} 4`,
		`plat_registry_http_request_duration_seconds_bucket{route="archive"`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if resp, body := r.do(t, "GET", "/healthz", "", nil); resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz: %d %s", resp.StatusCode, body)
	}
	if resp, _ := r.do(t, "DELETE", "/v1/modules/acme/network/aws/versions", "", nil); resp.StatusCode != 405 {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
}

// TestHTTPRefusals checks every refusal of the upload API, and that a refused
// upload leaves nothing stored while the server keeps serving.
func TestHTTPRefusals(t *testing.T) {
	lim := archive.Limits{MaxCompressed: 64 << 10, MaxUnpacked: 256 << 10, MaxFiles: 50}
	r := newTestRegistry(t, registry.Config{Limits: lim})
	good := tarGz(t, goodArchive)
	if code, body := r.publish(t, r.tok["acme/publish"], "acme/network/aws/1.0.0", good); code != 201 {
		t.Fatalf("publish: %d %s", code, body)
	}
	before := archiveFiles(t, r.data)

	var manyFiles = map[string]string{"main.tf": "variable \"x\" {}\n"}
	for i := range 60 {
		manyFiles[fmt.Sprintf("f%d.txt", i)] = "x"
	}
	bomb := func() []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Name: "main.tf", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644})
		tw.Write([]byte("# x"))
		tw.WriteHeader(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Size: 16 << 20, Mode: 0o644})
		io.CopyN(tw, zeros{}, 16<<20)
		tw.Close()
		zw.Close()
		return buf.Bytes()
	}()
	if len(bomb) > int(lim.MaxCompressed) {
		t.Fatalf("bomb is %d bytes compressed", len(bomb))
	}
	huge := bytes.Repeat([]byte{0x1f, 0x8b}, 100<<10)
	link := func(typ byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Name: "main.tf", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644})
		tw.Write([]byte("# x"))
		tw.WriteHeader(&tar.Header{Name: "evil", Typeflag: typ, Linkname: "/etc/passwd", Mode: 0o644})
		tw.Close()
		zw.Close()
		return buf.Bytes()
	}

	cases := []struct {
		name, token, path string
		body              []byte
		want              int
	}{
		{"no token", "", "acme/network/aws/2.0.0", good, 401},
		{"unknown token", "plat_nope", "acme/network/aws/2.0.0", good, 401},
		{"wrong namespace", r.tok["other/publish"], "acme/network/aws/2.0.0", good, 403},
		{"read token", r.tok["acme/read"], "acme/network/aws/2.0.0", good, 403},
		{"repeat version", r.tok["acme/publish"], "acme/network/aws/1.0.0", tarGz(t, map[string]string{"main.tf": "# other\n"}), 409},
		{"bad version", r.tok["acme/publish"], "acme/network/aws/1.0", good, 400},
		{"bad version v prefix", r.tok["acme/publish"], "acme/network/aws/v1.0.0", good, 400},
		{"bad name", r.tok["acme/publish"], "acme/Network/aws/2.0.0", good, 400},
		{"long name", r.tok["acme/publish"], "acme/" + strings.Repeat("n", 65) + "/aws/2.0.0", good, 400},
		{"not gzip", r.tok["acme/publish"], "acme/network/aws/2.0.0", []byte("hello"), 400},
		{"absolute path", r.tok["acme/publish"], "acme/network/aws/2.0.0", tarGz(t, map[string]string{"main.tf": "#", "/etc/cron.d/x": "x"}), 400},
		{"dot dot", r.tok["acme/publish"], "acme/network/aws/2.0.0", tarGz(t, map[string]string{"main.tf": "#", "../../x.tf": "x"}), 400},
		{"symlink", r.tok["acme/publish"], "acme/network/aws/2.0.0", link(tar.TypeSymlink), 400},
		{"hard link", r.tok["acme/publish"], "acme/network/aws/2.0.0", link(tar.TypeLink), 400},
		{"device", r.tok["acme/publish"], "acme/network/aws/2.0.0", link(tar.TypeChar), 400},
		{"HCL syntax error", r.tok["acme/publish"], "acme/network/aws/2.0.0", tarGz(t, map[string]string{"main.tf": "variable \"x\" {\n"}), 400},
		{"too many files", r.tok["acme/publish"], "acme/network/aws/2.0.0", tarGz(t, manyFiles), 413},
		{"decompression bomb", r.tok["acme/publish"], "acme/network/aws/2.0.0", bomb, 413},
		{"too large compressed", r.tok["acme/publish"], "acme/network/aws/2.0.0", huge, 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := r.publish(t, tc.token, tc.path, tc.body)
			if code != tc.want {
				t.Fatalf("status %d (%s), want %d", code, body, tc.want)
			}
			var eb struct{ Errors []string }
			if json.Unmarshal([]byte(body), &eb) != nil || len(eb.Errors) == 0 {
				t.Fatalf("error body %q", body)
			}
		})
	}
	// A body larger than the limit without Content-Length (chunked) is refused too.
	req, _ := http.NewRequest("POST", r.url+"/api/v1/modules/acme/network/aws/3.0.0", io.MultiReader(bytes.NewReader(huge)))
	req.Header.Set("Authorization", "Bearer "+r.tok["acme/publish"])
	req.ContentLength = -1
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Errorf("chunked oversize upload: %d", resp.StatusCode)
		}
	}

	// An upload interrupted halfway (the client goes away) stores nothing.
	conn, err := net.Dial("tcp", strings.TrimPrefix(r.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/v1/modules/acme/network/aws/4.0.0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", r.tok["acme/publish"], len(good))
	conn.Write(good[:len(good)/2])
	conn.Close()
	time.Sleep(200 * time.Millisecond)

	after := archiveFiles(t, r.data)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("refused uploads changed the stored archives:\nbefore %v\nafter  %v", before, after)
	}
	resp, body := r.do(t, "GET", "/v1/modules/acme/network/aws/versions", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"1.0.0"`) || strings.Contains(string(body), "2.0.0") || strings.Contains(string(body), "3.0.0") || strings.Contains(string(body), "4.0.0") {
		t.Fatalf("versions after refusals: %d %s", resp.StatusCode, body)
	}
	if resp, _ := r.do(t, "GET", "/healthz", "", nil); resp.StatusCode != 200 {
		t.Fatal("server stopped serving")
	}
	resp, body = r.do(t, "GET", "/v1/archives/acme/network/aws/1.0.0.tar.gz", "", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, good) {
		t.Fatalf("original archive changed: %d", resp.StatusCode)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestHTTPReadToken checks reads that require a token, and the signed grants in
// download locations.
func TestHTTPReadToken(t *testing.T) {
	r := newTestRegistry(t, registry.Config{RequireReadToken: true})
	if code, body := r.publish(t, r.tok["acme/publish"], "acme/network/aws/1.0.0", tarGz(t, goodArchive)); code != 201 {
		t.Fatalf("publish: %d %s", code, body)
	}
	for _, tc := range []struct {
		token string
		want  int
	}{{"", 401}, {"plat_bogus", 401}, {r.tok["other/read"], 403}, {r.tok["acme/read"], 200}, {r.tok["acme/publish"], 200}} {
		if resp, _ := r.do(t, "GET", "/v1/modules/acme/network/aws/versions", tc.token, nil); resp.StatusCode != tc.want {
			t.Errorf("versions with token %q: %d, want %d", tc.token, resp.StatusCode, tc.want)
		}
	}
	if resp, _ := r.do(t, "GET", "/v1/modules", "", nil); resp.StatusCode != 401 {
		t.Errorf("list without token: %d", resp.StatusCode)
	}
	var l registry.ModuleList
	_, body := r.do(t, "GET", "/v1/modules", r.tok["other/read"], nil)
	json.Unmarshal(body, &l)
	if len(l.Modules) != 0 {
		t.Errorf("other namespace's token lists %v", l.Modules)
	}
	// Discovery, health and metrics stay open.
	if resp, _ := r.do(t, "GET", "/.well-known/terraform.json", "", nil); resp.StatusCode != 200 {
		t.Errorf("discovery: %d", resp.StatusCode)
	}

	resp, _ := r.do(t, "GET", "/v1/modules/acme/network/aws/1.0.0/download", r.tok["acme/read"], nil)
	loc := resp.Header.Get("X-Terraform-Get")
	if resp.StatusCode != 204 || !strings.HasPrefix(loc, "/v1/archives/acme/network/aws/1.0.0.tar.gz?expires=") || !strings.Contains(loc, "&grant=") {
		t.Fatalf("download: %d %q", resp.StatusCode, loc)
	}
	// The grant alone (no token, as Terraform fetches archives) works, for HEAD and GET.
	for _, m := range []string{"HEAD", "GET"} {
		if resp, _ := r.do(t, m, loc, "", nil); resp.StatusCode != 200 {
			t.Errorf("%s archive with grant: %d", m, resp.StatusCode)
		}
	}
	if resp, _ := r.do(t, "GET", "/v1/archives/acme/network/aws/1.0.0.tar.gz", "", nil); resp.StatusCode != 401 {
		t.Errorf("archive without grant or token: %d", resp.StatusCode)
	}
	if resp, _ := r.do(t, "GET", "/v1/archives/acme/network/aws/1.0.0.tar.gz", r.tok["acme/read"], nil); resp.StatusCode != 200 {
		t.Errorf("archive with token: %d", resp.StatusCode)
	}
	tampered := strings.Replace(loc, "grant=", "grant=A", 1)
	if resp, _ := r.do(t, "GET", tampered, "", nil); resp.StatusCode != 403 {
		t.Errorf("tampered grant: %d", resp.StatusCode)
	}
	// A grant for one version does not open another.
	r.publish(t, r.tok["acme/publish"], "acme/network/aws/1.1.0", tarGz(t, goodArchive))
	other := strings.Replace(loc, "1.0.0.tar.gz", "1.1.0.tar.gz", 1)
	if resp, _ := r.do(t, "GET", other, "", nil); resp.StatusCode != 403 {
		t.Errorf("grant reused for another version: %d", resp.StatusCode)
	}
	later := strings.Replace(loc, "expires=", "expires=9", 1)
	if resp, _ := r.do(t, "GET", later, "", nil); resp.StatusCode != 403 {
		t.Errorf("grant with a forged expiry: %d", resp.StatusCode)
	}
}

// TestHTTPLoad runs many concurrent version lookups, downloads and archive
// fetches (and a publish in the middle) and expects no errors at all.
func TestHTTPLoad(t *testing.T) {
	r := newTestRegistry(t, registry.Config{})
	for _, v := range []string{"1.0.0", "1.1.0"} {
		if code, body := r.publish(t, r.tok["acme/publish"], "acme/network/aws/"+v, tarGz(t, goodArchive)); code != 201 {
			t.Fatalf("publish: %d %s", code, body)
		}
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	const workers, each = 32, 150
	var errs atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	var downloads atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				var path string
				switch (w + i) % 3 {
				case 0:
					path = "/v1/modules/acme/network/aws/versions"
				case 1:
					path = "/v1/modules/acme/network/aws/1.1.0/download"
					downloads.Add(1)
				default:
					path = "/v1/archives/acme/network/aws/1.0.0.tar.gz"
				}
				resp, err := c.Get(r.url + path)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode >= 300 {
						err = fmt.Errorf("%s: %s", path, resp.Status)
					}
				}
				if err != nil {
					errs.Add(1)
					firstErr.Do(func() { t.Errorf("request failed: %v", err) })
				}
			}
		}()
	}
	if code, body := r.publish(t, r.tok["acme/publish"], "acme/network/aws/1.2.0", tarGz(t, goodArchive)); code != 201 {
		t.Errorf("publish under load: %d %s", code, body)
	}
	wg.Wait()
	if n := errs.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed", n, workers*each)
	}
	r.svc.Flush(context.Background())
	d, err := r.st.Details(context.Background(), store.Key{Ref: store.Ref{Namespace: "acme", Name: "network", System: "aws"}, Version: "1.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Downloads != downloads.Load() {
		t.Fatalf("downloads = %d, want %d", d.Downloads, downloads.Load())
	}
}

// TestServeDrains checks graceful shutdown: a request in flight when the context
// is cancelled still completes, and Serve returns without error.
func TestServeDrains(t *testing.T) {
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		w.Write([]byte("done"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve.Serve(ctx, ln, h, serve.Options{}) }()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-started
	cancel()
	if s := <-got; s != "done" {
		t.Fatalf("in-flight request got %q", s)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Fatal("server still accepting after shutdown")
	}
}

// TestHTTPConcurrentPublish races uploads: of several uploads of one version
// exactly one wins (201) and the rest get 409; distinct versions all land.
func TestHTTPConcurrentPublish(t *testing.T) {
	r := newTestRegistry(t, registry.Config{MaxConcurrentUploads: 2})
	var wg sync.WaitGroup
	codes := make([]int, 16)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := "1.0.0"
			if i%2 == 1 {
				v = fmt.Sprintf("2.0.%d", i)
			}
			codes[i], _ = r.publish(t, r.tok["acme/publish"], "acme/race/aws/"+v, tarGz(t, map[string]string{"main.tf": fmt.Sprintf("# writer %d\n", i)}))
		}()
	}
	wg.Wait()
	wins := 0
	for i, c := range codes {
		switch {
		case i%2 == 1 && c != 201:
			t.Errorf("distinct version from writer %d: %d", i, c)
		case i%2 == 0 && c == 201:
			wins++
		case i%2 == 0 && c != 409:
			t.Errorf("same-version writer %d: %d", i, c)
		}
	}
	if wins != 1 {
		t.Fatalf("%d uploads of 1.0.0 won, want 1", wins)
	}
	if n := len(archiveFiles(t, r.data)); n != 9 {
		t.Fatalf("%d archive files stored, want 9 (losers' archives must be removed)", n)
	}
}
