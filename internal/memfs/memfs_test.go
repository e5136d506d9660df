package memfs

import (
	"testing"
	"testing/fstest"
)

// TestFS runs the standard library's file system conformance checks.
func TestFS(t *testing.T) {
	m := FS{
		"platform.cue":          []byte("package catalog\n"),
		"postgres/template.cue": []byte("x: 1\n"),
		"a/b/c/d.txt":           []byte("deep"),
		"empty.txt":             nil,
	}
	if err := fstest.TestFS(m, "platform.cue", "postgres/template.cue", "a/b/c/d.txt", "empty.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Open("missing"); err == nil {
		t.Fatal("Open of a missing file succeeded")
	}
	if _, err := m.Open("../x"); err == nil {
		t.Fatal("Open of an invalid path succeeded")
	}
}
