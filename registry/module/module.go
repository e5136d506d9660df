// Package module names registry modules and their versions: Ref and Key, the
// rules for valid names and versions, and how versions are ordered. It is a
// leaf package (no storage, no HTTP) so clients can share these rules.
package module

import (
	"errors"
	"fmt"
	"regexp"

	"golang.org/x/mod/semver"
)

// ErrInvalid means a bad name or version.
var ErrInvalid = errors.New("invalid request")

// Ref names a module: namespace, name and target system (provider).
type Ref struct {
	Namespace string
	Name      string
	System    string
}

// String returns the registry address form ns/name/system.
func (r Ref) String() string { return r.Namespace + "/" + r.Name + "/" + r.System }

// Key identifies one version of a module.
type Key struct {
	Ref
	Version string
}

// String returns ns/name/system/version.
func (k Key) String() string { return k.Ref.String() + "/" + k.Version }

// MaxNameLen bounds namespaces, names and systems.
const MaxNameLen = 64

// MaxVersionLen bounds versions.
const MaxVersionLen = 128

// versionShape is X.Y.Z with optional pre-release and build parts: no "v"
// prefix and no X or X.Y shorthand, which semver.IsValid would allow.
var versionShape = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+([-+].*)?$`)

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

// ValidVersion reports whether v is a semantic version 2.0.0 (X.Y.Z with
// optional pre-release and build parts, no leading zeros in numeric parts, so
// not 01.0.0 nor 1.0.0-01), at most 128 characters long, that tofu's own
// parser (hashicorp/go-version) reads too: X, Y and Z fit in an int64. A
// version tofu cannot parse would order apart from the rest, and versions of
// it differing in build metadata would not be one version (issue 17, finding 12).
func ValidVersion(v string) bool {
	return len(v) <= MaxVersionLen && versionShape.MatchString(v) && semver.IsValid("v"+v) && parse(v) != nil
}

// InvalidError is a bad name or version: Detail says which part and why. It
// wraps ErrInvalid, so errors.Is(err, ErrInvalid) holds; a CLI prints Detail
// alone where "invalid request" would only repeat what it already says.
type InvalidError struct{ Detail string }

func (e *InvalidError) Error() string { return ErrInvalid.Error() + ": " + e.Detail }

// Unwrap returns ErrInvalid.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// CheckRef returns an *InvalidError if any part of ref is invalid.
func CheckRef(ref Ref) error {
	for _, p := range []struct{ what, v string }{{"namespace", ref.Namespace}, {"name", ref.Name}, {"system", ref.System}} {
		if !ValidName(p.v) {
			return &InvalidError{fmt.Sprintf("%s %q: use 1-%d lowercase letters, digits, '-' or '_'", p.what, p.v, MaxNameLen)}
		}
	}
	return nil
}

// CheckKey is CheckRef plus a semantic-version check.
func CheckKey(k Key) error {
	if err := CheckRef(k.Ref); err != nil {
		return err
	}
	if !ValidVersion(k.Version) {
		return &InvalidError{fmt.Sprintf("version %q is not a semantic version (X.Y.Z, no leading zeros)", k.Version)}
	}
	return nil
}
