package xrd

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/platdev/plat/catalog"
)

func loadTemplate(t testing.TB, file string) cue.Value {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	v := cuecontext.New().CompileBytes(b, cue.Filename(file))
	if v.Err() != nil {
		t.Fatal(v.Err())
	}
	return v
}

func js(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSchema(t *testing.T) {
	v := loadTemplate(t, "database.cue")
	s, err := Schema(v.LookupPath(cue.ParsePath("parameters")))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"size":                `{"description":"Instance size.","type":"string","default":"small","enum":["small","medium","large"]}`,
		"version":             `{"description":"Engine major version.","type":"string","default":"16","enum":["16","15","17"]}`,
		"storageGB":           `{"description":"Allocated storage in GiB.","type":"integer","default":20,"maximum":2000,"minimum":20}`,
		"highAvailability":    `{"description":"A standby in a second zone; defaults to true in prod.","type":"boolean"}`,
		"backupRetentionDays": `{"description":"Days of backups kept.","type":"integer","default":14,"maximum":35,"minimum":1}`,
		"publiclyAccessible":  `{"description":"Reachable from the internet; never allowed.","type":"boolean","default":false}`,
		"tags":                `{"description":"Extra tags.","type":"object","additionalProperties":{"type":"string"}}`,
		"maintenanceWindow":   `{"description":"Maintenance window, ddd:hh24:mi-ddd:hh24:mi.","type":"string","pattern":"^[a-z]{3}:[0-9]{2}:[0-9]{2}-[a-z]{3}:[0-9]{2}:[0-9]{2}$"}`,
		"ratio":               `{"description":"Load factor.","type":"number","default":0.5,"maximum":1,"exclusiveMaximum":true,"minimum":0,"exclusiveMinimum":true}`,
		"owner":               `{"description":"Owner of the data, required.","type":"string"}`,
		"extensions":          `{"description":"Extensions to install.","type":"array","default":[],"items":{"type":"string"}}`,
	}
	for name, w := range want {
		got := js(t, s.Properties[name])
		if got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
	if len(s.Properties) != len(want) {
		t.Errorf("%d properties, want %d", len(s.Properties), len(want))
	}
	if got := js(t, s.Required); got != `["owner"]` {
		t.Errorf("required = %s", got)
	}
}

func TestGenerateRules(t *testing.T) {
	res, err := Generate(loadTemplate(t, "database.cue"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{
		{"database.no-public-access", `!(self.publiclyAccessible)`, "database.no-public-access: a database is never publicly accessible"},
		{"database.prod-high-availability", `(!has(self.highAvailability) || !(self.environment == "prod" && !self.highAvailability)) || (has(self.waivers) && self.waivers.exists(w, w.guardrail == "database.prod-high-availability"))`, "database.prod-high-availability: a prod database runs with highAvailability"},
		{"database.prod-backup-retention", `(!(self.environment == "prod" && self.backupRetentionDays < 14)) || (has(self.waivers) && self.waivers.exists(w, w.guardrail == "database.prod-backup-retention"))`, "database.prod-backup-retention: a prod database keeps backups for at least 14 days"},
	}
	if js(t, res.Rules) != js(t, want) {
		t.Errorf("rules:\n%s\nwant\n%s", js(t, res.Rules), js(t, want))
	}
	skipped := []Skipped{
		{"database.storage-encrypted", "its condition does not depend on the request"},
		{"database.big-storage", "only errors are enforced, this is a warning"},
	}
	if js(t, res.Skipped) != js(t, skipped) {
		t.Errorf("skipped: %s", js(t, res.Skipped))
	}
	spec := res.XRD["spec"].(map[string]any)
	if spec["scope"] != "Namespaced" || res.XRD["apiVersion"] != "apiextensions.crossplane.io/v2" ||
		js(t, spec["names"]) != `{"kind":"Database","plural":"databases"}` ||
		res.XRD["metadata"].(map[string]any)["name"] != "databases.platform.plat.dev" {
		t.Errorf("XRD header: %s", js(t, res.XRD))
	}
}

func TestGenerateNames(t *testing.T) {
	res, err := Generate(loadTemplate(t, "queue.cue"), Options{Group: "acme.example.org", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	spec := res.XRD["spec"].(map[string]any)
	if js(t, spec["names"]) != `{"kind":"MessageQueue","plural":"messagequeues"}` || spec["group"] != "acme.example.org" {
		t.Errorf("names: %s", js(t, spec))
	}
	// No required parameter: spec defaults to {} so nested defaults apply.
	var x apiextensionsv1.JSONSchemaProps
	raw, _ := json.Marshal(spec["versions"].([]any)[0].(map[string]any)["schema"].(map[string]any)["openAPIV3Schema"])
	if err := json.Unmarshal(raw, &x); err != nil {
		t.Fatal(err)
	}
	if d := x.Properties["spec"].Default; d == nil || string(d.Raw) != "{}" {
		t.Errorf("spec default = %v", d)
	}
	if _, ok := x.Properties["spec"].Properties["environment"]; ok {
		t.Error("environment added though no guardrail reads it")
	}
}

// TestGolden keeps the generated XRD of the database fixture reviewable;
// PLAT_UPDATE=1 rewrites it.
func TestGolden(t *testing.T) {
	res, err := Generate(loadTemplate(t, "database.cue"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := res.YAML()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "database.xrd.yaml")
	if os.Getenv("PLAT_UPDATE") != "" {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("generated XRD differs from %s (PLAT_UPDATE=1 to accept):\n%s", golden, got)
	}
}

func yamlToJSON(t testing.TB, b []byte) []byte {
	t.Helper()
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func catalogTemplates(t testing.TB) []string {
	t.Helper()
	ents, err := fs.ReadDir(catalog.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) < 4 {
		t.Fatalf("shipped catalog has %d templates", len(names))
	}
	return names
}

func loadCatalogTemplate(t testing.TB, name string) cue.Value {
	t.Helper()
	b, err := fs.ReadFile(catalog.FS, name+"/template.cue")
	if err != nil {
		t.Fatal(err)
	}
	v := cuecontext.New().CompileBytes(b, cue.Filename(name+"/template.cue"))
	if v.Err() != nil {
		t.Fatal(v.Err())
	}
	return v
}

// TestShippedCatalog generates the XRD of every shipped template and checks the
// guardrails each carries.
func TestShippedCatalog(t *testing.T) {
	want := map[string][]string{
		"postgres": {"postgres.no-public-access", "postgres.prod-high-availability", "postgres.prod-deletion-protection", "postgres.prod-backup-retention"},
		"bucket":   {"bucket.public-needs-waiver", "bucket.prod-versioning"},
		"cache":    {"cache.transit-encryption", "cache.prod-failover"},
		"queue":    nil,
	}
	for _, name := range catalogTemplates(t) {
		res, err := Generate(loadCatalogTemplate(t, name), Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var got []string
		for _, r := range res.Rules {
			got = append(got, r.Guardrail)
		}
		if w, ok := want[name]; ok && js(t, got) != js(t, w) {
			t.Errorf("%s: rules for %q, want %q (skipped %v)", name, got, w, res.Skipped)
		}
		if name == "cache" {
			for _, r := range res.Rules {
				if r.Guardrail == "cache.prod-failover" && !strings.Contains(r.Rule, "self.nodes >= 2") {
					t.Errorf("cache.prod-failover: hidden _failover not inlined: %s", r.Rule)
				}
			}
		}
	}
}
