//go:build !unix

package bulkbench

import "os"

// allocated returns the file's size.
func allocated(fi os.FileInfo) int64 { return fi.Size() }
