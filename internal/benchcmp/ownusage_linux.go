package benchcmp

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Own is what a command's own process used, without its children.
type Own struct {
	PeakRSS int64         // bytes (VmHWM)
	CPU     time.Duration // user + system, in clock ticks of 10 ms
}

// OwnUsage runs c once and returns the peak resident set size and the CPU time
// of its own process, without its children. The rusage a wait returns (what
// Sample.MaxRSS and /usr/bin/time report) is the largest of the process and
// every descendant it waited for, so for plat drift check it is tofu's; here the
// command runs under ptrace and is stopped as it exits, while its memory is
// still mapped, to read its own high-water mark (VmHWM). The stops slow the
// command down: time it with Run, not with this.
func OwnUsage(c Command) (Own, error) {
	// Every ptrace request must come from the thread that started the tracee.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	stderr, err := os.CreateTemp("", "benchcmp-stderr-")
	if err != nil {
		return Own{}, err
	}
	defer os.Remove(stderr.Name())
	defer stderr.Close()
	cmd := exec.Command(c.Args[0], c.Args[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stderr = stderr // a file, not a pipe: nothing to copy, no cmd.Wait needed
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	if err := cmd.Start(); err != nil {
		return Own{}, fmt.Errorf("%s: %w", c.Name, err)
	}
	pid := cmd.Process.Pid
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil { // the stop after exec
		return Own{}, fmt.Errorf("%s: %w", c.Name, err)
	}
	if err := syscall.PtraceSetOptions(pid, syscall.PTRACE_O_TRACEEXIT); err != nil {
		return Own{}, fmt.Errorf("%s: ptrace: %w", c.Name, err)
	}
	var own Own
	stopped := false
	sig := 0
	for {
		if err := syscall.PtraceCont(pid, sig); err != nil {
			return Own{}, fmt.Errorf("%s: ptrace: %w", c.Name, err)
		}
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
			return Own{}, fmt.Errorf("%s: %w", c.Name, err)
		}
		if ws.Exited() || ws.Signaled() {
			break
		}
		sig = 0
		switch {
		case ws.TrapCause() == syscall.PTRACE_EVENT_EXIT:
			if own, err = usage(pid); err != nil {
				return Own{}, fmt.Errorf("%s: %w", c.Name, err)
			}
			stopped = true
		case ws.StopSignal() != syscall.SIGTRAP:
			sig = int(ws.StopSignal()) // deliver the signal the stop intercepted
		}
	}
	ok := c.OK
	if len(ok) == 0 {
		ok = []int{0}
	}
	if !ws.Exited() || !slices.Contains(ok, ws.ExitStatus()) {
		out, _ := os.ReadFile(stderr.Name())
		how := "killed by " + ws.Signal().String()
		if ws.Exited() {
			how = fmt.Sprintf("exit %d", ws.ExitStatus())
		}
		return Own{}, fmt.Errorf("%s: %s (want %v)\n%s", c.Name, how, ok, out)
	}
	if !stopped {
		return Own{}, fmt.Errorf("%s: exited without an exit stop", c.Name)
	}
	return own, nil
}

// usage reads a process's peak resident set size and CPU time from /proc.
func usage(pid int) (Own, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Own{}, err
	}
	// pid (comm) state ppid ...: utime and stime are fields 14 and 15, the
	// 12th and 13th after the parenthesised command name.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return Own{}, fmt.Errorf("/proc/%d/stat: %q", pid, stat)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return Own{}, fmt.Errorf("/proc/%d/stat: %q", pid, stat)
	}
	var ticks int64
	for _, s := range f[11:13] {
		t, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return Own{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += t
	}
	rss, err := vmHWM(pid)
	if err != nil {
		return Own{}, err
	}
	return Own{PeakRSS: rss, CPU: time.Duration(ticks) * 10 * time.Millisecond}, nil
}

// vmHWM reads a process's peak resident set size from /proc.
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
