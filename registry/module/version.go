package module

import (
	"slices"

	goversion "github.com/hashicorp/go-version"
)

// Versions are ordered the way tofu and terraform order them, by
// hashicorp/go-version: semantic-version precedence, build metadata ignored.

// parse returns v parsed, or nil when v is not a version (never stored).
func parse(v string) *goversion.Version {
	p, err := goversion.NewSemver(v)
	if err != nil {
		return nil
	}
	return p
}

// Compare returns -1, 0 or +1 as a orders before, the same as, or after b.
// Versions that differ only in build metadata compare equal; unparsable
// versions order first, among themselves by their text.
func Compare(a, b string) int {
	pa, pb := parse(a), parse(b)
	switch {
	case pa == nil && pb == nil:
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	case pa == nil:
		return -1
	case pb == nil:
		return 1
	}
	return pa.Compare(pb)
}

// Same reports whether a and b are one version: equal up to build metadata
// (1.0.0 and 1.0.0+build are the same version to tofu).
func Same(a, b string) bool { return Compare(a, b) == 0 }

// IsPrerelease reports whether v has a pre-release part (1.0.0-rc.1; not
// 2.0.0+build-1, whose "-" is in the build metadata).
func IsPrerelease(v string) bool {
	p := parse(v)
	return p != nil && p.Prerelease() != ""
}

// Sort sorts vs in ascending order by version(i), parsing each once; the sort
// is stable, so versions equal up to build metadata keep their order.
func Sort[T any](vs []T, version func(T) string) {
	type item struct {
		v T
		p *goversion.Version
		s string
	}
	items := make([]item, len(vs))
	for i, v := range vs {
		s := version(v)
		items[i] = item{v, parse(s), s}
	}
	slices.SortStableFunc(items, func(a, b item) int {
		switch {
		case a.p == nil && b.p == nil:
			return cmpString(a.s, b.s)
		case a.p == nil:
			return -1
		case b.p == nil:
			return 1
		}
		return a.p.Compare(b.p)
	})
	for i, it := range items {
		vs[i] = it.v
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Latest returns the index in vs of the newest release (no pre-release part),
// or of the newest pre-release when there is no release, or -1 when vs is
// empty: the version tofu picks for a module block without a constraint.
func Latest(vs []string) int {
	best, bestPre := -1, true
	var bp *goversion.Version
	for i, s := range vs {
		p := parse(s)
		if p == nil {
			if best < 0 {
				best = i
			}
			continue
		}
		pre := p.Prerelease() != ""
		switch {
		case bp == nil, bestPre && !pre, pre == bestPre && p.GreaterThan(bp):
			best, bp, bestPre = i, p, pre
		}
	}
	return best
}
