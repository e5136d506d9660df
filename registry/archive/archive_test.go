package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type entry struct {
	name     string
	typ      byte
	body     string
	linkname string
	mode     int64
}

func makeTarGz(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: mode, Linkname: e.linkname, ModTime: time.Unix(0, 0)}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

const mainTF = "variable \"x\" {}\n"

func TestValidateAccepts(t *testing.T) {
	data := makeTarGz(t,
		entry{name: "./", typ: tar.TypeDir},
		entry{name: "./main.tf", body: mainTF},
		entry{name: "README.md", body: "# hi\n"},
		entry{name: "modules/", typ: tar.TypeDir},
		entry{name: "modules/sub/main.tf", body: mainTF},
	)
	c, err := Validate(data, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Files, ",") != "main.tf,README.md,modules/sub/main.tf" {
		t.Errorf("files = %v", c.Files)
	}
	if string(c.Root["main.tf"]) != mainTF || string(c.Root["README.md"]) != "# hi\n" || len(c.Root) != 2 {
		t.Errorf("root = %v", c.Root)
	}
}

func TestValidateRefuses(t *testing.T) {
	small := Limits{MaxCompressed: 1 << 20, MaxUnpacked: 1000, MaxFiles: 5}
	tf := entry{name: "main.tf", body: mainTF}
	cases := []struct {
		name string
		data []byte
		lim  Limits
		want error
	}{
		{"not gzip", []byte("PK\x03\x04 zip file"), DefaultLimits, ErrInvalid},
		{"empty", nil, DefaultLimits, ErrInvalid},
		{"gzip but not tar", gz(t, []byte(strings.Repeat("hello", 300))), DefaultLimits, ErrInvalid},
		{"truncated gzip", makeTarGz(t, tf)[:40], DefaultLimits, ErrInvalid},
		{"absolute path", makeTarGz(t, tf, entry{name: "/etc/passwd", body: "x"}), DefaultLimits, ErrInvalid},
		{"windows absolute path", makeTarGz(t, tf, entry{name: "C:/x.tf", body: "x"}), DefaultLimits, ErrInvalid},
		{"dot dot", makeTarGz(t, tf, entry{name: "../evil.tf", body: "x"}), DefaultLimits, ErrInvalid},
		{"dot dot inside", makeTarGz(t, tf, entry{name: "a/../../evil.tf", body: "x"}), DefaultLimits, ErrInvalid},
		{"backslash", makeTarGz(t, tf, entry{name: "..\\evil.tf", body: "x"}), DefaultLimits, ErrInvalid},
		{"symlink", makeTarGz(t, tf, entry{name: "link", typ: tar.TypeSymlink, linkname: "/etc/passwd"}), DefaultLimits, ErrInvalid},
		{"hard link", makeTarGz(t, tf, entry{name: "hard", typ: tar.TypeLink, linkname: "main.tf"}), DefaultLimits, ErrInvalid},
		{"char device", makeTarGz(t, tf, entry{name: "null", typ: tar.TypeChar}), DefaultLimits, ErrInvalid},
		{"block device", makeTarGz(t, tf, entry{name: "sda", typ: tar.TypeBlock}), DefaultLimits, ErrInvalid},
		{"fifo", makeTarGz(t, tf, entry{name: "pipe", typ: tar.TypeFifo}), DefaultLimits, ErrInvalid},
		{"duplicate", makeTarGz(t, tf, tf), DefaultLimits, ErrInvalid},
		{"no terraform at root", makeTarGz(t, entry{name: "sub/main.tf", body: mainTF}), DefaultLimits, ErrInvalid},
		{"too many files", makeTarGz(t, tf, entry{name: "a", body: "1"}, entry{name: "b", body: "1"}, entry{name: "c", body: "1"}, entry{name: "d", body: "1"}, entry{name: "e", body: "1"}), small, ErrTooLarge},
		{"unpacked too large", makeTarGz(t, tf, entry{name: "big", body: strings.Repeat("x", 2000)}), small, ErrTooLarge},
		{"deep brackets at the root", makeTarGz(t, entry{name: "main.tf", body: deepTF}), DefaultLimits, ErrInvalid},
		{"deep brackets in a submodule", makeTarGz(t, tf, entry{name: "modules/x/main.tf", body: deepTF}), DefaultLimits, ErrInvalid},
		{"deep JSON", makeTarGz(t, tf, entry{name: "x.tf.json", body: deepJSON}), DefaultLimits, ErrInvalid},
		{"compressed too large", makeTarGz(t, tf, entry{name: "big", body: strings.Repeat("x", 100)}), Limits{MaxCompressed: 50, MaxUnpacked: 1000, MaxFiles: 5}, ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Validate(tc.data, tc.lim)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate = %v, want %v", err, tc.want)
			}
		})
	}
}

// deepTF is the crash of issue 17 finding 1: brackets nested 100,000 deep.
var deepTF = "variable \"x\" { default = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + " }\n"

var deepJSON = `{"variable": {"x": {"default": ` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}}}`

func TestValidateDeepNestingMessage(t *testing.T) {
	_, err := Validate(makeTarGz(t, entry{name: "main.tf", body: deepTF}), DefaultLimits)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "main.tf:1:") || !strings.Contains(err.Error(), "more than 256 levels") {
		t.Fatalf("Validate = %v", err)
	}
}

// TestValidateRefusesLargeDeepTF: a Terraform file over the size plat parses
// (1 MiB) was neither parsed nor counted, so 1.2 MB of brackets (about 1 KB of
// gzip) was stored, and every tofu init that fetched it died of a stack overflow.
func TestValidateRefusesLargeDeepTF(t *testing.T) {
	const n = 600000
	for _, e := range []entry{
		{name: "main.tf", body: "locals {\n  x = " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n}\n"},
		{name: "sub/x.tf.json", body: `{"locals": {"x": ` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}}`},
	} {
		_, err := Validate(makeTarGz(t, entry{name: "ok.tf", body: mainTF}, e), DefaultLimits)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), e.name) || !strings.Contains(err.Error(), "1 MiB") {
			t.Errorf("Validate(%s of %d bytes) = %v, want ErrTooLarge naming it and the limit", e.name, len(e.body), err)
		}
	}
}

func TestValidateNormalisesModes(t *testing.T) {
	data := makeTarGz(t,
		entry{name: "./", typ: tar.TypeDir, mode: 0o1777},
		entry{name: "main.tf", body: mainTF, mode: 0o6777},
		entry{name: "run.sh", body: "#!/bin/sh\n", mode: 0o4711},
		entry{name: "notes.txt", body: "x", mode: 0o666},
		entry{name: "sub/", typ: tar.TypeDir, mode: 0o2777},
	)
	c, err := Validate(data, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	got := modes(t, c.Archive)
	want := "main.tf 755, run.sh 755, notes.txt 644, sub/ 755"
	if got != want {
		t.Errorf("modes = %s, want %s", got, want)
	}
	// A normal archive (as Pack writes it) is kept byte for byte.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.tf"), []byte(mainTF), 0o644)
	packed, err := Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := Validate(packed, DefaultLimits); err != nil || !bytes.Equal(c.Archive, packed) {
		t.Errorf("normal archive rewritten (err %v)", err)
	}
	// The rewritten archive is itself valid and normal.
	if c2, err := Validate(c.Archive, DefaultLimits); err != nil || !bytes.Equal(c2.Archive, c.Archive) {
		t.Errorf("normalised archive not stable (err %v)", err)
	}
}

func modes(t *testing.T, data []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %o", h.Name, h.Mode))
	}
	return strings.Join(out, ", ")
}

func TestValidateShortensNames(t *testing.T) {
	long := strings.Repeat("a", 5000)
	for _, data := range [][]byte{
		makeTarGz(t, entry{name: "main.tf", body: mainTF}, entry{name: long + "/../x", body: "x"}),
		makeTarGz(t, entry{name: "main.tf", body: mainTF}, entry{name: long, typ: tar.TypeSymlink, linkname: "/"}),
	} {
		_, err := Validate(data, DefaultLimits)
		if err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), "aaa...") {
			t.Errorf("Validate = %.300v", err)
		}
	}
}

func TestValidateKeepsJSON(t *testing.T) {
	c, err := Validate(makeTarGz(t, entry{name: "main.tf.json", body: `{"variable": {"x": {}}}`}), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Root["main.tf.json"]; !ok {
		t.Errorf("root = %v, want main.tf.json kept for the syntax check", c.Root)
	}
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// bomb returns a small gzip stream that decompresses to a tar holding one file of
// n zero bytes.
func bomb(t testing.TB, n int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "main.tf", Typeflag: tar.TypeReg, Size: int64(len(mainTF)), Mode: 0o644})
	tw.Write([]byte(mainTF))
	tw.WriteHeader(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Size: n, Mode: 0o644})
	if _, err := io.CopyN(tw, zeroReader{}, n); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestValidateBomb refuses a decompression bomb from its header, and a bomb
// hidden after the tar end marker through the counting reader, without
// decompressing all of it.
func TestValidateBomb(t *testing.T) {
	lim := Limits{MaxCompressed: 1 << 20, MaxUnpacked: 1 << 20, MaxFiles: 100}
	b := bomb(t, 8<<20)
	if len(b) > 1<<20 {
		t.Fatalf("bomb is %d bytes compressed", len(b))
	}
	if _, err := Validate(b, lim); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("bomb: %v, want ErrTooLarge", err)
	}
	// Zeros after the tar end marker: tar stops reading, the gzip trailer check
	// goes through the counting reader.
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(makeTarNoGz(t))
	io.CopyN(zw, zeroReader{}, 8<<20)
	zw.Close()
	if _, err := Validate(buf.Bytes(), lim); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("trailing bomb: %v, want ErrTooLarge", err)
	}
}

func makeTarNoGz(t testing.TB) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "main.tf", Typeflag: tar.TypeReg, Size: int64(len(mainTF)), Mode: 0o644})
	tw.Write([]byte(mainTF))
	tw.Close()
	return buf.Bytes()
}

// TestCountingReaderStops checks the counting reader never hands out more than
// limit+1 bytes however much the source holds.
func TestCountingReaderStops(t *testing.T) {
	src := &countedSource{}
	cr := &countingReader{r: src, limit: 1000}
	_, err := io.Copy(io.Discard, cr)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if src.n > 1001 {
		t.Fatalf("read %d bytes from the source, want at most 1001", src.n)
	}
}

type countedSource struct{ n int64 }

func (c *countedSource) Read(p []byte) (int, error) {
	c.n += int64(len(p))
	clear(p)
	return len(p), nil
}

func TestPackDeterministicAndSkips(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"main.tf": mainTF, "README.md": "# m\n", "sub/x.tf": mainTF, "run.sh": "#!/bin/sh\n",
		".terraform/modules/m.json": "{}", ".git/HEAD": "ref", "terraform.tfstate": "{}", "terraform.tfstate.backup": "{}",
	}
	for n, b := range files {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(b), 0o644)
	}
	os.Chmod(filepath.Join(dir, "run.sh"), 0o755)
	a1, err := Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Timestamps and permissions other than the executable bit do not matter.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "main.tf"), later, later)
	os.Chmod(filepath.Join(dir, "README.md"), 0o600)
	a2, err := Pack(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a1, a2) {
		t.Fatal("Pack is not deterministic")
	}
	c, err := Validate(a1, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Files, ","); got != "README.md,main.tf,run.sh,sub/x.tf" {
		t.Fatalf("packed files = %s", got)
	}
	zr, _ := gzip.NewReader(bytes.NewReader(a1))
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.ModTime.Unix() != 0 {
			t.Errorf("%s carries owner or time: %+v", h.Name, h)
		}
		if h.Name == "run.sh" && h.Mode != 0o755 {
			t.Errorf("run.sh mode %o", h.Mode)
		}
	}
}

func TestPackRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.tf"), []byte(mainTF), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dir, "passwd"))
	if _, err := Pack(dir); err == nil || !strings.Contains(err.Error(), "passwd") {
		t.Fatalf("Pack with a symlink: %v", err)
	}
}

// TestPackLeavesOutSecrets is issue 17 finding 15: publish packed terraform.tfvars,
// .env and crash.log into the registry.
func TestPackLeavesOutSecrets(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"main.tf": mainTF, "sub/x.tf": mainTF, "examples/demo.tfvars": "a = 1\n", "notes/secret.txt": "s", "keep.env": "x",
		"terraform.tfvars": "password = \"hunter2\"\n", "prod.auto.tfvars": "x", "vars.tfvars.json": "{}", "sub/dev.tfvars": "x",
		".env": "TOKEN=x", ".env.local": "x", "crash.log": "x", "crash.1.log": "x", ".terraformrc": "x",
		"terraform.tfstate": "{}", "sub/terraform.tfstate.backup": "{}", ".terraform/modules/m.json": "{}", ".git/HEAD": "ref",
		"private.key": "k",
		IgnoreFile:    "# comments and blank lines are skipped\n\nnotes/\n*.key\n!examples/demo.tfvars\n",
	}
	for n, b := range files {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(b), 0o644)
	}
	p, err := PackModule(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Validate(p.Archive, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(c.Files, ","), ".terraformignore,examples/demo.tfvars,keep.env,main.tf,sub/x.tf"; got != want {
		t.Errorf("packed %s\nwant   %s", got, want)
	}
	want := ".env,.env.local,.git/,.terraform/,.terraformrc,crash.1.log,crash.log,notes/,private.key,prod.auto.tfvars,sub/dev.tfvars,sub/terraform.tfstate.backup,terraform.tfstate,terraform.tfvars,vars.tfvars.json"
	if got := strings.Join(p.Excluded, ","); got != want {
		t.Errorf("excluded %s\nwant     %s", got, want)
	}
}

func TestPackIgnoreFileMustBeRegular(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.tf"), []byte(mainTF), 0o644)
	os.Symlink("/dev/zero", filepath.Join(dir, IgnoreFile))
	if _, err := PackModule(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("PackModule = %v", err)
	}
}

// TestPackLeavesOutPlansAndCredentials: saved plans (tofu plan -out) hold
// variable values and state, credentials.tfrc.json the tokens tofu login
// stores, .envrc (direnv) exported secrets; none belongs in a module.
func TestPackLeavesOutPlansAndCredentials(t *testing.T) {
	dir := t.TempDir()
	for n, b := range map[string]string{
		"main.tf": mainTF, "tfplan": "plan", "prod.tfplan": "plan", "sub/tfplan": "plan", ".envrc": "export TOKEN=x",
		"credentials.tfrc.json": `{"credentials": {}}`, ".terraform.d/credentials.tfrc.json": "{}",
	} {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(b), 0o644)
	}
	p, err := PackModule(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Validate(p.Archive, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Files, ","); got != "main.tf" {
		t.Errorf("packed %s, want main.tf only (left out: %s)", got, strings.Join(p.Excluded, ","))
	}
}

// TestPackLinkedRoot: a module directory given through a symbolic link
// (modules/current -> v2) is packed as the directory it names; it used to pack
// nothing and fail as "no Terraform files".
func TestPackLinkedRoot(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "v2")
	os.MkdirAll(real, 0o755)
	os.WriteFile(filepath.Join(real, "main.tf"), []byte(mainTF), 0o644)
	link := filepath.Join(dir, "current")
	if err := os.Symlink("v2", link); err != nil {
		t.Fatal(err)
	}
	p, err := PackModule(link)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Validate(p.Archive, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Files, ","); got != "main.tf" {
		t.Errorf("packed %q, want main.tf", got)
	}
}

// TestPackStopsAtLimits: a module directory holding more than the registry
// accepts is refused while packing, before the whole of it is read into memory
// (a 300 MB file used to take 1.1 GB before the size check said no).
func TestPackStopsAtLimits(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.tf"), []byte(mainTF), 0o644)
	big := filepath.Join(dir, "blob.bin")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, DefaultLimits.MaxUnpacked+1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	_, err := PackModule(dir)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "200 MiB") {
		t.Fatalf("PackModule = %v, want ErrTooLarge naming the limit", err)
	}
}
