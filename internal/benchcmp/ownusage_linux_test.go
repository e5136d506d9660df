package benchcmp

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
)

// A helper mode of the test binary: hold and touch 96 MiB, then exit.
func init() {
	if os.Getenv("BENCHCMP_HOG") != "1" {
		return
	}
	b := make([]byte, 96<<20)
	for i := range b {
		b[i] = byte(i)
	}
	runtime.KeepAlive(b)
	os.Exit(0)
}

// TestOwnUsageLeavesOutChildren: a shell whose child holds 96 MiB has a
// rusage peak of at least that, while its own peak is a few MiB; signals the
// traced process gets on its way (the shell's SIGCHLD) are still delivered.
func TestOwnUsageLeavesOutChildren(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := Command{Name: "sh", Args: []string{"sh", "-c", `"$0" -test.run '^$' && exit 3`, self}, Env: []string{"BENCHCMP_HOG=1"}, OK: []int{3}}
	own, err := OwnUsage(c)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := Run(context.Background(), []Command{c}, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if all := stats[0].PeakRSS(); all < 96<<20 {
		t.Errorf("rusage peak %d MiB, want at least 96 (the child's)", all>>20)
	}
	if all := stats[0].Samples[0].CPUUser + stats[0].Samples[0].CPUSys; own.CPU >= all {
		t.Errorf("own CPU %v, want less than with the child (%v)", own.CPU, all)
	}
	if own.PeakRSS <= 0 || own.PeakRSS > 32<<20 {
		t.Errorf("own peak %d KiB, want the shell's few MiB", own.PeakRSS>>10)
	}
	_, err = OwnUsage(Command{Name: "f", Args: []string{"false"}})
	if err == nil || !strings.Contains(err.Error(), "exit 1") {
		t.Errorf("failing command: err = %v", err)
	}
}
