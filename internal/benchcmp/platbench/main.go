// Command platbench runs plat side by side with the tools users would pick instead,
// on the same work in the same run, and writes the figures into BENCHMARKS.md
// (between the bench:begin and bench:end markers). `make bench` runs it;
// `make bench-smoke` runs every scenario once on tiny inputs so they do not rot.
//
//	go run ./internal/benchcmp/platbench [-smoke] [-keep] [-only validate,render,registry,replicas,drift,bigdrift,shard,cost,trace,inventory,trees,portal] [-out BENCHMARKS.md]
//
// It expects the peers built by `scripts/tools.sh bench` (cue, conftest, tofu, the
// local provider, wrk, nginx) and measures; it never fails on a slow result.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/platdev/plat/internal/benchcmp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "platbench:", err)
		os.Exit(1)
	}
}

// bench holds what every scenario shares.
type bench struct {
	smoke bool
	root  string // repository root
	work  string // scratch directory
	plat  string // the plat binary under test
	tools string // cached tool binaries (scripts/tools.sh)
	out   io.Writer
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("platbench", flag.ContinueOnError)
	smoke := fs.Bool("smoke", false, "run each scenario once on tiny inputs")
	only := fs.String("only", "validate,render,registry,replicas,drift,bigdrift,shard,cost,trace,inventory,trees,portal", "comma-separated scenarios")
	outPath := fs.String("out", "", "file to write the results section into (between bench markers); empty: stdout only")
	keep := fs.Bool("keep", false, "keep the scratch directory (stacks, plans) for profiling by hand; its path goes to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return errors.New("run from the repository root")
	}
	work, err := os.MkdirTemp("", "platbench-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "platbench: scratch directory", work)
	} else {
		defer os.RemoveAll(work)
	}
	// nginx's workers run as an unprivileged user and serve files from here.
	if err := os.Chmod(work, 0o755); err != nil {
		return err
	}

	tools := os.Getenv("PLAT_TOOLS_DIR")
	if tools == "" {
		home, _ := os.UserHomeDir()
		tools = filepath.Join(home, ".cache", "plat-tools")
	}
	b := &bench{smoke: *smoke, root: root, work: work, tools: tools}
	b.plat = filepath.Join(work, "plat")
	if err := goBuild(ctx, b.plat, "./cmd/plat"); err != nil {
		return err
	}

	var md bytes.Buffer
	b.out = io.MultiWriter(&md, os.Stdout)
	fmt.Fprintf(b.out, "Measured by `make bench` (`go run ./internal/benchcmp/platbench -out BENCHMARKS.md`) on %s: %d CPUs, %s, %s.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.Version(), cpuModel())
	scenarios := map[string]func(context.Context) error{
		"validate":  b.validate,
		"render":    b.render,
		"registry":  b.registry,
		"replicas":  b.replicas,
		"drift":     b.drift,
		"bigdrift":  b.bigdrift,
		"shard":     b.shard,
		"cost":      b.cost,
		"trace":     b.trace,
		"inventory": b.inventory,
		"trees":     b.trees,
		"portal":    b.portal,
	}
	for _, name := range strings.Split(*only, ",") {
		f, ok := scenarios[strings.TrimSpace(name)]
		if !ok {
			return fmt.Errorf("unknown scenario %q", name)
		}
		if err := f(ctx); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if *outPath == "" || b.smoke {
		return nil
	}
	// Show reproducible commands: scratch paths as $WORK, tools and the
	// repository as found on PATH and from the repository root.
	section := strings.NewReplacer(b.work, "$WORK", filepath.Join(b.tools, "bin")+"/", "", root+"/", "",
		filepath.Join(filepath.Dir(root), "shared"), "../shared").Replace(md.String())
	return splice(*outPath, section)
}

// runs returns (warmup, measured) rounds for whole-command comparisons.
func (b *bench) runs(warmup, n int) (int, int) {
	if b.smoke {
		return 0, 1
	}
	return warmup, n
}

// bin returns a cached tool, or the name for PATH lookup.
func (b *bench) bin(name string) string {
	p := filepath.Join(b.tools, "bin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return name
}

const (
	beginMarker = "<!-- bench:begin (written by make bench; edit outside these markers) -->"
	endMarker   = "<!-- bench:end -->"
)

// splice replaces the text between the bench markers of path with section.
func splice(path, section string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(old)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i < 0 || j < i {
		return fmt.Errorf("%s: bench markers not found", path)
	}
	s = s[:i+len(beginMarker)] + "\n" + section + s[j:]
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// compare runs cmds alternately and writes a table.
func (b *bench) compare(ctx context.Context, title string, warmup, n int, cmds ...benchcmp.Command) ([]benchcmp.Stats, error) {
	w, r := b.runs(warmup, n)
	stats, err := benchcmp.Run(ctx, cmds, w, r)
	if err != nil {
		return nil, err
	}
	benchcmp.Markdown(b.out, title, stats)
	return stats, nil
}

// goBuild builds the main package pkg of this repository into out.
func goBuild(ctx context.Context, out, pkg string) error {
	if b, err := exec.CommandContext(ctx, "go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

func ratio(a, c benchcmp.Stats) float64 { return float64(a.Median()) / float64(c.Median()) }
