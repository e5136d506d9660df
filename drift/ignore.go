package drift

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/platdev/plat/internal/userfile"
)

// IgnoreFileName is the per-stack ignore file Run reads from each stack directory.
const IgnoreFileName = ".platdriftignore"

// IgnoreRules drop known noise from drift results. Each rule is
//
//	RESOURCE[:ATTRIBUTE]
//
// where both parts are glob patterns in which * matches any run of characters
// (dots and brackets included) and every other character matches itself. A rule
// without ATTRIBUTE ignores the whole resource (changed or deleted); with
// ATTRIBUTE it ignores the matching attribute changes, and the resource too once
// none are left. Blank lines and lines starting with # are skipped.
//
//	aws_s3_bucket.*:tags.*       provider-managed tags on every bucket
//	module.db.*                  everything in module db
//	*:metadata.annotations.*     for Kubernetes objects
type IgnoreRules struct {
	rules []ignoreRule
}

type ignoreRule struct {
	resource, attr string // attr empty: whole resource
}

// ParseIgnore reads rules from r; name is used in error messages.
func ParseIgnore(name string, r io.Reader) (*IgnoreRules, error) {
	var rs IgnoreRules
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		res, attr, hasAttr := strings.Cut(text, ":")
		res, attr = strings.TrimSpace(res), strings.TrimSpace(attr)
		switch {
		case res == "":
			return nil, fmt.Errorf("%s:%d: empty resource pattern in %q (write *:%s to match every resource)", name, line, text, attr)
		case hasAttr && attr == "":
			return nil, fmt.Errorf("%s:%d: empty attribute pattern after ':' in %q (drop the ':' to ignore the whole resource)", name, line, text)
		case strings.ContainsAny(res+attr, " \t"):
			return nil, fmt.Errorf("%s:%d: space in pattern %q", name, line, text)
		}
		rs.rules = append(rs.rules, ignoreRule{resource: res, attr: attr})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &rs, nil
}

// LoadIgnoreFile reads an ignore file; a missing file means no rules. It must be
// a regular file of at most userfile.MaxSize bytes: a named pipe is refused at
// once instead of blocking the pass.
func LoadIgnoreFile(path string) (*IgnoreRules, error) {
	b, err := userfile.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseIgnore(path, bytes.NewReader(b))
}

// Len returns the number of rules; a nil *IgnoreRules has none.
func (rs *IgnoreRules) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.rules)
}

// Apply returns resources without what the rules ignore, and how many resources
// and attribute changes were dropped. It does not modify its argument.
func (rs *IgnoreRules) Apply(resources []ResourceDrift) ([]ResourceDrift, int) {
	if rs.Len() == 0 {
		return resources, 0
	}
	var out []ResourceDrift
	dropped := 0
	for _, r := range resources {
		if rs.ignoresResource(r.Address) {
			dropped++
			continue
		}
		if r.Action != ActionChanged || len(r.Changes) == 0 {
			out = append(out, r)
			continue
		}
		kept := slices.DeleteFunc(slices.Clone(r.Changes), func(c AttributeChange) bool {
			return rs.ignoresAttr(r.Address, c.Path)
		})
		dropped += len(r.Changes) - len(kept)
		if len(kept) == 0 {
			continue
		}
		r.Changes = kept
		out = append(out, r)
	}
	return out, dropped
}

func (rs *IgnoreRules) ignoresResource(addr string) bool {
	for _, r := range rs.rules {
		if r.attr == "" && glob(r.resource, addr) {
			return true
		}
	}
	return false
}

func (rs *IgnoreRules) ignoresAttr(addr, path string) bool {
	for _, r := range rs.rules {
		if r.attr != "" && glob(r.resource, addr) && glob(r.attr, path) {
			return true
		}
	}
	return false
}

// glob matches s against pattern, where * matches any run of characters.
func glob(pattern, s string) bool {
	// Iterative matching with backtracking to the last star: linear for typical
	// patterns, no recursion.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
