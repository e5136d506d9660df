package inventory

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// DiffFormats are the encodings of a diff report.
var DiffFormats = []string{"text", "json", "markdown"}

// Write encodes the report in format (one of DiffFormats). Text and
// Markdown list only stacks where something moves, then a summary.
func (r *DiffReport) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "text":
		return r.writeText(w)
	case "markdown":
		return r.writeMarkdown(w)
	}
	return fmt.Errorf("format %q: want text, json or markdown", format)
}

func (m *Module) text() string {
	if m == nil {
		return "(no template)"
	}
	return m.Address() + " " + m.Version
}

func (d Diag) text() string {
	return fmt.Sprintf("%s: %s: %s: %s", d.location(), d.Severity, d.ID, d.Message)
}

func (wc WaiverChange) text() string {
	subject := wc.Guardrail
	if wc.Resource != "" {
		subject += " on " + wc.Resource
	}
	if wc.Change == "starts" {
		return fmt.Sprintf("waiver of %s (line %d) starts mattering: the guardrail will be violated", subject, wc.Line)
	}
	return fmt.Sprintf("waiver of %s (line %d) stops mattering: the guardrail will hold", subject, wc.Line)
}

func (s DiffSummary) text() string {
	return fmt.Sprintf("%d %s: %d %s, %d fixed, %d already broken, %d with changed files, %d unchanged; %d new %s, %d module %s moved",
		s.Stacks, plural(s.Stacks, "stack"), s.Breaks, "break",
		s.Fixed, s.Broken, s.FilesChange, s.Unchanged, s.NewWarnings, plural(s.NewWarnings, "warning"), s.ModulesMoved, plural(s.ModulesMoved, "version"))
}

func (r *DiffReport) writeText(w io.Writer) error {
	var b strings.Builder
	for _, sd := range r.Stacks {
		if sd.Verdict == VerdictUnchanged {
			continue
		}
		fmt.Fprintf(&b, "%s (%s): %s\n", sd.File, orDash(sd.Name), sd.Verdict)
		for _, d := range sd.New {
			fmt.Fprintf(&b, "  + %s\n", d.text())
		}
		for _, d := range sd.Resolved {
			fmt.Fprintf(&b, "  - %s\n", d.text())
		}
		for _, wc := range sd.Waivers {
			fmt.Fprintf(&b, "  %s\n", wc.text())
		}
		for _, m := range sd.Modules {
			fmt.Fprintf(&b, "  module %s (%s): %s -> %s\n", m.Resource, m.Template, m.From.text(), m.To.text())
		}
		for _, f := range sd.Files {
			fmt.Fprintf(&b, "  %s %s\n", f.Change, f.Path)
			if f.Diff != "" {
				for _, l := range strings.SplitAfter(strings.TrimSuffix(f.Diff, "\n"), "\n") {
					b.WriteString("    " + l)
				}
				b.WriteString("\n")
			}
		}
	}
	b.WriteString(r.Summary.text() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *DiffReport) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	s := r.Summary
	fmt.Fprintf(&b, "## plat diff: catalog %s against %s\n\n", md(r.New), md(r.Base))
	if s.Breaks > 0 {
		fmt.Fprintf(&b, "**%d %s would stop compiling.**\n\n", s.Breaks, plural(s.Breaks, "stack"))
	}
	b.WriteString("| stacks | break | fixed | already broken | files change | unchanged | new warnings | modules moved |\n")
	b.WriteString("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d | %d | %d |\n", s.Stacks, s.Breaks, s.Fixed, s.Broken, s.FilesChange, s.Unchanged, s.NewWarnings, s.ModulesMoved)
	for _, sd := range r.Stacks {
		if sd.Verdict == VerdictUnchanged {
			continue
		}
		fmt.Fprintf(&b, "\n### %s `%s`: %s\n\n", md(orDash(sd.Name)), md(sd.File), sd.Verdict)
		for _, d := range sd.New {
			fmt.Fprintf(&b, "- new %s `%s` at `%s`: %s\n", d.Severity, md(d.ID), md(d.location()), md(d.Message))
		}
		for _, d := range sd.Resolved {
			fmt.Fprintf(&b, "- resolved %s `%s` at `%s`: %s\n", d.Severity, md(d.ID), md(d.location()), md(d.Message))
		}
		for _, wc := range sd.Waivers {
			fmt.Fprintf(&b, "- %s\n", md(wc.text()))
		}
		for _, m := range sd.Modules {
			fmt.Fprintf(&b, "- module of `%s` (%s): %s → %s\n", md(m.Resource), md(m.Template), md(m.From.text()), md(m.To.text()))
		}
		for _, f := range sd.Files {
			if f.Diff == "" {
				fmt.Fprintf(&b, "- %s `%s`\n", f.Change, md(f.Path))
				continue
			}
			fmt.Fprintf(&b, "\n<details><summary>%s <code>%s</code></summary>\n\n```diff\n%s```\n\n</details>\n", f.Change, md(f.Path), strings.ReplaceAll(f.Diff, "```", "`\u200b``"))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
