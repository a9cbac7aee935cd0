//go:build !unix

package report

import "os/exec"

// ownGroup: exec.CommandContext kills the browser process itself.
func ownGroup(*exec.Cmd) {}
