package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/serve"
	"github.com/platdev/plat/registry/store"
)

// pair is one registry data directory served twice: by its net/http handler
// under httptest (the reference) and by serve.Serve's fasthttp front, each
// with its own Registry (service, caches, metrics, access log) over the same
// store, so that what each records can be compared too.
type pair struct {
	net, fast       string // base URLs
	netLog, fastLog *bytes.Buffer
	netReg, fastReg *serve.Registry
	tok             map[string]string // "ns/scope" -> secret
	close           func()            // stops both, flushes the access logs
}

func newPair(t *testing.T, readToken bool) *pair {
	t.Helper()
	ctx := context.Background()
	sc := serve.StoreConfig{DataDir: t.TempDir(), ArchiveCache: serve.DefaultArchiveCache}
	meta, err := serve.OpenStore(ctx, sc, true)
	if err != nil {
		t.Fatal(err)
	}
	p := &pair{tok: map[string]string{}, netLog: new(bytes.Buffer), fastLog: new(bytes.Buffer)}
	for _, ns := range []string{"acme", "other"} {
		for _, scope := range []store.Scope{store.ScopePublish, store.ScopeRead} {
			secret, hash, _ := auth.NewToken()
			if err := meta.CreateToken(ctx, store.Token{Hash: hash, Namespace: ns, Scope: scope, CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			p.tok[ns+"/"+string(scope)] = secret
		}
	}
	meta.Close()
	open := func(log io.Writer) *serve.Registry {
		reg, err := serve.Open(ctx, serve.Config{Store: sc, Service: registry.Config{RequireReadToken: readToken}, AccessLog: log})
		if err != nil {
			t.Fatal(err)
		}
		return reg
	}
	p.netReg, p.fastReg = open(p.netLog), open(p.fastLog)
	srv := httptest.NewServer(p.netReg.Handler())
	p.net = srv.URL
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.fastReg.Serve(sctx, ln, serve.Options{}) }()
	p.fast = "http://" + ln.Addr().String()
	p.close = sync.OnceFunc(func() {
		srv.Close()
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		p.netReg.Close()
		p.fastReg.Close()
	})
	t.Cleanup(p.close)
	return p
}

// exchange is one request of the table and what to send with it.
type exchange struct {
	name, method, path, token string
	header                    []string // name, value, ...
	body                      string
}

// answer is a response as compared: status, headers less Date, framing and
// body.
type answer struct {
	status   int
	header   http.Header
	length   int64
	chunked  bool
	body     string
	location string // X-Terraform-Get, for the grant check
}

// client sends exactly what a test says: no gzip, no redirects.
var client = &http.Client{
	Transport:     &http.Transport{DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func send(t *testing.T, base string, x exchange) answer {
	t.Helper()
	var body io.Reader
	if x.body != "" {
		body = strings.NewReader(x.body)
	}
	req, err := http.NewRequest(x.method, base+x.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if x.token != "" {
		req.Header.Set("Authorization", "Bearer "+x.token)
	}
	for i := 0; i+1 < len(x.header); i += 2 {
		req.Header.Set(x.header[i], x.header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", x.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: read body: %v", x.name, err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header.Clone(), length: resp.ContentLength,
		chunked: slices.Contains(resp.TransferEncoding, "chunked"), body: string(b), location: resp.Header.Get("X-Terraform-Get")}
	a.header.Del("Date")
	if loc := a.header.Get("X-Terraform-Get"); loc != "" {
		a.header.Set("X-Terraform-Get", grantFree(loc))
	}
	a.body = grantFree(a.body)
	return a
}

// grantRE matches a download grant, signed with its expiry time: two servers
// asked a second apart sign different ones.
var grantRE = regexp.MustCompile(`expires=[0-9]+&grant=[0-9A-Za-z_-]+`)

func grantFree(s string) string { return grantRE.ReplaceAllString(s, "expires=E&grant=G") }

// tgz packs files as plat module publish would (archive.Pack).
func tgz(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := archive.Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFastMatchesNetHTTP sends a table of requests, the hot routes above all
// (found, missing, HEAD, conditional and range requests, refused tokens,
// yanked and deprecated versions, paths the fast path leaves to the
// converter), to the net/http handler and to the fasthttp server, and checks
// that both answer alike: status, headers but Date, framing and body; that
// both record the same access-log records and metrics; and that the download
// grants each signs work on the other.
func TestFastMatchesNetHTTP(t *testing.T) {
	for _, readToken := range []bool{false, true} {
		t.Run(fmt.Sprintf("require-read-token=%v", readToken), func(t *testing.T) {
			p := newPair(t, readToken)
			pub, read, otherRead := p.tok["acme/publish"], p.tok["acme/read"], p.tok["other/read"]
			setup := []exchange{
				{name: "publish 1.0.0", method: "PUT", path: "/api/v1/modules/acme/network/aws/1.0.0", token: pub, body: tgz(t, map[string]string{"main.tf": "variable \"x\" {}\n"})},
				{name: "publish 1.1.0", method: "POST", path: "/api/v1/modules/acme/network/aws/1.1.0", token: pub, body: tgz(t, map[string]string{"main.tf": "variable \"y\" {}\n", "README.md": "# net\n"})},
				{name: "publish 2.0.0", method: "PUT", path: "/api/v1/modules/acme/network/aws/2.0.0", token: pub, body: tgz(t, map[string]string{"main.tf": "output \"z\" { value = 1 }\n"})},
				{name: "yank 2.0.0", method: "POST", path: "/api/v1/modules/acme/network/aws/2.0.0/yank", token: pub, body: `{"reason":"broken"}`},
				{name: "deprecate 1.0.0", method: "POST", path: "/api/v1/modules/acme/network/aws/1.0.0/deprecate", token: pub, body: `{"reason":"old"}`},
			}
			for i, x := range setup {
				// Alternate the servers: both publish through the same store,
				// and the fasthttp converter carries uploads.
				base := p.net
				if i%2 == 1 {
					base = p.fast
				}
				if a := send(t, base, x); a.status >= 300 {
					t.Fatalf("%s: %d %s", x.name, a.status, a.body)
				}
			}
			tok := ""
			if readToken {
				tok = read
			}
			arch := "/v1/archives/acme/network/aws/1.1.0.tar.gz"
			etag := send(t, p.net, exchange{name: "etag", method: "GET", path: arch, token: tok}).header.Get("ETag")
			if e := send(t, p.fast, exchange{name: "etag", method: "GET", path: arch, token: tok}).header.Get("ETag"); e != etag || etag == "" {
				t.Fatalf("ETag %q from net/http, %q from fasthttp", etag, e)
			}
			table := []exchange{
				{name: "versions", method: "GET", path: "/v1/modules/acme/network/aws/versions", token: tok},
				{name: "versions slash", method: "GET", path: "/v1/modules/acme/network/aws/versions/", token: tok},
				{name: "versions HEAD", method: "HEAD", path: "/v1/modules/acme/network/aws/versions", token: tok},
				{name: "versions missing", method: "GET", path: "/v1/modules/acme/nothing/aws/versions", token: tok},
				{name: "versions bad name", method: "GET", path: "/v1/modules/acme/Bad.Name/aws/versions", token: tok},
				{name: "versions escaped", method: "GET", path: "/v1/modules/acme/netw%6Frk/aws/versions", token: tok},
				{name: "versions escaped slash", method: "GET", path: "/v1/modules/acme/net%2Fwork/aws/versions", token: tok},
				{name: "versions empty segment", method: "GET", path: "/v1/modules/acme//aws/versions", token: tok},
				{name: "versions dot segment", method: "GET", path: "/v1/modules/acme/../aws/versions", token: tok},
				{name: "versions with query", method: "GET", path: "/v1/modules/acme/network/aws/versions?x=1", token: tok},
				{name: "versions POST", method: "POST", path: "/v1/modules/acme/network/aws/versions", token: tok},
				{name: "download", method: "GET", path: "/v1/modules/acme/network/aws/1.1.0/download", token: tok},
				{name: "download json", method: "GET", path: "/v1/modules/acme/network/aws/1.1.0/download", token: tok, header: []string{"Accept", "application/json"}},
				{name: "download HEAD", method: "HEAD", path: "/v1/modules/acme/network/aws/1.1.0/download", token: tok},
				{name: "download deprecated", method: "GET", path: "/v1/modules/acme/network/aws/1.0.0/download", token: tok},
				{name: "download yanked", method: "GET", path: "/v1/modules/acme/network/aws/2.0.0/download", token: tok},
				{name: "download latest", method: "GET", path: "/v1/modules/acme/network/aws/download", token: tok},
				{name: "download missing", method: "GET", path: "/v1/modules/acme/network/aws/9.9.9/download", token: tok},
				{name: "archive", method: "GET", path: arch, token: tok},
				{name: "archive HEAD", method: "HEAD", path: arch, token: tok},
				{name: "archive yanked", method: "GET", path: "/v1/archives/acme/network/aws/2.0.0.tar.gz", token: tok},
				{name: "archive missing", method: "GET", path: "/v1/archives/acme/network/aws/9.9.9.tar.gz", token: tok},
				{name: "archive if-none-match", method: "GET", path: arch, token: tok, header: []string{"If-None-Match", etag}},
				{name: "archive if-modified-since", method: "GET", path: arch, token: tok, header: []string{"If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}},
				{name: "archive if-match fails", method: "GET", path: arch, token: tok, header: []string{"If-Match", `"nope"`}},
				{name: "archive range", method: "GET", path: arch, token: tok, header: []string{"Range", "bytes=2-9"}},
				{name: "archive ranges", method: "GET", path: arch, token: tok, header: []string{"Range", "bytes=0-1,4-5"}},
				{name: "archive bad range", method: "GET", path: arch, token: tok, header: []string{"Range", "bytes=99999-"}},
				{name: "archive bad grant", method: "GET", path: arch + "?expires=1&grant=abc"},
				{name: "details", method: "GET", path: "/v1/modules/acme/network/aws/1.0.0", token: tok},
				{name: "discovery", method: "GET", path: "/.well-known/terraform.json"},
				{name: "healthz", method: "GET", path: "/healthz"},
				{name: "no route", method: "GET", path: "/v1/nothing"},
				{name: "upload unauthorized", method: "PUT", path: "/api/v1/modules/acme/network/aws/3.0.0", body: "x"},
			}
			if readToken {
				table = append(table,
					exchange{name: "versions no token", method: "GET", path: "/v1/modules/acme/network/aws/versions"},
					exchange{name: "versions bad token", method: "GET", path: "/v1/modules/acme/network/aws/versions", token: "plat_nope"},
					exchange{name: "versions other namespace", method: "GET", path: "/v1/modules/acme/network/aws/versions", token: otherRead},
					exchange{name: "download no token", method: "GET", path: "/v1/modules/acme/network/aws/1.1.0/download"},
					exchange{name: "download other namespace", method: "GET", path: "/v1/modules/acme/network/aws/1.1.0/download", token: otherRead},
					exchange{name: "archive no token", method: "GET", path: arch},
					exchange{name: "archive HEAD no token", method: "HEAD", path: arch},
				)
			}
			for _, x := range table {
				want, got := send(t, p.net, x), send(t, p.fast, x)
				if want.status != got.status || want.length != got.length || want.chunked != got.chunked || want.body != got.body {
					t.Errorf("%s: net/http %d (length %d, chunked %v) %q\nfasthttp %d (length %d, chunked %v) %q",
						x.name, want.status, want.length, want.chunked, short(want.body), got.status, got.length, got.chunked, short(got.body))
				}
				if fmt.Sprint(want.header) != fmt.Sprint(got.header) {
					t.Errorf("%s: headers\nnet/http %v\nfasthttp %v", x.name, want.header, got.header)
				}
			}
			// Both servers write the same decision, so the table cannot tell
			// a wrong range; check it against the whole archive, from storage
			// and from the archive cache (filled by the requests above).
			for _, base := range []string{p.net, p.fast} {
				whole := send(t, base, exchange{name: "whole", method: "GET", path: arch, token: tok}).body
				a := send(t, base, exchange{name: "range", method: "GET", path: arch, token: tok, header: []string{"Range", "bytes=2-9"}})
				if a.status != http.StatusPartialContent || len(whole) < 10 || a.body != whole[2:10] {
					t.Errorf("range 2-9 from %s: %d %q, want 206 %q", base, a.status, a.body, whole[2:min(10, len(whole))])
				}
			}
			// Each server's download grant opens the archive on the other.
			if readToken {
				x := exchange{name: "grant", method: "GET", path: "/v1/modules/acme/network/aws/1.1.0/download", token: read}
				for _, pair := range [][2]string{{p.net, p.fast}, {p.fast, p.net}} {
					loc := rawLocation(t, pair[0], x)
					if !strings.Contains(loc, "grant=") {
						t.Fatalf("download location %q carries no grant", loc)
					}
					if a := send(t, pair[1], exchange{name: "by grant", method: "GET", path: loc}); a.status != http.StatusOK {
						t.Errorf("archive by the grant of %s on %s: %d %s", pair[0], pair[1], a.status, a.body)
					}
				}
			}
			netRecords, fastRecords := metricsOf(t, p.net), metricsOf(t, p.fast)
			if netRecords != fastRecords {
				t.Errorf("metrics differ\nnet/http:\n%s\nfasthttp:\n%s", netRecords, fastRecords)
			}
			p.close()
			if n, f := accessRecords(p.netLog.String()), accessRecords(p.fastLog.String()); !slices.Equal(n, f) {
				t.Errorf("access logs differ\nnet/http:\n%s\nfasthttp:\n%s", strings.Join(n, "\n"), strings.Join(f, "\n"))
			} else if len(n) < len(table) {
				t.Errorf("%d access records for %d requests", len(n), len(table))
			}
		})
	}
}

func rawLocation(t *testing.T, base string, x exchange) string {
	t.Helper()
	req, _ := http.NewRequest(x.method, base+x.path, nil)
	req.Header.Set("Authorization", "Bearer "+x.token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("X-Terraform-Get")
}

// setupRE matches the records and counters of the setup's requests, which
// went to one server or the other.
var setupRE = regexp.MustCompile(`path=/api/v1/modules/acme/network/aws/(1\.0\.0|1\.1\.0|2\.0\.0)(/yank|/deprecate)? |route="(upload|module_yank|module_deprecate)"|result="(published|invalid)"`)

// metricsOf returns the registry's request, download and archive counters
// (not latencies, not the process's), scraped from base.
func metricsOf(t *testing.T, base string) string {
	t.Helper()
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var keep []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		if setupRE.MatchString(l) {
			continue
		}
		if strings.HasPrefix(l, "plat_registry_http_requests_total") && !strings.Contains(l, `route="metrics"`) ||
			strings.HasPrefix(l, "plat_registry_downloads_total") || strings.HasPrefix(l, "plat_registry_archive_fetches_total") ||
			strings.HasPrefix(l, "plat_registry_uploads_total") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// accessRecords returns the access log's request records less their time,
// duration and client port, sorted: a streamed archive is recorded once
// sent, which may come after the next request's record.
func accessRecords(log string) []string {
	var out []string
	volatile := regexp.MustCompile(`time=\S+ |duration=\S+ |remote=\S+:[0-9]+`)
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "msg=request") && !strings.Contains(l, "route=metrics") && !setupRE.MatchString(l) {
			out = append(out, grantFree(volatile.ReplaceAllString(l, "")))
		}
	}
	slices.Sort(out)
	return out
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// TestFastOddTargets sends request targets with bytes that net/url refuses
// or that only the converter may decode to the hot routes' paths over a raw
// connection: each gets an answer (never a crash of the server), and the
// server answers a plain lookup after them.
func TestFastOddTargets(t *testing.T) {
	p := newPair(t, false)
	addr := strings.TrimPrefix(p.fast, "http://")
	for _, target := range []string{
		"/v1/archives/acme/network/aws/1.1.0.tar.gz?expires=1&grant=\x01",
		"/v1/archives/acme/network/aws/1.1.0.tar.gz?\x7f",
		"/v1/archives/acme/network/aws/1.1.0.tar.gz?grant=\xff\xfe",
		"/v1/modules/acme/network/aws/versions?\x00",
		"/v1/archives/acme/net%00work/aws/1.1.0.tar.gz",
		"/v1/archives/acme/network/aws/1.1.0.tar.gz?%zz",
		"/v1/modules/acme/network/aws/versions#frag",
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Errorf("GET %q: no answer: %v", target, err)
		} else if resp.StatusCode == http.StatusOK || resp.StatusCode >= 500 {
			t.Errorf("GET %q: %d; want a refusal", target, resp.StatusCode)
		}
		conn.Close()
	}
	if a := send(t, p.fast, exchange{method: "GET", path: "/v1/modules/acme/network/aws/versions"}); a.status != http.StatusNotFound {
		t.Errorf("after the odd targets: versions %d %s", a.status, a.body)
	}
}
