package cli

import (
	"os"
	"path/filepath"
)

// SamePath reports whether a and b name the same file: the same cleaned
// absolute path, or the same existing file through a link. The commands
// use it to refuse an output that would overwrite one of their inputs.
func SamePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == bb {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
