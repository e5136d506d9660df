// Package catalogpin reads and writes plat-catalog.yaml, the file an
// application repository checks in at its root to pin the catalog it compiles
// with: a registry reference, a version and the sha256 digest of that
// version's archive (docs/catalog.md). The schema is closed: an unknown or
// repeated key, a missing one or a bad value is an error with line:col.
package catalogpin

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/platdev/plat/internal/atomicfile"
	"github.com/platdev/plat/internal/userfile"
	"github.com/platdev/plat/internal/yamlpos"
	"github.com/platdev/plat/registry/module"
)

// FileName is the pin file's name.
const FileName = "plat-catalog.yaml"

// MaxSize bounds a pin file; real ones are a few hundred bytes.
const MaxSize = 64 << 10

// Pin is one catalog pin.
type Pin struct {
	// Registry is HOST[:PORT] (https), or an explicit http:// or https://
	// URL with no path (http only for tests and local registries).
	Registry  string
	Namespace string
	Name      string
	Version   string
	// Digest is "sha256:" and 64 lowercase hex digits: the digest of the
	// version's archive as the registry stores it.
	Digest string
}

// Ref is the reference a person names the catalog with:
// REGISTRY/NS/NAME@VERSION.
func (p *Pin) Ref() string {
	return p.Registry + "/" + p.Namespace + "/" + p.Name + "@" + p.Version
}

// BaseURL is the registry's base URL: the Registry itself when it has a
// scheme, else https://Registry.
func (p *Pin) BaseURL() string {
	if strings.Contains(p.Registry, "://") {
		return strings.TrimSuffix(p.Registry, "/")
	}
	return "https://" + p.Registry
}

// Host is the registry's host[:port], without a scheme.
func (p *Pin) Host() string {
	h := p.Registry
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
	}
	return strings.TrimSuffix(h, "/")
}

// Hex is the digest's hex part.
func (p *Pin) Hex() string { return strings.TrimPrefix(p.Digest, "sha256:") }

var digestShape = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// CheckRegistry returns an error when r is not HOST[:PORT] or an
// http(s)://HOST[:PORT] URL without path, query or credentials.
func CheckRegistry(r string) error {
	raw := r
	if !strings.Contains(r, "://") {
		raw = "https://" + r
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("registry %q is not HOST[:PORT] or http(s)://HOST[:PORT]", r)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("registry %q: scheme must be https or http", r)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("registry %q must be a host without credentials, path or query", r)
	}
	return nil
}

// Check validates every field.
func (p *Pin) Check() error {
	for _, f := range p.fields() {
		if err := f.check(*f.val); err != nil {
			return fmt.Errorf("%s: %w", f.key, err)
		}
	}
	return nil
}

type field struct {
	key   string
	val   *string
	check func(string) error
}

func (p *Pin) fields() []field {
	name := func(s string) error {
		if !module.ValidName(s) {
			return fmt.Errorf("%q is not a valid name (1 to %d lowercase letters, digits, '-' or '_')", s, module.MaxNameLen)
		}
		return nil
	}
	return []field{
		{"registry", &p.Registry, CheckRegistry},
		{"namespace", &p.Namespace, name},
		{"name", &p.Name, name},
		{"version", &p.Version, func(s string) error {
			if !module.ValidVersion(s) {
				return fmt.Errorf("%q is not a semantic version X.Y.Z", s)
			}
			return nil
		}},
		{"digest", &p.Digest, func(s string) error {
			if !digestShape.MatchString(s) {
				return fmt.Errorf("%q is not sha256:<64 lowercase hex digits>", s)
			}
			return nil
		}},
	}
}

// Error is a problem with a pin file, at a position when there is one.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Parse decodes a pin file's content; name is used in errors.
func Parse(name string, data []byte) (*Pin, error) {
	docs, err := yamlpos.Decode(name, data)
	if err != nil {
		var ye *yamlpos.Error
		if errors.As(err, &ye) {
			return nil, &Error{File: name, Line: ye.Line, Col: ye.Col, Msg: ye.Msg}
		}
		return nil, &Error{File: name, Msg: err.Error()}
	}
	if len(docs) != 1 {
		return nil, &Error{File: name, Msg: fmt.Sprintf("want one YAML document, found %d", len(docs))}
	}
	root := docs[0]
	if root.Kind != yamlpos.Map {
		return nil, &Error{File: name, Line: root.Line, Col: root.Col, Msg: "want a mapping with apiVersion, kind, registry, namespace, name, version and digest"}
	}
	p := &Pin{}
	var apiVersion, kind string
	fields := append([]field{
		{"apiVersion", &apiVersion, func(s string) error {
			if s != "plat/v1" {
				return fmt.Errorf("%q is not plat/v1", s)
			}
			return nil
		}},
		{"kind", &kind, func(s string) error {
			if s != "CatalogPin" {
				return fmt.Errorf("%q is not CatalogPin", s)
			}
			return nil
		}},
	}, p.fields()...)
	seen := map[string]bool{}
	for _, f := range root.Fields {
		var spec *field
		for i := range fields {
			if fields[i].key == f.Key {
				spec = &fields[i]
			}
		}
		if spec == nil {
			return nil, &Error{File: name, Line: f.Line, Col: f.Col, Msg: fmt.Sprintf("unknown key %q (want apiVersion, kind, registry, namespace, name, version, digest)", f.Key)}
		}
		if seen[f.Key] {
			return nil, &Error{File: name, Line: f.Line, Col: f.Col, Msg: fmt.Sprintf("key %q repeated", f.Key)}
		}
		seen[f.Key] = true
		v := f.Value
		if v == nil || v.Kind != yamlpos.String {
			line, col := f.Line, f.Col
			if v != nil {
				line, col = v.Line, v.Col
			}
			return nil, &Error{File: name, Line: line, Col: col, Msg: fmt.Sprintf("%s: want a string", f.Key)}
		}
		if err := spec.check(v.Text); err != nil {
			return nil, &Error{File: name, Line: v.Line, Col: v.Col, Msg: fmt.Sprintf("%s: %v", f.Key, err)}
		}
		*spec.val = v.Text
	}
	for _, f := range fields {
		if !seen[f.key] {
			return nil, &Error{File: name, Line: root.Line, Col: root.Col, Msg: fmt.Sprintf("missing key %q", f.key)}
		}
	}
	return p, nil
}

// Load reads and parses the pin file at path (a regular file of at most
// MaxSize bytes).
func Load(path string) (*Pin, error) {
	data, err := userfile.Read(path, MaxSize)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Find looks for plat-catalog.yaml in dir and each of its parents, and
// returns the nearest one parsed with its path; nil and "" when there is none.
func Find(dir string) (*Pin, string, error) {
	path, err := Locate(dir)
	if err != nil || path == "" {
		return nil, "", err
	}
	p, err := Load(path)
	if err != nil {
		return nil, path, err
	}
	return p, path, nil
}

// Locate returns the path of the nearest plat-catalog.yaml from dir upward,
// or "" when there is none.
func Locate(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; {
		path := filepath.Join(d, FileName)
		if _, err := os.Lstat(path); err == nil {
			return path, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", nil
		}
		d = parent
	}
}

// Marshal renders a pin in the file's canonical form.
func Marshal(p *Pin) ([]byte, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("# The catalog this repository compiles with; written by `plat catalog pin`.\n")
	b.WriteString("apiVersion: plat/v1\nkind: CatalogPin\n")
	for _, f := range p.fields() {
		fmt.Fprintf(&b, "%s: %s\n", f.key, quote(*f.val))
	}
	return b.Bytes(), nil
}

// quote leaves plain values plain and double-quotes the rest: a value YAML
// would read as another type (true, null) or that holds ": " is quoted.
var plain = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/\-]*$`)

func quote(s string) string {
	if plain.MatchString(s) && !strings.Contains(s, ": ") {
		switch strings.ToLower(s) {
		case "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~":
		default:
			return s
		}
	}
	return fmt.Sprintf("%q", s)
}

// Write validates p and writes it to path atomically (readers see the old file
// or the new one, never part of one).
func Write(path string, p *Pin) error {
	data, err := Marshal(p)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o644)
}

// ParseRef splits REGISTRY/NS/NAME@VERSION, where REGISTRY is HOST[:PORT] or
// http(s)://HOST[:PORT], into a Pin without a digest.
func ParseRef(s string) (*Pin, error) {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return nil, fmt.Errorf("catalog reference %q: want REGISTRY/NAMESPACE/NAME@VERSION", s)
	}
	ref, version := s[:at], s[at+1:]
	scheme := ""
	if i := strings.Index(ref, "://"); i >= 0 {
		scheme, ref = ref[:i+3], ref[i+3:]
	}
	parts := strings.Split(ref, "/")
	if len(parts) != 3 {
		return nil, fmt.Errorf("catalog reference %q: want REGISTRY/NAMESPACE/NAME@VERSION", s)
	}
	p := &Pin{Registry: scheme + parts[0], Namespace: parts[1], Name: parts[2], Version: version}
	for _, f := range p.fields() {
		if f.key == "digest" {
			continue
		}
		if err := f.check(*f.val); err != nil {
			return nil, fmt.Errorf("catalog reference %q: %s: %w", s, f.key, err)
		}
	}
	return p, nil
}
