// Package crd validates Kubernetes manifests offline against CustomResourceDefinition
// schemas, the way a real API server does on create: unknown fields (pruning),
// defaulting, structural OpenAPI validation, metadata, list-type invariants and CEL
// rules (x-kubernetes-validations). It needs no cluster, Docker or network: the
// schemas come from CRD files such as a Crossplane provider package's package/crds.
//
// A Set indexes a directory of CRD files cheaply and parses, converts and compiles
// only the kinds that are validated, so checking a handful of manifests against a
// provider's hundreds of CRDs costs little more than the kinds they use.
package crd

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	celconfig "k8s.io/apiserver/pkg/apis/cel"

	"github.com/platdev/plat/internal/userfile"
)

// MaxFileSize bounds each file read from a --crds directory: provider CRD files
// run to a few MiB; a named pipe, a device or anything larger fails at once.
const MaxFileSize = 32 << 20

// Set is a collection of CRD schemas loaded on demand. It is safe for concurrent
// use; different files are parsed concurrently.
type Set struct {
	fsys  fs.FS
	root  string // how file names are shown in errors
	cache string // directory of decoded CRDs, "" for none

	// Fixed once Load returns.
	index  map[schema.GroupKind]string // group/kind -> file, from a header scan
	groups map[string]bool             // groups of the indexed kinds
	unsure []string                    // files the header scan could not index
	files  map[string]*file            // every CRD file

	unsureOnce sync.Once
}

// file is one CRD file, parsed on first use.
type file struct {
	once  sync.Once
	kinds map[schema.GroupKind]*kind
	err   error // the file could not be read or decoded
}

// kind is the compiled schema of one CRD.
type kind struct {
	crd        string
	namespaced bool
	versions   map[string]*version
	err        error // the CRD could not be compiled
}

// version is the compiled schema of one version of a CRD.
type version struct {
	served          bool
	statusSubres    bool
	preserveUnknown bool
	structural      *structuralschema.Structural
	validator       validation.SchemaValidator

	celOnce sync.Once
	cel     *cel.Validator // nil when the schema has no rules
}

// Option configures a Set.
type Option func(*Set)

// WithCache keeps decoded CRDs in dir (created if needed), keyed by a hash of
// each file's content, so that later processes skip YAML decoding, the main cost
// of loading a kind. A cache that cannot be read or written is ignored.
func WithCache(dir string) Option { return func(s *Set) { s.cache = dir } }

// LoadDir indexes the CRD files (*.yaml, *.yml, *.json) under dir. Schemas are
// parsed when first needed.
func LoadDir(dir string, opts ...Option) (*Set, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("load crds: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("load crds: %s is not a directory", dir)
	}
	return load(userfile.DirFS(dir, MaxFileSize), dir, opts)
}

// Load indexes the CRD files (*.yaml, *.yml, *.json) in fsys.
func Load(fsys fs.FS, opts ...Option) (*Set, error) { return load(fsys, "", opts) }

func load(fsys fs.FS, root string, opts []Option) (*Set, error) {
	s := &Set{
		fsys:   fsys,
		root:   root,
		index:  map[schema.GroupKind]string{},
		groups: map[string]bool{},
		files:  map[string]*file{},
	}
	for _, o := range opts {
		o(s)
	}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		switch path.Ext(p) {
		case ".yaml", ".yml":
		case ".json":
			s.unsure = append(s.unsure, p)
			s.files[p] = &file{}
			return nil
		default:
			return nil
		}
		gk, ok, err := scanHeader(fsys, p)
		if err != nil {
			return err
		}
		s.files[p] = &file{}
		if !ok {
			s.unsure = append(s.unsure, p)
			return nil
		}
		s.index[gk] = p
		s.groups[gk.Group] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load crds: %w", err)
	}
	return s, nil
}

// scanHeaderLimit bounds how much of a file the index reads: controller-gen and
// most hand-written CRDs name their group and kind in the first lines.
const scanHeaderLimit = 8 << 10

// scanHeader finds spec.group and spec.names.kind of a single-document CRD file
// from its first lines, without parsing the YAML. ok is false when the file does
// not look like that (it is then parsed fully if a lookup misses).
func scanHeader(fsys fs.FS, p string) (gk schema.GroupKind, ok bool, err error) {
	f, err := fsys.Open(p)
	if err != nil {
		return gk, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, scanHeaderLimit))
	var isCRD, inSpec, inNames bool
	docs := 0
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \r")
		switch {
		case line == "---" || strings.HasPrefix(line, "--- "):
			docs++
			if docs > 1 || isCRD || inSpec {
				return gk, false, nil
			}
			continue
		case line == "" || strings.HasPrefix(strings.TrimSpace(line), "#"):
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		key, val, _ := strings.Cut(strings.TrimSpace(line), ":")
		val = strings.Trim(strings.TrimSpace(val), `"'`)
		switch indent {
		case 0:
			inSpec = key == "spec"
			inNames = false
			if key == "kind" {
				isCRD = val == "CustomResourceDefinition"
			}
		case 2:
			if inSpec {
				inNames = key == "names"
				if key == "group" {
					gk.Group = val
				}
			}
		case 4:
			if inNames && key == "kind" {
				gk.Kind = val
			}
		}
		if isCRD && gk.Group != "" && gk.Kind != "" {
			return gk, true, nil
		}
	}
	return gk, false, nil
}

// lookup returns the compiled schema of gk, parsing its file on first use. It
// returns nil when no CRD in the set defines gk.
func (s *Set) lookup(gk schema.GroupKind) *kind {
	if p, ok := s.index[gk]; ok {
		f := s.file(p)
		if k := f.kinds[gk]; k != nil {
			return k
		}
		if f.err != nil {
			return &kind{err: f.err}
		}
	}
	// A miss: the header scan may have skipped a multi-document or JSON file.
	s.loadUnsure()
	for _, p := range s.unsure {
		if k := s.files[p].kinds[gk]; k != nil {
			return k
		}
	}
	return nil
}

// file returns file p, parsed.
func (s *Set) file(p string) *file {
	f := s.files[p]
	f.once.Do(func() { f.kinds, f.err = s.parseFile(p) })
	return f
}

func (s *Set) loadUnsure() {
	s.unsureOnce.Do(func() {
		for _, p := range s.unsure {
			s.file(p)
		}
	})
}

// knowsGroup reports whether any CRD in the set serves group.
func (s *Set) knowsGroup(group string) bool {
	if s.groups[group] {
		return true
	}
	s.loadUnsure()
	for _, p := range s.unsure {
		for gk := range s.files[p].kinds {
			if gk.Group == group {
				return true
			}
		}
	}
	return false
}

// parseFile parses and compiles every CRD in file p. A CRD that does not
// compile is kept with its error, so one broken CRD only affects its own kind.
func (s *Set) parseFile(p string) (map[schema.GroupKind]*kind, error) {
	b, err := fs.ReadFile(s.fsys, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.display(p), err)
	}
	crds, err := s.decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.display(p), err)
	}
	kinds := map[schema.GroupKind]*kind{}
	for i := range crds {
		crd := &crds[i]
		if crd.Kind != "CustomResourceDefinition" || crd.Spec.Group == "" || crd.Spec.Names.Kind == "" {
			continue
		}
		gk := schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}
		k, err := compile(crd)
		if err != nil {
			k = &kind{crd: crd.Name, err: fmt.Errorf("%s: %w", s.display(p), err)}
		}
		kinds[gk] = k
	}
	return kinds, nil
}

// Prepare loads, concurrently, the schemas (CEL rules included) of every kind
// objs use, so that validating them afterwards only validates. Calling it is
// optional; Validate loads what it needs.
func (s *Set) Prepare(objs []map[string]any) {
	type want struct {
		gk      schema.GroupKind
		version string
	}
	seen := map[want]bool{}
	var wants []want
	for _, o := range objs {
		av, _ := o["apiVersion"].(string)
		k, _ := o["kind"].(string)
		gv, err := schema.ParseGroupVersion(av)
		if err != nil || k == "" {
			continue
		}
		w := want{gv.WithKind(k).GroupKind(), gv.Version}
		if !seen[w] {
			seen[w] = true
			wants = append(wants, w)
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for _, w := range wants {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if k := s.lookup(w.gk); k != nil && k.err == nil {
				if v := k.versions[w.version]; v != nil && v.structural != nil {
					v.celValidator()
				}
			}
		}()
	}
	wg.Wait()
}

func (s *Set) display(p string) string {
	if s.root == "" {
		return p
	}
	return path.Join(strings.ReplaceAll(s.root, `\`, "/"), p)
}

// compile converts every version's schema the way the API server does when it
// starts serving a CRD.
func compile(crd *apiextensionsv1.CustomResourceDefinition) (*kind, error) {
	k := &kind{
		crd:        crd.Name,
		namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
		versions:   map[string]*version{},
	}
	for i := range crd.Spec.Versions {
		v := &crd.Spec.Versions[i]
		val := v.Schema
		if val == nil || val.OpenAPIV3Schema == nil {
			// A version without a schema accepts anything (preserveUnknownFields CRDs).
			k.versions[v.Name] = &version{served: v.Served, preserveUnknown: true}
			continue
		}
		var internal apiextensions.CustomResourceValidation
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(val, &internal, nil); err != nil {
			return nil, fmt.Errorf("convert schema of %s %s: %w", crd.Name, v.Name, err)
		}
		st, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
		if err != nil {
			return nil, fmt.Errorf("schema of %s %s is not structural: %w", crd.Name, v.Name, err)
		}
		if err := structuraldefaulting.PruneDefaults(st); err != nil {
			return nil, fmt.Errorf("defaults of %s %s: %w", crd.Name, v.Name, err)
		}
		validator, _, err := validation.NewSchemaValidator(internal.OpenAPIV3Schema)
		if err != nil {
			return nil, fmt.Errorf("schema of %s %s: %w", crd.Name, v.Name, err)
		}
		k.versions[v.Name] = &version{
			served:          v.Served,
			statusSubres:    v.Subresources != nil && v.Subresources.Status != nil,
			preserveUnknown: crd.Spec.PreserveUnknownFields,
			structural:      st,
			validator:       validator,
		}
	}
	return k, nil
}

// celValidator compiles the version's CEL rules on first use.
func (v *version) celValidator() *cel.Validator {
	v.celOnce.Do(func() {
		v.cel = cel.NewValidator(v.structural, true, celconfig.PerCallLimit)
	})
	return v.cel
}

// Kinds returns the group/kinds the set can validate, sorted. It parses files
// the header scan could not index.
func (s *Set) Kinds() []schema.GroupKind {
	s.loadUnsure()
	seen := map[schema.GroupKind]bool{}
	for gk := range s.index {
		seen[gk] = true
	}
	for _, p := range s.unsure {
		for gk := range s.files[p].kinds {
			seen[gk] = true
		}
	}
	out := make([]schema.GroupKind, 0, len(seen))
	for gk := range seen {
		out = append(out, gk)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			return out[i].Group < out[j].Group
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}
