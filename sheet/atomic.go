package sheet

import (
	"bufio"
	"io"
	"os"
)

// WriteAtomic writes the file at path through fn, the way every file lote
// writes is written: to a temporary file beside it, synced, renamed over
// path, then the folder synced so that the rename survives a crash. A
// reader sees the old file or the whole new one, never half of it. When fn
// or any step fails, the temporary file is removed and path is untouched.
func WriteAtomic(path string, fn func(io.Writer) error) error {
	tmp, err := tempFor(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(tmp, 64<<10)
	err = fn(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	return commit(tmp, path)
}

// Place moves the finished file at tmp, in path's folder, to path as
// WriteAtomic ends: tmp synced, renamed, the folder synced. tmp is removed
// when it fails.
func Place(tmp, path string) error {
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return commit(f, path)
}
