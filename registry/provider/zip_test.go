package provider

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/dirhash"
)

type entry struct {
	name string
	body string
	mode fs.FileMode
}

func makeZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o755
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCheckHashes(t *testing.T) {
	data := makeZip(t, entry{name: "terraform-provider-local_v1.4.0", body: "binary"}, entry{name: "LICENSE", body: "MPL", mode: 0o644})
	c, err := Check(data, "local", DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if c.ZH != "zh:"+hex.EncodeToString(sum[:]) {
		t.Errorf("zh = %s", c.ZH)
	}
	// h1 is dirhash's own hash of the zip (what tofu computes for it).
	p := filepath.Join(t.TempDir(), "p.zip")
	os.WriteFile(p, data, 0o644)
	want, err := dirhash.HashZip(p, dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	if c.H1 != want || c.Binary != "terraform-provider-local_v1.4.0" || c.Entries != 2 || c.Unpacked != 9 {
		t.Errorf("checked = %+v, want h1 %s", c, want)
	}
}

func TestCheckRefuses(t *testing.T) {
	bin := entry{name: "terraform-provider-local", body: "x"}
	small := Limits{MaxZip: 1 << 20, MaxUnpacked: 1000, MaxEntries: 4, MaxPlatforms: 2, MaxUpload: 2 << 20}
	tests := []struct {
		name    string
		data    []byte
		tooBig  bool
		message string
	}{
		{"not a zip", []byte("hello"), false, "not a zip"},
		{"empty", makeZip(t), false, "empty zip"},
		{"escaping", makeZip(t, bin, entry{name: "../evil", body: "x"}), false, "escapes"},
		{"inner dotdot", makeZip(t, bin, entry{name: "a/../../evil", body: "x"}), false, "not a clean"},
		{"absolute", makeZip(t, bin, entry{name: "/etc/passwd", body: "x"}), false, "absolute"},
		{"backslash", makeZip(t, bin, entry{name: `..\evil`, body: "x"}), false, "backslash"},
		{"symlink", makeZip(t, bin, entry{name: "link", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777}), false, "symbolic link"},
		{"duplicate", makeZip(t, bin, entry{name: "terraform-provider-local", body: "y"}), false, "same file"},
		{"case duplicate", makeZip(t, bin, entry{name: "README", body: "y"}, entry{name: "readme", body: "z"}), false, "same file"},
		{"two binaries", makeZip(t, bin, entry{name: "terraform-provider-local_v2", body: "y"}), false, "two provider executables"},
		{"no binary", makeZip(t, entry{name: "terraform-provider-other", body: "y"}), false, "no provider executable"},
		{"binary in subdir", makeZip(t, entry{name: "bin/terraform-provider-local", body: "y"}), false, "no provider executable"},
		{"not executable", makeZip(t, entry{name: "terraform-provider-local", body: "y", mode: 0o644}), false, "not executable"},
		{"too many entries", makeZip(t, bin, entry{name: "a", body: "1"}, entry{name: "b", body: "1"}, entry{name: "c", body: "1"}, entry{name: "d", body: "1"}), true, "entries exceed"},
		{"bomb", makeZip(t, entry{name: "terraform-provider-local", body: strings.Repeat("0", 1<<20)}), true, "once unpacked"},
		{"bomb over entries", makeZip(t, bin, entry{name: "a", body: strings.Repeat("0", 600)}, entry{name: "b", body: strings.Repeat("0", 600)}), true, "once unpacked"},
		{"control char", makeZip(t, bin, entry{name: "a\nb", body: "1"}), false, "control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check(tc.data, "local", small)
			if err == nil {
				t.Fatal("accepted")
			}
			want := ErrInvalid
			if tc.tooBig {
				want = ErrTooLarge
			}
			if !errors.Is(err, want) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("err = %v, want %v containing %q", err, want, tc.message)
			}
		})
	}
	if _, err := Check(make([]byte, 2<<20), "local", small); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized zip: err = %v", err)
	}
}

func TestZipDeterministic(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "terraform-provider-local_v1.4.0"), []byte("binary"), 0o755)
	os.WriteFile(filepath.Join(dir, "LICENSE"), []byte("MPL"), 0o600)
	a, err := Zip(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(dir, "LICENSE"), timeAgo, timeAgo)
	b, err := Zip(dir, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("zipping the same files twice gave different bytes")
	}
	c, err := Check(a, "local", DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	// No directory entries: the zip's h1 is the directory's.
	want, err := dirhash.HashDir(dir, "", dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	if c.H1 != want {
		t.Errorf("h1 of zip %s != h1 of directory %s", c.H1, want)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := Zip(dir, DefaultLimits); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlink: err = %v", err)
	}
}

func TestParseArchiveName(t *testing.T) {
	v, p, ok := ParseArchiveName("local", "terraform-provider-local_1.4.0-rc.1_linux_amd64.zip")
	if !ok || v != "1.4.0-rc.1" || p != "linux_amd64" {
		t.Errorf("parse = %q %q %v", v, p, ok)
	}
	for _, bad := range []string{"terraform-provider-local_1.4.0_linux.zip", "terraform-provider-aws_1.4.0_linux_amd64.zip", "terraform-provider-local_1.4_linux_amd64.zip", "terraform-provider-local_1.4.0_linux_amd64.tar"} {
		if _, _, ok := ParseArchiveName("local", bad); ok {
			t.Errorf("parsed %q", bad)
		}
	}
	if ArchiveName("local", "1.4.0", "linux_amd64") != "terraform-provider-local_1.4.0_linux_amd64.zip" {
		t.Error("ArchiveName")
	}
}
