package main

import (
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/platdev/plat/internal/testtools"
)

// TestScriptDriftAccept runs the plat drift accept scripts that accept from
// saved JSON reports; they need no real tool, so they run in the fast tier.
// (The end-to-end accept with real tofu lives with the drift scripts.)
func TestScriptDriftAccept(t *testing.T) {
	testscript.Run(t, scriptParams(filepath.Join("testdata", "script", "drift_accept")))
}

// TestScriptDriftAcceptGit checks with real git that the diff plat drift
// accept prints applies with git apply.
func TestScriptDriftAcceptGit(t *testing.T) {
	git := testtools.Bin(t, "git")
	p := scriptParams(filepath.Join("testdata", "script", "drift_accept_git"))
	p.Setup = func(e *testscript.Env) error {
		e.Setenv("GIT", git)
		e.Setenv("HOME", e.WorkDir)
		return nil
	}
	testscript.Run(t, p)
}
