package terraform

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/go-version"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/platdev/plat/drift"
)

// ReadPlan reads a plan as `tofu show -json` writes it and returns its drift
// (see driftOf for what becomes drift and what is masked). It streams: the
// drifted resources are kept, every other part of the plan is read one
// resource at a time for its sensitive values and dropped, and what plat never
// uses (planned values, the configuration's expressions, checks) is skipped
// without being decoded. On a plan of 1,000 resources that is a fraction of the
// memory and time of decoding the whole terraform-json Plan (BENCHMARKS.md).
// Numbers are read as json.Number, so that large integers keep their digits.
func ReadPlan(r io.Reader) ([]drift.ResourceDrift, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	pr := planReader{dec: dec, w: walker{new(drift.Secrets)}}
	err := pr.object(func(key string) error {
		switch key {
		case "format_version":
			return pr.formatVersion()
		case "resource_drift":
			return pr.array(func() error {
				var rc *tfjson.ResourceChange
				if err := dec.Decode(&rc); err != nil {
					return err
				}
				if rc != nil && rc.Change != nil {
					pr.w.walkChange(rc.Change)
					pr.drift = append(pr.drift, rc)
				}
				return nil
			})
		case "resource_changes":
			return pr.array(func() error {
				var rc *tfjson.ResourceChange
				if err := dec.Decode(&rc); err != nil {
					return err
				}
				if rc != nil && rc.Change != nil {
					pr.w.walkChange(rc.Change)
				}
				return nil
			})
		case "output_changes":
			return pr.object(func(string) error {
				var c *tfjson.Change
				if err := dec.Decode(&c); err != nil {
					return err
				}
				if c != nil {
					pr.w.walkChange(c)
				}
				return nil
			})
		case "prior_state":
			return pr.object(func(key string) error {
				if key != "values" {
					return pr.skip()
				}
				return pr.object(func(key string) error {
					switch key {
					case "root_module":
						return pr.module()
					case "outputs":
						return pr.object(func(string) error {
							var o *tfjson.StateOutput
							if err := dec.Decode(&o); err != nil {
								return err
							}
							if o != nil && o.Sensitive {
								pr.w.walk(o.Value, true, true)
							}
							return nil
						})
					}
					return pr.skip()
				})
			})
		case "variables":
			return dec.Decode(&pr.vars)
		case "configuration":
			return pr.object(func(key string) error {
				if key != "root_module" {
					return pr.skip()
				}
				return pr.object(func(key string) error {
					if key != "variables" {
						return pr.skip()
					}
					return dec.Decode(&pr.varConfig)
				})
			})
		}
		return pr.skip()
	})
	if err != nil {
		return nil, fmt.Errorf("plan JSON: %w", err)
	}
	if !pr.versioned {
		return nil, errors.New("plan JSON: no format_version")
	}
	// Root module variables declared sensitive: their values are secrets.
	for name, v := range pr.varConfig {
		if pv := pr.vars[name]; v != nil && v.Sensitive && pv != nil {
			pr.w.walk(pv.Value, true, true)
		}
	}
	return driftOf(pr.drift, pr.w.s), nil
}

// planFormats are the plan JSON format versions ReadPlan reads: those of the
// terraform-json release it is built on.
var planFormats = version.MustConstraints(version.NewConstraint(tfjson.PlanFormatVersionConstraints))

// planReader walks a plan's JSON with a streaming decoder.
type planReader struct {
	dec       *json.Decoder
	w         walker
	drift     []*tfjson.ResourceChange
	vars      map[string]*tfjson.PlanVariable
	varConfig map[string]*tfjson.ConfigVariable
	versioned bool
}

func (pr *planReader) formatVersion() error {
	var s string
	if err := pr.dec.Decode(&s); err != nil {
		return err
	}
	v, err := version.NewVersion(s)
	if err != nil {
		return fmt.Errorf("format_version %q: %w", s, err)
	}
	if !planFormats.Check(v) {
		return fmt.Errorf("unsupported plan format version %s (want %s)", s, planFormats)
	}
	pr.versioned = true
	return nil
}

// module reads a state module's resources for their sensitive values.
func (pr *planReader) module() error {
	return pr.object(func(key string) error {
		switch key {
		case "resources":
			return pr.array(func() error {
				var r struct {
					Values          map[string]any `json:"values"`
					SensitiveValues any            `json:"sensitive_values"`
				}
				if err := pr.dec.Decode(&r); err != nil {
					return err
				}
				pr.w.walkResource(r.Values, r.SensitiveValues)
				return nil
			})
		case "child_modules":
			return pr.array(pr.module)
		}
		return pr.skip()
	})
}

// object calls f with each key of the JSON object next in the stream; f reads
// the key's value. A null is an object without keys.
func (pr *planReader) object(f func(key string) error) error {
	return pr.container('{', func() error {
		t, err := pr.dec.Token()
		if err != nil {
			return err
		}
		k, ok := t.(string)
		if !ok {
			return fmt.Errorf("object key %v", t)
		}
		return f(k)
	})
}

// array calls f for each element of the JSON array next in the stream; f reads
// the element. A null is an empty array.
func (pr *planReader) array(f func() error) error { return pr.container('[', f) }

func (pr *planReader) container(open json.Delim, each func() error) error {
	t, err := pr.dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != open {
		return fmt.Errorf("at offset %d: got %v, want %v", pr.dec.InputOffset(), t, open)
	}
	for pr.dec.More() {
		if err := each(); err != nil {
			return err
		}
	}
	_, err = pr.dec.Token() // the closing delimiter
	return err
}

// skip reads past the next value. The decoder still buffers and checks it, but
// nothing is decoded. An object or array is walked into one level, so that
// what is buffered at once is one of its elements (one resource of the
// configuration, say), not a whole section of the plan; deeper, walking
// token by token costs more than it saves.
func (pr *planReader) skip() error { return pr.skipDepth(1) }

func (pr *planReader) skipDepth(depth int) error {
	if depth == 0 {
		var s skipValue
		return pr.dec.Decode(&s)
	}
	t, err := pr.dec.Token()
	if err != nil {
		return err
	}
	d, ok := t.(json.Delim)
	if !ok {
		return nil // a scalar: read
	}
	for pr.dec.More() {
		if d == '{' {
			if _, err := pr.dec.Token(); err != nil {
				return err
			}
		}
		if err := pr.skipDepth(depth - 1); err != nil {
			return err
		}
	}
	_, err = pr.dec.Token()
	return err
}

// skipValue is a JSON value read and dropped.
type skipValue struct{}

func (skipValue) UnmarshalJSON([]byte) error { return nil }
