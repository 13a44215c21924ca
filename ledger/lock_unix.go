//go:build unix

package ledger

import (
	"os"
	"syscall"
)

// lockDir holds an exclusive lock on the open folder dir until the
// returned function is called, so that the writers of a marker in it, in
// this process or another, take turns. Where the filesystem refuses (some
// network filesystems do), it goes on without the lock: two writers at the
// same moment could then leave the marker behind the file until the next
// write, which makes Open's check miss a small loss but never refuse a
// good ledger.
func lockDir(dir *os.File) (unlock func()) {
	fd := int(dir.Fd())
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return func() {}
		}
		return func() { syscall.Flock(fd, syscall.LOCK_UN) }
	}
}
