//go:build unix

package middleware_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time the process has used (user + system), or 0
// where it is unknown. Benchmarks report it per operation next to the wall
// time, which on a shared machine counts other processes' time too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
