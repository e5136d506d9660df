// Package provider checks and packs Terraform provider packages for the
// registry's provider network mirror: provider addresses and platforms, the
// zip archives (hostile-archive checks and the zh:/h1: hashes tofu verifies),
// and the directory layouts `plat provider publish` reads (the packed layout
// `tofu providers mirror` writes, or an unpacked filesystem mirror, which it
// zips deterministically).
package provider

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/platdev/plat/registry/archive"
)

// ErrInvalid means a bad provider address, version, platform, archive or
// layout. It wraps archive.ErrInvalid, so the registry answers it with 400.
var ErrInvalid error = &sentinel{"invalid provider package", archive.ErrInvalid}

// ErrTooLarge means an archive exceeds a size or entry-count limit. It wraps
// archive.ErrTooLarge (413).
var ErrTooLarge error = &sentinel{"provider package too large", archive.ErrTooLarge}

// sentinel is an error with its own message that is also its base.
type sentinel struct {
	msg  string
	base error
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.base }

// Addr is a provider's origin address, HOSTNAME/NAMESPACE/TYPE, as tofu names
// it in required_providers (registry.opentofu.org/hashicorp/local) and in the
// paths of the network mirror protocol.
type Addr struct {
	Hostname  string
	Namespace string
	Type      string
}

// String is HOSTNAME/NAMESPACE/TYPE.
func (a Addr) String() string { return a.Hostname + "/" + a.Namespace + "/" + a.Type }

var (
	// hostnameShape is a lower-case DNS name with an optional port, the form
	// tofu normalises a provider source hostname to before it asks a mirror.
	hostnameShape = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:[0-9]{1,5})?$`)
	// partShape is a provider namespace or type as tofu normalises it.
	partShape = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
	// platformShape is OS_ARCH, e.g. linux_amd64.
	platformShape = regexp.MustCompile(`^[a-z0-9]{1,32}_[a-z0-9]{1,32}$`)
	// versionShape is a semantic version without build metadata; tofu
	// compares provider versions without it, so two uploads differing only in
	// build metadata would be one version.
	versionShape = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)
)

// MaxHostnameLen bounds a provider hostname.
const MaxHostnameLen = 253

// CheckAddr returns an error wrapping ErrInvalid when a is not a provider
// address in tofu's normalised (lower-case) form.
func CheckAddr(a Addr) error {
	switch {
	case len(a.Hostname) > MaxHostnameLen || !hostnameShape.MatchString(a.Hostname):
		return fmt.Errorf("%w: hostname %q: want a lower-case DNS name such as registry.opentofu.org", ErrInvalid, a.Hostname)
	case !partShape.MatchString(a.Namespace):
		return fmt.Errorf("%w: namespace %q: want lower-case letters, digits and inner dashes, at most 64", ErrInvalid, a.Namespace)
	case !partShape.MatchString(a.Type):
		return fmt.Errorf("%w: type %q: want lower-case letters, digits and inner dashes, at most 64", ErrInvalid, a.Type)
	}
	return nil
}

// CheckVersion returns an error wrapping ErrInvalid when v is not a semantic
// version MAJOR.MINOR.PATCH[-PRERELEASE].
func CheckVersion(v string) error {
	if len(v) > 128 || !versionShape.MatchString(v) || !semver.IsValid("v"+v) {
		return fmt.Errorf("%w: version %q: want a semantic version such as 1.4.0 (no build metadata)", ErrInvalid, v)
	}
	return nil
}

// CheckPlatform returns an error wrapping ErrInvalid when p is not OS_ARCH.
func CheckPlatform(p string) error {
	if !platformShape.MatchString(p) {
		return fmt.Errorf("%w: platform %q: want OS_ARCH such as linux_amd64", ErrInvalid, p)
	}
	return nil
}

// ArchiveName is the conventional file name of a provider package:
// terraform-provider-TYPE_VERSION_OS_ARCH.zip.
func ArchiveName(typ, version, platform string) string {
	return "terraform-provider-" + typ + "_" + version + "_" + platform + ".zip"
}

// ParseArchiveName splits an ArchiveName of provider type typ into its version
// and platform; ok is false when name is not of that form.
func ParseArchiveName(typ, name string) (version, platform string, ok bool) {
	rest, ok := strings.CutPrefix(name, "terraform-provider-"+typ+"_")
	if !ok {
		return "", "", false
	}
	rest, ok = strings.CutSuffix(rest, ".zip")
	if !ok {
		return "", "", false
	}
	// A version has no '_', a platform exactly one.
	i := strings.LastIndexByte(rest, '_')
	if i < 0 {
		return "", "", false
	}
	j := strings.LastIndexByte(rest[:i], '_')
	if j < 0 {
		return "", "", false
	}
	version, platform = rest[:j], rest[j+1:]
	if CheckVersion(version) != nil || CheckPlatform(platform) != nil {
		return "", "", false
	}
	return version, platform, true
}
