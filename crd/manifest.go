package crd

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/platdev/plat/internal/yamlpos"
)

// ValidateManifest validates m and locates each error in m's file.
func (s *Set) ValidateManifest(m yamlpos.Manifest) []Error {
	errs := s.Validate(m.Object)
	for i := range errs {
		errs[i].File = m.File
		errs[i].Line, errs[i].Column = m.Position(errs[i].Field)
	}
	return errs
}

// ValidateFiles validates every manifest in files (name -> YAML content) and
// returns the errors sorted by file and position. A file that is not valid YAML
// is reported as an error without a field.
func (s *Set) ValidateFiles(files map[string][]byte) []Error {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Error
	var all []yamlpos.Manifest
	for _, name := range names {
		ms, err := yamlpos.Parse(name, files[name])
		if err != nil {
			out = append(out, Error{File: name, Type: string(field.ErrorTypeInvalid), Detail: strings.TrimPrefix(err.Error(), name+": ")})
		}
		all = append(all, ms...)
	}
	objs := make([]map[string]any, len(all))
	for i, m := range all {
		objs[i] = m.Object
	}
	s.Prepare(objs)
	for _, m := range all {
		out = append(out, s.ValidateManifest(m)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return out
}
