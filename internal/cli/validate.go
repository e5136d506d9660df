package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/compiler"
)

// newValidateCmd builds `plat validate`.
func newValidateCmd(env *Env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Check stack files without writing anything",
		Long: `Validate runs every check render runs and writes nothing. Each PATH is a stack
file or a directory searched for stack files (platform.yaml, platform.yml and
*.platform.yaml); without PATH the current directory is searched.

Formats: text (diagnostics on stderr), json, sarif (SARIF 2.1.0 for code
scanning) and github (workflow annotations); the last three go to stdout.
Exit status: 0 clean (warnings allowed), 1 errors, 2 usage.`,
	}
	catalogDir := addCatalogFlag(cmd)
	crdsDir := addCRDsFlag(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, sarif or github")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		switch format {
		case "text", "json", "sarif", "github":
		default:
			return usageErr(fmt.Errorf("validate: --format %q: want text, json, sarif or github", format))
		}
		if len(args) == 0 {
			args = []string{"."}
		}
		paths, err := findStacks(args)
		if err != nil {
			return err
		}
		srcs, err := readStacks(paths)
		if err != nil {
			return err
		}
		c, err := loadCompiler(*catalogDir)
		if err != nil {
			return err
		}
		var diags compiler.Diagnostics
		if len(srcs) > 0 {
			var res *compiler.Result
			res, diags = c.Compile(cmd.Context(), compiler.Input{Stacks: srcs, Validate: true})
			crdDiags, err := validateCRDs(*crdsDir, res)
			if err != nil {
				return err
			}
			diags = append(diags, crdDiags...)
		}
		switch format {
		case "text":
			printText(env, diags)
			if len(srcs) == 0 {
				fmt.Fprintln(env.Stderr, "plat: no stack files found")
			}
		case "json":
			err = writeJSON(env.Stdout, srcs, diags)
		case "sarif":
			err = writeSARIF(env.Stdout, c, diags)
		case "github":
			writeGitHub(env.Stdout, diags)
		}
		if err != nil {
			return exit(ExitUsage, err)
		}
		if diags.HasErrors() {
			return exit(ExitFail, nil)
		}
		return nil
	}
	return cmd
}

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

func writeJSON(w io.Writer, srcs []compiler.Source, ds compiler.Diagnostics) error {
	out := struct {
		Files       []string         `json:"files"`
		Errors      int              `json:"errors"`
		Warnings    int              `json:"warnings"`
		Diagnostics []jsonDiagnostic `json:"diagnostics"`
	}{Files: []string{}, Diagnostics: []jsonDiagnostic{}}
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

// writeSARIF writes a SARIF 2.1.0 log: one run, one rule per diagnostic id seen.
func writeSARIF(w io.Writer, c *compiler.Compiler, ds compiler.Diagnostics) error {
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
	known := map[string]compiler.Guardrail{}
	for _, g := range c.OrgGuardrails() {
		known[g.ID] = g
	}
	ids := map[string]compiler.Severity{}
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

func level(s compiler.Severity) string {
	if s == compiler.SeverityWarning {
		return "warning"
	}
	return "error"
}

// writeGitHub prints GitHub Actions workflow commands, one annotation per diagnostic.
func writeGitHub(w io.Writer, ds compiler.Diagnostics) {
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
