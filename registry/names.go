package registry

import (
	"fmt"
	"regexp"

	"github.com/platdev/plat/registry/store"
)

// MaxNameLen bounds namespaces, names and systems.
const MaxNameLen = 64

var semverRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// ValidName reports whether s is a valid namespace, module name or system: 1 to 64
// lowercase letters, digits, '-' or '_', starting and ending with a letter or digit.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' && c != '_' || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}

// ValidVersion reports whether v is a semantic version (X.Y.Z with optional
// pre-release and build parts), at most 128 characters long.
func ValidVersion(v string) bool { return len(v) <= 128 && semverRE.MatchString(v) }

// CheckRef returns an error wrapping ErrInvalid if any part of ref is invalid.
func CheckRef(ref store.Ref) error {
	for _, p := range []struct{ what, v string }{{"namespace", ref.Namespace}, {"name", ref.Name}, {"system", ref.System}} {
		if !ValidName(p.v) {
			return fmt.Errorf("%w: %s %q: use 1-%d lowercase letters, digits, '-' or '_'", ErrInvalid, p.what, p.v, MaxNameLen)
		}
	}
	return nil
}

// CheckKey is CheckRef plus a semantic-version check.
func CheckKey(k store.Key) error {
	if err := CheckRef(k.Ref); err != nil {
		return err
	}
	if !ValidVersion(k.Version) {
		return fmt.Errorf("%w: version %q is not a semantic version (X.Y.Z)", ErrInvalid, k.Version)
	}
	return nil
}
