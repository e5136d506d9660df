package portal_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestStackPage shows a pushed stack's owner, environment, templates (linked
// to their golden-path and module version pages), waivers with their expiry
// marked, and its drift.
func TestStackPage(t *testing.T) {
	dir := t.TempDir()
	writeDrift(t, dir)
	e := newEnv(t, envOpts{driftReports: dir})
	e.seed()
	c := e.client()
	r, f := e.page(c, "/stacks/checkout", http.StatusOK)
	text := strings.Join(strings.Fields(f.Text), " ")
	for _, want := range []string{
		"payments <team>", "prod <env>", "acme/golden 1.0.0",
		"4 waivers, 1 expired, 2 expiring within 14 days", "expires in 3 days", "expires in 1 day",
		"load test next week", "drifted", "tags.team",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("stack page lacks %q:\n%s", want, text)
		}
	}
	for _, link := range []string{"/paths/acme/golden@1.0.0/postgres", "/paths/acme/golden@1.0.0/cache", "/modules/acme/net/aws/1.1.0", "/modules/acme/db/aws/0.1.0", "/modules/other/secret/aws/2.0.0"} {
		if !hasLink(f.Links, link) {
			t.Errorf("stack page does not link %s: %v", link, f.Links)
		}
		e.page(c, link, http.StatusOK)
	}
	// A template the catalog does not know is named, not linked.
	if !strings.Contains(text, "nope<x> not in the catalog") {
		t.Errorf("unknown template not shown as such:\n%s", text)
	}
	for _, l := range f.Links {
		if strings.Contains(l, "nope") {
			t.Errorf("unknown template linked: %s", l)
		}
	}
	// The expired waiver's row is marked expired, the 3-day one expiring,
	// the 40-day one neither.
	rows := regexp.MustCompile(`(?s)<tr class="waiver (\w+)"><td><code>([^<]*)</code>`).FindAllStringSubmatch(r.body, -1)
	got := map[string]string{}
	for _, m := range rows {
		got[m[2]] = m[1]
	}
	want := map[string]string{"encryption&lt;g&gt;": "expired", "backup": "expiring", "tags": "valid", "public-access": "expiring"}
	for g, st := range want {
		if got[g] != st {
			t.Errorf("waiver %s marked %q, want %q (rows %v)", g, got[g], st, got)
		}
	}
	if !strings.Contains(r.body, `<span class="badge expired">expired</span>`) {
		t.Errorf("no expired badge")
	}
	// The list shows the same facts in short.
	_, f = e.page(c, "/stacks", http.StatusOK)
	text = strings.Join(strings.Fields(f.Text), " ")
	for _, want := range []string{"payments <team>", "prod <env>", "postgres (acme/net/aws 1.1.0)", "4 1 expired 2 expiring"} {
		if !strings.Contains(text, want) {
			t.Errorf("stacks list lacks %q:\n%s", want, text)
		}
	}
}

// TestStackEscaping: every field a push carries is text, never markup.
func TestStackEscaping(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.seed()
	c := e.client()
	for _, p := range []string{"/stacks", "/stacks/checkout"} {
		r, f := e.page(c, p, http.StatusOK)
		for _, s := range []string{"payments <team>", "prod <env>", "shop <repo>", "nope<x>", "orders<db>", "encryption<g>",
			"ann <ann@example.com>", "migrating <script>alert('w')</script>"} {
			if p == "/stacks" && (strings.HasPrefix(s, "encryption") || strings.HasPrefix(s, "ann") || strings.HasPrefix(s, "migrating") || s == "orders<db>") {
				continue // the list does not show waivers or resource names
			}
			if strings.Contains(r.body, s) {
				t.Errorf("%s: %q is in the page unescaped", p, s)
			}
			if !strings.Contains(f.Text, s) {
				t.Errorf("%s: %q is not shown", p, s)
			}
		}
	}
}

// TestStackAuth: a login sees the stacks that use something it may read, and
// of them only the resources (and their waivers) of modules it may read.
func TestStackAuth(t *testing.T) {
	e := newEnv(t, envOpts{requireRead: true})
	e.seed()
	c := e.client()
	e.login(c, e.tok["acme/read"])
	_, f := e.page(c, "/stacks/checkout", http.StatusOK)
	text := strings.Join(strings.Fields(f.Text), " ")
	if strings.Contains(text, "vault") || strings.Contains(text, "secret waiver") || strings.Contains(text, "other/secret") {
		t.Errorf("acme's login sees other's resource or its waiver:\n%s", text)
	}
	if !strings.Contains(text, "1 resource uses a module your login may not read") || !strings.Contains(text, "3 waivers") {
		t.Errorf("hidden resource not counted or waivers wrong:\n%s", text)
	}
	_, f = e.page(c, "/stacks", http.StatusOK)
	if strings.Contains(f.Text, "hidden") || strings.Contains(f.Text, "other/secret") {
		t.Errorf("acme's stack list:\n%s", f.Text)
	}
	e.page(c, "/stacks/hidden", http.StatusNotFound)

	c2 := e.client()
	e.login(c2, e.tok["other/read"])
	_, f = e.page(c2, "/stacks/checkout", http.StatusOK)
	text = strings.Join(strings.Fields(f.Text), " ")
	if !strings.Contains(text, "secret waiver") || strings.Contains(text, "orders<db>") || strings.Contains(text, "acme/net") ||
		!strings.Contains(text, "2 resources use modules your login may not read") {
		t.Errorf("other's view of checkout:\n%s", text)
	}
	e.page(c2, "/stacks/hidden", http.StatusOK)

	// Without a login nothing shows.
	if r := e.get(e.client(), "/stacks/checkout"); r.status == http.StatusOK {
		t.Errorf("stack page without a login: %d", r.status)
	}
}

func hasLink(links []string, want string) bool {
	for _, l := range links {
		if l == want {
			return true
		}
	}
	return false
}
