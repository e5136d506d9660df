package terraform

import "syscall"

// sysProcAttr puts tofu in a process group of its own, so a terminal's Ctrl-C
// reaches plat alone (which interrupts tofu itself, once), and kills it should
// plat die first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
