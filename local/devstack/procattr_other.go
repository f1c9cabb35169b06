//go:build !linux

package devstack

import "syscall"

// childAttr puts dynalite in its own process group.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
