package compiler_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/platdev/plat/compiler"
)

// providerPlatform is a catalog's platform.cue with providers (the ... is
// replaced by each test).
const providerPlatform = `package catalog

platform: {
	registry: {host: "modules.example", namespace: "acme"}
	regions: ["eu-west-1", "us-east-1"]
	terraform: {
		required_version: ">= 1.6.0"
		providers: {
			...
		}
	}
}
org: {
	stack: {...}
	let S = stack
	tags: {team: S.team, stack: S.name}
	guardrails: []
}
`

const providerTemplate = `package catalog

name:        "thing"
description: "a thing"
context:     _
parameters: {}
guardrails: []
terraform: {
	module:    "thing"
	providers: [PROVIDERS]
	version:   "1.0.0"
	outputs: ["id"]
}
crossplane: resources: []
`

func providerCatalog(providers, templateProviders string) fstest.MapFS {
	return fstest.MapFS{
		"platform.cue":       {Data: []byte(strings.Replace(providerPlatform, "...", providers, 1))},
		"thing/template.cue": {Data: []byte(strings.Replace(providerTemplate, "PROVIDERS", templateProviders, 1))},
	}
}

func providerStack(env string) compiler.Source {
	return compiler.Source{Name: "stack.yaml", Data: []byte(`apiVersion: plat/v1
kind: Stack
metadata: {name: s, team: t, environment: ` + env + `, costCenter: CC-1000}
spec:
  target: terraform
  region: eu-west-1
  resources:
    - name: a
      template: thing
`)}
}

const twoProviders = `
			local: {source: "hashicorp/local", version: "1.4.0"}
			cloud: {
				source: "example.com/acme/cloud"
				blocks: ["default_labels", "endpoint"]
				config: {
					zone: org.stack.region
					profile: {dev: "d", prod: "p"}[org.stack.environment]
					default_labels: labels: org.tags
					endpoint: [{name: "a", url: "https://a"}, {name: "b", url: "https://b"}]
					extra: {k: 1}
				}
			}
`

// TestProvidersFromCatalog: the root module declares and configures exactly the
// providers its templates need, as the catalog declares them, in both syntaxes.
func TestProvidersFromCatalog(t *testing.T) {
	for _, tc := range []struct {
		uses       string
		want, not  []string
		wantJSON   []string
		notJSON    []string
		versionsTF string
	}{{
		uses: `"cloud"`,
		want: []string{
			"provider \"cloud\" {\n  extra = {\n    k = 1\n  }\n  profile = \"d\"\n  zone    = \"eu-west-1\"\n  default_labels {\n    labels = local.tags\n  }\n  endpoint {\n    name = \"a\"\n    url  = \"https://a\"\n  }\n  endpoint {\n    name = \"b\"\n    url  = \"https://b\"\n  }\n}\n",
			"source  = \"modules.example/acme/thing/cloud\"",
		},
		not:        []string{"hashicorp/local", "provider \"local\""},
		wantJSON:   []string{`"default_labels": {` + "\n" + `        "labels": "${local.tags}"`, `"endpoint": [`},
		versionsTF: "terraform {\n  required_version = \">= 1.6.0\"\n  required_providers {\n    cloud = {\n      source = \"example.com/acme/cloud\"\n    }\n  }\n}\n",
	}, {
		// A provider without config gets no provider block, only its requirement.
		uses:       `"local", "cloud"`,
		want:       []string{"provider \"cloud\" {", "source  = \"modules.example/acme/thing/local\""},
		not:        []string{"provider \"local\""},
		versionsTF: "    cloud = {\n      source = \"example.com/acme/cloud\"\n    }\n    local = {\n      source  = \"hashicorp/local\"\n      version = \"1.4.0\"\n    }\n",
	}, {
		// A module of built-in resources only (terraform_data) needs no provider.
		uses:       ``,
		not:        []string{"provider", "cloud", "hashicorp"},
		versionsTF: "terraform {\n  required_version = \">= 1.6.0\"\n}\n",
	}} {
		fsys := providerCatalog(twoProviders, tc.uses)
		if tc.uses == "" {
			fsys["thing/template.cue"].Data = []byte(strings.Replace(string(fsys["thing/template.cue"].Data), `module:    "thing"`, `module: "thing", system: "data"`, 1))
		}
		c, err := compiler.New(fsys)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []compiler.Format{compiler.FormatHCL, compiler.FormatJSON} {
			res, diags := c.Compile(context.Background(), compiler.Input{Stacks: []compiler.Source{providerStack("dev")}, Now: now, Format: f})
			if diags.HasErrors() {
				t.Fatalf("uses %s: %v", tc.uses, diags)
			}
			files := map[string]string{}
			for _, file := range res.Files() {
				files[file.Path] = string(file.Data)
			}
			if f == compiler.FormatHCL {
				main := files["s/main.tf"]
				for _, w := range tc.want {
					if !strings.Contains(main, w) {
						t.Errorf("uses %s: main.tf lacks %q:\n%s", tc.uses, w, main)
					}
				}
				for _, n := range tc.not {
					if strings.Contains(main, n) || strings.Contains(files["s/versions.tf"], n) {
						t.Errorf("uses %s: output has %q:\n%s%s", tc.uses, n, main, files["s/versions.tf"])
					}
				}
				if !strings.Contains(files["s/versions.tf"], tc.versionsTF) {
					t.Errorf("uses %s: versions.tf lacks %q:\n%s", tc.uses, tc.versionsTF, files["s/versions.tf"])
				}
				continue
			}
			for _, w := range tc.wantJSON {
				if !strings.Contains(files["s/main.tf.json"], w) {
					t.Errorf("uses %s: main.tf.json lacks %q:\n%s", tc.uses, w, files["s/main.tf.json"])
				}
			}
		}
	}
}

// TestProviderCatalogErrors: bad provider settings are catalog errors that name
// the catalog file, line and column; nothing is rendered.
func TestProviderCatalogErrors(t *testing.T) {
	for _, tc := range []struct {
		name, providers, uses string
		// wantNew is the error of compiler.New (loading platform.cue), wantTemplate
		// that of compiling the template, wantRender the render diagnostic for a
		// prod stack; one of them is set.
		wantNew, wantTemplate, wantRender string
	}{{
		name: "unknown provider", providers: twoProviders, uses: `"cloud", "locl"`,
		wantTemplate: `catalog: thing/template.cue:10:23: terraform.providers: unknown provider "locl" (platform.cue declares cloud, local); did you mean "local"?`,
	}, {
		name: "listed twice", providers: twoProviders, uses: `"local", "local"`,
		wantTemplate: `catalog: thing/template.cue:10:23: terraform.providers: "local" is listed twice`,
	}, {
		name: "two providers with one local name", uses: `"local"`,
		providers: `
			local: {source: "hashicorp/local"}
			local: {source: "example.com/other/local"}
`,
		wantNew: `catalog: platform.cue:11:20: platform.terraform.providers.local.source: conflicting values "example.com/other/local" and "hashicorp/local"`,
	}, {
		name: "typo in a provider setting", uses: `"local"`,
		providers: `
			local: {source: "hashicorp/local", verison: "1.4.0"}
`,
		wantNew: `platform.cue:10:39: platform.terraform.providers.local.verison: field not allowed`,
	}, {
		name: "config refers to nothing", uses: `"local"`,
		providers: `
			local: {source: "hashicorp/local", config: path: org.stack.regoin}
`,
		wantNew: `platform.cue:10:63: platform.terraform.providers.local.config.path: undefined field: regoin`,
	}, {
		name: "config does not evaluate for a stack", providers: `
			local: {source: "hashicorp/local", config: path: {dev: "d"}[org.stack.environment]}
`, uses: `"local"`,
		wantRender: `provider local: config: platform.cue:10:64: platform.terraform.providers.local.config.path: undefined field: prod`,
	}, {
		name: "no providers and no system", providers: twoProviders, uses: ``,
		wantRender: `catalog: thing/template.cue: terraform.system is not set: set it, or list the module's providers in terraform.providers`,
	}, {
		name: "block that is not an object", providers: `
			local: {source: "hashicorp/local", blocks: ["path"], config: path: "x"}
`, uses: `"local"`,
		wantRender: `provider local: config.path is a block (listed in blocks), so it must be an object or a list of objects, not a string`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := compiler.New(providerCatalog(tc.providers, tc.uses))
			if tc.wantNew != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantNew) {
					t.Fatalf("New: got %v, want %q", err, tc.wantNew)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantTemplate != "" {
				_, err := c.Template("thing")
				if err == nil || err.Error() != tc.wantTemplate {
					t.Fatalf("Template: got %v\nwant %s", err, tc.wantTemplate)
				}
			}
			for _, validate := range []bool{false, true} {
				res, diags := c.Compile(context.Background(), compiler.Input{Stacks: []compiler.Source{providerStack("prod")}, Now: now, Validate: validate})
				if !diags.HasErrors() {
					t.Fatalf("validate %v: no error", validate)
				}
				if len(res.Files()) != 0 {
					t.Errorf("validate %v: files rendered despite errors", validate)
				}
				want := tc.wantRender
				if want == "" {
					want = tc.wantTemplate
				}
				if got := diags.Error(); !strings.Contains(got, want) {
					t.Errorf("validate %v: diagnostics\n%s\nwant %q", validate, got, want)
				}
			}
		})
	}
}
