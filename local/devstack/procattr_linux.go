package devstack

import "syscall"

// childAttr puts dynalite in its own process group, and has the kernel kill it should devstack
// die without stopping it (kill -9).
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
