// Package benchcmp runs whole commands side by side — plat and the peer tool doing
// the same work — alternating between them so that both see the same machine
// conditions, and reports medians, ratios and peak memory. It is what `make bench`
// uses to write BENCHMARKS.md; it measures, it never passes or fails on speed.
package benchcmp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Command is one command line to measure.
type Command struct {
	// Name labels the command in reports ("plat validate", "cue vet").
	Name string
	// Args is the command line; Args[0] is looked up on PATH.
	Args []string
	// Dir is the working directory ("" for the current one).
	Dir string
	// Env is added to the process environment.
	Env []string
	// OK lists the exit codes that count as success (default: 0).
	OK []int
}

// String renders the command as a shell would show it.
func (c Command) String() string {
	var b strings.Builder
	if c.Dir != "" {
		fmt.Fprintf(&b, "(cd %s && ", c.Dir)
	}
	for i, a := range c.Args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if strings.ContainsAny(a, " \t'\"$*?#;&|<>") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		b.WriteString(a)
	}
	if c.Dir != "" {
		b.WriteByte(')')
	}
	return b.String()
}

// Sample is one run of a command.
type Sample struct {
	Wall    time.Duration
	MaxRSS  int64 // bytes
	CPUUser time.Duration
	CPUSys  time.Duration
}

// Stats summarises the runs of one command.
type Stats struct {
	Command Command
	Samples []Sample
}

// Median returns the median wall time.
func (s Stats) Median() time.Duration {
	return medianDur(s.Samples, func(x Sample) time.Duration { return x.Wall })
}

// Min returns the fastest wall time.
func (s Stats) Min() time.Duration {
	m := time.Duration(1<<63 - 1)
	for _, x := range s.Samples {
		m = min(m, x.Wall)
	}
	return m
}

// PeakRSS returns the largest resident set size over all runs, in bytes.
func (s Stats) PeakRSS() int64 {
	var m int64
	for _, x := range s.Samples {
		m = max(m, x.MaxRSS)
	}
	return m
}

func medianDur(xs []Sample, f func(Sample) time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	v := make([]time.Duration, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// Run executes each command once per round, in rotating order, for warmup+runs
// rounds, and returns the statistics of the measured rounds. A command that fails
// (an exit code not in OK) aborts the comparison with its output: a benchmark of a
// failing command measures nothing.
func Run(ctx context.Context, cmds []Command, warmup, runs int) ([]Stats, error) {
	stats := make([]Stats, len(cmds))
	for i, c := range cmds {
		stats[i].Command = c
	}
	for round := 0; round < warmup+runs; round++ {
		for k := range cmds {
			i := (k + round) % len(cmds) // alternate who goes first
			s, err := runOnce(ctx, cmds[i])
			if err != nil {
				return nil, err
			}
			if round >= warmup {
				stats[i].Samples = append(stats[i].Samples, s)
			}
		}
	}
	return stats, nil
}

func runOnce(ctx context.Context, c Command) (Sample, error) {
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	var out bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			return Sample{}, fmt.Errorf("%s: %w", c.Name, err)
		}
		code = ee.ExitCode()
	}
	ok := c.OK
	if len(ok) == 0 {
		ok = []int{0}
	}
	accepted := false
	for _, o := range ok {
		accepted = accepted || o == code
	}
	if !accepted {
		return Sample{}, fmt.Errorf("%s: exit %d (want %v)\n%s", c.Name, code, ok, out.String())
	}
	s := Sample{Wall: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.MaxRSS = ru.Maxrss * 1024 // Linux reports KiB
		s.CPUUser = time.Duration(ru.Utime.Nano())
		s.CPUSys = time.Duration(ru.Stime.Nano())
	}
	return s, nil
}

// Markdown writes a table row per command: median, min, peak RSS and the ratio of
// each median to the first command's (plat's, by convention).
func Markdown(w io.Writer, title string, stats []Stats) {
	fmt.Fprintf(w, "### %s\n\n", title)
	fmt.Fprintln(w, "| command | runs | median | min | peak RSS | ratio to first |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	base := stats[0].Median()
	for _, s := range stats {
		ratio := float64(s.Median()) / float64(base)
		fmt.Fprintf(w, "| %s | %d | %s | %s | %.1f MiB | %.2f |\n",
			s.Command.Name, len(s.Samples), ms(s.Median()), ms(s.Min()),
			float64(s.PeakRSS())/(1<<20), ratio)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "```sh")
	for _, s := range stats {
		fmt.Fprintln(w, s.Command.String())
	}
	fmt.Fprintln(w, "```")
	fmt.Fprintln(w)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
