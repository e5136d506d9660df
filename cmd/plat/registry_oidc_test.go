package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platdev/plat/internal/oidctest"
	"github.com/platdev/plat/internal/testtools"
)

// TestRegistryTofuOIDC runs `plat registry serve --require-read-token
// --auth-config` over TLS with a real test OIDC issuer: `plat module publish`
// publishes with a publish-scoped ID token, and real tofu init downloads the
// module with TF_TOKEN_<host> set to a read-scoped ID token (the archive
// through the signed link); an ID token that no rule matches makes tofu init
// fail, and nothing logged holds a token.
func TestRegistryTofuOIDC(t *testing.T) {
	tofu := testtools.Bin(t, "tofu")
	is := oidctest.New(t)
	f := newFixture(t)
	policy := filepath.Join(t.TempDir(), "auth.yaml")
	writeFiles(t, filepath.Dir(policy), map[string]string{"auth.yaml": fmt.Sprintf(`issuers:
  - url: %s
    audience: plat-registry
    rules:
      - namespace: acme
        scope: publish
        claims: {repository: acme/modules, ref: refs/heads/main}
      - namespace: acme
        scope: read
        claims: {repository_owner: acme}
`, is.URL)})
	srv := startServe(t, "--data", f.data, "--tls-cert", f.cert, "--tls-key", f.key, "--require-read-token", "--auth-config", policy)

	pubTok := is.Sign(t, oidctest.Claims{"aud": "plat-registry", "repository": "acme/modules", "repository_owner": "acme", "ref": "refs/heads/main"})
	dir := t.TempDir()
	writeFiles(t, dir, demoModule)
	code, out, errs := platRun(t, map[string]string{"PLAT_TOKEN": pubTok, "SSL_CERT_FILE": f.ca},
		"module", "publish", dir, "--registry", "https://"+srv.hostport, "--namespace", "acme", "--name", "demo", "--system", "aws", "--version", "1.0.0")
	if code != 0 {
		t.Fatalf("publish with an ID token: exit %d: %s%s", code, out, errs)
	}

	// TF_TOKEN_ names the host with dots as underscores; the port stays.
	envName := "TF_TOKEN_" + strings.ReplaceAll(srv.hostport, ".", "_")
	readTok := is.Sign(t, oidctest.Claims{"aud": "plat-registry", "repository": "acme/app", "repository_owner": "acme", "ref": "refs/heads/feature"})
	applyDemo(t, tofu, srv.hostport+"/acme/demo/aws", tofuEnv(t, "", "SSL_CERT_FILE="+f.ca, envName+"="+readTok))

	stranger := is.Sign(t, oidctest.Claims{"aud": "plat-registry", "repository": "mallory/app", "repository_owner": "mallory"})
	dir = t.TempDir()
	writeFiles(t, dir, rootModule(srv.hostport+"/acme/demo/aws"))
	if out, err := runTF(t, tofu, dir, tofuEnv(t, "", "SSL_CERT_FILE="+f.ca, envName+"="+stranger), "init", "-input=false", "-no-color"); err == nil {
		t.Fatalf("tofu init with an ID token no rule matches succeeded:\n%s", out)
	} else if !strings.Contains(out, "403") && !strings.Contains(strings.ToLower(out), "forbidden") {
		t.Errorf("tofu init with a stranger's ID token failed for another reason:\n%s", out)
	}

	logs := srv.log.String()
	for _, tok := range []string{pubTok, readTok, stranger} {
		if strings.Contains(logs, strings.Split(tok, ".")[2]) {
			t.Errorf("the server log holds an ID token")
		}
	}
	for _, want := range []string{`msg="oidc token accepted"`, `msg="oidc token refused"`, "outcome=no_rule"} {
		if !strings.Contains(logs, want) {
			t.Errorf("server log lacks %s", want)
		}
	}
}
