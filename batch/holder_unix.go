//go:build unix

package batch

import (
	"errors"
	"syscall"
)

// processGone says whether no process has this pid: signal 0 checks it
// without sending anything. EPERM means the process exists but belongs to
// someone else, so only ESRCH says it is gone. A pid reused since its
// holder died reads as alive: the lease is then waited for, which is safe.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
