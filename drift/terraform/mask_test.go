package terraform

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/platdev/plat/drift"
)

// planDrift builds a plan with one drifted resource from its before/after
// values and sensitivity marks (JSON), plus extra raw plan fields.
func planDrift(t *testing.T, before, after, bs, as, extra string) []drift.ResourceDrift {
	t.Helper()
	src := fmt.Sprintf(`{"format_version": "1.2", %s "resource_drift": [
  {"address": "x_thing.a", "mode": "managed", "type": "x_thing", "name": "a",
   "change": {"actions": ["update"], "before": %s, "after": %s, "before_sensitive": %s, "after_sensitive": %s}}]}`,
		extra, before, after, bs, as)
	return readPlan(t, src)
}

// noLeak fails when any form of a secret appears anywhere in the drift.
func noLeak(t *testing.T, rs []drift.ResourceDrift, secrets ...string) {
	t.Helper()
	b, _ := json.Marshal(rs)
	for _, s := range secrets {
		if strings.Contains(string(b), s) || strings.Contains(fmt.Sprint(rs), s) {
			t.Errorf("%q leaked: %v", s, rs)
		}
	}
}

func changes(rs []drift.ResourceDrift) string {
	if len(rs) != 1 {
		return fmt.Sprint(rs)
	}
	// Only what the checker sets (the trace fields are the tracer's).
	type plain struct {
		Path           string
		Declared, Live any
		Sensitive      bool
	}
	out := make([]plain, 0, len(rs[0].Changes))
	for _, c := range rs[0].Changes {
		out = append(out, plain{c.Path, c.Declared, c.Live, c.Sensitive})
	}
	return fmt.Sprint(out)
}

// Keys of a sensitive map (for example a map variable marked sensitive) are
// part of the secret: the change is reported at the map's path, without keys.
func TestMaskSensitiveMapKeys(t *testing.T) {
	rs := planDrift(t,
		`{"creds": {"admin-alice": "pw-aaaa", "root": "x"}, "list": [{"k": "svc-bob"}]}`,
		`{"creds": {"admin-alice": "pw-bbbb", "backdoor-eve": "y"}, "list": [{"k": "svc-carol"}]}`,
		`{"creds": true, "list": true}`, `{"creds": true, "list": [true]}`, "")
	want := "[{creds (sensitive) (sensitive) true} {list (sensitive) (sensitive) true}]"
	if got := changes(rs); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	noLeak(t, rs, "alice", "root", "eve", "bob", "carol")
}

// A secret used as a map key of an unmarked map is masked in the path, whole
// for any length and as a substring from 4 characters.
func TestMaskSecretAsMapKey(t *testing.T) {
	rs := planDrift(t,
		`{"pw": "hunter2-key", "pin": "k9", "tags": {"hunter2-key": "a", "k9": "a", "has-hunter2-key-inside": "a", "k9-not-whole": "a"}}`,
		`{"pw": "hunter2-key", "pin": "k9", "tags": {"hunter2-key": "b", "k9": "b", "has-hunter2-key-inside": "b", "k9-not-whole": "b"}}`,
		`{"pw": true, "pin": true}`, `{"pw": true, "pin": true}`, "")
	want := `[{tags.k9-not-whole a b false} {tags["(sensitive)"] a b false} {tags["(sensitive)"] a b false} {tags["has-(sensitive)-inside"] a b false}]`
	if got := changes(rs); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	noLeak(t, rs, "hunter2-key", "k9\"")
}

// A sensitive number is known by its value: an unmarked number or string equal
// to it is masked whole (a short one is not masked inside other text).
func TestMaskSensitiveNumber(t *testing.T) {
	rs := planDrift(t,
		`{"pin": 4242, "small": 7, "port": 4242, "port_s": "4242", "other": 7, "eight": 8, "msg": "pin is 4242", "n": 1e3}`,
		`{"pin": 4242, "small": 7, "port": 4243, "port_s": "4243", "other": 8, "eight": 7, "msg": "pin was 4242", "n": 1001}`,
		`{"pin": true, "small": true}`, `{"pin": true, "small": true}`, `"variables": {"big": {"value": 1000}}, "configuration": {"root_module": {"variables": {"big": {"sensitive": true}}}},`)
	want := "[{eight 8 (sensitive) false} {msg pin is (sensitive) pin was (sensitive) false} {n (sensitive) 1001 false} {other (sensitive) 8 false} {port (sensitive) 4243 false} {port_s (sensitive) 4243 false}]"
	if got := changes(rs); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

// Secrets shorter than 4 characters are masked where a whole unmarked value
// equals them, not inside longer text (a sensitive "1" would hide every 1).
func TestMaskShortSecret(t *testing.T) {
	rs := planDrift(t,
		`{"pw": "pw1", "a": "pw1", "b": "pw1x", "c": ["pw1"]}`,
		`{"pw": "pw1", "a": "", "b": "y", "c": []}`,
		`{"pw": true}`, `{"pw": true}`, "")
	want := "[{a (sensitive)  false} {b pw1x y false} {c[0] (sensitive) <nil> false}]"
	if got := changes(rs); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

// JSON-escaped forms (as json.Marshal writes the secret inside a string, with
// and without HTML escapes) and base64 forms (standard and URL alphabets,
// padded or not, whole or inside longer base64 text) are masked as substrings.
func TestMaskEncodedForms(t *testing.T) {
	const secret = `s3"cr\et<&>?~~~x`
	jsonForm := func(html bool) string {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		enc.Encode(map[string]string{"pw": secret})
		return strings.TrimSpace(b.String())
	}
	values := map[string]string{
		"json_html":   jsonForm(true),
		"json_plain":  jsonForm(false),
		"b64_std":     base64.StdEncoding.EncodeToString([]byte(secret)),
		"b64_raw":     base64.RawStdEncoding.EncodeToString([]byte(secret)),
		"b64_url":     base64.URLEncoding.EncodeToString([]byte(secret)),
		"b64_rawurl":  base64.RawURLEncoding.EncodeToString([]byte(secret)),
		"b64_inside0": base64.StdEncoding.EncodeToString([]byte(secret + ` and more`)),
		"b64_inside1": base64.StdEncoding.EncodeToString([]byte(`1` + secret + ` and more`)),
		"b64_inside2": base64.URLEncoding.EncodeToString([]byte(`12` + secret)),
	}
	before, after := map[string]any{"pw": secret}, map[string]any{"pw": secret}
	var leaks []string
	for k, v := range values {
		before[k], after[k] = v, "changed"
		if strings.HasPrefix(k, "b64") {
			// The run of characters that encodes only secret bytes must be gone;
			// up to 3 characters next to it mix secret bits with others.
			leaks = append(leaks, v[4:16])
		}
	}
	leaks = append(leaks, values["json_html"][8:len(values["json_html"])-2], values["json_plain"][8:len(values["json_plain"])-2])
	bj, _ := json.Marshal(before)
	aj, _ := json.Marshal(after)
	rs := planDrift(t, string(bj), string(aj), `{"pw": true}`, `{"pw": true}`, "")
	if len(rs) != 1 || len(rs[0].Changes) != len(values) {
		t.Fatalf("changes: %v", rs)
	}
	for _, c := range rs[0].Changes {
		if !strings.Contains(c.Declared.(string), drift.Masked) {
			t.Errorf("%s not masked: %v", c.Path, c.Declared)
		}
	}
	noLeak(t, rs, leaks...)
}

// Secrets of resources that did not drift (the refreshed prior state) and of
// sensitive outputs are masked where a drifted resource copies them.
func TestMaskSecretsFromElsewhere(t *testing.T) {
	extra := `"prior_state": {"format_version": "1.0", "values": {"root_module": {"child_modules": [{"address": "module.m", "resources": [
	  {"address": "module.m.x_db.d", "mode": "managed", "type": "x_db", "name": "d", "values": {"pw": "state-secret-1"}, "sensitive_values": {"pw": true}}]}]},
	  "outputs": {"o": {"sensitive": true, "value": "output-secret-2"}}}},`
	rs := planDrift(t, `{"a": "x state-secret-1", "b": "output-secret-2"}`, `{"a": "y", "b": "z"}`, `{}`, `{}`, extra)
	if got, want := changes(rs), "[{a x (sensitive) y false} {b (sensitive) z false}]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestMaskLargeSensitiveNumber: plans are read with json.Number; a sensitive integer past float64's precision was recorded
// by its rounded form (12345678901234567000), so its digits in an unmarked
// string went unmasked.
func TestMaskLargeSensitiveNumber(t *testing.T) {
	const secret = "12345678901234567890"
	src := `{"format_version": "1.2", "resource_drift": [
  {"address": "x_thing.a", "mode": "managed", "type": "x_thing", "name": "a",
   "change": {"actions": ["update"],
     "before": {"acct": ` + secret + `, "note": "a", "id": "1", "n": 1},
     "after": {"acct": ` + secret + `, "note": "account ` + secret + `", "id": "` + secret + `", "n": ` + secret + `},
     "before_sensitive": {"acct": true}, "after_sensitive": {"acct": true}}}]}`
	rs := readPlan(t, src)
	noLeak(t, rs, secret, "1234567890123456")
	if got := changes(rs); strings.Count(got, drift.Masked) != 3 {
		t.Errorf("want note, id and n masked: %s", got)
	}
}

// TestMaskSecretInAddress: a for_each key made from a secret (through
// nonsensitive) puts the secret in the resource's address.
func TestMaskSecretInAddress(t *testing.T) {
	const secret = "hunter2-pass"
	src := `{"format_version": "1.2", "resource_drift": [
  {"address": "x_thing.a[\"` + secret + `\"]", "mode": "managed", "type": "x_thing", "name": "a", "index": "` + secret + `",
   "change": {"actions": ["update"], "before": {"pw": "` + secret + `", "n": 1}, "after": {"pw": "` + secret + `", "n": 2},
     "before_sensitive": {"pw": true}, "after_sensitive": {"pw": true}}}]}`
	rs := readPlan(t, src)
	noLeak(t, rs, secret)
	if len(rs) != 1 || rs[0].Address != `x_thing.a["(sensitive)"]` {
		t.Errorf("got %v", rs)
	}
}
