//go:build unix

package outtree

import (
	"testing"
	"time"
)

// Only where renders lock their staging folders (flock, sys_unix.go):
// elsewhere renders into one folder are not kept apart (docs/compiler.md).

// TestRendersStageSideBySide: a second render into the same folder runs
// whole, staging and swapping, while a first is still staging: it neither
// waits for the first nor takes the first's staging folder for a dead run's,
// and Pending does not list it.
// The first then commits, and both renders' stacks are in place.
func TestRendersStageSideBySide(t *testing.T) {
	out, _ := setup(t)
	first, err := Begin(out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Add(render("v2", "a")[0]); err != nil {
		t.Fatal(err)
	}
	if p, _ := Pending(out); len(p) != 0 {
		t.Errorf("a live render's staging folder is listed as left by an interrupted one: %v", p)
	}
	done := make(chan error, 1)
	go func() { done <- Write(out, render("v3", "b"), opts) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("second render: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the second render waited for the first to commit")
	}
	if p, _ := staging(out); len(p) != 1 {
		t.Fatalf("after the second render: staging folders %v, want the first render's", p)
	}
	if err := first.Commit(); err != nil {
		t.Fatalf("first render: %v", err)
	}
	noStaging(t, out)
	got := tree(t, out)
	if got["a/main.tf"] != hdr+"a v2\n" || got["b/main.tf"] != hdr+"b v3\n" || got["c/main.tf"] != hdr+"c v1\n" {
		t.Errorf("after both renders: %v", got)
	}
}
