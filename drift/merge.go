package drift

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// ErrNotMergeable is wrapped by every error Merge returns.
var ErrNotMergeable = errors.New("shard reports cannot be merged")

// NamedReport is a report and the name (file) it was read from, for errors.
type NamedReport struct {
	Name   string
	Report Report
}

// ParseReport decodes a JSON drift report. Errors name the report and, for
// malformed JSON, the line and column: "r0.json:3:14: invalid character ...".
// Fields this version does not know are ignored, as the schema allows.
func ParseReport(name string, data []byte) (Report, error) {
	var r Report
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return Report{}, jsonError(name, data, err)
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(data[off:])) > 0 {
		return Report{}, fmt.Errorf("%s:%s: unexpected text after the report", name, position(data, off+int64(len(data[off:])-len(bytes.TrimLeft(data[off:], " \t\r\n")))))
	}
	return r, nil
}

func jsonError(name string, data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("%s:%s: %w", name, position(data, syn.Offset-1), err)
	case errors.As(err, &typ):
		return fmt.Errorf("%s:%s: %s: want %s, got JSON %s", name, position(data, typ.Offset), typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%s: empty file, want a JSON drift report", name)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s:%s: truncated JSON", name, position(data, int64(len(data))))
	}
	return fmt.Errorf("%s: %w", name, err)
}

// position renders a byte offset of data as line:col (1-based, col in bytes).
func position(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int64(len(before)-bytes.LastIndexByte(before, '\n')-1) + 1
	return fmt.Sprintf("%d:%d", line, col)
}

// Merge combines the reports of the shards of one sharded pass into one report,
// as one unsharded pass over the same stacks would have written it: the
// stacks in the pass's order, the summary recounted, StartedAt the earliest
// shard's start and DurationMS until the last shard's end. A stack that
// errored in its shard is an error in the merged report.
//
// Merge refuses, listing every problem with the reports it concerns: a report
// that is not a shard report, reports of different passes or shard counts, a
// shard given twice, a missing shard, and shards that disagree on the pass's
// stacks or do not cover each exactly once. The error wraps ErrNotMergeable.
func Merge(in []NamedReport) (Report, error) {
	if len(in) == 0 {
		return Report{}, fmt.Errorf("%w: no reports", ErrNotMergeable)
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	var shards []NamedReport
	for _, nr := range in {
		r := nr.Report
		switch {
		case r.SchemaVersion != SchemaVersion:
			add("%s: schemaVersion %q, want %q", nr.Name, r.SchemaVersion, SchemaVersion)
		case r.Merged != nil:
			add("%s: not a shard report but a merged one", nr.Name)
		case r.Shard == nil:
			add("%s: not a shard report (no \"shard\"; write one with plat drift check --shard I/N --format json)", nr.Name)
		case r.Pass == "":
			add("%s: shard report without a pass", nr.Name)
		case r.Shard.Count < 1 || r.Shard.Index < 0 || r.Shard.Index >= r.Shard.Count:
			add("%s: shard %d/%d is not a valid I/N", nr.Name, r.Shard.Index, r.Shard.Count)
		default:
			if p := selfCheck(r); p != "" {
				add("%s: %s", nr.Name, p)
				continue
			}
			shards = append(shards, nr)
		}
	}
	if len(problems) == 0 {
		problems = append(problems, crossCheck(shards)...)
	}
	if len(problems) > 0 {
		return Report{}, fmt.Errorf("%w:\n  %s", ErrNotMergeable, strings.Join(problems, "\n  "))
	}

	sort.Slice(shards, func(i, j int) bool { return shards[i].Report.Shard.Index < shards[j].Report.Shard.Index })
	byDir := map[string][]StackReport{}
	info := &MergeInfo{Shards: make([]MergedShard, 0, len(shards))}
	var start, end time.Time
	for i, nr := range shards {
		r := nr.Report
		for _, s := range r.Stacks {
			byDir[s.Dir] = append(byDir[s.Dir], s)
		}
		info.Shards = append(info.Shards, MergedShard{Index: r.Shard.Index, Stacks: len(r.Stacks), StartedAt: r.StartedAt, DurationMS: r.DurationMS})
		e := r.StartedAt.Add(time.Duration(r.DurationMS) * time.Millisecond)
		if i == 0 || r.StartedAt.Before(start) {
			start = r.StartedAt
		}
		if i == 0 || e.After(end) {
			end = e
		}
	}
	passStacks := shards[0].Report.Shard.PassStacks
	stacks := make([]StackReport, 0, len(passStacks))
	for _, d := range passStacks {
		stacks = append(stacks, byDir[d][0])
		byDir[d] = byDir[d][1:]
	}
	return Report{
		SchemaVersion: SchemaVersion,
		StartedAt:     start.UTC(),
		DurationMS:    end.Sub(start).Milliseconds(),
		Summary:       Summarize(stacks),
		Stacks:        stacks,
		Pass:          shards[0].Report.Pass,
		Merged:        info,
	}, nil
}

// selfCheck says what is inconsistent within one shard report, or "".
func selfCheck(r Report) string {
	dirs := make([]string, len(r.Stacks))
	for i, s := range r.Stacks {
		dirs[i] = s.Dir
	}
	if !slices.Equal(dirs, r.Shard.Stacks) {
		return fmt.Sprintf("shard.stacks (%d stacks) does not match the report's stacks (%d, or others, or in another order)", len(r.Shard.Stacks), len(r.Stacks))
	}
	return ""
}

// crossCheck says what keeps valid shard reports from forming one pass.
func crossCheck(shards []NamedReport) []string {
	var problems []string
	if ps := groupBy(shards, func(r Report) string { return fmt.Sprintf("pass %q", r.Pass) }); len(ps) > 1 {
		problems = append(problems, "reports of different passes: "+ps.String())
	}
	if cs := groupBy(shards, func(r Report) string { return fmt.Sprintf("N=%d", r.Shard.Count) }); len(cs) > 1 {
		problems = append(problems, "mismatched shard counts: "+cs.String())
	}
	if len(problems) > 0 {
		return problems
	}
	n := shards[0].Report.Shard.Count
	byIndex := make([][]string, n)
	for _, nr := range shards {
		byIndex[nr.Report.Shard.Index] = append(byIndex[nr.Report.Shard.Index], nr.Name)
	}
	var missing []string
	for i, names := range byIndex {
		switch {
		case len(names) == 0:
			missing = append(missing, fmt.Sprint(i))
		case len(names) > 1:
			problems = append(problems, fmt.Sprintf("shard %d/%d given twice: %s", i, n, strings.Join(names, ", ")))
		}
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("missing shard %s of %d (indexes 0 to %d)", strings.Join(missing, ", "), n, n-1))
	}
	if len(problems) > 0 {
		return problems
	}
	first := shards[0]
	for _, nr := range shards[1:] {
		if !slices.Equal(nr.Report.Shard.PassStacks, first.Report.Shard.PassStacks) {
			problems = append(problems, fmt.Sprintf("%s and %s were given different stacks (%s); run every shard over the same DIR arguments",
				first.Name, nr.Name, stackDiff(first.Report.Shard.PassStacks, nr.Report.Shard.PassStacks)))
		}
	}
	if len(problems) > 0 {
		return problems
	}
	want := map[string]int{}
	for _, d := range first.Report.Shard.PassStacks {
		want[d]++
	}
	got := map[string][]string{}
	for _, nr := range shards {
		for _, d := range nr.Report.Shard.Stacks {
			got[d] = append(got[d], nr.Name)
		}
	}
	for _, d := range slices.Sorted(maps.Keys(want)) {
		switch n := len(got[d]); {
		case n == 0:
			problems = append(problems, fmt.Sprintf("stack %s is covered by no shard", d))
		case n != want[d]:
			problems = append(problems, fmt.Sprintf("stack %s is in the pass %d times but covered %d times (%s)", d, want[d], n, strings.Join(got[d], ", ")))
		}
	}
	for _, d := range slices.Sorted(maps.Keys(got)) {
		if want[d] == 0 {
			problems = append(problems, fmt.Sprintf("stack %s is covered (%s) but not in the pass", d, strings.Join(got[d], ", ")))
		}
	}
	return problems
}

// groups maps a value to the reports that have it.
type groups map[string][]string

func (g groups) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(g)) {
		parts = append(parts, fmt.Sprintf("%s in %s", k, strings.Join(g[k], ", ")))
	}
	return strings.Join(parts, "; ")
}

func groupBy(shards []NamedReport, key func(Report) string) groups {
	g := groups{}
	for _, nr := range shards {
		k := key(nr.Report)
		g[k] = append(g[k], nr.Name)
	}
	return g
}

// stackDiff summarises how two stack lists differ, naming a few stacks.
func stackDiff(a, b []string) string {
	in := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, d := range list {
			m[d] = true
		}
		return m
	}
	ina, inb := in(a), in(b)
	var onlyA, onlyB []string
	for _, d := range a {
		if !inb[d] {
			onlyA = append(onlyA, d)
		}
	}
	for _, d := range b {
		if !ina[d] {
			onlyB = append(onlyB, d)
		}
	}
	var parts []string
	if len(onlyA) > 0 {
		parts = append(parts, "only in the first: "+few(onlyA))
	}
	if len(onlyB) > 0 {
		parts = append(parts, "only in the second: "+few(onlyB))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("the same %d stacks in another order or repeated", len(a))
	}
	return strings.Join(parts, "; ")
}

func few(list []string) string {
	const shown = 5
	if len(list) <= shown {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:shown], ", ") + fmt.Sprintf(" and %d more", len(list)-shown)
}
