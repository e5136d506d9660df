// Package schemas embeds plat's CUE schemas: the stack file an application team
// writes, the contract every golden-path template honours, guardrails and waivers.
// The compiler validates with them, `plat catalog show` describes templates with
// them and `plat schema` turns them into JSON Schema.
package schemas

import "embed"

// FS holds the schema files (package schemas), all at the root.
//
//go:embed *.cue
var FS embed.FS
