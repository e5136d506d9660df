package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/platdev/plat/internal/cli"
)

// TestMain lets testscript scripts run `plat` in-process.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"plat": func() { os.Exit(cli.Main()) },
	})
}

// scriptParams returns the testscript parameters shared by every script directory.
// Each area of plat has its own directory under testdata/script and its own Test
// function, so areas can be run on their own: go test ./cmd/plat -run TestScript/...
func scriptParams(dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("PLAT_UPDATE") != "",
	}
}
