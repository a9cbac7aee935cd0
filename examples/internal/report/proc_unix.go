//go:build unix

package report

import (
	"os/exec"
	"syscall"
)

// ownGroup starts cmd in a process group of its own, and makes ctx's end
// kill the whole group: Chromium's zygote, renderer and GPU helpers
// with it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
