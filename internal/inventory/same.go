package inventory

import (
	"crypto/sha256"
	"io/fs"
	"path"
	"slices"
	"sync"

	"github.com/platdev/plat/compiler"
)

// fingerprint is what a compile reads from a catalog: platform.cue, the list
// of template names (diagnostics suggest and list them) and each template's
// template.cue. A stack compiles to the same result under two catalogs whose
// fingerprints agree on platform.cue, the names, and the templates it uses,
// so plat diff compiles such a stack once.
type fingerprint struct {
	ok        bool
	platform  [32]byte
	names     []string
	templates map[string][32]byte
}

func takeFingerprint(fsys fs.FS) fingerprint {
	fp := fingerprint{templates: map[string][32]byte{}}
	b, err := fs.ReadFile(fsys, compiler.PlatformFile)
	if err != nil {
		return fp
	}
	fp.platform = sha256.Sum256(b)
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fp
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(e.Name(), compiler.TemplateFile))
		if err != nil {
			continue
		}
		fp.names = append(fp.names, e.Name())
		fp.templates[e.Name()] = sha256.Sum256(b)
	}
	slices.Sort(fp.names)
	fp.ok = true
	return fp
}

// sameFor reports whether a stack using templates compiles alike under the
// catalogs of a and b.
func sameFor(a, b fingerprint, templates []declaredResource) bool {
	if !a.ok || !b.ok || a.platform != b.platform || !slices.Equal(a.names, b.names) {
		return false
	}
	for _, r := range templates {
		ha, inA := a.templates[r.template]
		hb, inB := b.templates[r.template]
		if inA != inB || ha != hb {
			return false
		}
	}
	return true
}

// fingerprints takes each catalog's fingerprint once, for every worker.
type fingerprints struct {
	mu sync.Mutex
	m  map[string]*fingerprintEntry
}

type fingerprintEntry struct {
	once sync.Once
	fp   fingerprint
}

func (f *fingerprints) of(c Catalog) fingerprint {
	f.mu.Lock()
	if f.m == nil {
		f.m = map[string]*fingerprintEntry{}
	}
	e, ok := f.m[c.key()]
	if !ok {
		e = &fingerprintEntry{}
		f.m[c.key()] = e
	}
	f.mu.Unlock()
	e.once.Do(func() { e.fp = takeFingerprint(c.fsys) })
	return e.fp
}
