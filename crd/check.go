package crd

import (
	"github.com/platdev/plat/internal/yamlpos"
)

// File is one file of manifests to check: its objects, and the YAML they were
// written as, which positions the errors.
type File struct {
	Path    string
	Data    []byte
	Objects []map[string]any
}

// CheckFiles validates the objects of every file, the way the API server would
// on apply, and returns the errors of each file in file order, each with the
// file's path and the error's position in Data.
func (s *Set) CheckFiles(files []File) [][]Error {
	var objs []map[string]any
	for _, f := range files {
		objs = append(objs, f.Objects...)
	}
	s.Prepare(objs) // loads the kinds used, in parallel
	out := make([][]Error, len(files))
	for i, f := range files {
		var errs []Error
		for _, obj := range f.Objects {
			errs = append(errs, s.Validate(obj)...)
		}
		if len(errs) == 0 {
			continue
		}
		// Positions cost a second parse; only files with errors pay it.
		locate(f, errs)
		out[i] = errs
	}
	return out
}

// locate fills in the file and position of errs from the YAML of f.
func locate(f File, errs []Error) {
	ms, _ := yamlpos.Parse(f.Path, f.Data)
	for i := range errs {
		errs[i].File = f.Path
		for _, m := range ms {
			if md, ok := m.Object["metadata"].(map[string]any); ok && md["name"] == errs[i].Name && m.Object["kind"] == errs[i].Kind {
				errs[i].Line, errs[i].Column = m.Position(errs[i].Field)
				break
			}
		}
	}
}

// ID returns the stable diagnostic id of the error's type: crd.unknown-field,
// crd.no-schema, crd.required, crd.type, crd.unsupported-value or crd.invalid.
func (e Error) ID() string {
	switch e.Type {
	case TypeUnknownField:
		return "crd.unknown-field"
	case TypeNoSchema:
		return "crd.no-schema"
	case "FieldValueRequired":
		return "crd.required"
	case "FieldValueTypeInvalid":
		return "crd.type"
	case "FieldValueNotSupported":
		return "crd.unsupported-value"
	}
	return "crd.invalid"
}
