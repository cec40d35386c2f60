//go:build unix

package oauth_test

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time, or 0 where it is unknown:
// on a shared machine the wall-clock ns/op also counts time spent waiting
// for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
