package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScriptWaivers runs the scripts about waivers that run out. The CLI
// takes the real clock, so scripts get dates relative to today (UTC):
// $SOON is 5 days ahead, $LATER 40 days ahead.
func TestScriptWaivers(t *testing.T) {
	p := scriptParams(filepath.Join("testdata", "script", "waivers"))
	p.Setup = func(e *testscript.Env) error {
		today := time.Now().UTC()
		e.Setenv("SOON", today.AddDate(0, 0, 5).Format("2006-01-02"))
		e.Setenv("LATER", today.AddDate(0, 0, 40).Format("2006-01-02"))
		return nil
	}
	testscript.Run(t, p)
}
