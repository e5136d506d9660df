package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// IDWaiverExpiring is the warning about a waiver that runs out within
// Input.WaiverWarning.
const IDWaiverExpiring = "waiver.expiring"

// DefaultWaiverWarning is how long before a waiver runs out plat validate and
// render warn about it (their --waiver-warning).
const DefaultWaiverWarning = 14 * 24 * time.Hour

// ParseWaiverWarning parses a --waiver-warning value: a Go duration (336h,
// 90m) or a number of days (14d). Zero turns the warning off; negative values
// are refused.
func ParseWaiverWarning(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days > 100000 {
			return 0, fmt.Errorf("waiver warning %q: want a duration such as 336h or a number of days such as 14d", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("waiver warning %q: want a duration such as 336h or a number of days such as 14d", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("waiver warning %q: must not be negative", s)
	}
	return d, nil
}

// Waiver is one waiver of a stack file, as written there.
type Waiver struct {
	Guardrail string
	// Resource is empty for a waiver of the whole stack (org rules).
	Resource string
	// Expires is the last day the waiver counts, as written (YYYY-MM-DD).
	Expires string
	// Line and Col are the position of the expires value.
	Line, Col int
}

// Ends returns the moment the waiver stops counting: the end of its expiry
// day, UTC. ok is false when Expires is not a date.
func (w Waiver) Ends() (t time.Time, ok bool) {
	day, err := time.Parse("2006-01-02", w.Expires)
	if err != nil {
		return time.Time{}, false
	}
	return day.AddDate(0, 0, 1), true
}

// StackWaivers returns the waivers of a stack file that name a guardrail and
// an expiry date, without a catalog: whether they count is Compile's
// business. A stack file that does not load returns its diagnostics.
func StackWaivers(name string, src []byte) ([]Waiver, Diagnostics) {
	root, ds := LoadStack(name, src)
	if len(ds) > 0 {
		return nil, ds
	}
	list := root.Get("spec").Get("waivers")
	if list == nil || list.Kind != KindList {
		return nil, nil
	}
	var out []Waiver
	for _, w := range list.Items {
		id, exp := w.Get("guardrail"), w.Get("expires")
		if id.String() == "" || exp.String() == "" {
			continue
		}
		out = append(out, Waiver{Guardrail: id.Str, Resource: w.Get("resource").String(), Expires: exp.Str, Line: exp.Pos.Line, Col: exp.Pos.Col})
	}
	return out, nil
}

// WaiverLeft says how long a waiver that ends at ends (see Waiver.Ends) has
// left at now, in days of the calendar (UTC): "today is its last day", "1 day
// left", "12 days left".
func WaiverLeft(now, ends time.Time) string {
	today := now.UTC().Truncate(24 * time.Hour)
	days := int(ends.Sub(today)/(24*time.Hour)) - 1
	switch {
	case days <= 0:
		return "today is its last day"
	case days == 1:
		return "1 day left"
	}
	return fmt.Sprintf("%d days left", days)
}

// SourceOf returns the stack file a rendered file names in its header (as
// plat render was given it, or its base name when that was absolute), and
// whether data starts with plat's header.
func SourceOf(data []byte) (string, bool) {
	var line string
	switch {
	case bytes.HasPrefix(data, []byte("# "+Header+"\n# Source: ")):
		rest := data[len("# "+Header+"\n# Source: "):]
		l, _, _ := bytes.Cut(rest, []byte("\n"))
		line = string(l)
	case bytes.HasPrefix(data, []byte("{\n  \"//\": ")):
		rest := data[len("{\n  \"//\": "):]
		l, _, _ := bytes.Cut(rest, []byte("\n"))
		var s string
		if json.Unmarshal(bytes.TrimSuffix(bytes.TrimSpace(l), []byte(",")), &s) != nil {
			return "", false
		}
		var ok bool
		if line, ok = strings.CutPrefix(s, Header+" Source: "); !ok {
			return "", false
		}
	default:
		return "", false
	}
	if strings.HasPrefix(line, `"`) {
		s, err := strconv.Unquote(line)
		if err != nil {
			return "", false
		}
		return s, true
	}
	return line, line != ""
}

// waivers checks the stack's waivers and returns the violations they accept,
// keyed id NUL resource.
func (s *stackCompiler) waivers(list *Node, known map[string]map[string]Guardrail, unchecked map[string]bool, violated func(id, res string) bool) map[string]bool {
	waived := map[string]bool{}
	if list == nil || list.Kind != KindList {
		return waived
	}
	orgIDs := map[string]Guardrail{}
	for _, g := range s.c.orgRules {
		orgIDs[g.ID] = g
	}
	for _, w := range list.Items {
		id, res := w.Get("guardrail"), w.Get("resource")
		exp := w.Get("expires")
		if id == nil || exp == nil {
			continue
		}
		if res == nil {
			// A waiver without a resource is about the whole stack: only org
			// rules, whose violations belong to no resource, take one.
			og, isOrg := orgIDs[id.Str]
			if !isOrg {
				s.add(w.Pos, SeverityError, IDMissingField, "", fmt.Sprintf("waiver of %s names no resource", id.Str),
					"add resource: the resource whose guardrail it waives; only org rules such as org.budget are waived for the whole stack")
				continue
			}
			if s.waiverCounts(og, "", id, exp, violated) {
				waived[og.ID+"\x00"] = true
			}
			continue
		}
		if unchecked[res.Str] {
			continue // the resource has errors of its own
		}
		rules, ok := known[res.Str]
		if !ok {
			s.add(res.Pos, SeverityError, IDWaiverResource, "", fmt.Sprintf("waiver for unknown resource %q", res.Str),
				"resources of this stack: "+strings.Join(slices.Sorted(maps.Keys(known)), ", "))
			continue
		}
		g, ok := rules[id.Str]
		if !ok {
			if og, isOrg := orgIDs[id.Str]; isOrg {
				g = og
			} else {
				ids := slices.Sorted(maps.Keys(rules))
				msg := fmt.Sprintf("resource %s has no guardrail %q", res.Str, id.Str)
				if sug := suggest(id.Str, ids); sug != "" {
					msg += fmt.Sprintf("; did you mean %q?", sug)
				}
				s.add(id.Pos, SeverityError, IDWaiverUnknown, res.Str, msg, "guardrails of this resource: "+strings.Join(ids, ", "))
				continue
			}
		}
		if s.waiverCounts(g, res.Str, id, exp, violated) {
			waived[g.ID+"\x00"+res.Str] = true
		}
	}
	return waived
}

// waiverCounts checks one waiver of rule g for resource res ("" for the whole
// stack) and reports whether it accepts a violation.
func (s *stackCompiler) waiverCounts(g Guardrail, res string, id, exp *Node, violated func(id, res string) bool) bool {
	subject := res
	if subject == "" {
		subject = "the stack"
	}
	if !g.Waivable {
		s.add(id.Pos, SeverityError, IDWaiverNotWaivable, res, fmt.Sprintf("guardrail %s cannot be waived", g.ID), g.Hint)
		return false
	}
	day, err := time.Parse("2006-01-02", exp.Str)
	if err != nil {
		s.add(exp.Pos, SeverityError, IDWaiverDate, res, fmt.Sprintf("expires: %q is not a date", exp.Str), "write the last day the waiver counts as YYYY-MM-DD")
		return false
	}
	// A waiver counts through the whole of its expiry day (UTC).
	if !s.now.Before(day.AddDate(0, 0, 1)) {
		s.add(exp.Pos, SeverityWarning, IDWaiverExpired, res,
			fmt.Sprintf("waiver of %s for %s expired on %s and no longer counts", g.ID, subject, exp.Str),
			"fix the resource, or renew the waiver with a new expiry date")
		return false
	}
	if !violated(g.ID, res) {
		s.add(id.Pos, SeverityWarning, IDWaiverUnused, res,
			fmt.Sprintf("waiver of %s for %s is not needed: the guardrail holds", g.ID, subject), "remove the waiver")
		return false
	}
	if ends := day.AddDate(0, 0, 1); s.waiverWarning > 0 && ends.Sub(s.now) <= s.waiverWarning {
		s.add(exp.Pos, SeverityWarning, IDWaiverExpiring, res,
			fmt.Sprintf("waiver of %s for %s runs out after %s (%s)", g.ID, subject, exp.Str, WaiverLeft(s.now, ends)),
			"fix the resource before then, or renew the waiver with a later expiry date")
	}
	return true
}
