package catalogpin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const good = `apiVersion: plat/v1
kind: CatalogPin
registry: registry.example.com
namespace: platform
name: golden
version: 1.0.0
digest: sha256:` + hex64 + `
`

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParse(t *testing.T) {
	p, err := Parse("plat-catalog.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := Pin{Registry: "registry.example.com", Namespace: "platform", Name: "golden", Version: "1.0.0", Digest: "sha256:" + hex64}
	if *p != want {
		t.Fatalf("got %+v, want %+v", *p, want)
	}
	if p.BaseURL() != "https://registry.example.com" || p.Ref() != "registry.example.com/platform/golden@1.0.0" {
		t.Errorf("BaseURL %q Ref %q", p.BaseURL(), p.Ref())
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"typo", strings.Replace(good, "namespace:", "namespce:", 1), `f:4:1: unknown key "namespce"`},
		{"missing", strings.Replace(good, "version: 1.0.0\n", "", 1), `f:1:1: missing key "version"`},
		{"repeated", good + "name: x\n", `f:8:1: key "name" repeated`},
		{"bad version", strings.Replace(good, "1.0.0", "v1", 1), `f:6:10: version: "v1" is not a semantic version`},
		{"bad digest", strings.Replace(good, "sha256:0", "sha256:X", 1), `f:7:9: digest: "sha256:X`},
		{"number", strings.Replace(good, "platform", "12", 1), `f:4:12: namespace: want a string`},
		{"kind", strings.Replace(good, "CatalogPin", "Stack", 1), `f:2:7: kind: "Stack" is not CatalogPin`},
		{"path registry", strings.Replace(good, "registry.example.com", "https://r.example/x", 1), `f:3:11: registry: registry "https://r.example/x" must be a host`},
		{"syntax", "apiVersion: [\n", "f:"},
		{"list", "- a\n", "f:1:1: want a mapping"},
		{"empty", "", "f: want one YAML document, found 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestWriteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := &Pin{Registry: "http://127.0.0.1:8443", Namespace: "platform", Name: "golden", Version: "1.2.3-rc.1+b", Digest: "sha256:" + hex64}
	path := filepath.Join(dir, FileName)
	if err := Write(path, p); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *p {
		t.Fatalf("round trip %+v, want %+v", *got, *p)
	}
	bad := *p
	bad.Digest = "md5:x"
	if err := Write(path, &bad); err == nil {
		t.Fatal("wrote an invalid pin")
	}
	if again, err := Load(path); err != nil || *again != *p {
		t.Fatalf("a refused write changed the file: %+v %v", again, err)
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if p, path, err := Find(deep); err != nil || p != nil || path != "" {
		// A pin in a parent of the temp dir would make this fail; none is expected there.
		t.Fatalf("no pin: got %v %q %v", p, path, err)
	}
	if err := os.WriteFile(filepath.Join(root, FileName), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	p, path, err := Find(deep)
	if err != nil || p == nil || path != filepath.Join(root, FileName) {
		t.Fatalf("got %v %q %v", p, path, err)
	}
	if err := os.WriteFile(filepath.Join(root, "a", FileName), []byte("bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, path, err := Find(deep); err == nil || path != filepath.Join(root, "a", FileName) {
		t.Fatalf("nearest bad pin: %q %v", path, err)
	}
}

func TestParseRef(t *testing.T) {
	p, err := ParseRef("http://127.0.0.1:9/platform/golden@1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	if p.Registry != "http://127.0.0.1:9" || p.Namespace != "platform" || p.Name != "golden" || p.Version != "1.1.0" {
		t.Fatalf("%+v", p)
	}
	for _, s := range []string{"r/ns/name", "r/ns@1.0.0", "r/ns/Name@1.0.0", "r/ns/n@1", "ftp://r/ns/n@1.0.0"} {
		if _, err := ParseRef(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
