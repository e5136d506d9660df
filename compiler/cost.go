package compiler

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"cuelang.org/go/cue"
)

// Cost estimates (docs/cost.md). A template's cost field says, in CUE, how its
// monthly cost follows from its parameters and usage assumptions; the compiler
// evaluates it for each resource from the typed stack, before anything is
// rendered, so both targets give the same figures.

// HoursPerMonth is how many hours a month an item priced by the hour runs
// (#HoursPerMonth in schemas/template.cue).
const HoursPerMonth = 730

// IDBudget is the org guardrail a stack over its monthly budget breaks.
const IDBudget = "org.budget"

// IDCostCatalog is the diagnostic of a cost model that cannot be evaluated: a
// missing price entry, an unknown size. It names the template and parameter.
const IDCostCatalog = "catalog.cost"

// Budgets are the platform's monthly budgets in USD: the most one stack of an
// environment, or of a team, may cost.
type Budgets struct {
	Environment map[string]float64 `json:"environment,omitempty"`
	Team        map[string]float64 `json:"team,omitempty"`
}

// StackCost is the monthly estimate of one stack.
type StackCost struct {
	Stack       string `json:"stack"`
	Source      string `json:"file"`
	Team        string `json:"team"`
	Environment string `json:"environment"`
	Target      string `json:"target"`
	Region      string `json:"region"`
	// Monthly is the stack's estimate in USD, rounded to cents.
	Monthly   float64         `json:"monthly"`
	Resources []*ResourceCost `json:"resources"`
	// Budgets are the limits that apply to the stack, if any.
	Budgets []BudgetCheck `json:"budgets,omitempty"`
}

// BudgetCheck is one budget that applies to a stack.
type BudgetCheck struct {
	// Scope is "environment" or "team"; Name the environment or team.
	Scope string  `json:"scope"`
	Name  string  `json:"name"`
	Limit float64 `json:"limit"`
	Over  bool    `json:"over"`
}

// ResourceCost is the monthly estimate of one resource.
type ResourceCost struct {
	Resource string `json:"resource"`
	Template string `json:"template"`
	// Priced is false when the template has no cost model; Monthly is then 0
	// and the resource is listed as not priced, never as free.
	Priced  bool       `json:"priced"`
	Monthly float64    `json:"monthly"`
	Items   []CostItem `json:"items"`
	// Assumptions are the usage assumptions behind assumed items.
	Assumptions []Assumption `json:"assumptions"`
	// Unpriced lists what the resource may also cost that is left out.
	Unpriced []string `json:"unpriced"`

	exact float64 // Monthly before rounding
}

// CostItem is one priced line.
type CostItem struct {
	What      string   `json:"what"`
	Unit      string   `json:"unit"`
	Quantity  float64  `json:"quantity"`
	UnitPrice float64  `json:"unitPrice"`
	Monthly   float64  `json:"monthly"`
	PricedBy  []string `json:"pricedBy"`
	Assumed   bool     `json:"assumed"`
}

// Assumption is one usage assumption and where its value comes from.
type Assumption struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
	// Source is "default" (the template's assumption) or "stack" (set under
	// usage: in the stack file).
	Source string `json:"source"`
	Doc    string `json:"doc,omitempty"`
}

// cents rounds dollars to cents.
func cents(x float64) float64 { return math.Round(x*100) / 100 }

var (
	pathCost      = cue.MakePath(cue.Str("cost"))
	pathCostUsage = cue.MakePath(cue.Str("cost"), cue.Str("usage"))
	pathItems     = cue.MakePath(cue.Str("items"))
	pathUnpriced  = cue.MakePath(cue.Str("unpriced"))
	pathMonthly   = cue.MakePath(cue.Str("monthly"))
	pathUsage     = cue.MakePath(cue.Str("usage"))
	pathWhat      = cue.MakePath(cue.Str("what"))
	pathUnit      = cue.MakePath(cue.Str("unit"))
	pathQuantity  = cue.MakePath(cue.Str("quantity"))
	pathUnitPrice = cue.MakePath(cue.Str("unitPrice"))
	pathPricedBy  = cue.MakePath(cue.Str("pricedBy"))
	pathAssumed   = cue.MakePath(cue.Str("assumed"))
)

// evalCost reads the cost model of an evaluated resource v of template t.
// usageSet names the usage fields the stack set. A model that cannot be
// evaluated (a missing price entry, an unknown size) is an error naming the
// template, the item and the parameters that choose its price.
//
// It reads each member by its path rather than decoding structs: v is already
// evaluated, and cue's Decode sorts every struct's fields and builds an
// evaluation context per value, which made reading the estimate cost more
// than computing it (BENCHMARKS.md, cost).
func evalCost(t *Template, v cue.Value, region string, usageSet map[string]bool) (*ResourceCost, error) {
	rc := &ResourceCost{Template: t.Name, Items: []CostItem{}, Assumptions: []Assumption{}, Unpriced: []string{}}
	cv := v.LookupPath(pathCost)
	if !cv.Exists() {
		return rc, nil
	}
	rc.Priced = true
	it, err := cv.LookupPath(pathItems).List()
	if err != nil {
		return nil, fmt.Errorf("template %s: cost.items: %s", t.Name, errorText(err))
	}
	for i := 0; it.Next(); i++ {
		iv := it.Value()
		item, err := readItem(iv)
		if err != nil {
			if up := iv.LookupPath(pathUnitPrice); up.Err() != nil || up.Validate(cue.Concrete(true)) != nil {
				return nil, noPrice(t, v, iv, i, region)
			}
			return nil, fmt.Errorf("template %s: cost.items[%d]: %s", t.Name, i, errorText(err))
		}
		rc.Items = append(rc.Items, item)
	}
	if rc.Unpriced, err = readStrings(cv.LookupPath(pathUnpriced)); err != nil {
		return nil, fmt.Errorf("template %s: cost.unpriced: %s", t.Name, errorText(err))
	}
	if rc.exact, err = cv.LookupPath(pathMonthly).Float64(); err != nil {
		return nil, fmt.Errorf("template %s: cost.monthly: %s", t.Name, errorText(err))
	}
	rc.Monthly = cents(rc.exact)
	if uv := cv.LookupPath(pathUsage); uv.Exists() {
		fi, err := uv.Fields()
		if err == nil {
			for fi.Next() {
				name := fi.Selector().Unquoted()
				a := Assumption{Name: name, Value: goValue(fi.Value()), Source: "default"}
				if usageSet[name] {
					a.Source = "stack"
				}
				for _, d := range fi.Value().Doc() {
					a.Doc = strings.TrimSpace(strings.Join(strings.Fields(d.Text()), " "))
				}
				rc.Assumptions = append(rc.Assumptions, a)
			}
		}
		sort.Slice(rc.Assumptions, func(i, j int) bool { return rc.Assumptions[i].Name < rc.Assumptions[j].Name })
	}
	return rc, nil
}

// readItem reads one evaluated #CostItem; its monthly is rounded to cents.
func readItem(iv cue.Value) (CostItem, error) {
	var item CostItem
	var err error
	if item.What, err = iv.LookupPath(pathWhat).String(); err != nil {
		return item, err
	}
	if item.Unit, err = iv.LookupPath(pathUnit).String(); err != nil {
		return item, err
	}
	if item.Quantity, err = iv.LookupPath(pathQuantity).Float64(); err != nil {
		return item, err
	}
	if item.UnitPrice, err = iv.LookupPath(pathUnitPrice).Float64(); err != nil {
		return item, err
	}
	if item.Monthly, err = iv.LookupPath(pathMonthly).Float64(); err != nil {
		return item, err
	}
	if item.PricedBy, err = readStrings(iv.LookupPath(pathPricedBy)); err != nil {
		return item, err
	}
	if item.Assumed, err = iv.LookupPath(pathAssumed).Bool(); err != nil {
		return item, err
	}
	item.Monthly = cents(item.Monthly)
	return item, nil
}

// readStrings reads a list of strings; never nil.
func readStrings(v cue.Value) ([]string, error) {
	it, err := v.List()
	if err != nil {
		return nil, err
	}
	out := []string{}
	for it.Next() {
		s, err := it.Value().String()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// noPrice is the error of item i, whose unit price does not evaluate: it names
// the template, the item and the parameter values choosing its price.
func noPrice(t *Template, v, iv cue.Value, i int, region string) error {
	by, _ := readStrings(iv.LookupPath(pathPricedBy))
	what, _ := iv.LookupPath(pathWhat).String()
	if what == "" {
		what = fmt.Sprintf("cost.items[%d]", i)
	}
	params := v.LookupPath(pathParameters)
	var sel []string
	for _, p := range by {
		if p == "region" {
			sel = append(sel, "region "+region)
			continue
		}
		pv := params.LookupPath(cue.MakePath(cue.Str(p)))
		if d, ok := pv.Default(); ok {
			pv = d
		}
		sel = append(sel, fmt.Sprintf("%s %v", p, goValue(pv)))
	}
	return fmt.Errorf("template %s has no price for %q with %s (parameters choosing it: %s)",
		t.Name, what, strings.Join(sel, ", "), strings.Join(by, ", "))
}

// goValue decodes a concrete value for messages and reports.
func goValue(v cue.Value) any {
	if d, ok := v.Default(); ok {
		v = d
	}
	// Scalars without Decode, which builds an evaluation context per call.
	switch v.Kind() {
	case cue.NullKind:
		return nil
	case cue.BoolKind:
		if b, err := v.Bool(); err == nil {
			return b
		}
	case cue.IntKind:
		if i, err := v.Int64(); err == nil {
			return i
		}
	case cue.FloatKind:
		if f, err := v.Float64(); err == nil {
			return f
		}
	case cue.StringKind:
		if s, err := v.String(); err == nil {
			return s
		}
	}
	var x any
	if err := v.Decode(&x); err != nil {
		return fmt.Sprint(v)
	}
	return x
}

// budgetsFor returns the budgets that apply to a stack of team in env.
func (c *Compiler) budgetsFor(team, env string) []BudgetCheck {
	var out []BudgetCheck
	if l, ok := c.platform.Budgets.Environment[env]; ok {
		out = append(out, BudgetCheck{Scope: "environment", Name: env, Limit: l})
	}
	if l, ok := c.platform.Budgets.Team[team]; ok {
		out = append(out, BudgetCheck{Scope: "team", Name: team, Limit: l})
	}
	return out
}

// budgetRule is the org guardrail a stack over budget breaks; it is one of the
// catalog's org rules when the platform sets any budget.
var budgetRule = Guardrail{
	ID:       IDBudget,
	Severity: SeverityError,
	Message:  "the stack's monthly estimate is over its budget",
	Hint:     "make the stack smaller, or add a waiver for org.budget (no resource) with a reason, an owner and an expiry date",
	Path:     "metadata",
	Waivable: true,
}

// Money renders dollars as $1,234.56.
func Money(x float64) string {
	neg := x < 0
	if neg {
		x = -x
	}
	s := fmt.Sprintf("%.2f", cents(x))
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := "$" + b.String() + "." + frac
	if neg {
		return "-" + out
	}
	return out
}
