// Package catalog embeds the shipped golden-path catalog: platform settings and
// org-wide rules in platform.cue, and one folder per template holding
// template.cue. A platform team replaces it with `plat render --catalog DIR`
// pointing at a folder of the same layout.
package catalog

import "embed"

// FS holds the shipped catalog.
//
//go:embed platform.cue */template.cue
var FS embed.FS
