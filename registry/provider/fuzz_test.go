package provider

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

var timeAgo = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// FuzzCheck feeds arbitrary bytes to the provider archive checks: they never
// panic, fail only with ErrInvalid or ErrTooLarge, and what they accept is a
// zip whose every entry is a clean relative name, whose executable is at the
// root, and whose hashes Check computes again alike.
func FuzzCheck(f *testing.F) {
	f.Add(makeZip(f, entry{name: "terraform-provider-local_v1", body: "bin"}))
	f.Add(makeZip(f, entry{name: "terraform-provider-local", body: "bin"}, entry{name: "docs/", mode: 0o755 | 1<<31}, entry{name: "docs/a", body: "a", mode: 0o644}))
	f.Add(makeZip(f, entry{name: "terraform-provider-local", body: strings.Repeat("0", 4096)}, entry{name: "../x", body: "x"}))
	f.Add([]byte("PK\x03\x04"))
	lim := Limits{MaxZip: 1 << 20, MaxUnpacked: 1 << 16, MaxEntries: 16, MaxPlatforms: 2, MaxUpload: 2 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Check(data, "local", lim)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error of no known kind: %v", err)
			}
			return
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("accepted a zip archive/zip cannot open: %v", err)
		}
		var total int64
		for _, zf := range zr.File {
			if checkEntryName(zf.Name) != nil || strings.HasPrefix(zf.Name, "/") || strings.Contains(zf.Name, "..") && strings.Contains("/"+zf.Name+"/", "/../") {
				t.Fatalf("accepted entry %q", zf.Name)
			}
			if zf.Mode()&^0o777&^(1<<31) != 0 {
				t.Fatalf("accepted special entry %q (%v)", zf.Name, zf.Mode())
			}
			rc, err := zf.Open()
			if err != nil {
				t.Fatalf("accepted entry %q that does not open: %v", zf.Name, err)
			}
			n, _ := io.Copy(io.Discard, rc)
			rc.Close()
			total += n
		}
		if total > lim.MaxUnpacked {
			t.Fatalf("accepted %d unpacked bytes over the limit %d", total, lim.MaxUnpacked)
		}
		if strings.Contains(c.Binary, "/") || !strings.HasPrefix(c.Binary, "terraform-provider-local") {
			t.Fatalf("binary %q", c.Binary)
		}
		again, err := Check(data, "local", lim)
		if err != nil || again.Hashes != c.Hashes {
			t.Fatalf("second check differs: %+v vs %+v (%v)", again, c, err)
		}
	})
}
