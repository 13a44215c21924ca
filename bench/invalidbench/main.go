// Command invalidbench measures the peak memory of `lote run` and `lote
// validate` on sheets whose every row is invalid (document, bank and amount
// all wrong: three problems a row), at sizes that show whether it grows
// with the invalid rows. `lote run` imports them into a fresh ledger, lists
// the first problems and writes the results sheet; nothing is sent. It is
// run by `make bench`; the sheets are generated under bench/data once.
//
//	go run ./bench/invalidbench -lote bin/lote -data bench/data
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// goalMB is the most `lote run` may hold for a million invalid rows.
const goalMB = 200

func main() {
	lote := flag.String("lote", "bin/lote", "the lote binary to measure")
	data := flag.String("data", "bench/data", "where the generated sheets live")
	sizes := flag.String("rows", "200000,1000000", "comma-separated sheet sizes, in rows")
	flag.Parse()
	if err := run(*lote, *data, *sizes); err != nil {
		fmt.Fprintln(os.Stderr, "invalidbench:", err)
		os.Exit(1)
	}
}

func run(lote, data, sizes string) error {
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	fmt.Printf("lote run and lote validate of sheets of invalid rows (%s)\n", time.Now().Format(time.DateOnly))
	for _, s := range strings.Split(sizes, ",") {
		rows, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || rows <= 0 {
			return fmt.Errorf("-rows %q: want positive numbers", sizes)
		}
		if err := size(lote, data, rows); err != nil {
			return err
		}
	}
	return nil
}

// size measures both commands on a sheet of rows invalid rows.
func size(lote, data string, rows int) error {
	path := filepath.Join(data, fmt.Sprintf("invalid-%d.csv", rows))
	if err := ensure(path, rows); err != nil {
		return err
	}
	// A fresh ledger and results sheet each time: a batch already imported
	// would be read back, not imported.
	work, err := os.MkdirTemp("", "invalidbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	r, err := measure(lote, "run", path, "--env", "sim", "--ledger", filepath.Join(work, "lote.db"),
		"--out", filepath.Join(work, "results.csv"))
	if err != nil {
		return fmt.Errorf("lote run: %w", err)
	}
	v, err := measure(lote, "validate", path)
	if err != nil {
		return fmt.Errorf("lote validate: %w", err)
	}
	goal := ""
	if rows == 1_000_000 {
		goal = fmt.Sprintf(" (goal ≤ %d)", goalMB)
	}
	fmt.Printf("%d invalid rows: lote run peak RSS %d MB%s in %.1fs; lote validate %d MB in %.1fs\n",
		rows, r.rssKB/1024, goal, r.wall.Seconds(), v.rssKB/1024, v.wall.Seconds())
	return nil
}

type measurement struct {
	wall  time.Duration
	rssKB int64
}

// measure runs a command to completion and returns its wall time and peak
// resident memory. Exit 1 (rows invalid) is what the sheets are for; any
// other failure is an error.
func measure(bin string, args ...string) (measurement, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		return measurement{}, err
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return measurement{}, errors.New("no resource usage on this system")
	}
	return measurement{wall: wall, rssKB: ru.Maxrss}, nil
}

// ensure writes the sheet at path unless it exists: a CPF with wrong check
// digits, a bank that does not exist and an amount that is not a number on
// every row, with distinct accounts so that no row repeats another. It is
// written as it goes, so this process stays small.
func ensure(path string, rows int) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	fmt.Printf("generating %s\n", path)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("name,document,institution_code,branch_code,account_code,account_type,amount_cents\n")
	for i := range rows {
		fmt.Fprintf(w, "Pessoa %d,123.456.789-00,999,1234,%d,CC,abc%d\n", i+1, 10000+i, i)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
