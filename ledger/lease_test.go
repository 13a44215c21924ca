package ledger

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestLease(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	b := testBatch("lease")
	importRows(t, l, b, []Row{validRow(b.ID, 2, 1)})
	const ttl = time.Minute

	exp, err := l.AcquireLease(ctx, b.ID, "host-a pid 1", ttl)
	if err != nil || !exp.Equal(c.Now().Add(ttl)) {
		t.Fatalf("acquire = %v, %v", exp, err)
	}
	// A second runner while the lease is live is told who holds it.
	_, err = l.AcquireLease(ctx, b.ID, "host-b pid 2", ttl)
	var held *LeaseHeldError
	if !errors.As(err, &held) || held.Holder != "host-a pid 1" || !held.Expires.Equal(exp) {
		t.Fatalf("second acquire: err = %v, want LeaseHeldError naming host-a", err)
	}
	// Renewal keeps it live past the first expiry.
	c.Advance(50 * time.Second)
	if exp, err = l.RenewLease(ctx, b.ID, "host-a pid 1", ttl); err != nil || !exp.Equal(c.Now().Add(ttl)) {
		t.Fatalf("renew = %v, %v", exp, err)
	}
	c.Advance(50 * time.Second)
	if _, err := l.AcquireLease(ctx, b.ID, "host-b pid 2", ttl); !errors.As(err, &held) {
		t.Fatalf("acquire after renew: err = %v, want LeaseHeldError", err)
	}
	// The holder is killed: once the lease expires, it is taken over.
	c.Advance(ttl)
	if _, err := l.AcquireLease(ctx, b.ID, "host-b pid 2", ttl); err != nil {
		t.Fatalf("take over expired lease: %v", err)
	}
	if got, _ := l.Batch(ctx, b.ID); got.LeaseHolder != "host-b pid 2" {
		t.Errorf("holder = %q", got.LeaseHolder)
	}
	// The old holder finds out it lost the batch.
	if _, err := l.RenewLease(ctx, b.ID, "host-a pid 1", ttl); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("renew by old holder: err = %v, want ErrLeaseLost", err)
	}
	if err := l.ReleaseLease(ctx, b.ID, "host-a pid 1"); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("release by old holder: err = %v, want ErrLeaseLost", err)
	}
	if err := l.ReleaseLease(ctx, b.ID, "host-b pid 2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.Batch(ctx, b.ID); got.LeaseHolder != "" || !got.LeaseExpires.IsZero() {
		t.Errorf("after release: holder %q expires %v", got.LeaseHolder, got.LeaseExpires)
	}
	if _, err := l.AcquireLease(ctx, b.ID, "host-a pid 1", ttl); err != nil {
		t.Errorf("acquire after release: %v", err)
	}
	if _, err := l.AcquireLease(ctx, batchID("nope"), "x", ttl); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown batch: err = %v, want ErrNotFound", err)
	}
}

// TestLeaseAcrossHandles opens the file twice, as two processes would, and
// has both race for the lease many times: exactly one wins each round.
func TestLeaseAcrossHandles(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l1, path := openTest(t, c)
	l2, err := Open(path, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	b := testBatch("two processes")
	importRows(t, l1, b, []Row{validRow(b.ID, 2, 1)})

	for round := range 20 {
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i, l := range []*Ledger{l1, l2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, results[i] = l.AcquireLease(ctx, b.ID, fmt.Sprintf("proc %d", i), time.Minute)
			}()
		}
		wg.Wait()
		winners := 0
		for _, err := range results {
			var held *LeaseHeldError
			switch {
			case err == nil:
				winners++
			case errors.As(err, &held):
			default:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d winners (%v)", round, winners, results)
		}
		got, err := l2.Batch(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := l1.ReleaseLease(ctx, b.ID, got.LeaseHolder); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLeaseOfADeadHolderIsTakenOverAtOnce: a lease whose holder
// Options.HolderDead says is gone is taken without waiting for it to expire,
// by AcquireLease and by BeginImport; any other holder is waited for, and
// the dead holder, were it to come back, finds its lease lost.
func TestLeaseOfADeadHolderIsTakenOverAtOnce(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	path := filepath.Join(t.TempDir(), "lote.db")
	l, err := Open(path, Options{Now: c.Now, HolderDead: func(h string) bool { return h == "gone" }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	b := testBatch("dead holder")
	importRows(t, l, b, []Row{validRow(b.ID, 2, 1)})
	const ttl = time.Hour

	if _, err := l.AcquireLease(ctx, b.ID, "alive", ttl); err != nil {
		t.Fatal(err)
	}
	var held *LeaseHeldError
	if _, err := l.AcquireLease(ctx, b.ID, "next", ttl); !errors.As(err, &held) || held.Holder != "alive" {
		t.Fatalf("lease of a live holder: err = %v, want LeaseHeldError naming alive", err)
	}
	if err := l.ReleaseLease(ctx, b.ID, "alive"); err != nil {
		t.Fatal(err)
	}

	if _, err := l.AcquireLease(ctx, b.ID, "gone", ttl); err != nil {
		t.Fatal(err)
	}
	exp, err := l.AcquireLease(ctx, b.ID, "next", ttl)
	if err != nil || !exp.Equal(c.Now().Add(ttl)) {
		t.Fatalf("lease of a dead holder: %v, %v; want it taken at once", exp, err)
	}
	if got, _ := l.Batch(ctx, b.ID); got.LeaseHolder != "next" {
		t.Errorf("holder = %q, want next", got.LeaseHolder)
	}
	if _, err := l.RenewLease(ctx, b.ID, "gone", ttl); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("renew by the dead holder: err = %v, want ErrLeaseLost", err)
	}

	// An import killed on this host: the next one starts over at once.
	b2 := testBatch("dead importer")
	im, err := l.BeginImport(ctx, b2, "gone", ttl)
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Close(); err != nil {
		t.Fatal(err)
	}
	im, err = l.BeginImport(ctx, b2, "next", ttl)
	if err != nil {
		t.Fatalf("import after a dead importer: %v; want it taken at once", err)
	}
	im.Close()
}
