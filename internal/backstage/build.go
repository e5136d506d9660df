package backstage

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
)

// Catalog kinds, as plat inventory names them.
const (
	CatalogEmbedded = "embedded" // the catalog shipped in the plat binary
	CatalogDir      = "dir"      // a --catalog directory
	CatalogPin      = "pin"      // a catalog version published to a plat registry
)

// CatalogID says which catalog a golden path (or a stack's resources) comes
// from. Namespace, Name and Version are set for CatalogPin.
type CatalogID struct {
	Kind      string
	Namespace string
	Name      string
	Version   string
}

// String is how annotations name the catalog: embedded, dir, or
// NAMESPACE/NAME@VERSION.
func (c CatalogID) String() string {
	if c.Kind == CatalogPin {
		return c.Namespace + "/" + c.Name + "@" + c.Version
	}
	if c.Kind == "" {
		return CatalogEmbedded
	}
	return c.Kind
}

// nameParts are the parts a golden path's entity name starts with: versions
// are left out, so a stack pinned to an older version of a catalog still
// names the catalog's golden path.
func (c CatalogID) nameParts() []string {
	switch c.Kind {
	case CatalogPin:
		return []string{c.Namespace, c.Name}
	case CatalogDir:
		return []string{"catalog"}
	}
	return []string{"plat"}
}

// Module is a registry module version: NAMESPACE/NAME/SYSTEM at Version.
type Module struct {
	Namespace, Name, System, Version string
}

// Address is NAMESPACE/NAME/SYSTEM.
func (m Module) Address() string { return m.Namespace + "/" + m.Name + "/" + m.System }

// Stack is one stack file, as far as entities need it.
type Stack struct {
	// Key identifies the stack among all given (the stack file path; the
	// registry adds owner and repository). Only names that would collide use it.
	Key string
	// File is the stack file as plat names it in diagnostics (relative).
	File                                                string
	Name, Team, Environment, CostCenter, Target, Region string
	// Catalog is the catalog the stack compiles with; its golden paths are
	// what the resources' annotations point at.
	Catalog   CatalogID
	Resources []Resource
}

// Resource is one resource of a stack.
type Resource struct {
	Name, Template string
	// Module is the module version the resource renders to (nil when the
	// template pins none); left out of the entity for a Crossplane stack.
	Module *Module
	// DependsOn names other resources of the same stack this one uses. The
	// stack file format has no way to wire one resource into another today,
	// so the compiler never sets it; it is here so entities follow once it can.
	DependsOn []string
}

// GoldenPath is one template of a catalog.
type GoldenPath struct {
	Catalog CatalogID
	// Owner is the platform team owning the catalog (a Backstage group name).
	Owner       string
	Template    string
	Description string
	Module      *Module
	// Deprecated marks a golden path whose catalog version is deprecated.
	Deprecated bool
	// Definition is the template's contract (parameters, guardrails, outputs)
	// as YAML text: the API entity's spec.definition.
	Definition string
}

// Options configure Entities.
type Options struct {
	// BaseURL is the plat registry's web address (https://registry.example.com);
	// links to module and golden-path pages are made under it. Empty: no links.
	BaseURL string
}

// MaxName is the longest metadata.name Backstage accepts.
const MaxName = 63

// Entities builds the entities of stacks and golden paths: a System per
// stack, a Resource per resource, an API per golden path. Names are unique
// per kind; see docs/backstage.md for the rules.
func Entities(stacks []Stack, paths []GoldenPath, o Options) []Entity {
	base := strings.TrimRight(o.BaseURL, "/")
	// Names first: Resources refer to their System by its final name.
	sysNames := newNamer()
	resNames := newNamer()
	apiNames := newNamer()
	for i, s := range stacks {
		sysNames.add(i, s.Key, s.Name)
		for j, r := range s.Resources {
			resNames.add(i*1_000_000+j, s.Key+"/"+r.Name, s.Name, r.Name)
		}
	}
	for i, p := range paths {
		apiNames.add(i, p.Catalog.String()+"/"+p.Template, append(p.Catalog.nameParts(), p.Template)...)
	}
	sysN, resN, apiN := sysNames.resolve(), resNames.resolve(), apiNames.resolve()
	apiByPath := map[string]string{}
	for i, p := range paths {
		apiByPath[pathKey(p.Catalog, p.Template)] = apiN[i]
	}

	var out []Entity
	for i, s := range stacks {
		owner := "group:" + s.Team
		sys := sysN[i]
		out = append(out, Entity{APIVersion: APIVersion, Kind: KindSystem,
			Metadata: Metadata{
				Name:        sys,
				Description: fmt.Sprintf("Stack %s of team %s (%s, %s), compiled by plat for %s.", s.Name, s.Team, s.Environment, orUnknown(s.Region), s.Target),
				Labels:      nonEmpty(map[string]string{LabelEnvironment: s.Environment, LabelCostCenter: s.CostCenter, LabelTarget: s.Target}),
				Annotations: nonEmpty(map[string]string{AnnotationStackFile: s.File, AnnotationStack: s.Name, AnnotationCatalog: s.Catalog.String(), AnnotationRegion: s.Region}),
				Tags:        tags(s.Environment, s.Target),
			},
			Spec: Spec{Owner: owner},
		})
		byName := map[string]string{}
		for j, r := range s.Resources {
			byName[r.Name] = resN[i*1_000_000+j]
		}
		for j, r := range s.Resources {
			e := Entity{APIVersion: APIVersion, Kind: KindResource,
				Metadata: Metadata{
					Name:        resN[i*1_000_000+j],
					Title:       s.Name + "/" + r.Name,
					Description: fmt.Sprintf("%s of stack %s, from the %s golden path.", r.Name, s.Name, r.Template),
					Annotations: map[string]string{AnnotationStackFile: s.File, AnnotationStack: s.Name, AnnotationResource: r.Name,
						AnnotationTemplate: r.Template, AnnotationCatalog: s.Catalog.String()},
				},
				Spec: Spec{Type: r.Template, Owner: owner, System: sys},
			}
			if api, ok := apiByPath[pathKey(s.Catalog, r.Template)]; ok {
				e.Metadata.Annotations[AnnotationGoldenPath] = refOf(KindAPI, api)
			}
			// A Crossplane stack renders managed resources, not the module.
			if m := r.Module; m != nil && s.Target != "crossplane" {
				e.Metadata.Annotations[AnnotationModule] = m.Address()
				e.Metadata.Annotations[AnnotationModuleVersion] = m.Version
				if base != "" {
					u := moduleURL(base, *m)
					e.Metadata.Annotations[AnnotationViewURL] = u
					e.Metadata.Links = []Link{{URL: u, Title: "Module " + m.Address() + " " + m.Version}}
				}
			}
			for _, d := range r.DependsOn {
				if n, ok := byName[d]; ok {
					e.Spec.DependsOn = append(e.Spec.DependsOn, refOf(KindResource, n))
				}
			}
			out = append(out, e)
		}
	}
	for i, p := range paths {
		lifecycle := "production"
		if p.Deprecated {
			lifecycle = "deprecated"
		}
		e := Entity{APIVersion: APIVersion, Kind: KindAPI,
			Metadata: Metadata{
				Name:        apiN[i],
				Title:       p.Template + " golden path",
				Description: p.Description,
				Annotations: map[string]string{AnnotationTemplate: p.Template, AnnotationCatalog: p.Catalog.String()},
				Tags:        []string{"golden-path"},
			},
			Spec: Spec{Type: "plat-golden-path", Lifecycle: lifecycle, Owner: "group:" + p.Owner, Definition: p.Definition},
		}
		if base != "" && p.Catalog.Kind != CatalogDir {
			u := base + "/paths/" + catalogSegment(p.Catalog) + "/" + url.PathEscape(p.Template)
			e.Metadata.Annotations[AnnotationViewURL] = u
			e.Metadata.Links = append(e.Metadata.Links, Link{URL: u, Title: "Golden path " + p.Template})
		}
		if m := p.Module; m != nil {
			e.Metadata.Annotations[AnnotationModule] = m.Address()
			e.Metadata.Annotations[AnnotationModuleVersion] = m.Version
			if base != "" {
				e.Metadata.Links = append(e.Metadata.Links, Link{URL: moduleURL(base, *m), Title: "Module " + m.Address() + " " + m.Version})
			}
		}
		out = append(out, e)
	}
	Sort(out)
	return out
}

// pathKey identifies a golden path regardless of the catalog version.
func pathKey(c CatalogID, template string) string {
	return strings.Join(append(c.nameParts(), template), "\x00")
}

// catalogSegment is the catalog's path segment in the registry's web UI:
// embedded, or NAMESPACE/NAME@VERSION escaped as one segment.
func catalogSegment(c CatalogID) string {
	if c.Kind == CatalogPin {
		return url.PathEscape(c.String())
	}
	return CatalogEmbedded
}

func moduleURL(base string, m Module) string {
	return base + "/modules/" + url.PathEscape(m.Namespace) + "/" + url.PathEscape(m.Name) + "/" + url.PathEscape(m.System) + "/" + url.PathEscape(m.Version)
}

func orUnknown(s string) string {
	if s == "" {
		return "region unknown"
	}
	return s
}

func nonEmpty(m map[string]string) map[string]string {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}

// tags keeps the values that are valid Backstage tags (lower-case words
// joined by '-', at most 63 characters), sorted and without repeats.
func tags(vs ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range vs {
		if validTag(v) && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func validTag(s string) bool {
	if s == "" || len(s) > MaxName || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// namer gives each entity of one kind a name: its parts joined by '-', or,
// when that is longer than MaxName or another entity of the kind gets the
// same name, a prefix of it and a hash of the entity's key.
type namer struct {
	order []int
	key   map[int]string
	plain map[int]string
}

func newNamer() *namer { return &namer{key: map[int]string{}, plain: map[int]string{}} }

func (n *namer) add(id int, key string, parts ...string) {
	n.order = append(n.order, id)
	n.key[id] = key
	n.plain[id] = strings.Join(parts, "-")
}

func (n *namer) resolve() map[int]string {
	count := map[string]int{}
	for _, id := range n.order {
		count[n.plain[id]]++
	}
	out := map[int]string{}
	for _, id := range n.order {
		p := n.plain[id]
		if len(p) <= MaxName && count[p] == 1 {
			out[id] = p
			continue
		}
		out[id] = hashed(p, n.key[id])
	}
	return out
}

// hashed is name cut to fit with "-" and 8 hex digits of key's SHA-256.
func hashed(name, key string) string {
	sum := sha256.Sum256([]byte(key))
	suffix := hex.EncodeToString(sum[:4])
	keep := MaxName - len(suffix) - 1
	if len(name) > keep {
		name = name[:keep]
	}
	return strings.TrimRight(name, "-_.") + "-" + suffix
}
