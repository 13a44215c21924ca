package ledger

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// claimedRow is validRow with a fingerprint of its own: fp names the
// payout, whatever batch carries it.
func claimedRow(b string, n int, fp string) Row {
	r := validRow(b, n, 5000)
	r.Fingerprint = fmt.Sprintf("%064s", fp)
	return r
}

func fp(s string) string { return fmt.Sprintf("%064s", s) }

// holdAs is a HoldFunc that records what it was asked.
func holdAs(seen *[]ClaimConflict) HoldFunc {
	return func(c ClaimConflict) (string, string) {
		*seen = append(*seen, c)
		return "payout_claimed", fmt.Sprintf("claimed by %s row %d (%s)", c.OtherBatch[:12], c.OtherRow, c.OtherState)
	}
}

func TestClaimHoldsTheSamePayoutInAnotherBatch(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	a, b := testBatch("a"), testBatch("b")
	importRows(t, l, a, []Row{claimedRow(a.ID, 2, "p1"), claimedRow(a.ID, 3, "p2")})
	importRows(t, l, b, []Row{claimedRow(b.ID, 2, "p2"), claimedRow(b.ID, 3, "p3")})
	since := c.Now().Add(-DefaultClaimWindow)

	// a sends row 3 (payout p2): its claim is live while it is in flight.
	if err := l.MarkAttempted(ctx, a.ID, []int{3}, c.Now()); err != nil {
		t.Fatal(err)
	}
	var seen []ClaimConflict
	sent, err := l.SendRows(ctx, b.ID, []int{2, 3}, c.Now(), SendOptions{Since: since, Hold: holdAs(&seen)})
	held := sent.Held
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 1 || held[0] != 2 || len(seen) != 1 || seen[0].OtherBatch != a.ID || seen[0].OtherRow != 3 || seen[0].OtherState != Attempted {
		t.Fatalf("held %v, conflicts %+v; want b row 2 held by a row 3 (attempted)", held, seen)
	}
	r := mustRow(t, l, b.ID, 2)
	if r.State != Held || r.ErrorCode != "payout_claimed" || !strings.Contains(r.ErrorMessage, "row 3 (attempted)") {
		t.Errorf("b row 2 = %s %s %q", r.State, r.ErrorCode, r.ErrorMessage)
	}
	if r := mustRow(t, l, b.ID, 3); r.State != Attempted {
		t.Errorf("b row 3 = %s; want attempted: nobody claims p3", r.State)
	}
	// Without a HoldFunc, a claimed payout is an error and nothing changes.
	err = l.MarkAttempted(ctx, b.ID, []int{2}, c.Now())
	if !errors.As(err, new(*TransitionError)) {
		t.Errorf("MarkAttempted of a held row: %v", err)
	}
}

func TestClaimIsReleasedByARejectionAndAFailure(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	a, b, d := testBatch("a"), testBatch("b"), testBatch("d")
	importRows(t, l, a, []Row{claimedRow(a.ID, 2, "p1"), claimedRow(a.ID, 3, "p2")})
	importRows(t, l, b, []Row{claimedRow(b.ID, 2, "p1"), claimedRow(b.ID, 3, "p2")})
	importRows(t, l, d, []Row{claimedRow(d.ID, 2, "p1")})
	if err := l.MarkAttempted(ctx, a.ID, []int{2, 3}, c.Now()); err != nil {
		t.Fatal(err)
	}
	if err := l.Reject(ctx, a.ID, 2, Attempt{At: c.Now(), HTTPStatus: 422}, "invalid", "no"); err != nil {
		t.Fatal(err)
	}
	if err := l.Accept(ctx, a.ID, 3, Attempt{At: c.Now()}, Transfer{ID: "t-3", Status: "CREATED"}); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordStatus(ctx, a.ID, 3, "FAILED", c.Now(), "poll"); err != nil {
		t.Fatal(err)
	}
	var seen []ClaimConflict
	sent, err := l.SendRows(ctx, b.ID, []int{2, 3}, c.Now(), SendOptions{Hold: holdAs(&seen)})
	held := sent.Held
	if err != nil || len(held) != 0 {
		t.Fatalf("held %v, %v: a rejected and a failed payout may be sent again", held, err)
	}
	// b's rows now hold both claims: d's copy of p1 is held by b.
	sent, err = l.SendRows(ctx, d.ID, []int{2}, c.Now(), SendOptions{Hold: holdAs(&seen)})
	held = sent.Held
	if err != nil || len(held) != 1 || seen[0].OtherBatch != b.ID {
		t.Fatalf("held %v %+v, %v; want d row 2 held by b", held, seen, err)
	}
}

func TestHoldClaimedBeforeThePlan(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	a, b, d := testBatch("a"), testBatch("b"), testBatch("d")
	importRows(t, l, a, []Row{claimedRow(a.ID, 2, "p1"), claimedRow(a.ID, 3, "p2")})
	importRows(t, l, b, []Row{claimedRow(b.ID, 2, "p1"), claimedRow(b.ID, 3, "p2"), claimedRow(b.ID, 4, "p3")})
	var seen []ClaimConflict
	since := c.Now().Add(-DefaultClaimWindow)
	// Nothing claimed yet: nothing to hold, in one lookup.
	if n, err := l.HoldClaimed(ctx, b.ID, since, holdAs(&seen)); err != nil || n != 0 {
		t.Fatalf("HoldClaimed before anything was sent: %d, %v", n, err)
	}
	if err := l.MarkAttempted(ctx, a.ID, []int{2, 3}, c.Now()); err != nil {
		t.Fatal(err)
	}
	if err := l.Reject(ctx, a.ID, 3, Attempt{At: c.Now(), HTTPStatus: 422}, "invalid", "no"); err != nil {
		t.Fatal(err)
	}
	n, err := l.HoldClaimed(ctx, b.ID, since, holdAs(&seen))
	if err != nil || n != 1 || len(seen) != 1 || seen[0].Row != 2 || seen[0].OtherRow != 2 {
		t.Fatalf("HoldClaimed: %d %+v, %v; want b row 2 held by a row 2 (p1 in flight), not p2 (rejected)", n, seen, err)
	}
	for row, want := range map[int]State{2: Held, 3: Pending, 4: Pending} {
		if r := mustRow(t, l, b.ID, row); r.State != want {
			t.Errorf("b row %d = %s; want %s", row, r.State, want)
		}
	}
	// HoldClaimed takes nothing: d's p3 is still free.
	importRows(t, l, d, []Row{claimedRow(d.ID, 2, "p3")})
	if err := l.MarkAttempted(ctx, d.ID, []int{2}, c.Now()); err != nil {
		t.Errorf("d's p3: %v; want it sent", err)
	}
}

func TestClaimOutsideTheWindowNoLongerStands(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	a, b := testBatch("november"), testBatch("december")
	importRows(t, l, a, []Row{claimedRow(a.ID, 2, "p1")})
	if err := l.MarkAttempted(ctx, a.ID, []int{2}, c.Now()); err != nil {
		t.Fatal(err)
	}
	if err := l.Accept(ctx, a.ID, 2, Attempt{At: c.Now()}, Transfer{ID: "t-1"}); err != nil {
		t.Fatal(err)
	}
	c.Advance(31 * 24 * time.Hour)
	importRows(t, l, b, []Row{claimedRow(b.ID, 2, "p1")})
	if err := l.MarkAttempted(ctx, b.ID, []int{2}, c.Now()); err != nil {
		t.Errorf("next month's same payout: %v; want it sent", err)
	}
}

func TestSendRowsRefusesARunnerThatLostItsLease(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	a := testBatch("a")
	importRows(t, l, a, []Row{claimedRow(a.ID, 2, "p1")}) // leased to "test"
	c.Advance(2 * time.Hour)
	if _, err := l.AcquireLease(ctx, a.ID, "host-b pid 9", time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := l.SendRows(ctx, a.ID, []int{2}, c.Now(), SendOptions{Holder: "test"})
	var lost *LeaseLostError
	if !errors.As(err, &lost) || lost.Holder != "host-b pid 9" || !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("SendRows: %v; want LeaseLostError naming host-b pid 9", err)
	}
	if r := mustRow(t, l, a.ID, 2); r.State != Pending {
		t.Errorf("row 2 = %s; want pending", r.State)
	}
}

func TestOneTransferIDOnTwoRowsIsRefused(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	a, b := testBatch("a"), testBatch("b")
	importRows(t, l, a, []Row{claimedRow(a.ID, 2, "p1")})
	importRows(t, l, b, []Row{claimedRow(b.ID, 2, "p2")})
	for _, x := range []Batch{a, b} {
		if err := l.MarkAttempted(ctx, x.ID, []int{2}, c.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Accept(ctx, a.ID, 2, Attempt{At: c.Now()}, Transfer{ID: "t-same"}); err != nil {
		t.Fatal(err)
	}
	err := l.Accept(ctx, b.ID, 2, Attempt{At: c.Now()}, Transfer{ID: "t-same"})
	var taken *TransferTakenError
	if !errors.As(err, &taken) || taken.OtherBatch != a.ID || taken.OtherRow != 2 {
		t.Fatalf("Accept of a transfer another row holds: %v", err)
	}
	if r := mustRow(t, l, b.ID, 2); r.State != Attempted {
		t.Errorf("row = %s; want attempted, unchanged", r.State)
	}
}

func TestReleaseHeldRecordsWhoAndTheNewKey(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	a := testBatch("a")
	r := claimedRow(a.ID, 2, "p1")
	r.State, r.ErrorCode, r.ErrorMessage = Held, "suspected_repeat", "the same payout is in batch x"
	importRows(t, l, a, []Row{r})
	if err := l.ReleaseHeld(ctx, a.ID, 2, Release{}); err == nil {
		t.Error("a release by nobody was accepted")
	}
	if err := l.ReleaseHeld(ctx, a.ID, 2, Release{By: "alice", Key: "lote-r1", Fingerprint: fp("p1-released")}); err != nil {
		t.Fatal(err)
	}
	got := mustRow(t, l, a.ID, 2)
	if got.State != Pending || got.IdempotencyKey != "lote-r1" || got.Fingerprint != fp("p1-released") || got.ErrorCode != "" {
		t.Errorf("released row = %+v", got)
	}
	rels, err := l.Releases(ctx, a.ID)
	if err != nil || len(rels) != 1 || rels[0].By != "alice" || rels[0].HeldCode != "suspected_repeat" ||
		rels[0].OldKey != r.IdempotencyKey || rels[0].NewKey != "lote-r1" {
		t.Errorf("releases %+v, %v", rels, err)
	}
}

// TestMigrationSetsAsideRowsSharingATransferID builds a ledger at version
// 4 in which two accepted rows hold one transfer (what a restarted
// emulator could cause), and checks that the upgrade keeps the first and
// leaves the second for review.
func TestMigrationSetsAsideRowsSharingATransferID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db := oldLedger(t, path, 4, "done")
	for seq := 1; seq <= 2; seq++ {
		if _, err := db.Exec(`INSERT INTO rows (id, batch, row, seq, cells, payout, amount_cents, document, account, idempotency_key,
			state, transfer_id, first_attempted_at, updated_at) VALUES (?, 1, ?, ?, '[]', '{}', 100, '123', '9', ?, 'accepted', 't1',
			'2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`, 4294967296+seq, seq+1, seq, fmt.Sprintf("k%d", seq)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if r := mustRow(t, l, batchID("old"), 2); r.State != Accepted || r.TransferID != "t1" {
		t.Errorf("first row = %s %s; want accepted with t1", r.State, r.TransferID)
	}
	r := mustRow(t, l, batchID("old"), 3)
	if r.State != NeedsReview || r.ErrorCode != "duplicate_transfer_id" || !strings.Contains(r.ErrorMessage, "t1") {
		t.Errorf("second row = %s %s %q; want needs_review naming t1", r.State, r.ErrorCode, r.ErrorMessage)
	}
	var seq int
	if err := l.r.QueryRow(`SELECT attempt_seq FROM ledger_meta`).Scan(&seq); err != nil || seq != 2 {
		t.Errorf("attempt_seq = %d, %v; want the 2 rows ever attempted", seq, err)
	}
}

func TestSendRowsGivesTheKeyChosenWhenSentAndTheNextWhenTaken(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	a, b := testBatch("a"), testBatch("b")
	importRows(t, l, a, []Row{claimedRow(a.ID, 2, "p1")})
	importRows(t, l, b, []Row{claimedRow(b.ID, 2, "p2"), claimedRow(b.ID, 3, "p3")})
	if err := l.MarkAttempted(ctx, a.ID, []int{2}, c.Now()); err != nil {
		t.Fatal(err)
	}
	taken := mustRow(t, l, a.ID, 2).IdempotencyKey
	o := SendOptions{
		// Row 2 asks for a key a's row holds; row 3 keeps its own.
		Key: func(row int, fingerprint, cur string) string {
			if row == 2 && fingerprint == fp("p2") {
				return taken
			}
			return cur
		},
		NextKey: func(k string) string { return k + "-2" },
	}
	sent, err := l.SendRows(ctx, b.ID, []int{2, 3}, c.Now(), o)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Keys[2] != taken+"-2" || len(sent.Keys) != 1 {
		t.Errorf("keys %v; want row 2 given %q", sent.Keys, taken+"-2")
	}
	if r := mustRow(t, l, b.ID, 2); r.IdempotencyKey != taken+"-2" || r.State != Attempted {
		t.Errorf("row 2 = %s %q", r.State, r.IdempotencyKey)
	}
}

func TestClaimOfARowInFlightStandsWhateverItsAge(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	a, b := testBatch("interrupted"), testBatch("much later")
	importRows(t, l, a, []Row{claimedRow(a.ID, 2, "p1")})
	if err := l.MarkAttempted(ctx, a.ID, []int{2}, c.Now()); err != nil {
		t.Fatal(err)
	}
	c.Advance(90 * 24 * time.Hour) // nobody settled a's row 2
	importRows(t, l, b, []Row{claimedRow(b.ID, 2, "p1")})
	err := l.MarkAttempted(ctx, b.ID, []int{2}, c.Now())
	var claimed *ClaimedError
	if !errors.As(err, &claimed) || claimed.OtherState != Attempted {
		t.Errorf("the same payout 90 days after a row in flight: %v; want it claimed by that row", err)
	}
}

// A released claim on one row does not keep HoldClaimed from holding the
// rows after it.
func TestHoldClaimedHoldsPastARowWhoseClaimIsReleased(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	a, b := testBatch("a"), testBatch("b")
	importRows(t, l, a, []Row{claimedRow(a.ID, 2, "p1"), claimedRow(a.ID, 3, "p2")})
	importRows(t, l, b, []Row{claimedRow(b.ID, 2, "p1"), claimedRow(b.ID, 3, "p2")})
	if err := l.MarkAttempted(ctx, a.ID, []int{2, 3}, c.Now()); err != nil {
		t.Fatal(err)
	}
	if err := l.Reject(ctx, a.ID, 2, Attempt{At: c.Now(), HTTPStatus: 422}, "invalid", "no"); err != nil {
		t.Fatal(err)
	}
	var seen []ClaimConflict
	n, err := l.HoldClaimed(ctx, b.ID, c.Now().Add(-DefaultClaimWindow), holdAs(&seen))
	if err != nil || n != 1 {
		t.Fatalf("HoldClaimed: %d, %v; want b row 3 held (p2 in flight) after row 2 (p1 rejected)", n, err)
	}
	if r := mustRow(t, l, b.ID, 3); r.State != Held {
		t.Errorf("b row 3 = %s; want held", r.State)
	}
}
