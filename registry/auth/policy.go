package auth

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/platdev/plat/internal/yamlpos"
	"github.com/platdev/plat/registry/module"
	"github.com/platdev/plat/registry/store"
)

// Policy is an OIDC trust policy (`plat registry serve --auth-config FILE`):
// the issuers whose ID tokens the registry accepts and the rules that map a
// token's claims to a namespace and a scope. docs/registry.md documents the
// file format.
type Policy struct {
	Issuers []Issuer
}

// Issuer is one trusted OpenID Connect issuer.
type Issuer struct {
	// URL is the issuer identifier: discovery is read from
	// URL/.well-known/openid-configuration and a token's iss claim must equal it.
	URL string
	// Audience is the value a token's aud claim must contain.
	Audience string
	// Rules map claims to grants, in file order.
	Rules []Rule
}

// Rule grants Scope on Namespace to a token whose claims all match.
type Rule struct {
	Namespace string
	Scope     store.Scope
	// Claims maps a claim name to the patterns (path.Match globs) of which its
	// value must match one.
	Claims []ClaimMatch
	// Pos is where the rule starts (file:line:col), for logs.
	Pos string
}

// ClaimMatch is one claim condition of a rule.
type ClaimMatch struct {
	Claim    string
	Patterns []string
}

// MaxPolicyBytes bounds a trust policy file.
const MaxPolicyBytes = 1 << 20

// LoadPolicy reads and parses the trust policy file at name.
func LoadPolicy(name string) (*Policy, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("auth config: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("auth config: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("auth config %s: not a regular file", name)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxPolicyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("auth config: %w", err)
	}
	return ParsePolicy(name, b)
}

// ParsePolicy parses a trust policy; name is used in errors. The schema is
// closed: an unknown key, a missing one or a value of the wrong kind is an
// error naming file:line:col. Every problem found is reported (errors.Join).
func ParsePolicy(name string, data []byte) (*Policy, error) {
	if len(data) > MaxPolicyBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, MaxPolicyBytes)
	}
	docs, err := yamlpos.Decode(name, data)
	if err != nil {
		return nil, err
	}
	if len(docs) != 1 {
		return nil, fmt.Errorf("%s: want one YAML document holding issuers, found %d", name, len(docs))
	}
	p := &parser{file: name}
	pol := p.policy(docs[0])
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return pol, nil
}

type parser struct {
	file string
	errs []error
}

func (p *parser) errorf(line, col int, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d:%d: %s", p.file, line, col, fmt.Sprintf(format, args...)))
}

// fields checks that n is a mapping with only the known keys, each once, and
// the required ones present; it returns the values by key.
func (p *parser) fields(n *yamlpos.Node, what string, known, required []string) map[string]*yamlpos.Node {
	if n.Kind != yamlpos.Map {
		p.errorf(n.Line, n.Col, "%s must be a mapping", what)
		return nil
	}
	out := map[string]*yamlpos.Node{}
	for _, f := range n.Fields {
		if !slices.Contains(known, f.Key) {
			p.errorf(f.Line, f.Col, "unknown key %q in %s (known: %s)", f.Key, what, strings.Join(known, ", "))
			continue
		}
		if _, dup := out[f.Key]; dup {
			p.errorf(f.Line, f.Col, "%s: key %q given twice", what, f.Key)
			continue
		}
		out[f.Key] = f.Value
	}
	for _, k := range required {
		if _, ok := out[k]; !ok {
			p.errorf(n.Line, n.Col, "%s: missing %q", what, k)
		}
	}
	return out
}

func (p *parser) str(n *yamlpos.Node, what string) (string, bool) {
	if n == nil {
		return "", false
	}
	if n.Kind != yamlpos.String || n.Text == "" {
		p.errorf(n.Line, n.Col, "%s must be a non-empty string", what)
		return "", false
	}
	return n.Text, true
}

func (p *parser) list(n *yamlpos.Node, what string) []*yamlpos.Node {
	if n == nil {
		return nil
	}
	if n.Kind != yamlpos.List || len(n.Items) == 0 {
		p.errorf(n.Line, n.Col, "%s must be a non-empty list", what)
		return nil
	}
	return n.Items
}

func (p *parser) policy(root *yamlpos.Node) *Policy {
	f := p.fields(root, "the trust policy", []string{"issuers"}, []string{"issuers"})
	pol := &Policy{}
	seen := map[string]bool{}
	for _, in := range p.list(f["issuers"], "issuers") {
		iss, ok := p.issuer(in)
		if !ok {
			continue
		}
		if seen[iss.URL] {
			p.errorf(in.Line, in.Col, "issuer %q listed twice: give all its rules in one entry", iss.URL)
			continue
		}
		seen[iss.URL] = true
		pol.Issuers = append(pol.Issuers, iss)
	}
	return pol
}

func (p *parser) issuer(n *yamlpos.Node) (Issuer, bool) {
	f := p.fields(n, "issuer", []string{"url", "audience", "rules"}, []string{"url", "audience", "rules"})
	if f == nil {
		return Issuer{}, false
	}
	nerr := len(p.errs)
	var iss Issuer
	if u, ok := p.str(f["url"], "url"); ok {
		if err := checkIssuerURL(u); err != nil {
			p.errorf(f["url"].Line, f["url"].Col, "url: %v", err)
		}
		iss.URL = u
	}
	iss.Audience, _ = p.str(f["audience"], "audience")
	for _, rn := range p.list(f["rules"], "rules") {
		if r, ok := p.rule(rn); ok {
			iss.Rules = append(iss.Rules, r)
		}
	}
	return iss, len(p.errs) == nerr
}

// checkIssuerURL accepts https URLs, and http ones only on loopback addresses
// (a local test issuer): the key set fetched from the issuer decides who may
// publish.
func checkIssuerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("want https://HOST[/PATH] with no user, query or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
		return errors.New("an issuer must be served over https (http only on a loopback address)")
	}
	return errors.New("an issuer URL starts with https://")
}

func (p *parser) rule(n *yamlpos.Node) (Rule, bool) {
	f := p.fields(n, "rule", []string{"namespace", "scope", "claims"}, []string{"namespace", "scope", "claims"})
	if f == nil {
		return Rule{}, false
	}
	nerr := len(p.errs)
	r := Rule{Pos: fmt.Sprintf("%s:%d:%d", p.file, n.Line, n.Col)}
	if ns, ok := p.str(f["namespace"], "namespace"); ok {
		if !module.ValidName(ns) {
			p.errorf(f["namespace"].Line, f["namespace"].Col, "namespace %q is not a valid namespace (1-%d lowercase letters, digits, '-' or '_')", ns, module.MaxNameLen)
		}
		r.Namespace = ns
	}
	if sc, ok := p.str(f["scope"], "scope"); ok {
		if sc != string(store.ScopeRead) && sc != string(store.ScopePublish) {
			p.errorf(f["scope"].Line, f["scope"].Col, "scope must be read or publish, not %q", sc)
		}
		r.Scope = store.Scope(sc)
	}
	if c := f["claims"]; c != nil {
		if c.Kind != yamlpos.Map || len(c.Fields) == 0 {
			p.errorf(c.Line, c.Col, "claims must be a non-empty mapping of claim names to patterns: a rule without claims would match every token of the issuer")
		} else {
			seen := map[string]bool{}
			for _, cf := range c.Fields {
				if seen[cf.Key] {
					p.errorf(cf.Line, cf.Col, "claims: claim %q given twice", cf.Key)
					continue
				}
				seen[cf.Key] = true
				if cf.Key == "" {
					p.errorf(cf.Line, cf.Col, "claims: empty claim name")
					continue
				}
				r.Claims = append(r.Claims, ClaimMatch{Claim: cf.Key, Patterns: p.patterns(cf.Key, cf.Value)})
			}
		}
	}
	return r, len(p.errs) == nerr
}

// patterns reads a claim's pattern or list of alternative patterns.
func (p *parser) patterns(claim string, n *yamlpos.Node) []string {
	items := []*yamlpos.Node{n}
	if n.Kind == yamlpos.List {
		items = n.Items
		if len(items) == 0 {
			p.errorf(n.Line, n.Col, "claim %q: empty list of patterns", claim)
		}
	}
	var out []string
	for _, it := range items {
		switch it.Kind {
		case yamlpos.String, yamlpos.Bool, yamlpos.Int:
		default:
			p.errorf(it.Line, it.Col, "claim %q: a pattern is a string (or a list of strings)", claim)
			continue
		}
		if it.Text == "" {
			p.errorf(it.Line, it.Col, "claim %q: empty pattern", claim)
			continue
		}
		if _, err := path.Match(it.Text, ""); err != nil {
			p.errorf(it.Line, it.Col, "claim %q: bad pattern %q: %v", claim, it.Text, err)
			continue
		}
		out = append(out, it.Text)
	}
	return out
}
