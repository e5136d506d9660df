package portal

import (
	"errors"
	"net/http"
	"time"

	"github.com/platdev/plat/registry"
)

// Stacks come from inventory pushes (`plat inventory --push`): the registry
// keeps each pushed stack whole (owner team, environment, catalog, resources
// with their templates and module versions, waivers). A viewer sees the
// stacks that use something it may read (registry.Service.VisibleStacks: the
// pinned catalog's namespace or a resource's module namespace); of those, the
// resources of modules it may not read are left out and counted.

// expiringDays is how near its expiry a waiver is marked as expiring.
const expiringDays = 14

// stackRow is one pushed stack as a page shows it.
type stackRow struct {
	registry.PushedStack
	Templates []stackTemplate
	Waivers   []stackWaiver
	Drift     *stackDrift
}

// stackTemplate is one resource and the golden-path template it uses.
type stackTemplate struct {
	Resource, Template string
	TemplateURL        string // "" when the catalog is not one the registry shows, or lacks the template
	Module             *registry.StackModule
}

// stackWaiver is one waiver with its expiry judged today.
type stackWaiver struct {
	registry.StackWaiver
	// State is "expired", "expiring" (within expiringDays), "valid" or
	// "unknown" (expires is not a date).
	State    string
	DaysLeft int
}

// CatalogText names the stack's catalog.
func (s *stackRow) CatalogText() string {
	switch c := s.Catalog; c.Kind {
	case "pin":
		return c.Namespace + "/" + c.Name + " " + c.Version
	case "":
		return "-"
	default:
		return c.Kind
	}
}

// Expired counts the expired waivers.
func (s *stackRow) Expired() int { return s.count("expired") }

// Expiring counts the waivers expiring within expiringDays.
func (s *stackRow) Expiring() int { return s.count("expiring") }

func (s *stackRow) count(state string) int {
	n := 0
	for _, w := range s.Waivers {
		if w.State == state {
			n++
		}
	}
	return n
}

// newStackRow prepares a pushed stack for the pages; now decides expiry.
func (p *Portal) newStackRow(ps registry.PushedStack, now time.Time) *stackRow {
	row := &stackRow{PushedStack: ps, Drift: p.driftOf(ps.Name)}
	for _, r := range ps.Resources {
		t := stackTemplate{Resource: r.Name, Template: r.Template, Module: r.Module}
		// A template the stack's catalog knows (it pins a module) links to
		// its golden-path page.
		if r.Template != "" && r.Module != nil {
			switch c := ps.Catalog; c.Kind {
			case "embedded":
				t.TemplateURL = "/paths/embedded/" + urlPathEscape(r.Template)
			case "pin":
				t.TemplateURL = "/paths/" + urlPathEscape(c.Namespace) + "/" + urlPathEscape(c.Name+"@"+c.Version) + "/" + urlPathEscape(r.Template)
			}
		}
		row.Templates = append(row.Templates, t)
	}
	for _, w := range ps.Waivers {
		row.Waivers = append(row.Waivers, judgeWaiver(w, now))
	}
	return row
}

// judgeWaiver decides a waiver's state on now's day (UTC): its expires day
// is the last day it counts.
func judgeWaiver(w registry.StackWaiver, now time.Time) stackWaiver {
	sw := stackWaiver{StackWaiver: w, State: "unknown"}
	day, err := time.Parse("2006-01-02", w.Expires)
	if err != nil {
		return sw
	}
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	sw.DaysLeft = int(day.Sub(today).Hours() / 24)
	switch {
	case sw.DaysLeft < 0:
		sw.State = "expired"
	case sw.DaysLeft <= expiringDays:
		sw.State = "expiring"
	default:
		sw.State = "valid"
	}
	return sw
}

// stacks lists the stacks the viewer may see; known is false when the store
// keeps no inventory.
func (p *Portal) stacks(r *http.Request, v *viewer) (rows []*stackRow, known bool, err error) {
	var readable func(string) bool
	if !v.All {
		readable = v.canRead
	}
	kept, err := p.svc.VisibleStacks(r.Context(), readable)
	if errors.Is(err, registry.ErrNoUsage) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	now := time.Now()
	for _, ps := range kept {
		rows = append(rows, p.newStackRow(ps, now))
	}
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
