package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/platdev/plat/internal/testtools"
)

// TestScriptDrift runs the plat drift scripts in testdata/script/drift with the
// real OpenTofu and hashicorp/local provider: $TOFU is the binary (also on PATH as
// tofu), TF_CLI_CONFIG_FILE points at the provider mirror, and
func TestScriptDrift(t *testing.T) {
	tofu := testtools.Bin(t, "tofu")
	rc := testtools.MirrorConfig(t)
	p := scriptParams(filepath.Join("testdata", "script", "drift"))
	p.Setup = func(e *testscript.Env) error {
		bin := filepath.Join(e.WorkDir, ".bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			return err
		}
		if err := os.Symlink(tofu, filepath.Join(bin, "tofu")); err != nil {
			return err
		}
		// $PLATBIN holds plat: scripts use it to run plat with no tofu on PATH.
		for _, d := range filepath.SplitList(e.Getenv("PATH")) {
			if _, err := os.Stat(filepath.Join(d, "plat")); err == nil {
				e.Setenv("PLATBIN", d)
				break
			}
		}
		e.Setenv("PATH", bin+string(os.PathListSeparator)+e.Getenv("PATH"))
		e.Setenv("TOFU", tofu)
		e.Setenv("TF_CLI_CONFIG_FILE", rc)
		e.Setenv("CHECKPOINT_DISABLE", "1")
		return nil
	}
	testscript.Run(t, p)
}
