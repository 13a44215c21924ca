// Command bombbench measures `lote validate` on the hostile sheets of issue
// 13, at the sizes the issue found them: for each, the time to be refused
// (or, for the wide sheets, to be checked as unreadable rows), the process's
// peak RSS, and the first line lote printed. The goal is under 1 s and
// 100 MB each. The page reads sheets with the same readers.
//
//	go run ./bench/bombbench -lote bin/lote
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"lote/internal/bombs"
)

// sheets are the bombs, as the issue found them.
var sheets = []struct {
	name, what string
	write      func(io.Writer) error
}{
	{"nested.xlsx", "xl/workbook.xml nesting an element 32 million deep (before: 5.9 GB, 73 s)",
		func(w io.Writer) error { return bombs.NestedWorkbook(w, 32_000_000) }},
	{"strings.xlsx", "53 million empty shared strings (before: 3.5 GB, 42 s)",
		func(w io.Writer) error { return bombs.SharedStrings(w, 53_000_000) }},
	{"wide.xlsx", "5,000 rows each with a cell at XFD (before: a 248 MB check file)",
		func(w io.Writer) error { return bombs.WideRows(w, 5000, "XFD") }},
	{"wide.csv", "40 rows of a million fields (before: a 720 MB batch page, 124 s)",
		func(w io.Writer) error { return bombs.WideCSV(w, 40, 1_000_000) }},
	{"name.csv", "a 45 MB name cell (before: a valid payee)",
		func(w io.Writer) error { return bombs.LongNameCSV(w, 45<<20) }},
	{"name.xlsx", "a 45 MB inline string",
		func(w io.Writer) error { return bombs.LongCellXLSX(w, 45<<20) }},
	// The slowest refusals: bombs made to pass every cap checked up front,
	// refused only once read up to the limit they pass.
	{"nested-8m.xlsx", "nesting 1.1 million deep within the 8 MiB part size",
		func(w io.Writer) error { return bombs.NestedWorkbook(w, 1_100_000) }},
	{"strings-1m.xlsx", "1,048,577 empty shared strings within the 64 MiB part size",
		func(w io.Writer) error { return bombs.SharedStrings(w, 1<<20+1) }},
	{"strings-max.xlsx", "1,048,576 empty shared strings: every cap met, and the sheet read",
		func(w io.Writer) error { return bombs.SharedStrings(w, 1<<20) }},
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == "generate" {
		// Sheets are written by a child process: peak RSS is measured on
		// children, and a child started by a process that has just built a
		// file in memory reports that memory as its own.
		if err := generate(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	lote := flag.String("lote", "bin/lote", "the lote binary to measure")
	runs := flag.Int("runs", 3, "runs of each sheet; the best is printed")
	flag.Parse()
	if err := run(*lote, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bombbench:", err)
		os.Exit(1)
	}
}

func run(lote string, runs int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bombbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("lote validate on the sheets of issue 13 (%s); goal: under 1 s and 100 MB each\n", time.Now().Format(time.DateOnly))
	for _, s := range sheets {
		path := filepath.Join(dir, s.name)
		gen := exec.Command(self, "generate", s.name, path)
		gen.Stderr = os.Stderr
		if err := gen.Run(); err != nil {
			return fmt.Errorf("generate %s: %w", s.name, err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		var best measurement
		for range runs {
			m, err := measure(lote, "validate", path)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			if best.wall == 0 || m.wall < best.wall {
				best = m
			}
		}
		fmt.Printf("%-12s %7s  %.3f s  %3d MB  exit %d  %s\n    %s\n", s.name, size(fi.Size()), best.wall.Seconds(),
			best.rssKB/1024, best.exit, s.what, best.said)
	}
	return nil
}

func generate(name, path string) error {
	for _, s := range sheets {
		if s.name != name {
			continue
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := s.write(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return fmt.Errorf("no sheet %s", name)
}

type measurement struct {
	wall  time.Duration
	rssKB int64
	exit  int
	said  string // the first line of stderr, or the last of stdout
}

// measure runs lote to completion: it exits 2 for a sheet it refuses and
// 1 for one with invalid rows, both expected here.
func measure(bin string, args ...string) (measurement, error) {
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return measurement{}, err
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return measurement{}, errors.New("no resource usage on this system")
	}
	said, _, _ := strings.Cut(stderr.String(), "\n")
	if said == "" {
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		said = lines[len(lines)-1]
	}
	return measurement{wall: wall, rssKB: ru.Maxrss, exit: cmd.ProcessState.ExitCode(), said: said}, nil
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
