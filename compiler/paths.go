package compiler

import "cuelang.org/go/cue"

// Paths the compiler looks up, built once: cue.ParsePath runs the CUE parser on
// every call, which showed up in profiles of every command.
var (
	pathContext     = cue.MakePath(cue.Str("context"))
	pathParameters  = cue.MakePath(cue.Str("parameters"))
	pathGuardrails  = cue.MakePath(cue.Str("guardrails"))
	pathTerraform   = cue.MakePath(cue.Str("terraform"))
	pathTfInputs    = cue.MakePath(cue.Str("terraform"), cue.Str("inputs"))
	pathCpResources = cue.MakePath(cue.Str("crossplane"), cue.Str("resources"))
	pathName        = cue.MakePath(cue.Str("name"))
	pathDescription = cue.MakePath(cue.Str("description"))
	pathOutputs     = cue.MakePath(cue.Str("outputs"))
	pathProviders   = cue.MakePath(cue.Str("providers"))
	pathOrg         = cue.MakePath(cue.Str("org"))
	pathOrgStack    = cue.MakePath(cue.Str("org"), cue.Str("stack"))
	pathTags        = cue.MakePath(cue.Str("tags"))
	pathPlatform    = cue.MakePath(cue.Str("platform"))
	pathViolated    = cue.MakePath(cue.Str("violated"))
	pathWaivable    = cue.MakePath(cue.Str("waivable"))
	pathID          = cue.MakePath(cue.Str("id"))
	pathSeverity    = cue.MakePath(cue.Str("severity"))
	pathMessage     = cue.MakePath(cue.Str("message"))
	pathHint        = cue.MakePath(cue.Str("hint"))
	pathPath        = cue.MakePath(cue.Str("path"))
	pathAnyIndex    = cue.MakePath(cue.AnyIndex)
)
