package drift

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/platdev/plat/internal/userfile"
)

// Checker checks one stack directory of the kind it handles. Check never changes
// state or live objects. It reports failures in the returned StackReport (Status
// StatusError and Error set) rather than as a Go error, so one broken stack never
// stops a pass. Run fills in Dir, Kind and DurationMS, and applies ignore rules
// afterwards, so a Checker need only set Status, Resources and Error. Check must
// return promptly once ctx is done. It is called concurrently for different
// directories.
type Checker interface {
	Check(ctx context.Context, dir string) StackReport
}

// CheckerFunc adapts a function to the Checker interface.
type CheckerFunc func(ctx context.Context, dir string) StackReport

// Check calls f(ctx, dir).
func (f CheckerFunc) Check(ctx context.Context, dir string) StackReport { return f(ctx, dir) }

// ErrorChecker returns a Checker that fails every stack with err; the CLI uses it
// for a kind whose checker could not be set up, so other stacks still run.
func ErrorChecker(err error) Checker {
	return CheckerFunc(func(context.Context, string) StackReport { return Failed(err) })
}

// Failed returns a StackReport for a stack that could not be checked.
func Failed(err error) StackReport {
	return StackReport{Status: StatusError, Error: err.Error()}
}

// Event reports progress of a pass: once when a stack starts (Stack is nil) and
// once when it finishes.
type Event struct {
	Index int // position of the stack in RunOptions.Dirs
	Dir   string
	Total int // number of stacks in the pass
	Done  int // stacks finished so far, this one included when Stack is set
	Stack *StackReport
}

// RunOptions configure one drift pass.
type RunOptions struct {
	// Dirs are the stack directories, reported in this order.
	Dirs []string
	// Parallel is how many stacks are checked at once; 0 means runtime.NumCPU().
	Parallel int
	// Timeout bounds each stack's check; 0 means no limit.
	Timeout time.Duration
	// Grace is how long a check may run on after its timeout or the pass's
	// cancellation before Run stops waiting for it and reports the stack as an
	// error; 0 means DefaultGrace. A Checker should return promptly on its own;
	// this only bounds one that does not.
	Grace time.Duration
	// Checkers maps each kind of stack to the checker for it. A stack whose kind has
	// no checker is reported as an error.
	Checkers map[Kind]Checker
	// Ignore is applied to every stack in addition to the stack's own
	// .platdriftignore file.
	Ignore *IgnoreRules
	// Progress, if set, is called as stacks start and finish, from one goroutine at
	// a time.
	Progress func(Event)
	// Now returns the current time; nil means time.Now. Tests pin it.
	Now func() time.Time
	// Trace, if set, follows drifted attributes back to the stack file and
	// checks guardrails on the live values (docs/drift.md).
	Trace *Tracer
}

// DefaultGrace is RunOptions.Grace when unset: longer than the terraform
// checker's interrupt grace (tofu gets 10s to release its lock before it is
// killed), so a well-behaved check is never abandoned.
const DefaultGrace = 30 * time.Second

// Run checks every directory in opts.Dirs, at most opts.Parallel at a time, and
// returns the assembled report. It never fails as a whole: problems with a stack
// become that stack's error. When ctx is cancelled, stacks not yet started are
// reported as errors.
func Run(ctx context.Context, opts RunOptions) Report {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = runtime.NumCPU()
	}
	start := now()
	stacks := make([]StackReport, len(opts.Dirs))

	var mu sync.Mutex // serialises Progress calls and the done count
	done := 0
	progress := func(ev Event) {
		if opts.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if ev.Stack != nil {
			done++
		}
		ev.Done = done
		ev.Total = len(opts.Dirs)
		opts.Progress(ev)
	}

	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, dir := range opts.Dirs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			stacks[i] = Failed(fmt.Errorf("not checked: %w", context.Cause(ctx)))
			stacks[i].Dir = dir
			progress(Event{Index: i, Dir: dir, Stack: &stacks[i]})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			progress(Event{Index: i, Dir: dir})
			stacks[i] = checkOne(ctx, dir, opts, now)
			progress(Event{Index: i, Dir: dir, Stack: &stacks[i]})
		}()
	}
	wg.Wait()

	r := Report{
		SchemaVersion: SchemaVersion,
		StartedAt:     start.UTC(),
		DurationMS:    now().Sub(start).Milliseconds(),
		Stacks:        stacks,
	}
	r.Summary = Summarize(stacks)
	return r
}

func checkOne(ctx context.Context, dir string, opts RunOptions, now func() time.Time) (sr StackReport) {
	start := now()
	kind, err := DetectKind(dir)
	defer func() {
		sr.Dir = dir
		sr.Kind = kind
		sr.DurationMS = now().Sub(start).Milliseconds()
		if sr.Status == "" {
			sr.Status = statusOf(sr)
		}
	}()
	if err != nil {
		return Failed(err)
	}
	ignore, err := LoadIgnoreFile(filepath.Join(dir, IgnoreFileName))
	if err != nil {
		return Failed(err)
	}
	c := opts.Checkers[kind]
	if c == nil {
		return Failed(fmt.Errorf("%s stack: %w", kind, ErrNoChecker))
	}
	cctx := ctx
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, fmt.Errorf("timed out after %s", opts.Timeout))
		defer cancel()
	}
	sr = checkBounded(cctx, c, dir, opts.Grace)
	if sr.Status == StatusError {
		if sr.Error == "" {
			sr.Error = "check failed"
		}
		sr.Resources = nil
		return sr
	}
	sr.Resources = Normalize(enforceMasks(sr.Resources))
	sr.Ignored = 0
	for _, rules := range []*IgnoreRules{opts.Ignore, ignore} {
		var n int
		sr.Resources, n = rules.Apply(sr.Resources)
		sr.Ignored += n
	}
	opts.Trace.Trace(cctx, dir, kind, &sr)
	sr.Status = statusOf(sr)
	return sr
}

// checkBounded runs c.Check, but returns at most grace after ctx is done (the
// stack's timeout, or the pass cancelled by SIGTERM) even if the check does not:
// a stuck check then runs on in the background, its result dropped, and never
// holds up the pass (issue 17, finding 4).
func checkBounded(ctx context.Context, c Checker, dir string, grace time.Duration) StackReport {
	if grace <= 0 {
		grace = DefaultGrace
	}
	res := make(chan StackReport, 1)
	go func() { res <- c.Check(ctx, dir) }()
	select {
	case sr := <-res:
		return sr
	case <-ctx.Done():
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case sr := <-res:
		return sr
	case <-t.C:
		return Failed(fmt.Errorf("%w; the check did not stop within %s and was abandoned", context.Cause(ctx), grace))
	}
}

func statusOf(sr StackReport) Status {
	switch {
	case sr.Error != "":
		return StatusError
	case len(sr.Resources) > 0:
		return StatusDrifted
	default:
		return StatusClean
	}
}

// Summarize counts stacks by status and drifted resources.
func Summarize(stacks []StackReport) Summary {
	s := Summary{Stacks: len(stacks)}
	for _, st := range stacks {
		switch st.Status {
		case StatusClean:
			s.Clean++
		case StatusDrifted:
			s.Drifted++
			s.DriftedResources += len(st.Resources)
		default:
			s.Errors++
		}
	}
	return s
}

// DetectKind says how dir is checked: KindTerraform when it holds *.tf or *.tf.json
// files, KindCrossplane when it holds YAML manifests with apiVersion and kind.
// Otherwise it returns an error wrapping ErrNotStack (or the fs error when dir is
// missing or not a directory). A *.tf, *.tf.json, *.yaml or *.yml file that is not
// a regular file (a named pipe, a link to a device) is an error too, a
// userfile.Error, as is a YAML file larger than userfile.MaxSize, and so is
// such a file among those tofu reads from a Terraform stack (tofuFiles).
func DetectKind(dir string) (Kind, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", errors.New("no such directory")
		}
		return "", err
	}
	if !fi.IsDir() {
		return "", errors.New("not a directory")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var yamls []string
	terraform := false
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		isTF := strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tf.json")
		isYAML := strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
		if !isTF && !isYAML {
			continue
		}
		// A named pipe would block tofu or plat, a device fill memory: a stack's
		// files must be regular files (issue 17, finding 4).
		path := filepath.Join(dir, name)
		if err := userfile.Check(path); err != nil {
			return "", err
		}
		if isTF {
			terraform = true
		} else {
			yamls = append(yamls, path)
		}
	}
	if terraform {
		// tofu reads these too: a named pipe among them blocks it until the
		// timeout, a link to /dev/zero makes it fill memory.
		for _, name := range tofuFiles(entries) {
			if err := userfile.Check(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
		return KindTerraform, nil
	}
	for _, y := range yamls {
		ok, err := isManifest(y)
		if err != nil {
			return "", err
		}
		if ok {
			return KindCrossplane, nil
		}
	}
	return "", fmt.Errorf("%w: no *.tf, *.tf.json or Kubernetes manifests (YAML with apiVersion and kind) in it", ErrNotStack)
}

// tofuFiles returns the files besides *.tf and *.tf.json that tofu reads from a
// working directory's entries: variable files it loads by itself, local state,
// the lock file, and .terraform's backend state and workspace name (slash-
// separated, whether they exist or not).
func tofuFiles(entries []fs.DirEntry) []string {
	out := []string{".terraform/terraform.tfstate", ".terraform/environment"}
	for _, e := range entries {
		n := e.Name()
		switch {
		case e.IsDir():
		case n == "terraform.tfvars", n == "terraform.tfvars.json", strings.HasSuffix(n, ".auto.tfvars"),
			strings.HasSuffix(n, ".auto.tfvars.json"), n == "terraform.tfstate", n == ".terraform.lock.hcl":
			out = append(out, n)
		}
	}
	return out
}

// isManifest reports whether a YAML file has top-level apiVersion and kind keys in
// any of its documents. Only a file that cannot be read (not regular, larger
// than userfile.MaxSize) is an error.
func isManifest(path string) (bool, error) {
	b, err := userfile.ReadFile(path)
	if err != nil {
		var uerr *userfile.Error
		if errors.As(err, &uerr) {
			return false, err
		}
		return false, nil
	}
	var api, kind bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "---":
			api, kind = false, false
		case strings.HasPrefix(line, "apiVersion:"):
			api = true
		case strings.HasPrefix(line, "kind:"):
			kind = true
		}
		if api && kind {
			return true, nil
		}
	}
	return false, nil
}

// enforceMasks makes sure no value of a change flagged Sensitive survives,
// whatever the checker put in it.
func enforceMasks(rs []ResourceDrift) []ResourceDrift {
	for i := range rs {
		for j := range rs[i].Changes {
			if c := &rs[i].Changes[j]; c.Sensitive {
				c.Declared, c.Live = Masked, Masked
			}
		}
	}
	return rs
}
