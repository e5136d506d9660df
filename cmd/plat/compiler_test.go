package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScriptCompiler runs the scripts of plat render, validate, catalog and schema.
func TestScriptCompiler(t *testing.T) {
	testscript.Run(t, scriptParams("testdata/script/compiler"))
}
