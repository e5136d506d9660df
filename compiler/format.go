package compiler

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Encoders of diagnostics for machines: JSON, SARIF (code scanning) and GitHub
// workflow annotations. Diagnostic.String is the text form.

type jsonDiagnostic struct {
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Severity string `json:"severity"`
	ID       string `json:"id"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
	Resource string `json:"resource,omitempty"`
}

// WriteJSON writes diagnostics as one JSON document: the stack files checked,
// the counts of errors and warnings, and every diagnostic.
func WriteJSON(w io.Writer, srcs []Source, ds Diagnostics) error {
	return WriteJSONCost(w, srcs, ds, nil)
}

// WriteJSONCost is WriteJSON with the cost report (plat validate --cost) as
// the member cost; a nil report leaves it out.
func WriteJSONCost(w io.Writer, srcs []Source, ds Diagnostics, cost *CostReport) error {
	out := struct {
		Files       []string         `json:"files"`
		Errors      int              `json:"errors"`
		Warnings    int              `json:"warnings"`
		Diagnostics []jsonDiagnostic `json:"diagnostics"`
		Cost        *CostReport      `json:"cost,omitempty"`
	}{Files: []string{}, Diagnostics: []jsonDiagnostic{}, Cost: cost}
	for _, s := range srcs {
		out.Files = append(out.Files, s.Name)
	}
	out.Errors = ds.Errors()
	out.Warnings = len(ds) - out.Errors
	for _, d := range ds {
		out.Diagnostics = append(out.Diagnostics, jsonDiagnostic{d.File, d.Line, d.Col, d.Severity.String(), d.ID, d.Message, d.Hint, d.Resource})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteSARIF writes diagnostics as a SARIF 2.1.0 log for code scanning: one
// run, one rule per diagnostic id seen, described by the guardrail of that id
// when c's catalog has one.
func WriteSARIF(w io.Writer, c *Compiler, ds Diagnostics) error {
	type msg struct {
		Text string `json:"text"`
	}
	type rule struct {
		ID                   string            `json:"id"`
		Name                 string            `json:"name,omitempty"`
		ShortDescription     msg               `json:"shortDescription"`
		Help                 *msg              `json:"help,omitempty"`
		DefaultConfiguration map[string]string `json:"defaultConfiguration"`
	}
	type region struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
	type location struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
			Region *region `json:"region,omitempty"`
		} `json:"physicalLocation"`
	}
	type result struct {
		RuleID    string     `json:"ruleId"`
		RuleIndex int        `json:"ruleIndex"`
		Level     string     `json:"level"`
		Message   msg        `json:"message"`
		Locations []location `json:"locations,omitempty"`
	}
	known := map[string]Guardrail{}
	for _, g := range c.OrgGuardrails() {
		known[g.ID] = g
	}
	ids := map[string]Severity{}
	for _, d := range ds {
		if cur, ok := ids[d.ID]; !ok || d.Severity < cur {
			ids[d.ID] = d.Severity
		}
		if _, ok := known[d.ID]; !ok && d.Resource != "" {
			if tn, _, ok := strings.Cut(d.ID, "."); ok {
				if t, err := c.Template(tn); err == nil {
					for _, g := range t.Guardrails {
						known[g.ID] = g
					}
				}
			}
		}
	}
	names := make([]string, 0, len(ids))
	for id := range ids {
		names = append(names, id)
	}
	sort.Strings(names)
	index := map[string]int{}
	rules := []rule{}
	for i, id := range names {
		index[id] = i
		r := rule{ID: id, ShortDescription: msg{id}, DefaultConfiguration: map[string]string{"level": level(ids[id])}}
		if g, ok := known[id]; ok {
			r.ShortDescription = msg{g.Message}
			r.Help = &msg{g.Hint}
			r.DefaultConfiguration["level"] = level(g.Severity)
		}
		rules = append(rules, r)
	}
	results := []result{}
	for _, d := range ds {
		text := d.Message
		if d.Hint != "" {
			text += "\nhint: " + d.Hint
		}
		r := result{RuleID: d.ID, RuleIndex: index[d.ID], Level: level(d.Severity), Message: msg{text}}
		if d.File != "" {
			var l location
			l.PhysicalLocation.ArtifactLocation.URI = d.File
			if d.Line > 0 {
				l.PhysicalLocation.Region = &region{StartLine: d.Line, StartColumn: d.Col}
			}
			r.Locations = []location{l}
		}
		results = append(results, r)
	}
	log := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool": map[string]any{"driver": map[string]any{
				"name":           "plat",
				"informationUri": "https://github.com/platdev/plat",
				"rules":          rules,
			}},
			"results": results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func level(s Severity) string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// WriteGitHub writes GitHub Actions workflow commands, one annotation per
// diagnostic.
func WriteGitHub(w io.Writer, ds Diagnostics) {
	for _, d := range ds {
		var props []string
		if d.File != "" {
			props = append(props, "file="+ghProp(d.File))
			if d.Line > 0 {
				props = append(props, fmt.Sprintf("line=%d", d.Line))
			}
			if d.Col > 0 {
				props = append(props, fmt.Sprintf("col=%d", d.Col))
			}
		}
		props = append(props, "title="+ghProp(d.ID))
		text := d.Message
		if d.Hint != "" {
			text += "\nhint: " + d.Hint
		}
		fmt.Fprintf(w, "::%s %s::%s\n", level(d.Severity), strings.Join(props, ","), ghData(text))
	}
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
