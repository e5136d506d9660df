package watch

import (
	"strings"
	"testing"

	"github.com/platdev/plat/drift"
)

func tracedStack() drift.StackReport {
	no := false
	return drift.StackReport{Dir: "out/shop", Status: drift.StatusDrifted, Resources: []drift.ResourceDrift{{
		Address: "module.db.aws_db_instance.this", Action: drift.ActionChanged, Changes: []drift.AttributeChange{
			{Path: "allocated_storage", Declared: 100, Live: 200,
				Stack: &drift.StackField{File: "platform.yaml", Line: 16, Col: 20, Resource: "db", Parameter: "storageGB", Declared: 100, Live: 200}},
			{Path: "publicly_accessible", Declared: false, Live: true, Origin: drift.OriginDefault,
				Stack:     &drift.StackField{File: "platform.yaml", Line: 14, Col: 7, Resource: "db", Parameter: "publiclyAccessible", Declared: false, Live: true},
				Guardrail: &drift.GuardrailViolation{ID: "postgres.no-public-access", Severity: "error", Message: "db: a database is never publicly accessible"}},
			{Path: "arn", Declared: "a", Live: "b", Traced: &no, Origin: drift.OriginProvider},
		}}}}
}

// TestSlackMessageTrace: webhook messages show the stack file's position, the
// resource and the parameter of traced drift, mark untraced drift, and call
// out a broken guardrail in the headline.
func TestSlackMessageTrace(t *testing.T) {
	m := slackMessage(tracedStack(), drift.StatusClean)
	if !strings.HasPrefix(m.Text, ":rotating_light: 1 guardrail violation(s) on live state.") {
		t.Errorf("headline %q", m.Text)
	}
	details := m.Blocks[1].Text.Text
	for _, want := range []string{
		"`platform.yaml:16:20: db.storageGB: declared 100, live 200`",
		":rotating_light: *guardrail violated* (error) `postgres.no-public-access`: db: a database is never publicly accessible",
		"_(untraced: set by the provider, not the module)_",
	} {
		if !strings.Contains(details, want) {
			t.Errorf("message lacks %q:\n%s", want, details)
		}
	}
	for _, b := range m.Blocks {
		checkSlackText(t, b.Text.Text)
	}
}

// TestGuardrailMetric: drift watch counts guardrail violations per stack,
// guardrail and severity, and drops the series once the drift is gone.
func TestGuardrailMetric(t *testing.T) {
	m := newMetrics()
	st := tracedStack()
	m.observe(st)
	if got := guardrailSeries(t, m); len(got) != 1 || got[`out/shop postgres.no-public-access error`] != 1 {
		t.Errorf("violations = %v, want one of 1", got)
	}
	// A failed check keeps the last pass's series.
	m.observe(drift.StackReport{Dir: "out/shop", Status: drift.StatusError, Error: "x"})
	if n := len(guardrailSeries(t, m)); n != 1 {
		t.Errorf("after an error: %d series, want 1", n)
	}
	m.observe(drift.StackReport{Dir: "out/shop", Status: drift.StatusClean})
	if n := len(guardrailSeries(t, m)); n != 0 {
		t.Errorf("after clean: %d series, want 0", n)
	}
	m.observe(st)
	m.forgetExcept(map[string]bool{})
	if n := len(guardrailSeries(t, m)); n != 0 {
		t.Errorf("after forget: %d series, want 0", n)
	}
}

// guardrailSeries returns the plat_drift_guardrail_violations series by
// "stack guardrail severity".
func guardrailSeries(t *testing.T, m *metrics) map[string]float64 {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "plat_drift_guardrail_violations" {
			continue
		}
		for _, s := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range s.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			out[l["stack"]+" "+l["guardrail"]+" "+l["severity"]] = s.GetGauge().GetValue()
		}
	}
	return out
}
