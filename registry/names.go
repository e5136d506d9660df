package registry

import (
	"github.com/platdev/plat/registry/module"
	"github.com/platdev/plat/registry/store"
)

// MaxNameLen bounds namespaces, names and systems.
const MaxNameLen = module.MaxNameLen

// ValidName reports whether s is a valid namespace, module name or system
// (module.ValidName).
func ValidName(s string) bool { return module.ValidName(s) }

// ValidVersion reports whether v is a semantic version (module.ValidVersion).
func ValidVersion(v string) bool { return module.ValidVersion(v) }

// CheckRef returns an error wrapping ErrInvalid if any part of ref is invalid.
func CheckRef(ref store.Ref) error { return module.CheckRef(ref) }

// CheckKey is CheckRef plus a semantic-version check.
func CheckKey(k store.Key) error { return module.CheckKey(k) }
