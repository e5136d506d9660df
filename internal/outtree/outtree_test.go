package outtree

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/platdev/plat/drift"
)

const hdr = "# generated\n"

func generated(head []byte) bool { return bytes.HasPrefix(head, []byte(hdr)) }

var opts = Options{Generated: generated}

// tree is a snapshot of out: path -> content, "dir" for directories,
// "-> target" for symlinks. Staging folders are left out.
func tree(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		if rel == "." {
			return nil
		}
		if strings.HasPrefix(rel, stagePrefix) {
			return filepath.SkipDir
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			m[rel] = "-> " + l
		case d.IsDir():
			m[rel] = "dir"
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			m[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func write(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func render(version string, names ...string) []Dir {
	var ds []Dir
	for _, n := range names {
		ds = append(ds, Dir{Name: n, Files: []File{
			{Name: "main.tf", Data: []byte(hdr + n + " " + version + "\n")},
			{Name: version + ".tf", Data: []byte(hdr)},
		}})
	}
	return ds
}

// setup renders a, b and c at v1, then runs `tofu init` in a (its .terraform
// and lock file must survive everything).
func setup(t *testing.T) (string, map[string]string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	if err := Write(out, render("v1", "a", "b", "c"), opts); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(out, "a", ".terraform", "modules", "modules.json"), "{}")
	write(t, filepath.Join(out, "a", ".terraform.lock.hcl"), "# lock")
	return out, tree(t, out)
}

func noStaging(t *testing.T, out string) {
	t.Helper()
	if p, err := Pending(out); err != nil || len(p) > 0 {
		t.Errorf("staging left behind: %v %v", p, err)
	}
}

func TestWriteReplacesAndKeepsTofuFiles(t *testing.T) {
	out, _ := setup(t)
	if err := Write(out, render("v2", "a", "b"), opts); err != nil {
		t.Fatal(err)
	}
	got := tree(t, out)
	want := map[string]string{
		"a":                                 "dir",
		"a/main.tf":                         hdr + "a v2\n",
		"a/v2.tf":                           hdr,
		"a/.terraform":                      "dir",
		"a/.terraform/modules":              "dir",
		"a/.terraform/modules/modules.json": "{}",
		"a/.terraform.lock.hcl":             "# lock",
		"b":                                 "dir",
		"b/main.tf":                         hdr + "b v2\n",
		"b/v2.tf":                           hdr,
		"c":                                 "dir",
		"c/main.tf":                         hdr + "c v1\n",
		"c/v1.tf":                           hdr,
	}
	if !maps.Equal(got, want) {
		t.Errorf("tree\n%v\nwant\n%v", got, want)
	}
	noStaging(t, out)
}

// TestWriteRefusesForeignFiles: issue 17, finding 6. A folder holding files plat
// did not write is never replaced; every such file is named.
func TestWriteRefusesForeignFiles(t *testing.T) {
	out, _ := setup(t)
	write(t, filepath.Join(out, "b", "NOTES.md"), "mine")
	write(t, filepath.Join(out, "b", "platform.yaml"), "apiVersion: plat/v1")
	write(t, filepath.Join(out, "b", "sub", "x.tf"), hdr)
	if err := os.Symlink("/etc/passwd", filepath.Join(out, "c", "outputs.tf")); err != nil {
		t.Fatal(err)
	}
	before := tree(t, out)
	err := Write(out, render("v2", "a", "b", "c"), opts)
	if !errors.Is(err, ErrNotGenerated) {
		t.Fatalf("err = %v, want ErrNotGenerated", err)
	}
	for _, s := range []string{"NOTES.md", "platform.yaml", "sub/", "outputs.tf (a symlink)", "would be lost"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not name %q: %v", s, err)
		}
	}
	if got := tree(t, out); !maps.Equal(got, before) {
		t.Errorf("tree changed:\n%v\nwas\n%v", got, before)
	}
	noStaging(t, out)
}

// TestWriteRefusesSymlinkedStackDir: a stack folder that is a symlink is not
// followed, neither for the check nor for the swap.
func TestWriteRefusesSymlinkedStackDir(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	elsewhere := t.TempDir()
	write(t, filepath.Join(elsewhere, "main.tf"), hdr)
	write(t, filepath.Join(out, ".keep"), "")
	if err := os.Symlink(elsewhere, filepath.Join(out, "a")); err != nil {
		t.Fatal(err)
	}
	err := Write(out, render("v1", "a"), opts)
	if !errors.Is(err, ErrNotGenerated) || !strings.Contains(err.Error(), "is a symlink") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(elsewhere, "main.tf")); string(b) != hdr {
		t.Errorf("symlink target changed: %q", b)
	}
	if l, err := os.Readlink(filepath.Join(out, "a")); err != nil || l != elsewhere {
		t.Errorf("symlink changed: %q %v", l, err)
	}
}

// failAt makes the n-th swap step (counting from 1) fail.
func failAt(t *testing.T, n int) *[]string {
	var steps []string
	hook = func(s, name string) error {
		steps = append(steps, s+" "+name)
		if len(steps) == n {
			return fmt.Errorf("injected failure at %s %s", s, name)
		}
		return nil
	}
	t.Cleanup(func() { hook = nil })
	return &steps
}

// TestWriteFailureRestoresEverything: issue 15. A failure at any step of a
// multi-stack swap (after the first stack is in, too) leaves every stack as it
// was, Tofu files included, and no staging folder.
func TestWriteFailureRestoresEverything(t *testing.T) {
	// Count the steps of a full swap first.
	total := 0
	{
		out, _ := setup(t)
		steps := failAt(t, -1)
		if err := Write(out, render("v2", "a", "b", "c"), opts); err != nil {
			t.Fatal(err)
		}
		total = len(*steps)
		hook = nil
	}
	if total < 8 {
		t.Fatalf("only %d steps", total)
	}
	for n := 1; n <= total; n++ {
		out, before := setup(t)
		steps := failAt(t, n)
		err := Write(out, render("v2", "a", "b", "c"), opts)
		hook = nil
		if err == nil || !strings.Contains(err.Error(), "injected failure") {
			t.Fatalf("step %d: err = %v", n, err)
		}
		if got := tree(t, out); !maps.Equal(got, before) {
			t.Errorf("failure at step %d (%s): tree\n%v\nwant\n%v", n, (*steps)[n-1], got, before)
		}
		noStaging(t, out)
	}
}

// TestKilledRunIsRolledBack: issue 17, finding 10. A run stopped dead at any
// step of its swap (the goroutine exits there, leaving what kill -9 would:
// no cleanup, no rollback; only the lock is released, as the kernel does for a
// dead process) is rolled back by the next run, which then writes its own.
func TestKilledRunIsRolledBack(t *testing.T) {
	total := 9 // a: keep .terraform, keep lock, set aside, swap in; b, c: set aside, swap in; all swapped
	sawMissing := false
	for n := 1; n <= total; n++ {
		out, before := setup(t)
		calls := 0
		hook = func(s, name string) error {
			if calls++; calls == n {
				runtime.Goexit()
			}
			return nil
		}
		var wg sync.WaitGroup
		wg.Add(1)
		finished := false
		go func() {
			defer wg.Done()
			_ = Write(out, render("v2", "a", "b", "c"), opts)
			finished = true
		}()
		wg.Wait()
		hook = nil
		if finished {
			t.Fatalf("step %d: the run was not stopped (only %d steps)", n, calls)
		}
		if p, _ := Pending(out); len(p) != 1 {
			t.Fatalf("step %d: a killed run should leave its staging folder: %v", n, p)
		}
		for _, s := range []string{"a", "b", "c"} {
			if !exists(filepath.Join(out, s)) {
				sawMissing = true
			}
		}

		restored, err := Recover(out)
		if err != nil {
			t.Fatalf("step %d: recover: %v", n, err)
		}
		if n > 1 && len(restored) == 0 || n == 1 && len(restored) > 0 {
			t.Errorf("step %d: restored %v", n, restored)
		}
		if got := tree(t, out); !maps.Equal(got, before) {
			t.Errorf("killed at step %d: after recovery\n%v\nwant\n%v", n, got, before)
		}
		noStaging(t, out)
		if err := Write(out, render("v3", "a", "b", "c"), opts); err != nil {
			t.Fatalf("step %d: next render: %v", n, err)
		}
		if got := tree(t, out)["b/main.tf"]; got != hdr+"b v3\n" {
			t.Errorf("step %d: next render wrote %q", n, got)
		}
	}
	if !sawMissing {
		t.Error("no simulated kill left a stack missing: the test does not reach the dangerous window")
	}
}

// TestWriteRecoversBeforeWriting: the next Write, not only Recover, rolls a
// killed swap back and removes staging folders of runs killed before their
// swap, and of older plat versions (which set the old folder aside as .old-NAME).
func TestWriteRecoversBeforeWriting(t *testing.T) {
	out, _ := setup(t)
	// killed while staging: no journal
	write(t, filepath.Join(out, stagePrefix+"1", "new", "a", "main.tf"), "half")
	// an older plat killed between its two renames: b is missing
	if err := os.MkdirAll(filepath.Join(out, stagePrefix+"2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(out, "b"), filepath.Join(out, stagePrefix+"2", ".old-b")); err != nil {
		t.Fatal(err)
	}
	var got []string
	o := opts
	o.Recovered = func(p string) { got = append(got, filepath.Base(p)) }
	if err := Write(out, render("v2", "a"), o); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "b" {
		t.Errorf("recovered %v, want [b]", got)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "b", "main.tf")); string(b) != hdr+"b v1\n" {
		t.Errorf("b/main.tf = %q", b)
	}
	noStaging(t, out)
}

// TestReadFileRefusesLinksAndSpecialFiles: issue 17, finding 2.
func TestReadFileRefusesLinksAndSpecialFiles(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "secret"), "TOKEN=hunter2")
	write(t, filepath.Join(root, "real", "ok.tf"), "ok")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "s"), 0o755))
	must(os.Symlink(filepath.Join(root, "secret"), filepath.Join(root, "s", "outputs.tf")))
	must(os.Symlink(filepath.Join(root, "real"), filepath.Join(root, "linkdir")))
	must(syscall.Mkfifo(filepath.Join(root, "s", "fifo.tf"), 0o644))

	if b, err := ReadFile(root, "real/ok.tf", 10); err != nil || string(b) != "ok" {
		t.Errorf("regular file: %q %v", b, err)
	}
	for _, c := range []struct {
		rel  string
		want error
		msg  string
	}{
		{"s/outputs.tf", ErrSymlink, "s/outputs.tf: is a symlink, expected a regular file"},
		{"linkdir/ok.tf", ErrSymlink, "linkdir: is a symlink, expected a directory"},
		{"s/fifo.tf", ErrNotRegular, "s/fifo.tf: is a FIFO, expected a regular file"},
		{"real", ErrNotRegular, "real: is a directory, expected a regular file"},
		{"real/ok.tf/x", ErrNotRegular, "ok.tf: is a file, expected a directory"},
	} {
		b, err := ReadFile(root, c.rel, 1<<20)
		if !errors.Is(err, c.want) || !strings.HasSuffix(err.Error(), c.msg) || len(b) > 0 {
			t.Errorf("%s: %q, %v; want %v ending %q", c.rel, b, err, c.want, c.msg)
		}
	}
	if _, err := ReadFile(root, "real/ok.tf", 1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
}

// TestKeepsDriftIgnoreFile: the ignore rules drift reads from a stack folder
// are the user's, and survive a render.
func TestKeepsDriftIgnoreFile(t *testing.T) {
	if !IsKept(drift.IgnoreFileName) {
		t.Errorf("Keep = %v lacks %s", Keep, drift.IgnoreFileName)
	}
}

// TestRenderAbortLeavesTreeAsItWas: stacks staged one at a time by Add and
// then abandoned leave every stack folder as it was and no staging folder;
// an output directory Begin created is removed again, parents included.
func TestRenderAbortLeavesTreeAsItWas(t *testing.T) {
	out, before := setup(t)
	r, err := Begin(out, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range render("v2", "a", "b", "d") {
		if err := r.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	if p, _ := staging(out); len(p) != 1 {
		t.Fatalf("staging while adding: %v, want one folder", p)
	} else if fi, err := os.Stat(p[0]); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("staging folder mode: %v %v, want 0700", fi.Mode(), err)
	}
	if err := r.Add(render("v2", "a")[0]); err == nil {
		t.Error("adding a twice: no error")
	}
	r.Abort()
	if got := tree(t, out); !maps.Equal(got, before) {
		t.Errorf("after Abort\n%v\nwant\n%v", got, before)
	}
	noStaging(t, out)
	if err := r.Commit(); err == nil {
		t.Error("Commit after Abort: no error")
	}

	fresh := filepath.Join(t.TempDir(), "x", "y", "out")
	r, err = Begin(fresh, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add(render("v1", "a")[0]); err != nil {
		t.Fatal(err)
	}
	r.Abort()
	if _, err := os.Lstat(filepath.Dir(filepath.Dir(fresh))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Abort left the folders Begin created: %v", err)
	}
}

// TestRenderCommitRecoversOthersOnly: a staging folder that a render killed
// while staging left behind is removed by the Commit of the next render,
// which keeps its own; the stacks added are then all in place.
func TestRenderCommitRecoversOthersOnly(t *testing.T) {
	out, _ := setup(t)
	write(t, filepath.Join(out, stagePrefix+"killed", "new", "a", "main.tf"), "half")
	r, err := Begin(out, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range render("v2", "a", "b") {
		if err := r.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	noStaging(t, out)
	got := tree(t, out)
	if got["a/main.tf"] != hdr+"a v2\n" || got["b/main.tf"] != hdr+"b v2\n" || got["c/main.tf"] != hdr+"c v1\n" || got["a/.terraform.lock.hcl"] != "# lock" {
		t.Errorf("after Commit: %v", got)
	}
}
