package main

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/platdev/plat/internal/browsertest"
	"github.com/platdev/plat/internal/testtools"
)

// hostileReadme is a README that tries every way of running a script in the
// portal's module page: a script element, a javascript: link and an event
// attribute. Each one also opens a dialog, which the test listens for.
const hostileReadme = "# Hostile\n\nA module whose README tries to run scripts.\n\n" +
	"<script>window.__pwned=1;alert(1)</script>\n\n" +
	"[x](javascript:window.__pwned=2;alert(2))\n\n" +
	"<img src=x onerror=\"window.__pwned=3;alert(3)\">\n\n" +
	"Plain text after the payloads.\n"

// TestPortalBrowser is issue 13's end-to-end test of the developer portal in a
// real headless Chromium against the real plat binary: modules (one with a
// hostile README) and a catalog are published with `plat module publish` and
// `plat catalog publish`; the browser opens the home, golden paths, template
// and module pages, searches through the form, follows links, copies the
// template's stack-file snippet out of the DOM and `plat validate` passes on
// it; nothing in the hostile README runs; every page renders the same with
// JavaScript off and is complete in its first response; accessibility basics
// hold in the browser and no CSP violation or console error is reported.
// Then, under --require-read-token, pages redirect to /login and a read token
// for one namespace, entered in the login form, shows only that namespace.
// Screenshots at 1280x800 and 390x844 are kept (path in the log).
func TestPortalBrowser(t *testing.T) {
	plat, err := exec.LookPath("plat")
	if err != nil {
		t.Fatal(err)
	}
	b := browsertest.Start(t) // skips under -short, naming chromium
	root := testtools.RepoRoot(t)
	data := filepath.Join(t.TempDir(), "data")
	token := func(ns, scope string) string {
		out, err := exec.Command(plat, "registry", "token", "create", "--data", data, "--namespace", ns, "--scope", scope).Output()
		if err != nil {
			t.Fatalf("token create: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	platformTok, acmeTok, acmeRead := token("platform", "publish"), token("acme", "publish"), token("acme", "read")
	cache := t.TempDir()
	run := func(dir, tok string, args ...string) string {
		t.Helper()
		cmd := exec.Command(plat, args...)
		cmd.Dir = dir
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "PLAT_TOKEN=") && !strings.HasPrefix(kv, "TF_TOKEN_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "PLAT_CACHE_DIR="+cache, "PLAT_TOKEN="+tok)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("plat %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	srv := startServeBinary(t, plat, data)
	base := srv.base
	publish := func(tok, dir, ns, name, version string) {
		run(root, tok, "module", "publish", dir, "--registry", base, "--namespace", ns, "--name", name, "--system", "aws", "--version", version)
	}
	publish(platformTok, filepath.Join(root, "modules/postgres/aws"), "platform", "postgres", "1.0.0")
	publish(platformTok, filepath.Join(root, "modules/postgres/aws"), "platform", "postgres", "1.1.0")
	publish(platformTok, filepath.Join(root, "modules/bucket/aws"), "platform", "bucket", "1.0.0")
	hostile := t.TempDir()
	writeFiles(t, hostile, map[string]string{"main.tf": "variable \"name\" {\n  type = string\n}\n", "README.md": hostileReadme})
	publish(acmeTok, hostile, "acme", "hostile", "0.1.0")
	run(root, platformTok, "catalog", "publish", filepath.Join(root, "catalog"), "--registry", base,
		"--namespace", "platform", "--name", "golden", "--version", "1.0.0")

	tab := b.Tab()
	problems := browsertest.WatchProblems(t, tab)
	requests := browsertest.Requests(tab)
	dialogs := browsertest.Dialogs(tab)
	// checkPage runs the checks every page gets, on the page tab shows.
	checkPage := func(wantTitle string) {
		t.Helper()
		loc := browsertest.Location(t, tab)
		if title := browsertest.Run(t, tab, "title", chromedp.Title()); !strings.HasSuffix(title, " · plat") || wantTitle != "" && title != wantTitle {
			t.Errorf("%s: title %q, want %q ending in \" · plat\"", loc, title, wantTitle)
		}
		for _, p := range browsertest.Accessibility(t, tab) {
			t.Errorf("%s: accessibility: %s", loc, p)
		}
		for _, p := range problems() {
			t.Errorf("%s: %s", loc, p)
		}
		nav := browsertest.Eval[[]string](t, tab, `Array.from(document.querySelectorAll('nav a')).map(a => a.textContent.trim())`)
		for _, want := range []string{"Golden paths", "Modules", "Stacks", "Drift"} {
			if !slices.Contains(nav, want) {
				t.Errorf("%s: nav links %q lack %q", loc, nav, want)
			}
		}
		if n := browsertest.Eval[int](t, tab, `document.querySelectorAll('main#main').length`); n != 1 {
			t.Errorf("%s: %d <main id=\"main\">, want 1", loc, n)
		}
		for _, r := range requests() {
			if r.Type == network.ResourceTypeXHR || r.Type == network.ResourceTypeFetch || r.Type == network.ResourceTypeEventSource || r.Type == network.ResourceTypeWebSocket {
				t.Errorf("%s: the page fetched data after loading: %s %s", loc, r.Type, r.URL)
			}
			if u, err := url.Parse(r.URL); err != nil || r.Type != network.ResourceTypeDocument && (u.Host != strings.TrimPrefix(base, "http://") || !strings.HasPrefix(u.Path, "/assets/")) {
				t.Errorf("%s: a sub-resource outside /assets/: %s %s", loc, r.Type, r.URL)
			}
		}
	}
	// pages records what each page showed with JavaScript on, to compare with
	// the same pages without it and with their first HTTP response.
	type shown struct {
		path string
		browsertest.Page
	}
	var pages []shown
	record := func() shown {
		t.Helper()
		u, _ := url.Parse(browsertest.Location(t, tab))
		s := shown{path: u.RequestURI(), Page: browsertest.Shown(t, tab)}
		pages = append(pages, s)
		return s
	}
	shoot := func(name string) {
		t.Helper()
		browsertest.Screenshot(t, tab, name+"-desktop", 1280, 800)
		browsertest.Screenshot(t, tab, name+"-phone", 390, 844)
		// On the phone nothing is cut off: the page is no wider than the
		// screen (wide tables scroll in their own region, which is inside
		// it), and no Copy button covers its snippet.
		if bad := browsertest.Eval[[]string](t, tab, `(() => {
			const out = [], w = document.documentElement.clientWidth;
			if (document.documentElement.scrollWidth > w + 1) out.push("page is " + document.documentElement.scrollWidth + "px wide on a " + w + "px screen");
			document.querySelectorAll("main table").forEach(t => {
				const wrap = t.closest(".table-wrap, .list");
				if (!wrap && t.getBoundingClientRect().right > w + 1) out.push("table " + (t.caption ? t.caption.textContent : t.id) + " runs off the screen");
			});
			document.querySelectorAll(".table-wrap").forEach(d => {
				const r = d.getBoundingClientRect();
				if (r.right > w + 1) out.push("table region " + d.getAttribute("aria-label") + " runs off the screen");
			});
			document.querySelectorAll(".snippet-box").forEach(b => {
				const c = b.querySelector("button.copy").getBoundingClientRect(), p = b.querySelector("pre").getBoundingClientRect();
				if (c.bottom > p.top && c.top < p.bottom && c.right > p.left && c.left < p.right) out.push("a Copy button covers its snippet");
			});
			return out;
		})()`); len(bad) > 0 {
			t.Errorf("%s on a 390px phone: %q", name, bad)
		}
		browsertest.Do(t, tab, "back to the desktop size", chromedp.EmulateViewport(1280, 800))
	}

	// Home: links to each section.
	browsertest.Open(t, tab, base+"/")
	checkPage("")
	record()
	shoot("home")

	// Golden paths: the embedded catalog and the published one.
	browsertest.ClickAndLoad(t, tab, `nav a[href="/paths"]`)
	checkPage("Golden paths · plat")
	paths := record()
	var registryTemplate string
	for _, l := range paths.Links {
		if strings.HasPrefix(l, "/paths/") && !strings.HasPrefix(l, "/paths/embedded/") && strings.Contains(l, "golden") && strings.HasSuffix(l, "/postgres") {
			registryTemplate = l
		}
	}
	if !slices.Contains(paths.Links, "/paths/embedded/postgres") || registryTemplate == "" {
		t.Fatalf("/paths links %q: want /paths/embedded/postgres and platform/golden@1.0.0's postgres", paths.Links)
	}

	// A template page: its snippet, copied from the DOM, is a stack file that
	// passes `plat validate`, with the embedded catalog and with the published
	// one pinned.
	browsertest.ClickAndLoad(t, tab, `main a[href="/paths/embedded/postgres"]`)
	checkPage("")
	tpl := record()
	if h1 := strings.Join(tpl.H1, " "); !strings.Contains(h1, "postgres") {
		t.Errorf("template page h1 %q does not name postgres", h1)
	}
	if n := browsertest.Eval[int](t, tab, `document.querySelectorAll('button.copy').length`); n == 0 || len(tpl.Snippets) == 0 {
		t.Fatalf("template page: %d snippets, %d copy buttons", len(tpl.Snippets), n)
	}
	apps := t.TempDir()
	os.Mkdir(filepath.Join(apps, ".git"), 0o755)
	writeFiles(t, apps, map[string]string{"embedded/platform.yaml": tpl.Snippets[0]})
	if out := run(apps, "", "validate", filepath.Join(apps, "embedded/platform.yaml")); strings.Contains(out, "error") {
		t.Errorf("plat validate of the copied snippet: %s", out)
	}
	shoot("template")

	browsertest.Open(t, tab, base+registryTemplate)
	checkPage("")
	pinned := record()
	if len(pinned.Snippets) == 0 {
		t.Fatalf("%s: no snippet", registryTemplate)
	}
	pinnedDir := filepath.Join(apps, "pinned")
	os.MkdirAll(filepath.Join(pinnedDir, ".git"), 0o755)
	run(pinnedDir, "", "catalog", "pin", base+"/platform/golden@1.0.0")
	writeFiles(t, pinnedDir, map[string]string{"db/platform.yaml": pinned.Snippets[0]})
	run(pinnedDir, "", "validate", filepath.Join(pinnedDir, "db/platform.yaml"))

	// Modules: the list, a search through the form, a link to a module page.
	browsertest.ClickAndLoad(t, tab, `nav a[href="/modules"]`)
	checkPage("")
	list := record()
	for _, want := range []string{"/modules/platform/postgres/aws", "/modules/platform/bucket/aws", "/modules/acme/hostile/aws"} {
		if !slices.Contains(list.Links, want) {
			t.Errorf("/modules links %q lack %s", list.Links, want)
		}
	}
	if n := browsertest.Eval[int](t, tab, `document.querySelectorAll('form[role=search][method=get][action="/modules"] input[name=q]#q').length +
		document.querySelectorAll('label[for=q]').length`); n != 2 {
		t.Errorf("/modules: the search form and its label are not as the contract says (%d of 2 found)", n)
	}
	browsertest.TypeAndSubmit(t, tab, "#q", "postgres")
	checkPage("")
	found := record()
	if u, _ := url.Parse(base + found.path); u.Path != "/modules" || u.Query().Get("q") != "postgres" {
		t.Errorf("search went to %s, want /modules?q=postgres", found.path)
	}
	if !slices.Contains(found.Links, "/modules/platform/postgres/aws") || slices.Contains(found.Links, "/modules/platform/bucket/aws") {
		t.Errorf("search for postgres: links %q", found.Links)
	}
	if v := browsertest.Run(t, tab, "read #q", chromedp.Value(chromedp.CSS("#q"))); v != "postgres" {
		t.Errorf("search box after the search = %q, want postgres", v)
	}
	browsertest.ClickAndLoad(t, tab, `main a[href="/modules/platform/postgres/aws"]`)
	checkPage("")
	mod := record()
	main := browsertest.Text(t, tab, "main")
	for _, want := range []string{"postgres", "1.1.0", "1.0.0", "Usage"} {
		if !strings.Contains(main, want) {
			t.Errorf("module page lacks %q", want)
		}
	}
	host := strings.TrimPrefix(base, "http://")
	if !slices.ContainsFunc(mod.Snippets, func(s string) bool {
		return strings.Contains(s, `source  = "`+host+`/platform/postgres/aws"`) || strings.Contains(s, `source = "`+host+`/platform/postgres/aws"`)
	}) {
		t.Errorf("module page: no module block with source %s/platform/postgres/aws in %q", host, mod.Snippets)
	}
	shoot("module")

	// The hostile README runs nothing: no script, no javascript: link, no
	// event attribute, no dialog, window.__pwned never set.
	browsertest.Open(t, tab, base+"/modules/acme/hostile/aws")
	checkPage("")
	record()
	if got := browsertest.Eval[[]string](t, tab, `[
		...Array.from(document.querySelectorAll('main script')).map(s => 'script ' + s.outerHTML),
		...Array.from(document.querySelectorAll('main a[href]')).filter(a => /^\s*javascript:/i.test(a.getAttribute('href'))).map(a => 'link ' + a.outerHTML),
		...Array.from(document.querySelectorAll('main *')).filter(e => Array.from(e.attributes).some(at => /^on/i.test(at.name))).map(e => 'handler ' + e.outerHTML),
	]`); len(got) != 0 {
		t.Errorf("hostile README reached the DOM: %q", got)
	}
	if !strings.Contains(browsertest.Text(t, tab, "main"), "Plain text after the payloads.") {
		t.Errorf("hostile README not rendered")
	}
	// Click the README's link (whatever the renderer made of its href).
	if browsertest.Eval[bool](t, tab, `(() => { const a = Array.from(document.querySelectorAll('main a')).find(a => a.textContent.trim() === 'x'); if (a) a.id = 'hostile-link'; return !!a; })()`) {
		browsertest.Do(t, tab, "click the README's javascript: link", chromedp.Click(chromedp.CSS("#hostile-link"), chromedp.NodeVisible), chromedp.Sleep(300*time.Millisecond))
	} else {
		t.Logf("the README's javascript: link was rendered without an <a>; nothing to click")
	}
	if v := browsertest.Eval[string](t, tab, `typeof window.__pwned`); v != "undefined" {
		t.Errorf("window.__pwned is %s after the hostile README: a payload ran", v)
	}
	if d := dialogs(); len(d) != 0 {
		t.Errorf("dialogs opened: %q", d)
	}
	for _, p := range problems() { // even a payload that CSP blocked must not have reached the page
		t.Errorf("hostile module page after the click: %s", p)
	}

	// Stacks and drift (nothing pushed or reported here: their empty states).
	browsertest.ClickAndLoad(t, tab, `nav a[href="/stacks"]`)
	checkPage("")
	record()
	browsertest.ClickAndLoad(t, tab, `nav a[href="/drift"]`)
	checkPage("")
	record()

	// Without JavaScript every page shows the same content, and the first
	// HTTP response alone holds it.
	noJS := b.NewTab()
	browsertest.DisableScript(t, noJS)
	for _, p := range pages {
		browsertest.Open(t, noJS, base+p.path)
		if got := browsertest.Shown(t, noJS); !reflect.DeepEqual(got, p.Page) {
			t.Errorf("%s without JavaScript: %+v\nwith it: %+v", p.path, got, p.Page)
		}
		resp, err := http.Get(base + p.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := browsertest.ParsePage(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || err != nil {
			t.Errorf("GET %s: %s %s %v", p.path, resp.Status, resp.Header.Get("Content-Type"), err)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", p.path)
		}
		if !reflect.DeepEqual(got, p.Page) {
			t.Errorf("GET %s alone: %+v\nin the browser: %+v", p.path, got, p.Page)
		}
	}

	// Under --require-read-token: pages redirect to /login; a read token for
	// acme, entered in the login form, shows acme's modules and nothing else.
	srv.stop()
	srv = startServeBinary(t, plat, data, "--require-read-token")
	base = srv.base
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/", "/paths", "/paths/embedded/postgres", "/modules", "/modules?q=postgres", "/modules/acme/hostile/aws", "/stacks", "/drift"} {
		resp, err := noFollow.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == nil || loc.Path != "/login" {
			t.Errorf("GET %s without a session: %s Location %q, want a redirect to /login", p, resp.Status, resp.Header.Get("Location"))
		}
	}
	login := b.NewIncognitoTab()
	loginProblems := browsertest.WatchProblems(t, login)
	browsertest.Open(t, login, base+"/modules")
	if u, _ := url.Parse(browsertest.Location(t, login)); u.Path != "/login" {
		t.Fatalf("/modules without a session went to %s, want /login", u)
	}
	for _, p := range browsertest.Accessibility(t, login) {
		t.Errorf("/login: accessibility: %s", p)
	}
	if n := browsertest.Eval[int](t, login, `document.querySelectorAll('form input#token[name=token][type=password]').length`); n != 1 {
		t.Fatalf("/login: no <input id=token name=token type=password> in a form")
	}
	browsertest.TypeAndSubmit(t, login, "#token", acmeRead)
	if u, _ := url.Parse(browsertest.Location(t, login)); u.Path != "/modules" {
		t.Errorf("after logging in: at %s, want /modules (the next path)", u)
	}
	links := browsertest.Shown(t, login).Links
	if !slices.Contains(links, "/modules/acme/hostile/aws") || slices.ContainsFunc(links, func(l string) bool { return strings.HasPrefix(l, "/modules/platform/") }) {
		t.Errorf("logged in as acme (read): module links %q, want acme's only", links)
	}
	if main := browsertest.Text(t, login, "main"); strings.Contains(main, "postgres") || strings.Contains(main, "bucket") {
		t.Errorf("logged in as acme (read): /modules shows platform's modules:\n%s", main)
	}
	browsertest.Open(t, login, base+"/paths")
	if main := browsertest.Text(t, login, "main"); strings.Contains(main, "golden") {
		t.Errorf("logged in as acme (read): /paths shows platform/golden")
	}
	for _, p := range loginProblems() {
		t.Errorf("logged-in pages: %s", p)
	}
	browsertest.Open(t, login, base+"/modules/platform/postgres/aws")
	if h1 := browsertest.Text(t, login, "h1"); strings.Contains(browsertest.Text(t, login, "main"), "1.1.0") {
		t.Errorf("logged in as acme (read): platform/postgres is shown (%q)", h1)
	}
	var session *network.Cookie
	for _, c := range browsertest.Cookies(t, login) {
		if c.HTTPOnly {
			session = c
		}
	}
	if session == nil || session.SameSite == "" || session.Value == acmeRead {
		t.Errorf("session cookie: %+v, want HttpOnly, SameSite and not the token itself", session)
	}
}
