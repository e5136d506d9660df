package portal

import (
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/store"
)

// Stacks come from inventory pushes (`plat inventory --push`): the registry
// keeps which stacks use which module and catalog versions. A viewer sees a
// stack's uses of what it may read (the usage API's own check), and so the
// stacks that use any of it.

// stackUse is one module or catalog version a stack uses.
type stackUse struct {
	Kind                             string
	Namespace, Name, System, Version string
}

// stackRow is one stack as the inventory knows it.
type stackRow struct {
	Name       string
	Owner      string
	Repository string
	File       string
	PushedAt   time.Time
	Catalog    *stackUse
	Modules    []stackUse
	Drift      *stackDrift
}

// stacks lists the stacks the viewer may see; known is false when the store
// keeps no inventory.
func (p *Portal) stacks(r *http.Request, v *viewer) (rows []*stackRow, known bool, err error) {
	counts, err := p.svc.UseCounts(r.Context())
	if errors.Is(err, registry.ErrNoUsage) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	type ref struct{ kind, ns, name, system string }
	seen := map[ref]bool{}
	byKey := map[[4]string]*stackRow{}
	for _, c := range counts {
		k := ref{c.Kind, c.Namespace, c.Name, c.System}
		if seen[k] || !v.canRead(c.Namespace) {
			continue
		}
		seen[k] = true
		u, err := p.svc.Usage(r.Context(), v.token(c.Namespace), c.Kind, c.Namespace, c.Name, c.System)
		if err != nil {
			return nil, true, err
		}
		for _, vu := range u.Versions {
			for _, s := range vu.Stacks {
				key := [4]string{s.Owner, s.Repository, s.File, s.Stack}
				row := byKey[key]
				if row == nil {
					row = &stackRow{Name: s.Stack, Owner: s.Owner, Repository: s.Repository, File: s.File, PushedAt: s.PushedAt}
					byKey[key] = row
				}
				use := stackUse{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name, System: c.System, Version: vu.Version}
				if c.Kind == store.UseCatalog {
					row.Catalog = &use
				} else {
					row.Modules = append(row.Modules, use)
				}
			}
		}
	}
	for _, row := range byKey {
		sort.Slice(row.Modules, func(i, j int) bool {
			a, b := row.Modules[i], row.Modules[j]
			if a.Namespace+a.Name+a.System != b.Namespace+b.Name+b.System {
				return a.Namespace+"/"+a.Name+"/"+a.System < b.Namespace+"/"+b.Name+"/"+b.System
			}
			return a.Version < b.Version
		})
		row.Drift = p.driftOf(row.Name)
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Owner != b.Owner {
			return a.Owner < b.Owner
		}
		return a.Repository+a.File < b.Repository+b.File
	})
	return rows, true, nil
}

// visibleStacks returns the names of the stacks the viewer sees.
func (p *Portal) visibleStacks(r *http.Request, v *viewer) (map[string]bool, error) {
	out := map[string]bool{}
	if v.All {
		return out, nil
	}
	rows, _, err := p.stacks(r, v)
	for _, s := range rows {
		out[s.Name] = true
	}
	return out, err
}

// stacksData is the stacks page's content.
type stacksData struct {
	Known  bool
	Stacks []*stackRow
}

func (p *Portal) stacksPage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.viewer(w, r)
	if !ok {
		return
	}
	rows, known, err := p.stacks(r, v)
	if err != nil {
		p.failErr(w, r, v, "the stacks", err)
		return
	}
	p.render(w, r, v, http.StatusOK, "stacks", "Stacks", "stacks", stacksData{Known: known, Stacks: rows})
}

// stackData is a stack page's content: every pushed stack of that name.
type stackData struct {
	Name   string
	Stacks []*stackRow
	Drift  *stackDrift
}

func (p *Portal) stackPage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.viewer(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	rows, _, err := p.stacks(r, v)
	if err != nil {
		p.failErr(w, r, v, "the stacks", err)
		return
	}
	d := stackData{Name: name}
	for _, s := range rows {
		if s.Name == name {
			d.Stacks = append(d.Stacks, s)
		}
	}
	if len(d.Stacks) == 0 {
		if dr := p.driftOf(name); dr != nil && v.All {
			d.Drift = dr
		} else {
			p.fail(w, r, v, http.StatusNotFound, "Stack "+name+" was not found.")
			return
		}
	} else {
		d.Drift = d.Stacks[0].Drift
	}
	p.render(w, r, v, http.StatusOK, "stack", "Stack "+name, "stacks", d)
}
