package compiler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/compiler"
)

const waiverStack = `apiVersion: plat/v1
kind: Stack
metadata: {name: site, team: web, environment: dev, costCenter: CC-1000}
spec:
  target: terraform
  region: eu-west-1
  resources:
    - name: assets
      template: bucket
      with: {public: true}
  waivers:
    - guardrail: bucket.public-needs-waiver
      resource: assets
      reason: public website assets
      owner: alice@example.com
      expires: 2027-01-31
`

func TestWaiverExpiringWarning(t *testing.T) {
	c := newCompiler(t)
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02T15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		name  string
		stack string
		now   time.Time
		warn  time.Duration
		want  string // the waiver diagnostic, "" for none
	}{
		{"within the window", waiverStack, day("2027-01-20T09:00"), 14 * 24 * time.Hour,
			"platform.yaml:16:16: warning: waiver.expiring: waiver of bucket.public-needs-waiver for assets runs out after 2027-01-31 (11 days left)"},
		{"one day left", waiverStack, day("2027-01-30T23:59"), 14 * 24 * time.Hour,
			"platform.yaml:16:16: warning: waiver.expiring: waiver of bucket.public-needs-waiver for assets runs out after 2027-01-31 (1 day left)"},
		{"last day", waiverStack, day("2027-01-31T00:00"), 14 * 24 * time.Hour,
			"platform.yaml:16:16: warning: waiver.expiring: waiver of bucket.public-needs-waiver for assets runs out after 2027-01-31 (today is its last day)"},
		{"exactly at the window's edge", waiverStack, day("2027-01-18T00:00"), 14 * 24 * time.Hour,
			"platform.yaml:16:16: warning: waiver.expiring: waiver of bucket.public-needs-waiver for assets runs out after 2027-01-31 (13 days left)"},
		{"just outside the window", waiverStack, day("2027-01-17T23:59"), 14 * 24 * time.Hour, ""},
		{"shorter window", waiverStack, day("2027-01-20T09:00"), 7 * 24 * time.Hour, ""},
		{"warning off", waiverStack, day("2027-01-30T09:00"), 0, ""},
		{"expired", waiverStack, day("2027-02-01T00:00"), 14 * 24 * time.Hour,
			"platform.yaml:16:16: warning: waiver.expired: waiver of bucket.public-needs-waiver for assets expired on 2027-01-31 and no longer counts"},
		{"unused waiver", strings.Replace(waiverStack, "public: true", "public: false", 1), day("2027-01-30T09:00"), 14 * 24 * time.Hour,
			"platform.yaml:12:18: warning: waiver.unused: waiver of bucket.public-needs-waiver for assets is not needed: the guardrail holds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := c.Compile(context.Background(), compiler.Input{Stacks: []compiler.Source{{Name: "platform.yaml", Data: []byte(tc.stack)}},
				Now: tc.now, WaiverWarning: tc.warn, Validate: true})
			var got []string
			for _, d := range diags {
				if strings.HasPrefix(d.ID, "waiver.") {
					got = append(got, strings.SplitN(d.String(), "\n", 2)[0])
				}
			}
			switch {
			case tc.want == "" && len(got) != 0:
				t.Errorf("got %q, want no waiver diagnostic", got)
			case tc.want != "" && (len(got) != 1 || got[0] != tc.want):
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
			if diags.HasErrors() && !strings.Contains(tc.name, "expired") {
				t.Errorf("errors: %v", diags)
			}
		})
	}
}

func TestParseWaiverWarning(t *testing.T) {
	for in, want := range map[string]time.Duration{"14d": 14 * 24 * time.Hour, "0d": 0, "0": 0, "36h": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := compiler.ParseWaiverWarning(in); err != nil || got != want {
			t.Errorf("%q: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "two weeks", "-1d", "-3h", "1.5d", "1000000d"} {
		if _, err := compiler.ParseWaiverWarning(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestStackWaivers(t *testing.T) {
	ws, diags := compiler.StackWaivers("platform.yaml", []byte(waiverStack+"    - guardrail: org.budget\n      expires: 2027-03-01\n    - guardrail: x\n"))
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	want := []compiler.Waiver{
		{Guardrail: "bucket.public-needs-waiver", Resource: "assets", Expires: "2027-01-31", Line: 16, Col: 16},
		{Guardrail: "org.budget", Expires: "2027-03-01", Line: 18, Col: 16},
	}
	if len(ws) != len(want) || ws[0] != want[0] || ws[1] != want[1] {
		t.Fatalf("got %+v\nwant %+v", ws, want)
	}
	ends, ok := ws[0].Ends()
	if !ok || !ends.Equal(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ends %v %v", ends, ok)
	}
	if _, diags := compiler.StackWaivers("platform.yaml", []byte("a: [")); len(diags) == 0 {
		t.Error("no diagnostics for bad YAML")
	}
}

func TestSourceOf(t *testing.T) {
	c := newCompiler(t)
	for _, f := range []compiler.Format{compiler.FormatHCL, compiler.FormatJSON} {
		res, diags := c.Compile(context.Background(), compiler.Input{Stacks: []compiler.Source{{Name: "stacks/site/platform.yaml", Data: []byte(waiverStack)}},
			Now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), Format: f})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		for _, file := range res.Files() {
			if got, ok := compiler.SourceOf(file.Data); !ok || got != "stacks/site/platform.yaml" {
				t.Errorf("%s: got %q, %v", file.Path, got, ok)
			}
		}
	}
	for _, in := range []string{"", "# hand written\n", "{\n  \"//\": \"x\"\n}", "# " + compiler.Header + "\n# Source: \"bad\n"} {
		if got, ok := compiler.SourceOf([]byte(in)); ok {
			t.Errorf("%q: got %q", in, got)
		}
	}
	if got, ok := compiler.SourceOf([]byte("# " + compiler.Header + "\n# Source: \"a\\nb.yaml\"\n")); !ok || got != "a\nb.yaml" {
		t.Errorf("quoted: got %q %v", got, ok)
	}
}
