package main

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
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
//
// Besides testscript's own commands, scripts get `exitcode N COMMAND ARGS...`,
// which runs COMMAND (found on the script's PATH) and passes when it exits with
// status N, keeping its stdout and stderr for cmp, stdout and stderr.
func scriptParams(dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("PLAT_UPDATE") != "",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": exitcode,
		},
	}
}

func exitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}
