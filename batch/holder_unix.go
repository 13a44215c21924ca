//go:build unix

package batch

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
)

// processGone says whether no process has this pid: signal 0 checks it
// without sending anything. EPERM means the process exists but belongs to
// someone else, so only ESRCH says it is gone. A pid reused since its
// holder died reads as alive: the lease is then waited for, which is safe.
// A killed process whose parent has not reaped it yet (a zombie, state Z
// or X in /proc, where there is one) runs nothing and is gone too.
func processGone(pid int) bool {
	err := syscall.Kill(pid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return true
	}
	if err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and
	// may itself hold spaces or parentheses: take the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	state := stat[i+2]
	return state == 'Z' || state == 'X'
}
