package portal_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestEveryPageWellFormed crawls the portal from / and checks every page it
// links to: status 200, well-formed, accessible, with the security headers.
func TestEveryPageWellFormed(t *testing.T) {
	dir := t.TempDir()
	writeDrift(t, dir)
	e := newEnv(t, envOpts{driftReports: dir})
	e.seed()
	c := e.client()
	seen := map[string]bool{}
	queue := []string{"/", "/login", "/modules?q=net"}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		_, f := e.page(c, p, http.StatusOK)
		for _, h := range f.Links {
			u, err := url.Parse(h)
			if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "/assets/") {
				continue
			}
			u.Fragment = ""
			queue = append(queue, u.String())
		}
	}
	for _, want := range []string{
		"/paths", "/paths/embedded/postgres", "/paths/acme/golden@1.0.0/bucket", "/modules", "/modules/acme/net/aws",
		"/modules/acme/net/aws/1.0.0", "/modules/acme/net/aws/1.1.0", "/stacks", "/stacks/checkout", "/drift",
	} {
		if !seen[want] {
			t.Errorf("crawl did not reach %s; reached %v", want, seen)
		}
	}
	if len(seen) < 20 {
		t.Errorf("crawl reached only %d pages", len(seen))
	}
}

// TestNotFoundPages answers unknown modules, versions, templates and pages
// with a 404 page that is itself well-formed.
func TestNotFoundPages(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.seed()
	c := e.client()
	for _, p := range []string{
		"/modules/acme/nope/aws", "/modules/acme/net/aws/9.9.9", "/modules/acme/net/aws/not-a-version",
		"/paths/embedded/nope", "/paths/acme/golden@9.0.0/bucket", "/paths/acme/nope@1.0.0/bucket",
		"/paths/acme/golden/bucket", "/stacks/nope", "/modulesx", "/assets/nope.css", "/paths/embedded/postgres/more",
	} {
		r, _ := e.page(c, p, http.StatusNotFound)
		if !strings.Contains(r.body, "not") {
			t.Errorf("%s: 404 page says nothing:\n%s", p, r.body)
		}
	}
	// The API keeps its JSON errors.
	if r := e.get(c, "/v1/modules/acme/nope/aws/versions"); r.status != http.StatusNotFound || !strings.Contains(r.header.Get("Content-Type"), "json") {
		t.Errorf("API 404: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := e.do(c, http.MethodPost, "/modules", nil, nil); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") == "" {
		t.Errorf("POST /modules: %d, Allow %q", r.status, r.header.Get("Allow"))
	}
}

// TestReadmeExecutesNothing renders a hostile README: no script, no event
// handler attribute, no javascript: or vbscript: URL reaches the page.
func TestReadmeExecutesNothing(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.seed()
	r, f := e.page(e.client(), "/modules/acme/net/aws/1.1.0", http.StatusOK)
	for _, s := range f.Script {
		if !strings.HasPrefix(s, "/assets/portal.js") {
			t.Errorf("script %q on the page", s)
		}
	}
	low := strings.ToLower(r.body)
	for _, bad := range []string{"<script>", "onerror", "onmouseover", "javascript:", "vbscript:", "<img src=\"x.png\"", "<div onmouseover"} {
		if strings.Contains(low, bad) {
			t.Errorf("page holds %q:\n%s", bad, r.body)
		}
	}
	// What is safe survives: prose, the https link, the table, headings
	// under the page's own h2.
	for _, want := range []string{`<a href="https://example.com/docs">ok</a>`, "<table>", "<h3>Net", "<h4>Usage</h4>", "<h5>Deep heading</h5>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !strings.Contains(f.Text, "markdown link") || !strings.Contains(f.Text, "The network module") {
		t.Errorf("README text missing")
	}
}

// TestEscaping: names, descriptions, reasons, queries, drift values and
// repository names are text on every page, never markup.
func TestEscaping(t *testing.T) {
	dir := t.TempDir()
	writeDrift(t, dir)
	e := newEnv(t, envOpts{driftReports: dir})
	e.seed()
	c := e.client()
	q := `<script>alert("q")</script>`
	r, f := e.page(c, "/modules?q="+url.QueryEscape(q), http.StatusOK)
	if strings.Contains(r.body, q) || !strings.Contains(f.Text, q) {
		t.Errorf("query not escaped or not shown:\n%s", r.body)
	}
	r, f = e.page(c, "/modules/acme/net/aws/1.0.0", http.StatusOK)
	if strings.Contains(r.body, "use 1.2 <now>") || !strings.Contains(f.Text, "use 1.2 <now>") {
		t.Errorf("deprecation reason not escaped")
	}
	r, f = e.page(c, "/modules/acme/net/aws/1.1.0", http.StatusOK)
	// The description is the README's first paragraph as plain text: its
	// raw HTML is left out, never written as markup.
	if !strings.Contains(f.Text, `a VPC & "subnets"`) || strings.Contains(r.body, "<b>VPC</b>") {
		t.Errorf("description not plain text or not shown:\n%s", r.body)
	}
	r, f = e.page(c, "/stacks", http.StatusOK)
	if !strings.Contains(f.Text, "shop <repo>") || strings.Contains(r.body, "shop <repo>") {
		t.Errorf("repository not escaped")
	}
	r, f = e.page(c, "/drift", http.StatusOK)
	if strings.Contains(r.body, "<script>alert('drift')") || !strings.Contains(html.UnescapeString(r.body), `"<script>alert('drift')</script>"`) {
		t.Errorf("drift value not escaped:\n%s", r.body)
	}
}

// TestModulePage shows versions with dates and marks, downloads, usage and
// the module block.
func TestModulePage(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.seed()
	c := e.client()
	e.get(c, "/v1/modules/acme/net/aws/1.1.0/download")
	e.svc.Flush(t.Context())
	// The count shows once the service's and the portal's one-second caches
	// have let the stale entry go.
	downloaded := regexp.MustCompile(`(?s)1\.1\.0</a></td>\s*<td>\d{4}-\d{2}-\d{2}</td>\s*<td class="num">1</td>`)
	var r response
	var f pageFacts
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r, f = e.page(c, "/modules/acme/net/aws", http.StatusOK)
		if downloaded.MatchString(r.body) || time.Now().After(deadline) {
			break
		}
	}
	text := strings.Join(strings.Fields(f.Text), " ")
	host := strings.TrimPrefix(e.url, "http://")
	for _, want := range []string{
		"acme/net/aws", "1.1.0 (latest)", `source = "` + host + `/acme/net/aws"`, `version = "1.1.0"`,
		"deprecated", "yanked", "region", "Region to deploy into", "The id",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("module page lacks %q:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`<a href="/stacks/checkout">checkout</a>`).MatchString(r.body) {
		t.Errorf("module page does not link the stack using 1.1.0")
	}
	if !downloaded.MatchString(r.body) {
		t.Errorf("version row lacks its date or download:\n%s", r.body)
	}
	if !strings.Contains(r.body, `<pre><code class="snippet" data-copy>module "net"`) || !strings.Contains(r.body, `<button type="button" class="copy">`) {
		t.Errorf("no copyable module block")
	}
}

// TestAssets serves the CSS and JS with their types and a long cache.
func TestAssets(t *testing.T) {
	e := newEnv(t, envOpts{noCatalog: true})
	c := e.client()
	r, _ := e.page(c, "/", http.StatusOK)
	for _, re := range []string{`href="(/assets/portal\.css\?v=[0-9a-f]+)"`, `src="(/assets/portal\.js\?v=[0-9a-f]+)"`} {
		m := regexp.MustCompile(re).FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("no %s", re)
		}
		a := e.get(c, html.UnescapeString(m[1]))
		if a.status != 200 || !strings.Contains(a.header.Get("Cache-Control"), "immutable") || a.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %v", m[1], a.status, a.header)
		}
		if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") && !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("%s: type %s", m[1], ct)
		}
	}
	if !strings.Contains(e.get(c, "/assets/portal.css").body, "prefers-color-scheme: dark") {
		t.Errorf("no dark mode")
	}
	// The icon: linked from every page, and at /favicon.ico for whoever asks.
	m := regexp.MustCompile(`<link rel="icon" href="(/assets/favicon\.svg\?v=[0-9a-f]+)" type="image/svg\+xml">`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no icon link")
	}
	for _, p := range []string{html.UnescapeString(m[1]), "/favicon.ico"} {
		a := e.get(c, p)
		if a.status != 200 || a.header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(a.body, "<svg xmlns=") {
			t.Errorf("%s: %d %q", p, a.status, a.header.Get("Content-Type"))
		}
	}
}
