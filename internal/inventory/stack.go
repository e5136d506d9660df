package inventory

import (
	"github.com/platdev/plat/compiler"
)

// declared is what a stack file says of itself, read without compiling.
type declared struct {
	name, team, environment, costCenter, target, region string
	resources                                           []declaredResource
	waivers                                             []declaredWaiver
}

type declaredResource struct{ name, template string }

type declaredWaiver struct {
	guardrail, resource, owner, reason, expires string
	line                                        int
	lines                                       map[int]bool // lines of its fields: where diagnostics about it point
}

// declare reads the fields inventory and diff report from a parsed stack;
// missing or mistyped fields read as empty (the compiler reports them).
func declare(root *compiler.Node) declared {
	var d declared
	if root == nil {
		return d
	}
	meta, spec := root.Get("metadata"), root.Get("spec")
	d.name, d.team = str(meta.Get("name")), str(meta.Get("team"))
	d.environment, d.costCenter = str(meta.Get("environment")), str(meta.Get("costCenter"))
	d.target, d.region = str(spec.Get("target")), str(spec.Get("region"))
	if rs := spec.Get("resources"); rs != nil && rs.Kind == compiler.KindList {
		for _, r := range rs.Items {
			d.resources = append(d.resources, declaredResource{name: str(r.Get("name")), template: str(r.Get("template"))})
		}
	}
	if ws := spec.Get("waivers"); ws != nil && ws.Kind == compiler.KindList {
		for _, w := range ws.Items {
			dw := declaredWaiver{guardrail: str(w.Get("guardrail")), resource: str(w.Get("resource")),
				owner: str(w.Get("owner")), reason: str(w.Get("reason")), expires: str(w.Get("expires")),
				line: w.Pos.Line, lines: map[int]bool{w.Pos.Line: true}}
			for _, f := range w.Fields {
				dw.lines[f.KeyPos.Line] = true
				if f.Value != nil {
					dw.lines[f.Value.Pos.Line] = true
				}
			}
			d.waivers = append(d.waivers, dw)
		}
	}
	return d
}

func str(n *compiler.Node) string {
	if n == nil || n.Kind != compiler.KindString {
		return ""
	}
	return n.Str
}

// moduleOf is the module a resource's template pins under c: "" when the
// template is unknown to the catalog.
func moduleOf(c *compiler.Compiler, template string) (Module, bool) {
	if template == "" {
		return Module{}, false
	}
	t, err := c.Template(template)
	if err != nil {
		return Module{}, false
	}
	reg := c.Platform().Registry
	return Module{Namespace: reg.Namespace, Name: t.Module, System: t.System, Version: t.Version}, true
}

// Module is a registry module version a resource renders to.
type Module struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	System    string `json:"system"`
	Version   string `json:"version"`
}

// Address is NAMESPACE/NAME/SYSTEM.
func (m Module) Address() string { return m.Namespace + "/" + m.Name + "/" + m.System }
