//go:build unix

package bulkbench

import (
	"os"
	"syscall"
)

// allocated returns the bytes the file occupies on disk (bbolt grows its
// file ahead of use; a sparse tail occupies nothing), or its size.
func allocated(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}
