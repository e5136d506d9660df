package compiler

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Encoders of cost estimates: text, JSON (schema plat.cost/v1, docs/cost.md)
// and Markdown, and of the monthly delta against a base (plat.cost-delta/v1).

// CostSchemaVersion names the JSON schema of CostReport.
const CostSchemaVersion = "plat.cost/v1"

// CostDeltaSchemaVersion names the JSON schema of CostDelta.
const CostDeltaSchemaVersion = "plat.cost-delta/v1"

// CostReport is the estimate of a set of stacks, with totals per team and per
// environment.
type CostReport struct {
	SchemaVersion string       `json:"schemaVersion"`
	Currency      string       `json:"currency"`
	HoursPerMonth int          `json:"hoursPerMonth"`
	Stacks        []*StackCost `json:"stacks"`
	// NotEstimated lists the stack files whose estimate is missing because
	// they have errors (see the diagnostics).
	NotEstimated []string    `json:"notEstimated"`
	Teams        []CostTotal `json:"teams"`
	Environments []CostTotal `json:"environments"`
	Monthly      float64     `json:"monthly"`
}

// CostTotal is the monthly total of the stacks of one team or environment.
type CostTotal struct {
	Name    string  `json:"name"`
	Stacks  int     `json:"stacks"`
	Monthly float64 `json:"monthly"`
}

// NewCostReport builds the report of costs; srcs are the stack files asked
// about, so that those without an estimate are listed.
func NewCostReport(srcs []Source, costs []*StackCost) *CostReport {
	r := &CostReport{SchemaVersion: CostSchemaVersion, Currency: "USD", HoursPerMonth: HoursPerMonth,
		Stacks: []*StackCost{}, NotEstimated: []string{}, Teams: []CostTotal{}, Environments: []CostTotal{}}
	done := map[string]bool{}
	teams, envs := map[string]*CostTotal{}, map[string]*CostTotal{}
	var total float64
	for _, c := range costs {
		r.Stacks = append(r.Stacks, c)
		done[c.Source] = true
		for _, g := range []struct {
			m    map[string]*CostTotal
			name string
		}{{teams, c.Team}, {envs, c.Environment}} {
			t := g.m[g.name]
			if t == nil {
				t = &CostTotal{Name: g.name}
				g.m[g.name] = t
			}
			t.Stacks++
			t.Monthly = cents(t.Monthly + c.Monthly)
		}
		total += c.Monthly
	}
	for _, s := range srcs {
		if !done[s.Name] {
			r.NotEstimated = append(r.NotEstimated, s.Name)
		}
	}
	r.Teams, r.Environments = sortedTotals(teams), sortedTotals(envs)
	r.Monthly = cents(total)
	return r
}

func sortedTotals(m map[string]*CostTotal) []CostTotal {
	out := make([]CostTotal, 0, len(m))
	for _, t := range m {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// WriteJSON writes the report as one JSON document.
func (r *CostReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func quantity(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func price(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.Contains(s, ".") || len(s)-strings.Index(s, ".") < 3 {
		s = fmt.Sprintf("%.2f", x)
	}
	return "$" + s
}

func (it CostItem) formula() string {
	unit := it.Unit
	if unit == "hour" {
		return fmt.Sprintf("%s x %d h x %s/h", quantity(it.Quantity), HoursPerMonth, price(it.UnitPrice))
	}
	return fmt.Sprintf("%s %s x %s", quantity(it.Quantity), unit, price(it.UnitPrice))
}

func assumptionText(a Assumption) string {
	return fmt.Sprintf("%s = %v (%s)", a.Name, a.Value, map[string]string{"default": "template default", "stack": "set in the stack"}[a.Source])
}

// WriteText writes the report for people: each stack with its resources and
// their items, assumptions and what is not priced, then the totals.
func (r *CostReport) WriteText(w io.Writer) {
	bw := bufio.NewWriter(w) // one write, not one per line
	defer bw.Flush()
	w = bw
	for _, s := range r.Stacks {
		fmt.Fprintf(w, "%s (%s): %s a month; %s, %s, %s, %s\n", s.Stack, HeaderName(s.Source), Money(s.Monthly), s.Team, s.Environment, s.Target, s.Region)
		for _, res := range s.Resources {
			if !res.Priced {
				fmt.Fprintf(w, "  %s (%s): not priced: the template has no cost model\n", res.Resource, res.Template)
				continue
			}
			fmt.Fprintf(w, "  %s (%s): %s\n", res.Resource, res.Template, Money(res.Monthly))
			for _, it := range res.Items {
				mark := ""
				if it.Assumed {
					mark = " (assumed usage)"
				}
				fmt.Fprintf(w, "    %s: %s = %s%s\n", it.What, it.formula(), Money(it.Monthly), mark)
			}
			for _, a := range res.Assumptions {
				fmt.Fprintf(w, "    assumed: %s\n", assumptionText(a))
			}
			if len(res.Unpriced) > 0 {
				fmt.Fprintf(w, "    not priced: %s\n", strings.Join(res.Unpriced, "; "))
			}
		}
		for _, b := range s.Budgets {
			state := "within"
			if b.Over {
				state = "OVER"
			}
			fmt.Fprintf(w, "  budget (%s %s): %s, %s\n", b.Scope, b.Name, Money(b.Limit), state)
		}
	}
	for _, f := range r.NotEstimated {
		fmt.Fprintf(w, "%s: not estimated (it has errors)\n", HeaderName(f))
	}
	if len(r.Stacks) > 1 || len(r.NotEstimated) > 0 {
		for _, g := range []struct {
			title string
			ts    []CostTotal
		}{{"team", r.Teams}, {"environment", r.Environments}} {
			for _, t := range g.ts {
				fmt.Fprintf(w, "total for %s %s: %s a month (%d %s)\n", g.title, t.Name, Money(t.Monthly), t.Stacks, pluralize(t.Stacks, "stack"))
			}
		}
	}
	fmt.Fprintf(w, "total: %s a month (%d %s; USD, on-demand list prices, %d hours a month)\n", Money(r.Monthly), len(r.Stacks), pluralize(len(r.Stacks), "stack"), HoursPerMonth)
}

func pluralize(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

func mdCell(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }

// WriteMarkdown writes the report as Markdown (a pull request comment or a job
// summary): a table of stacks, one of resources per stack, and the totals.
func (r *CostReport) WriteMarkdown(w io.Writer) {
	bw := bufio.NewWriter(w) // one write, not one per line
	defer bw.Flush()
	w = bw
	fmt.Fprintln(w, "## Monthly cost estimate")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| stack | team | environment | target | region | monthly |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | ---: |")
	for _, s := range r.Stacks {
		over := ""
		for _, b := range s.Budgets {
			if b.Over {
				over += fmt.Sprintf(" (over the %s budget of %s)", b.Scope, Money(b.Limit))
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s%s |\n", mdCell(s.Stack), mdCell(s.Team), s.Environment, s.Target, s.Region, Money(s.Monthly), over)
	}
	for _, f := range r.NotEstimated {
		fmt.Fprintf(w, "| %s | | | | | not estimated (errors) |\n", mdCell(HeaderName(f)))
	}
	fmt.Fprintf(w, "| **total** | | | | | **%s** |\n", Money(r.Monthly))
	for _, s := range r.Stacks {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "### %s (`%s`)\n\n", mdCell(s.Stack), mdCell(HeaderName(s.Source)))
		fmt.Fprintln(w, "| resource | template | priced | monthly |")
		fmt.Fprintln(w, "| --- | --- | --- | ---: |")
		var notes []string
		for _, res := range s.Resources {
			if !res.Priced {
				fmt.Fprintf(w, "| %s | %s | not priced | |\n", mdCell(res.Resource), mdCell(res.Template))
				continue
			}
			var what []string
			for _, it := range res.Items {
				x := it.What + ": " + it.formula()
				if it.Assumed {
					x += " (assumed)"
				}
				what = append(what, x)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", mdCell(res.Resource), mdCell(res.Template), mdCell(strings.Join(what, "; ")), Money(res.Monthly))
			for _, a := range res.Assumptions {
				notes = append(notes, fmt.Sprintf("%s assumes %s", res.Resource, assumptionText(a)))
			}
			if len(res.Unpriced) > 0 {
				notes = append(notes, fmt.Sprintf("%s leaves out %s", res.Resource, strings.Join(res.Unpriced, ", ")))
			}
		}
		if len(notes) > 0 {
			fmt.Fprintln(w)
			for _, n := range notes {
				fmt.Fprintf(w, "- %s\n", mdCell(n))
			}
		}
	}
	if len(r.Stacks) > 1 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| total for | stacks | monthly |")
		fmt.Fprintln(w, "| --- | ---: | ---: |")
		for _, t := range r.Teams {
			fmt.Fprintf(w, "| team %s | %d | %s |\n", mdCell(t.Name), t.Stacks, Money(t.Monthly))
		}
		for _, t := range r.Environments {
			fmt.Fprintf(w, "| environment %s | %d | %s |\n", t.Name, t.Stacks, Money(t.Monthly))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "USD a month at on-demand list prices from the catalog, %d hours a month.\n", HoursPerMonth)
}

// CostDelta is the monthly change per stack between a base and the stacks
// under review, matched by stack name.
type CostDelta struct {
	SchemaVersion string           `json:"schemaVersion"`
	Base          string           `json:"base"`
	Stacks        []StackCostDelta `json:"stacks"`
	BaseMonthly   float64          `json:"baseMonthly"`
	Monthly       float64          `json:"monthly"`
	Delta         float64          `json:"delta"`
}

// StackCostDelta is one stack's change. Status is added, removed, changed or
// unchanged; BaseFile or File is empty for an added or removed stack.
type StackCostDelta struct {
	Stack       string  `json:"stack"`
	File        string  `json:"file,omitempty"`
	BaseFile    string  `json:"baseFile,omitempty"`
	Status      string  `json:"status"`
	BaseMonthly float64 `json:"baseMonthly"`
	Monthly     float64 `json:"monthly"`
	Delta       float64 `json:"delta"`
}

// NewCostDelta compares head with base, stack by stack.
func NewCostDelta(baseName string, base, head []*StackCost) *CostDelta {
	d := &CostDelta{SchemaVersion: CostDeltaSchemaVersion, Base: baseName, Stacks: []StackCostDelta{}}
	byName := map[string]*StackCost{}
	for _, b := range base {
		byName[b.Stack] = b
	}
	seen := map[string]bool{}
	for _, h := range head {
		sd := StackCostDelta{Stack: h.Stack, File: h.Source, Monthly: h.Monthly, Status: "added"}
		if b, ok := byName[h.Stack]; ok {
			sd.BaseFile, sd.BaseMonthly = b.Source, b.Monthly
			sd.Status = "changed"
			if b.Monthly == h.Monthly {
				sd.Status = "unchanged"
			}
		}
		seen[h.Stack] = true
		sd.Delta = cents(sd.Monthly - sd.BaseMonthly)
		d.Stacks = append(d.Stacks, sd)
	}
	for _, b := range base {
		if !seen[b.Stack] {
			d.Stacks = append(d.Stacks, StackCostDelta{Stack: b.Stack, BaseFile: b.Source, Status: "removed", BaseMonthly: b.Monthly, Delta: -b.Monthly})
		}
	}
	sort.SliceStable(d.Stacks, func(i, j int) bool { return d.Stacks[i].Stack < d.Stacks[j].Stack })
	var bt, ht float64
	for _, s := range d.Stacks {
		bt += s.BaseMonthly
		ht += s.Monthly
	}
	d.BaseMonthly, d.Monthly, d.Delta = cents(bt), cents(ht), cents(ht-bt)
	return d
}

func signed(x float64) string {
	if x > 0 {
		return "+" + Money(x)
	}
	if x == 0 {
		return Money(0)
	}
	return Money(x)
}

// WriteText writes the delta as a table for people.
func (d *CostDelta) WriteText(w io.Writer) {
	bw := bufio.NewWriter(w) // one write, not one per line
	defer bw.Flush()
	w = bw
	fmt.Fprintf(w, "monthly cost against %s:\n", d.Base)
	for _, s := range d.Stacks {
		fmt.Fprintf(w, "  %s: %s -> %s (%s, %s)\n", s.Stack, Money(s.BaseMonthly), Money(s.Monthly), signed(s.Delta), s.Status)
	}
	fmt.Fprintf(w, "total: %s -> %s (%s a month)\n", Money(d.BaseMonthly), Money(d.Monthly), signed(d.Delta))
}

// WriteMarkdown writes the delta as a Markdown table (a pull request comment).
func (d *CostDelta) WriteMarkdown(w io.Writer) {
	bw := bufio.NewWriter(w) // one write, not one per line
	defer bw.Flush()
	w = bw
	fmt.Fprintf(w, "## Monthly cost change against `%s`\n\n", mdCell(d.Base))
	fmt.Fprintln(w, "| stack | status | before | after | change |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: |")
	for _, s := range d.Stacks {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", mdCell(s.Stack), s.Status, Money(s.BaseMonthly), Money(s.Monthly), signed(s.Delta))
	}
	fmt.Fprintf(w, "| **total** | | **%s** | **%s** | **%s** |\n", Money(d.BaseMonthly), Money(d.Monthly), signed(d.Delta))
	fmt.Fprintln(w)
	fmt.Fprintf(w, "USD a month at on-demand list prices from the catalog, %d hours a month.\n", HoursPerMonth)
}

// WriteJSON writes the delta as one JSON document.
func (d *CostDelta) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
