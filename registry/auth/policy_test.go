package auth_test

import (
	"strings"
	"testing"

	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/store"
)

func TestParsePolicy(t *testing.T) {
	p, err := auth.ParsePolicy("auth.yaml", []byte(`# GitHub Actions and GitLab CI
issuers:
  - url: https://token.actions.githubusercontent.com
    audience: https://registry.example.com
    rules:
      - namespace: acme
        scope: publish
        claims:
          repository: acme/infra
          ref: [refs/heads/main, "refs/tags/v*"]
  - url: https://gitlab.example.com
    audience: plat
    rules:
      - namespace: team-a
        scope: read
        claims:
          project_path: "team-a/*"
          ref_protected: true
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Issuers) != 2 || len(p.Issuers[0].Rules) != 1 || p.Issuers[1].Rules[0].Scope != store.ScopeRead {
		t.Fatalf("policy = %+v", p)
	}
	r := p.Issuers[0].Rules[0]
	if r.Pos != "auth.yaml:6:9" || len(r.Claims) != 2 || len(r.Claims[1].Patterns) != 2 {
		t.Errorf("rule = %+v", r)
	}
	for claims, want := range map[string]bool{
		"main":      true,
		"tag":       true,
		"branch":    false,
		"other":     false,
		"list":      true,
		"no ref":    false,
		"nested ok": false,
	} {
		c := map[string]any{"repository": "acme/infra", "ref": "refs/heads/main"}
		switch claims {
		case "tag":
			c["ref"] = "refs/tags/v1.2.0"
		case "branch":
			c["ref"] = "refs/heads/feature"
		case "other":
			c["repository"] = "acme/infra2"
		case "list":
			c["repository"] = []any{"x/y", "acme/infra"}
		case "no ref":
			delete(c, "ref")
		case "nested ok":
			c["repository"] = map[string]any{"name": "acme/infra"}
		}
		if got := r.Matches(c); got != want {
			t.Errorf("%s: Matches = %v, want %v", claims, got, want)
		}
	}
	if !p.Issuers[1].Rules[0].Matches(map[string]any{"project_path": "team-a/net", "ref_protected": true}) {
		t.Errorf("boolean claim does not match its pattern")
	}
}

func TestParsePolicyErrors(t *testing.T) {
	for name, tc := range map[string]struct{ src, want string }{
		"unknown top key": {"issuers: []\nissuer: x\n", `auth.yaml:2:1: unknown key "issuer" in the trust policy`},
		"empty issuers":   {"issuers: []\n", `auth.yaml:1:10: issuers must be a non-empty list`},
		"unknown key": {`issuers:
  - url: https://a.example
    audiance: x
    rules: [{namespace: acme, scope: read, claims: {sub: x}}]
`, `auth.yaml:3:5: unknown key "audiance" in issuer (known: url, audience, rules)`},
		"missing audience": {`issuers:
  - url: https://a.example
    rules: [{namespace: acme, scope: read, claims: {sub: x}}]
`, `auth.yaml:2:5: issuer: missing "audience"`},
		"plain http": {`issuers:
  - url: http://a.example
    audience: x
    rules: [{namespace: acme, scope: read, claims: {sub: x}}]
`, `auth.yaml:2:10: url: an issuer must be served over https`},
		"bad scope": {`issuers:
  - url: https://a.example
    audience: x
    rules:
      - {namespace: acme, scope: write, claims: {sub: x}}
`, `auth.yaml:5:34: scope must be read or publish, not "write"`},
		"bad namespace": {`issuers:
  - url: https://a.example
    audience: x
    rules:
      - {namespace: Acme, scope: read, claims: {sub: x}}
`, `auth.yaml:5:21: namespace "Acme" is not a valid namespace`},
		"no claims": {`issuers:
  - url: https://a.example
    audience: x
    rules:
      - {namespace: acme, scope: read, claims: {}}
`, `auth.yaml:5:48: claims must be a non-empty mapping`},
		"bad pattern": {`issuers:
  - url: https://a.example
    audience: x
    rules:
      - {namespace: acme, scope: read, claims: {ref: "refs/[heads"}}
`, `auth.yaml:5:54: claim "ref": bad pattern "refs/[heads"`},
		"object pattern": {`issuers:
  - url: https://a.example
    audience: x
    rules:
      - {namespace: acme, scope: read, claims: {ref: {a: b}}}
`, `auth.yaml:5:54: claim "ref": a pattern is a string`},
		"twice": {`issuers:
  - {url: https://a.example, audience: x, rules: [{namespace: acme, scope: read, claims: {sub: x}}]}
  - {url: https://a.example, audience: y, rules: [{namespace: acme, scope: read, claims: {sub: x}}]}
`, `auth.yaml:3:5: issuer "https://a.example" listed twice`},
		"syntax":   {"issuers: [\n", "auth.yaml: yaml: line 1"},
		"two docs": {"issuers: []\n---\nissuers: []\n", "want one YAML document"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := auth.ParsePolicy("auth.yaml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
	// Every problem is reported at once.
	_, err := auth.ParsePolicy("auth.yaml", []byte(`issuers:
  - url: ftp://a.example
    audience: ""
    rules:
      - {namespace: acme, scope: all, claims: {sub: x}, extra: 1}
`))
	for _, want := range []string{"2:10: url:", "3:15: audience must be", "5:34: scope must", `5:57: unknown key "extra"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant it to contain %q", err, want)
		}
	}
}

// FuzzParsePolicy checks that no trust policy file makes the parser panic, and
// that an accepted policy has what a verifier relies on.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("issuers:\n  - url: https://a.example\n    audience: x\n    rules: [{namespace: acme, scope: read, claims: {sub: x, ref: [\"a*\", b]}}]\n"))
	f.Add([]byte("issuers: [\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("issuers:\n  - {url: http://127.0.0.1:1, audience: x, rules: [{namespace: a, scope: publish, claims: {x: true}}]}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := auth.ParsePolicy("fuzz.yaml", src)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, is := range p.Issuers {
			if is.URL == "" || is.Audience == "" || len(is.Rules) == 0 {
				t.Fatalf("accepted an incomplete issuer: %+v", is)
			}
			for _, r := range is.Rules {
				if len(r.Claims) == 0 || (r.Scope != store.ScopeRead && r.Scope != store.ScopePublish) {
					t.Fatalf("accepted a rule without claims or scope: %+v", r)
				}
				r.Matches(map[string]any{"sub": "x"})
			}
		}
	})
}
