package archive

import (
	"archive/tar"
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
	lim := Limits{MaxCompressed: 1 << 20, MaxUnpacked: 1 << 16, MaxFiles: 64}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Validate(data, lim)
		if err != nil {
			return
		}
		if c.Unpacked > lim.MaxUnpacked || len(c.Files) > lim.MaxFiles {
			t.Fatalf("accepted beyond limits: %d bytes, %d files", c.Unpacked, len(c.Files))
		}
		for _, n := range c.Files {
			if n == "" || strings.HasPrefix(n, "/") || path.Clean(n) != n || n == ".." || strings.HasPrefix(n, "../") || strings.Contains(n, "/../") || strings.ContainsAny(n, "\\\x00") {
				t.Fatalf("accepted unsafe path %q", n)
			}
		}
	})
}
