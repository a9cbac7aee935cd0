//go:build !linux

package rulesbench

import "time"

// threadCPU is not available here: the CPU metric is left out.
func threadCPU() (time.Duration, bool) { return 0, false }

// processCPU is not available here: the CPU metric is left out.
func processCPU() (time.Duration, bool) { return 0, false }
