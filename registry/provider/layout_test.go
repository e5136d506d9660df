package provider

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTree(t *testing.T, root string, files map[string][]byte) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, body, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadLayouts(t *testing.T) {
	z := makeZip(t, entry{name: "terraform-provider-local_v1.4.0", body: "binary"})
	c, err := Check(z, "local", DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	const tdir = "registry.opentofu.org/hashicorp/local/"
	const zname = "terraform-provider-local_1.4.0_linux_amd64.zip"
	versionJSON := func(hashes ...string) []byte {
		return []byte(fmt.Sprintf(`{"archives":{"linux_amd64":{"url":%q,"hashes":["%s"]}}}`, zname, strings.Join(hashes, `","`)))
	}

	packed := t.TempDir()
	writeTree(t, packed, map[string][]byte{
		tdir + "index.json": []byte(`{"versions":{"1.4.0":{}}}`),
		tdir + "1.4.0.json": versionJSON(c.H1, c.ZH),
		tdir + zname:        z,
	})
	// The filesystem mirror's packed form: zips without index.json.
	fsZips := t.TempDir()
	writeTree(t, fsZips, map[string][]byte{tdir + zname: z})
	// The unpacked filesystem mirror.
	unpacked := t.TempDir()
	writeTree(t, unpacked, map[string][]byte{tdir + "1.4.0/linux_amd64/terraform-provider-local_v1.4.0": []byte("binary")})

	for name, dir := range map[string]string{"packed": packed, "fs zips": fsZips, "unpacked": unpacked} {
		pkgs, err := ReadLayout(dir, DefaultLimits)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(pkgs) != 1 || pkgs[0].Addr.String() != "registry.opentofu.org/hashicorp/local" || pkgs[0].Version != "1.4.0" ||
			len(pkgs[0].Archives) != 1 || pkgs[0].Archives[0].Platform != "linux_amd64" {
			t.Fatalf("%s: packages = %+v", name, pkgs)
		}
		// The same file under the same name: the same h1 whoever zipped it.
		if h := pkgs[0].Archives[0].H1; h != c.H1 {
			t.Errorf("%s: h1 %s, want %s", name, h, c.H1)
		}
	}

	// A zip that does not match the hashes its VERSION.json declares.
	other := makeZip(t, entry{name: "terraform-provider-local_v1.4.0", body: "tampered"})
	for _, declared := range [][]string{{c.H1}, {c.ZH}, {c.H1, c.ZH}} {
		dir := t.TempDir()
		writeTree(t, dir, map[string][]byte{
			tdir + "index.json": []byte(`{"versions":{"1.4.0":{}}}`),
			tdir + "1.4.0.json": versionJSON(declared...),
			tdir + zname:        other,
		})
		_, err := ReadLayout(dir, DefaultLimits)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "1.4.0.json: linux_amd64: "+zname) || !strings.Contains(err.Error(), "does not match its declared hash "+declared[0]) {
			t.Errorf("declared %v: err = %v", declared, err)
		}
	}
	// Hashes of schemes plat does not compute are not checked.
	dir := t.TempDir()
	writeTree(t, dir, map[string][]byte{
		tdir + "index.json": []byte(`{"versions":{"1.4.0":{}}}`),
		tdir + "1.4.0.json": versionJSON("h9:whatever"),
		tdir + zname:        z,
	})
	if _, err := ReadLayout(dir, DefaultLimits); err != nil {
		t.Errorf("unknown hash scheme: %v", err)
	}
}
