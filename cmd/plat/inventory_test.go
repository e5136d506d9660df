package main

import (
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestInventoryScripts runs the scripts of plat inventory and plat diff.
func TestInventoryScripts(t *testing.T) {
	testscript.Run(t, scriptParams(filepath.Join("testdata", "script", "inventory")))
}
