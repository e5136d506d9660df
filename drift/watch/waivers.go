package watch

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/atomicfile"
	"github.com/platdev/plat/internal/userfile"
)

// The service follows the waivers of the stacks it watches: each stack
// directory's rendered files name their stack file in their header, and the
// waivers there are exported as a metric and announced to the webhooks once
// each, when they come within the configured warning of running out.

// announcedFile, in the reports directory, lists the waivers already
// announced, so a restart does not announce them again.
const announcedFile = ".announced-waivers.json"

// forgetAnnounced is how long after a waiver ran out it is kept in
// announcedFile.
const forgetAnnounced = 90 * 24 * time.Hour

// waiverKey identifies one announcement: a renewed waiver (a new expires)
// is announced again when its new date comes near.
type waiverKey struct {
	Stack     string `json:"stack"`
	Guardrail string `json:"guardrail"`
	Resource  string `json:"resource,omitempty"`
	Expires   string `json:"expires"`
}

type waiverWatch struct {
	warning time.Duration
	path    string
	log     *slog.Logger
	expiry  *prometheus.GaugeVec

	mu        sync.Mutex
	announced map[waiverKey]bool
}

func newWaiverWatch(reg *prometheus.Registry, reportsDir string, warning time.Duration, log *slog.Logger) *waiverWatch {
	w := &waiverWatch{
		warning: warning,
		path:    filepath.Join(reportsDir, announcedFile),
		log:     log,
		expiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "plat_drift_waiver_expiry_timestamp_seconds",
			Help: "Unix time a waiver of a watched stack stops counting (the end of its expiry day, UTC)."},
			[]string{"stack", "guardrail", "resource"}),
		announced: map[waiverKey]bool{},
	}
	reg.MustRegister(w.expiry)
	if b, err := userfile.Read(w.path, maxReportSize); err == nil {
		var keys []waiverKey
		if json.Unmarshal(b, &keys) == nil {
			for _, k := range keys {
				w.announced[k] = true
			}
		}
	}
	return w
}

// stackWaiver is one waiver of a watched stack.
type stackWaiver struct {
	stack string // the stack directory's name in reports
	file  string // the stack file, as messages name it
	compiler.Waiver
}

// check reads the waivers behind the stack directories, updates the metric
// and returns the messages to send (none when notify is false: the waivers
// are then not marked announced either, so adding a webhook later still
// announces them).
func (w *waiverWatch) check(now time.Time, cfg *Config, dirs []string, notify bool) []message {
	var all []stackWaiver
	for _, dir := range dirs {
		name := cfg.StackName(dir)
		file, ok := stackFileOf(dir, cfg.dir)
		if !ok {
			w.log.Debug("no stack file found for the stack's waivers", "stack", name)
			continue
		}
		src, err := userfile.ReadFile(file)
		if err != nil {
			w.log.Warn("read stack file for its waivers", "stack", name, "err", err)
			continue
		}
		shown := cfg.StackName(file)
		ws, diags := compiler.StackWaivers(shown, src)
		if len(diags) > 0 {
			w.log.Warn("stack file for its waivers does not load", "stack", name, "err", diags.Error())
			continue
		}
		for _, wv := range ws {
			all = append(all, stackWaiver{stack: name, file: shown, Waiver: wv})
		}
	}

	w.expiry.Reset()
	var out []message
	w.mu.Lock()
	defer w.mu.Unlock()
	changed := false
	for _, sw := range all {
		ends, ok := sw.Ends()
		if !ok {
			continue // the compile reports it (waiver.invalid-date)
		}
		w.expiry.WithLabelValues(sw.stack, sw.Guardrail, sw.Resource).Set(float64(ends.Unix()))
		key := waiverKey{Stack: sw.stack, Guardrail: sw.Guardrail, Resource: sw.Resource, Expires: sw.Expires}
		if ends.Sub(now) > w.warning || w.announced[key] {
			continue
		}
		w.log.Warn("waiver runs out", "stack", sw.stack, "guardrail", sw.Guardrail, "resource", sw.Resource, "expires", sw.Expires)
		if !notify {
			continue
		}
		out = append(out, waiverMessage(sw, now, ends))
		w.announced[key] = true
		changed = true
	}
	for k := range w.announced {
		if ends, ok := (compiler.Waiver{Expires: k.Expires}).Ends(); !ok || now.Sub(ends) > forgetAnnounced {
			delete(w.announced, k)
			changed = true
		}
	}
	if changed {
		w.save()
	}
	return out
}

func (w *waiverWatch) save() {
	keys := make([]waiverKey, 0, len(w.announced))
	for k := range w.announced {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.Stack+"\x00"+a.Guardrail+"\x00"+a.Resource+"\x00"+a.Expires < b.Stack+"\x00"+b.Guardrail+"\x00"+b.Resource+"\x00"+b.Expires
	})
	err := atomicfile.Write(w.path, 0o644, func(out io.Writer) error {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(keys)
	})
	if err != nil {
		w.log.Error("write announced waivers", "err", err)
	}
}

func waiverMessage(sw stackWaiver, now, ends time.Time) message {
	subject := "the stack"
	if sw.Resource != "" {
		subject = code(sw.Resource)
	}
	where := code(fmt.Sprintf("%s:%d:%d", sw.file, sw.Line, sw.Col))
	var head string
	if !now.Before(ends) {
		head = fmt.Sprintf(":x: The waiver of %s for %s in %s (%s) expired on %s and no longer counts: fix the resource or renew the waiver",
			code(sw.Guardrail), subject, code(sw.stack), where, code(sw.Expires))
	} else {
		head = fmt.Sprintf(":hourglass_flowing_sand: The waiver of %s for %s in %s (%s) runs out after %s (%s): fix the resource or renew the waiver",
			code(sw.Guardrail), subject, code(sw.stack), where, code(sw.Expires), compiler.WaiverLeft(now, ends))
	}
	return message{Text: head, stack: sw.stack, Blocks: []block{section(head)}}
}

// stackFileOf finds the stack file a rendered stack directory was rendered
// from: the Source its generated files name, looked up from the directory
// upwards to the config file's directory (plat render names the file as it
// was given, relative to where render ran).
func stackFileOf(dir, top string) (string, bool) {
	source, ok := sourceOf(dir)
	if !ok {
		return "", false
	}
	if filepath.IsAbs(source) {
		return source, fileExists(source)
	}
	d := dir
	for {
		if p := filepath.Join(d, filepath.FromSlash(source)); fileExists(p) {
			return p, true
		}
		if rel, err := filepath.Rel(top, d); err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			return "", false
		}
		d = filepath.Dir(d)
	}
}

// headerSize is how much of a rendered file is read for its header.
const headerSize = 4096

// sourceOf returns the stack file named by the first generated file of dir.
func sourceOf(dir string) (string, bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !(strings.HasSuffix(n, ".tf") || strings.HasSuffix(n, ".tf.json") || strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
			continue
		}
		f, err := userfile.Open(filepath.Join(dir, n))
		if err != nil {
			continue
		}
		head := make([]byte, headerSize)
		k, _ := io.ReadFull(f, head)
		f.Close()
		if s, ok := compiler.SourceOf(head[:k]); ok {
			return s, true
		}
	}
	return "", false
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
