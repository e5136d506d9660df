package inventory

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/outtree"
)

// File changes.
const (
	FileAdded   = "added"   // rendered now, not before (or not in the output tree)
	FileRemoved = "removed" // not rendered any more (an extra file in the output tree)
	FileChanged = "changed" // rendered differently
	FileBad     = "unreadable"
)

// FileChange is one rendered file that differs. Path is relative to the
// output directory (STACK/FILE); Diff is a unified diff, when asked for.
type FileChange struct {
	Path   string `json:"path"`
	Change string `json:"change"`
	// Reason says why a file in the output tree could not be compared (a
	// symlink, a special file, far larger than the render).
	Reason string `json:"reason,omitempty"`
	Diff   string `json:"diff,omitempty"`
}

// compareFiles compares two renders of a stack in memory.
func compareFiles(before, after []compiler.File, withDiff bool) []FileChange {
	old := map[string][]byte{}
	for _, f := range before {
		old[f.Path] = f.Data
	}
	cur := map[string][]byte{}
	for _, f := range after {
		cur[f.Path] = f.Data
	}
	var out []FileChange
	for _, p := range union(old, cur) {
		a, inOld := old[p]
		b, inNew := cur[p]
		fc := FileChange{Path: p}
		switch {
		case !inOld:
			fc.Change = FileAdded
		case !inNew:
			fc.Change = FileRemoved
		case !bytes.Equal(a, b):
			fc.Change = FileChanged
		default:
			continue
		}
		if withDiff {
			fc.Diff = unified(p, a, inOld, b, inNew)
		}
		out = append(out, fc)
	}
	return out
}

func unified(p string, a []byte, inOld bool, b []byte, inNew bool) string {
	from, to := "a/"+p, "b/"+p
	if !inOld {
		from = "/dev/null"
	}
	if !inNew {
		to = "/dev/null"
	}
	return string(diff.Diff(from, a, to, b))
}

func union(a, b map[string][]byte) []string {
	ps := make([]string, 0, len(a)+len(b))
	for p := range a {
		ps = append(ps, p)
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			ps = append(ps, p)
		}
	}
	sort.Strings(ps)
	return ps
}

// maxCompared bounds how much of a file in the output tree is read beyond
// the size of the fresh render: a larger file differs anyway.
const maxCompared = 1 << 20

// compareTree compares a fresh render of a stack with what the output tree
// out holds under STACK/, as plat render --check does: without following
// symlinks, opening only regular files, and leaving alone what tofu init
// keeps there. It reports whether the stack directory exists at all.
func compareTree(out string, st *compiler.Stack, withDiff bool) (bool, []FileChange) {
	dir := filepath.Join(out, st.Name)
	fi, err := os.Lstat(dir)
	if err != nil {
		return false, nil
	}
	if !fi.IsDir() {
		return true, []FileChange{{Path: st.Name, Change: FileBad, Reason: "is not a directory"}}
	}
	want := map[string][]byte{}
	for _, f := range st.Files {
		want[f.Path] = f.Data
	}
	have := map[string][]byte{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if p != dir && outtree.IsKept(d.Name()) && filepath.Dir(p) == dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(out, p)
		have[filepath.ToSlash(rel)] = nil
		return nil
	})
	var changes []FileChange
	for _, p := range union(want, have) {
		data, rendered := want[p]
		if !rendered {
			changes = append(changes, FileChange{Path: p, Change: FileRemoved})
			continue
		}
		got, err := outtree.ReadFile(out, p, int64(len(data))+maxCompared)
		var pe *outtree.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			fc := FileChange{Path: p, Change: FileAdded}
			if withDiff {
				fc.Diff = unified(p, nil, false, data, true)
			}
			changes = append(changes, fc)
		case errors.As(err, &pe):
			changes = append(changes, FileChange{Path: p, Change: FileBad, Reason: pe.What()})
		case err != nil:
			changes = append(changes, FileChange{Path: p, Change: FileBad, Reason: err.Error()})
		case !bytes.Equal(got, data):
			fc := FileChange{Path: p, Change: FileChanged}
			if withDiff {
				fc.Diff = unified(p, got, true, data, true)
			}
			changes = append(changes, fc)
		}
	}
	return true, changes
}

// renderedJSON reports whether the stack directory holds Terraform JSON
// (.tf.json) rather than HCL, so the fresh render matches its syntax.
func renderedJSON(out, stack string) bool {
	ents, err := os.ReadDir(filepath.Join(out, stack))
	if err != nil {
		return false
	}
	var js, hcl bool
	for _, e := range ents {
		switch ext := e.Name(); {
		case len(ext) > 8 && ext[len(ext)-8:] == ".tf.json":
			js = true
		case len(ext) > 3 && ext[len(ext)-3:] == ".tf":
			hcl = true
		}
	}
	return js && !hcl
}
