//go:build !unix

package main

import "time"

// processCPU is the CPU time the process has used; not measured on this
// system (always 0).
func processCPU() time.Duration { return 0 }
