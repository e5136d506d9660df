package registry

import (
	"sort"
	"strings"
)

// A module's description is taken from its README at publish time.

// findReadme returns the root README (README.md first), or "".
func findReadme(root map[string][]byte) string {
	names := make([]string, 0, len(root))
	for n := range root {
		if strings.HasPrefix(strings.ToLower(n), "readme") {
			names = append(names, n)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		// README.md first, then any other README in name order.
		mi, mj := strings.EqualFold(names[i], "readme.md"), strings.EqualFold(names[j], "readme.md")
		if mi != mj {
			return mi
		}
		return names[i] < names[j]
	})
	if len(names) == 0 {
		return ""
	}
	return string(root[names[0]])
}

// describe takes the first paragraph of prose from a README as the module's
// one-line description.
func describe(readme string) string {
	var para []string
	for _, line := range strings.Split(readme, "\n") {
		l := strings.TrimSpace(line)
		switch {
		case l == "" && len(para) > 0:
			return clip(strings.Join(para, " "))
		case l == "", strings.HasPrefix(l, "#"), strings.HasPrefix(l, "```"), strings.HasPrefix(l, "!["), strings.HasPrefix(l, "<"):
			continue
		default:
			para = append(para, l)
		}
	}
	return clip(strings.Join(para, " "))
}

func clip(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:197]) + "..."
	}
	return s
}
