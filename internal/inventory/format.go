package inventory

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Formats of an inventory.
var Formats = []string{"text", "json", "csv", "markdown"}

// Write encodes inv in format (one of Formats).
func (inv *Inventory) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(inv)
	case "csv":
		return inv.writeCSV(w)
	case "markdown":
		return inv.writeMarkdown(w)
	case "text":
		return inv.writeText(w)
	}
	return fmt.Errorf("format %q: want text, json, csv or markdown", format)
}

func (r Resource) moduleText() string {
	if r.Module == nil {
		return "-"
	}
	return r.Module.Address() + " " + r.Module.Version
}

func (w Waiver) subject() string {
	if w.Resource == "" {
		return w.Guardrail + " (stack)"
	}
	return w.Guardrail + " on " + w.Resource
}

func (w Waiver) expiry() string {
	switch {
	case w.DaysLeft == nil:
		return "expires " + w.Expires + " (not a date)"
	case *w.DaysLeft < 0:
		return fmt.Sprintf("expired %s (%d days ago)", w.Expires, -*w.DaysLeft)
	}
	return fmt.Sprintf("expires %s (in %d days)", w.Expires, *w.DaysLeft)
}

func (s Stack) catalogText() string {
	if s.Catalog.Kind == "" {
		return "-"
	}
	if s.Catalog.Kind == CatalogPin {
		return s.Catalog.Ref() + " " + s.Catalog.Version
	}
	return s.Catalog.Ref()
}

func (inv *Inventory) writeText(w io.Writer) error {
	var b strings.Builder
	for i, s := range inv.Stacks {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s (%s)\n", s.File, orDash(s.Name))
		fmt.Fprintf(&b, "  team %s, environment %s, cost centre %s, target %s\n", orDash(s.Team), orDash(s.Environment), orDash(s.CostCenter), orDash(s.Target))
		fmt.Fprintf(&b, "  catalog %s\n", s.catalogText())
		for _, r := range s.Resources {
			fmt.Fprintf(&b, "  resource %s: %s -> %s\n", orDash(r.Name), orDash(r.Template), r.moduleText())
		}
		for _, wv := range s.Waivers {
			fmt.Fprintf(&b, "  waiver %s, owner %s, %s\n", wv.subject(), orDash(wv.Owner), wv.expiry())
		}
		fmt.Fprintf(&b, "  output %s/%s: %s\n", s.Output.Dir, orDash(s.Name), s.Output.State)
		for _, f := range s.Output.Files {
			fmt.Fprintf(&b, "    %s %s%s\n", f.Change, f.Path, reason(f))
		}
		for _, e := range s.Errors {
			fmt.Fprintf(&b, "  error %s\n", e)
		}
	}
	fmt.Fprintf(&b, "%d %s\n", len(inv.Stacks), plural(len(inv.Stacks), "stack"))
	_, err := io.WriteString(w, b.String())
	return err
}

func reason(f FileChange) string {
	if f.Reason == "" {
		return ""
	}
	return ": " + f.Reason
}

// CSVHeader is the header row of the CSV encoding: one row per resource
// (a stack without resources has one row with empty resource columns).
var CSVHeader = []string{"file", "stack", "team", "environment", "costCenter", "target", "catalog", "catalogVersion",
	"resource", "template", "module", "moduleVersion", "waivers", "output"}

func (inv *Inventory) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, s := range inv.Stacks {
		byRes := map[string][]string{}
		for _, wv := range s.Waivers {
			byRes[wv.Resource] = append(byRes[wv.Resource], waiverCell(wv))
		}
		row := func(r Resource, stackWide bool) []string {
			mod, ver := "", ""
			if r.Module != nil {
				mod, ver = r.Module.Address(), r.Module.Version
			}
			ws := byRes[r.Name]
			if stackWide {
				ws = append(append([]string{}, byRes[""]...), ws...)
			}
			return []string{s.File, s.Name, s.Team, s.Environment, s.CostCenter, s.Target, s.Catalog.Ref(), s.Catalog.VersionText(),
				r.Name, r.Template, mod, ver, strings.Join(ws, "; "), s.Output.State}
		}
		if len(s.Resources) == 0 {
			if err := cw.Write(row(Resource{}, true)); err != nil {
				return err
			}
		}
		for i, r := range s.Resources {
			if err := cw.Write(row(r, i == 0)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func waiverCell(w Waiver) string {
	days := "?"
	if w.DaysLeft != nil {
		days = strconv.Itoa(*w.DaysLeft)
	}
	return fmt.Sprintf("%s by %s until %s (%s days)", w.Guardrail, w.Owner, w.Expires, days)
}

func (inv *Inventory) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Inventory: %d %s\n\n", len(inv.Stacks), plural(len(inv.Stacks), "stack"))
	b.WriteString("| stack | file | team | environment | cost centre | catalog | modules | waivers | output |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, s := range inv.Stacks {
		var mods, ws []string
		for _, r := range s.Resources {
			mods = append(mods, r.Name+": "+r.Template+" → "+r.moduleText())
		}
		for _, wv := range s.Waivers {
			ws = append(ws, wv.subject()+", "+wv.Owner+", "+wv.expiry())
		}
		state := s.Output.State
		if len(s.Errors) > 0 {
			state += " (" + strconv.Itoa(len(s.Errors)) + " " + plural(len(s.Errors), "error") + ")"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s | %s | %s | %s |\n", md(s.Name), md(s.File), md(s.Team), md(s.Environment),
			md(s.CostCenter), md(s.catalogText()), md(strings.Join(mods, "<br>")), md(strings.Join(ws, "<br>")), state)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// md escapes a table cell: pipes and newlines would break the row, and
// stack files come from application repositories.
func md(s string) string {
	if s == "" {
		return "-"
	}
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "`", "'")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}
