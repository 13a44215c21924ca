package batch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"lote/ledger"
	"lote/stone/stonetest"
)

// deadPid returns the pid of a child process that has exited and been
// waited for: no process has it any more.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.Pid()
}

func TestHolderDead(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	dead := deadPid(t)
	for _, tt := range []struct {
		holder string
		want   bool
	}{
		{fmt.Sprintf("%s pid %d", host, dead), true},
		{fmt.Sprintf("lote serve on %s pid %d", host, dead), true},
		{fmt.Sprintf("%s pid %d", host, os.Getpid()), false}, // this test: alive
		{fmt.Sprintf("%s pid 1", host), false},               // init: alive, and not ours (EPERM as a user)
		{fmt.Sprintf("other-%s pid %d", host, dead), false},  // another host: cannot tell
		{fmt.Sprintf("%s pid 0", host), false},               // a process group, not a process
		{fmt.Sprintf("%s pid -1", host), false},
		{fmt.Sprintf("%s pid 99999999999", host), false},
		{fmt.Sprintf("%s %d", host, dead), false},
		{"test", false},
		{"", false},
	} {
		if got := HolderDead(tt.holder); got != tt.want {
			t.Errorf("HolderDead(%q) = %v, want %v", tt.holder, got, tt.want)
		}
	}
}

// TestRunTakesOverTheLeaseOfADeadProcess: a run killed on this host leaves
// its lease behind; the next run takes it at once, whether the dead run
// was importing or sending, instead of waiting for it to expire. A live
// process's lease, or another host's, is still waited for.
func TestRunTakesOverTheLeaseOfADeadProcess(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("%s pid %d", host, deadPid(t))
	ctx := context.Background()
	e := newEnv(t, stonetest.Options{})
	l, err := ledger.Open(filepath.Join(e.dir, "ledger.db"), ledger.Options{HolderDead: HolderDead})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	o := e.opts()
	o.Ledger = l
	o.Holder = fmt.Sprintf("%s pid %d", host, os.Getpid())
	ps := payees(3)
	path := e.writeCSV("folha.csv", ps, true)
	id, _, _, err := fileID(path)
	if err != nil {
		t.Fatal(err)
	}

	// Killed while importing.
	im, err := l.BeginImport(ctx, ledger.Batch{ID: id, FileName: "folha.csv", AccountID: testAccount, Environment: "sim"}, dead, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	im.Close()
	rep, err := Run(ctx, path, o)
	if err != nil {
		t.Fatalf("run after an import killed on this host: %v", err)
	}
	if rep.Summary[ledger.Accepted].Rows != 3 {
		t.Fatalf("summary %+v", rep.Summary)
	}

	// Killed while sending: the batch is running, its lease held.
	for _, tt := range []struct {
		holder string
		taken  bool
	}{
		{dead, true},
		{fmt.Sprintf("other-%s pid %d", host, deadPid(t)), false},
		{fmt.Sprintf("%s pid %d", host, os.Getpid()), false}, // alive, another runner than o's
	} {
		if err := l.SetBatchState(ctx, id, ledger.BatchRunning); err != nil {
			t.Fatal(err)
		}
		if _, err := l.AcquireLease(ctx, id, tt.holder, time.Hour); err != nil {
			t.Fatal(err)
		}
		o := o
		o.Holder = "next"
		_, err := Resume(ctx, id, o)
		var held *ledger.LeaseHeldError
		switch {
		case tt.taken && err != nil:
			t.Errorf("resume after %q: %v; want the lease taken at once", tt.holder, err)
		case !tt.taken && (!errors.As(err, &held) || held.Holder != tt.holder):
			t.Errorf("resume after %q: %v; want LeaseHeldError naming it", tt.holder, err)
		case !tt.taken:
			l.ReleaseLease(ctx, id, tt.holder)
		}
	}
	if got := len(e.srv.Transfers()); got != 3 {
		t.Errorf("emulator has %d transfers, want 3", got)
	}
}

func TestAZombieHolderIsGone(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	// A child that has exited but that this process has not waited for
	// stays a zombie until Wait.
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for !processGone(cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatalf("an exited, unreaped child (pid %d) reads as alive", cmd.Process.Pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if processGone(os.Getpid()) {
		t.Error("this process reads as gone")
	}
}
