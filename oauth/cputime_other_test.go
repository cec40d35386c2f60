//go:build !unix

package oauth_test

import "time"

// cpuTime is unknown here (no getrusage): benchmarks report 0 cpu-ns/op.
func cpuTime() time.Duration { return 0 }
