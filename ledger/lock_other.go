//go:build !unix

package ledger

import "os"

// lockDir does nothing where flock(2) does not exist.
func lockDir(dir *os.File) (unlock func()) { return func() {} }
