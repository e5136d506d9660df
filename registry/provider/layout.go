package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/semver"
)

// Package is one version of one provider found in a layout, with an archive
// per platform.
type Package struct {
	Addr    Addr
	Version string
	// Archives are sorted by platform.
	Archives []Archive
}

// Archive is one platform's provider archive.
type Archive struct {
	Platform string
	// Source is the zip it was read from, or the directory it was packed from.
	Source string
	Data   []byte
	// Declared are the hashes the layout lists for it (VERSION.json of the
	// packed layout); nil when the layout lists none.
	Declared []string
	Checked
}

// ReadLayout reads the provider packages under dir, which is either
//
//   - the packed layout `tofu providers mirror` writes: HOST/NS/TYPE/ holding
//     index.json, VERSION.json for each version and the zips those name; or
//   - a filesystem mirror: HOST/NS/TYPE/VERSION/OS_ARCH/ directories holding an
//     unpacked package (zipped here with Zip), or HOST/NS/TYPE/ holding zips
//     named terraform-provider-TYPE_VERSION_OS_ARCH.zip.
//
// Every archive is checked with Check; one whose hashes differ from those its
// VERSION.json declares (zh: and h1:; other schemes are not checked) is
// refused: it was changed after the mirror was written. Errors name the file.
// Packages come sorted by address, then by version.
func ReadLayout(dir string, l Limits) ([]Package, error) {
	var out []Package
	hosts, err := subdirs(dir, "a provider hostname such as registry.opentofu.org")
	if err != nil {
		return nil, err
	}
	for _, host := range hosts {
		nss, err := subdirs(filepath.Join(dir, host), "a provider namespace")
		if err != nil {
			return nil, err
		}
		for _, ns := range nss {
			types, err := subdirs(filepath.Join(dir, host, ns), "a provider type")
			if err != nil {
				return nil, err
			}
			for _, typ := range types {
				a := Addr{Hostname: host, Namespace: ns, Type: typ}
				tdir := filepath.Join(dir, host, ns, typ)
				if err := CheckAddr(a); err != nil {
					return nil, fmt.Errorf("%s: %w", tdir, err)
				}
				var pkgs []Package
				if _, err := os.Stat(filepath.Join(tdir, "index.json")); err == nil {
					pkgs, err = readPacked(tdir, a, l)
					if err != nil {
						return nil, err
					}
				} else {
					pkgs, err = readUnpacked(tdir, a, l)
					if err != nil {
						return nil, err
					}
				}
				out = append(out, pkgs...)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w: no providers (want HOST/NAMESPACE/TYPE/ directories, as tofu providers mirror writes)", dir, ErrInvalid)
	}
	return out, nil
}

// subdirs lists the directories in dir, refusing anything else.
func subdirs(dir, what string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("%s: %w: want a directory named after %s", p, ErrInvalid, what)
		}
		out = append(out, e.Name())
	}
	return out, nil
}

// indexDoc is index.json of the packed layout (and of the mirror protocol).
type indexDoc struct {
	Versions map[string]struct{} `json:"versions"`
}

// versionDoc is VERSION.json of the packed layout (and of the protocol).
type versionDoc struct {
	Archives map[string]struct {
		URL    string   `json:"url"`
		Hashes []string `json:"hashes"`
	} `json:"archives"`
}

func readPacked(tdir string, a Addr, l Limits) ([]Package, error) {
	var idx indexDoc
	if err := decodeFile(filepath.Join(tdir, "index.json"), &idx); err != nil {
		return nil, err
	}
	used := map[string]bool{"index.json": true}
	var out []Package
	for _, v := range sortedVersions(idx.Versions) {
		if err := CheckVersion(v); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(tdir, "index.json"), err)
		}
		vfile := filepath.Join(tdir, v+".json")
		used[v+".json"] = true
		var doc versionDoc
		if err := decodeFile(vfile, &doc); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w: missing, but index.json lists version %s", vfile, ErrInvalid, v)
		} else if err != nil {
			return nil, err
		}
		if len(doc.Archives) == 0 {
			return nil, fmt.Errorf("%s: %w: no archives", vfile, ErrInvalid)
		}
		pkg := Package{Addr: a, Version: v}
		for _, plat := range slices.Sorted(maps.Keys(doc.Archives)) {
			ar := doc.Archives[plat]
			if err := CheckPlatform(plat); err != nil {
				return nil, fmt.Errorf("%s: %w", vfile, err)
			}
			if ar.URL == "" || strings.ContainsAny(ar.URL, "/\\?#:") || ar.URL == "." || ar.URL == ".." {
				return nil, fmt.Errorf("%s: %s: %w: url %q: want the name of a zip beside it", vfile, plat, ErrInvalid, ar.URL)
			}
			zpath := filepath.Join(tdir, ar.URL)
			used[ar.URL] = true
			data, err := readBounded(zpath, l.MaxZip)
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s: %s: %w: %s is missing", vfile, plat, ErrInvalid, zpath)
			} else if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", vfile, plat, err)
			}
			c, err := Check(data, a.Type, l)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", zpath, err)
			}
			if err := matchDeclared(c.Hashes, ar.Hashes); err != nil {
				return nil, fmt.Errorf("%s: %s: %s: %w", vfile, plat, ar.URL, err)
			}
			pkg.Archives = append(pkg.Archives, Archive{Platform: plat, Source: zpath, Data: data, Declared: ar.Hashes, Checked: c})
		}
		out = append(out, pkg)
	}
	ents, err := os.ReadDir(tdir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !used[e.Name()] {
			return nil, fmt.Errorf("%s: %w: not named by index.json or a VERSION.json", filepath.Join(tdir, e.Name()), ErrInvalid)
		}
	}
	return out, nil
}

func readUnpacked(tdir string, a Addr, l Limits) ([]Package, error) {
	ents, err := os.ReadDir(tdir)
	if err != nil {
		return nil, err
	}
	byVersion := map[string]*Package{}
	pkg := func(v string) *Package {
		p := byVersion[v]
		if p == nil {
			p = &Package{Addr: a, Version: v}
			byVersion[v] = p
		}
		return p
	}
	for _, e := range ents {
		p := filepath.Join(tdir, e.Name())
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			v, plat, ok := ParseArchiveName(a.Type, e.Name())
			if !ok {
				return nil, fmt.Errorf("%s: %w: want a VERSION directory or %s", p, ErrInvalid, ArchiveName(a.Type, "VERSION", "OS_ARCH"))
			}
			data, err := readBounded(p, l.MaxZip)
			if err != nil {
				return nil, err
			}
			c, err := Check(data, a.Type, l)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			pk := pkg(v)
			pk.Archives = append(pk.Archives, Archive{Platform: plat, Source: p, Data: data, Checked: c})
			continue
		}
		v := e.Name()
		if err := CheckVersion(v); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		plats, err := subdirs(p, "a platform such as linux_amd64")
		if err != nil {
			return nil, err
		}
		for _, plat := range plats {
			pdir := filepath.Join(p, plat)
			if err := CheckPlatform(plat); err != nil {
				return nil, fmt.Errorf("%s: %w", pdir, err)
			}
			data, err := Zip(pdir, l)
			if err != nil {
				return nil, err
			}
			c, err := Check(data, a.Type, l)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", pdir, err)
			}
			pk := pkg(v)
			pk.Archives = append(pk.Archives, Archive{Platform: plat, Source: pdir, Data: data, Checked: c})
		}
	}
	var out []Package
	for _, v := range sortedVersions(byVersion) {
		p := byVersion[v]
		slices.SortFunc(p.Archives, func(x, y Archive) int { return strings.Compare(x.Platform, y.Platform) })
		for i := 1; i < len(p.Archives); i++ {
			if p.Archives[i].Platform == p.Archives[i-1].Platform {
				return nil, fmt.Errorf("%s and %s: %w: two archives of %s %s for %s", p.Archives[i-1].Source, p.Archives[i].Source, ErrInvalid, a, v, p.Archives[i].Platform)
			}
		}
		out = append(out, *p)
	}
	return out, nil
}

// MatchDeclared checks computed hashes against those a mirror declares for
// the archive: every declared zh: and h1: hash must be the computed one.
// Other schemes are not checked (tofu accepts a package when any one hash it
// can check matches).
func MatchDeclared(h Hashes, declared []string) error { return matchDeclared(h, declared) }

func matchDeclared(h Hashes, declared []string) error {
	for _, d := range declared {
		var want string
		switch {
		case strings.HasPrefix(d, "zh:"):
			want = h.ZH
		case strings.HasPrefix(d, "h1:"):
			want = h.H1
		default:
			continue
		}
		if d != want {
			return fmt.Errorf("%w: archive does not match its declared hash %s (it hashes to %s): it was changed after its hashes were written", ErrInvalid, d, want)
		}
	}
	return nil
}

func readBounded(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", p, ErrTooLarge, max)
	}
	return data, nil
}

// decodeFile decodes the JSON file p into v, refusing unknown fields and
// trailing data; errors say file:line:col.
func decodeFile(p string, v any) error {
	data, err := readBounded(p, 1<<20)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON document")
	}
	if err == nil {
		return nil
	}
	off := dec.InputOffset()
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(data))
		err = errors.New("unexpected end of file")
	}
	line, col := lineCol(data, off)
	return fmt.Errorf("%s:%d:%d: %w: %s", p, line, col, ErrInvalid, strings.TrimPrefix(err.Error(), "json: "))
}

func lineCol(data []byte, off int64) (int, int) {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// sortedVersions returns m's keys in semantic-version order (invalid ones
// last, by text).
func sortedVersions[V any](m map[string]V) []string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int {
		va, vb := "v"+a, "v"+b
		if semver.IsValid(va) && semver.IsValid(vb) {
			return semver.Compare(va, vb)
		}
		return 0
	})
	return keys
}
