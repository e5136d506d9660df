package archive

import (
	"archive/tar"
	"bytes"
	"path"
	"strings"
	"testing"
)

// FuzzValidateArchive feeds arbitrary bytes to Validate: it must never panic, and
// whatever it accepts must be within limits and hold only clean relative paths.
func FuzzValidateArchive(f *testing.F) {
	f.Add(makeTarGz(f, entry{name: "main.tf", body: mainTF}, entry{name: "README.md", body: "# x\n"}))
	f.Add(makeTarGz(f, entry{name: "main.tf", body: mainTF}, entry{name: "../x", body: "x"}))
	f.Add(makeTarGz(f, entry{name: "main.tf", body: mainTF}, entry{name: "l", typ: tar.TypeSymlink, linkname: "/"}))
	f.Add(makeTarGz(f, entry{name: "./main.tf", body: mainTF}, entry{name: "d/", typ: tar.TypeDir}))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	// Deep nesting (issue 17, finding 1), at and past the limit, in HCL and JSON.
	deep := func(open, close string, n int) string { return strings.Repeat(open, n) + strings.Repeat(close, n) }
	f.Add(makeTarGz(f, entry{name: "main.tf", body: "variable \"x\" { default = " + deep("[", "]", 2000) + " }\n"}))
	f.Add(makeTarGz(f, entry{name: "main.tf", body: "x = " + deep("[", "]", 256) + "\n"}))
	f.Add(makeTarGz(f, entry{name: "main.tf", body: "x = \"" + deep("${", "}", 300) + "\"\n"}))
	f.Add(makeTarGz(f, entry{name: "main.tf", body: "x = " + strings.Repeat("!", 300) + "true\n"}))
	f.Add(makeTarGz(f, entry{name: "main.tf.json", body: `{"variable": {"x": {"default": ` + deep("[", "]", 2000) + `}}}`}))
	f.Add(makeTarGz(f, entry{name: "main.tf.json", body: `{"output": {"x": {"value": "` + deep("${", "}", 300) + `"}}}`}))
	f.Add(makeTarGz(f, entry{name: "main.tf", body: mainTF, mode: 0o6777}, entry{name: "d/", typ: tar.TypeDir, mode: 0o1777}))
	lim := Limits{MaxCompressed: 1 << 20, MaxUnpacked: 1 << 16, MaxFiles: 64}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Validate(data, lim)
		if err != nil {
			return
		}
		if c.Unpacked > lim.MaxUnpacked || len(c.Files) > lim.MaxFiles {
			t.Fatalf("accepted beyond limits: %d bytes, %d files", c.Unpacked, len(c.Files))
		}
		// What is stored is itself valid, with normal modes only.
		again, err := Validate(c.Archive, lim)
		if err != nil {
			t.Fatalf("stored archive refused: %v", err)
		}
		if !bytes.Equal(again.Archive, c.Archive) {
			t.Fatalf("stored archive has modes that are not normal")
		}
		for _, n := range c.Files {
			if n == "" || strings.HasPrefix(n, "/") || path.Clean(n) != n || n == ".." || strings.HasPrefix(n, "../") || strings.Contains(n, "/../") || strings.ContainsAny(n, "\\\x00") {
				t.Fatalf("accepted unsafe path %q", n)
			}
		}
	})
}
