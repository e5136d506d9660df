package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
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
