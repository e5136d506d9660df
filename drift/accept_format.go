package drift

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rogpeppe/go-internal/diff"
)

// DecodeReport reads a JSON drift report (plat drift check --format json),
// as saved by a CI job. Fields it does not know are ignored (the schema is
// extended compatibly); a report of another schema is an error.
func DecodeReport(name string, r io.Reader) (Report, error) {
	var rep Report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return Report{}, fmt.Errorf("%s: not a drift report: %w", name, err)
	}
	if rep.SchemaVersion != SchemaVersion {
		return Report{}, fmt.Errorf("%s: not a drift report of schema %s (schemaVersion %q)", name, SchemaVersion, rep.SchemaVersion)
	}
	return rep, nil
}

// WriteDiff writes the edits as one unified diff, its paths prefixed a/ and
// b/ as git apply expects (from the directory the names are relative to).
func (r *AcceptResult) WriteDiff(w io.Writer) error {
	for _, e := range r.Edits {
		if _, err := w.Write(diff.Diff("a/"+e.File.Name, e.File.Data, "b/"+e.File.Name, e.New)); err != nil {
			return err
		}
	}
	return nil
}

// WriteText writes one line per decision and a summary line, for stderr.
func (r *AcceptResult) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, d := range r.Decisions {
		where := d.Address
		if d.Path != "" {
			where += " " + d.Path
		}
		switch {
		case d.Outcome == OutcomeError:
			fmt.Fprintf(&b, "%s: error: %s\n", d.Dir, d.Reason)
		case d.Stack == nil:
			fmt.Fprintf(&b, "%s: %s: not traced: %s\n", d.Dir, where, d.Reason)
		default:
			s := d.Stack
			fmt.Fprintf(&b, "%s:%d:%d: %s.%s: %s: declared %s, live %s (%s)", s.File, s.Line, s.Col, s.Resource, s.Parameter,
				d.Outcome, FormatValue(s.Declared), FormatValue(s.Live), where)
			if d.Reason != "" {
				b.WriteString(": " + d.Reason)
			}
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(&b, "plat: %d accepted, %d refused, %d not traced", r.Count(OutcomeAccepted), r.Count(OutcomeRefused), r.Count(OutcomeUntraced))
	if n := r.Count(OutcomeError); n > 0 {
		fmt.Fprintf(&b, ", %s not checked", plural(n, "stack"))
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}
