package portal_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/compiler"
)

var snippetRE = regexp.MustCompile(`(?s)<pre><code class="snippet" data-copy>(.*?)</code></pre>`)

// validate runs plat validate's checks on one stack file.
func validate(t *testing.T, c *compiler.Compiler, stack string) compiler.Diagnostics {
	t.Helper()
	_, ds := c.Compile(context.Background(), compiler.Input{Stacks: []compiler.Source{{Name: "stack.yaml", Data: []byte(stack)}}, Validate: true})
	return ds
}

// TestEmbeddedSnippetsValidate takes the stack snippet of every template of
// the embedded catalog from its page, as a user copies it, and checks that
// the compiler accepts it; the same snippet with a wrong template name or a
// bad value is refused, so the check can fail.
func TestEmbeddedSnippetsValidate(t *testing.T) {
	c, err := compiler.New(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	names, err := c.TemplateNames()
	if err != nil || len(names) == 0 {
		t.Fatalf("templates %v: %v", names, err)
	}
	e := newEnv(t, envOpts{})
	cl := e.client()
	for _, n := range names {
		r, f := e.page(cl, "/paths/embedded/"+n, http.StatusOK)
		m := snippetRE.FindStringSubmatch(r.body)
		if m == nil {
			t.Errorf("%s: no snippet on the page", n)
			continue
		}
		stack := html.UnescapeString(m[1])
		if ds := validate(t, c, stack); ds.HasErrors() {
			t.Errorf("%s: the snippet does not validate: %v\n%s", n, ds, stack)
		}
		if !strings.Contains(stack, "template: "+n+"\n") {
			t.Errorf("%s: snippet does not use the template:\n%s", n, stack)
		}
		if ds := validate(t, c, strings.Replace(stack, "template: "+n+"\n", "template: no-such-template\n", 1)); !ds.HasErrors() {
			t.Errorf("%s: a snippet with an unknown template validates", n)
		}
		if ds := validate(t, c, strings.Replace(stack, "environment: dev", "environment: moon", 1)); !ds.HasErrors() {
			t.Errorf("%s: a snippet with a bad environment validates", n)
		}
		tmpl, _ := c.Template(n)
		text := strings.Join(strings.Fields(f.Text), " ")
		for _, want := range []string{tmpl.Description, "terraform", "crossplane"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: page lacks %q", n, want)
			}
		}
		for _, p := range tmpl.Parameters.Fields {
			if !strings.Contains(r.body, "<code>"+p.Name+"</code>") {
				t.Errorf("%s: parameter %s not listed", n, p.Name)
			}
		}
		for _, g := range append(tmpl.Guardrails, c.OrgGuardrails()...) {
			if !strings.Contains(r.body, "<code>"+g.ID+"</code>") || !strings.Contains(html.UnescapeString(r.body), g.Message) {
				t.Errorf("%s: guardrail %s not listed", n, g.ID)
			}
		}
		for _, o := range tmpl.Outputs {
			if !strings.Contains(r.body, "<code>"+o+"</code>") {
				t.Errorf("%s: output %s not listed", n, o)
			}
		}
	}
}

// TestRegistryCatalogPage shows a catalog published to the registry, with a
// pin file for it and a snippet that validates against it.
func TestRegistryCatalogPage(t *testing.T) {
	e := newEnv(t, envOpts{noCatalog: true})
	e.seed()
	c, err := compiler.New(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := e.page(e.client(), "/paths/acme/golden@1.0.0/postgres", http.StatusOK)
	ms := snippetRE.FindAllStringSubmatch(r.body, -1)
	if len(ms) != 2 {
		t.Fatalf("%d snippets, want the stack and the pin", len(ms))
	}
	if ds := validate(t, c, html.UnescapeString(ms[0][1])); ds.HasErrors() {
		t.Errorf("snippet: %v", ds)
	}
	pin := html.UnescapeString(ms[1][1])
	for _, want := range []string{"kind: CatalogPin", "namespace: acme", "name: golden", "version: 1.0.0", "digest: sha256:", "registry: " + e.url} {
		if !strings.Contains(pin, want) {
			t.Errorf("pin lacks %q:\n%s", want, pin)
		}
	}
	_, f := e.page(e.client(), "/paths", http.StatusOK)
	if strings.Contains(f.Text, "Embedded catalog") || !strings.Contains(f.Text, "Catalog acme/golden 1.0.0") {
		t.Errorf("paths page:\n%s", f.Text)
	}
}
