package ledger

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// people adds the users the approval tests use: up and up2 (uploaders),
// ap and ap2 (approvers), adm and adm2 (admins).
func people(t *testing.T, l *Ledger) {
	t.Helper()
	for name, role := range map[string]Role{"up": RoleUploader, "up2": RoleUploader, "ap": RoleApprover, "ap2": RoleApprover,
		"adm": RoleAdmin, "adm2": RoleAdmin} {
		if err := l.AddUser(context.Background(), name, role, fakeHash); err != nil {
			t.Fatal(err)
		}
	}
}

func setPolicy(t *testing.T, l *Ledger, p Policy) {
	t.Helper()
	if _, _, err := l.SetPolicy(context.Background(), p, "adm"); err != nil {
		t.Fatal(err)
	}
}

// uploaded records an upload of content by "up", submitted by submitter
// for cents unless submitter is "".
func uploaded(t *testing.T, l *Ledger, content, submitter string, cents int64) string {
	t.Helper()
	ctx := context.Background()
	id := batchID(content)
	if _, _, err := l.RecordUpload(ctx, Upload{BatchID: id, FileName: content + ".csv", StoredPath: "/x", UploadedBy: "up"}); err != nil {
		t.Fatal(err)
	}
	if submitter != "" {
		if err := l.Submit(ctx, id, submitter, cents, 1); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// TestPolicyChangesRecorded: the policy is the ledger's, changed only by
// an admin, every change kept with who, when and how; a server raises it
// and never lowers it.
func TestPolicyChangesRecorded(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	people(t, l)
	cur, err := l.Policy(ctx)
	if err != nil || cur.ID != 0 || cur.Policy != DefaultPolicy {
		t.Fatalf("policy of a new ledger = %+v, %v; want the default", cur, err)
	}
	two := Policy{RequireApproval: true, TwoApproversAbove: 1_000_000}
	for _, tt := range []struct {
		by   string
		p    Policy
		want error
	}{
		{"up", two, ErrNotAdmin},
		{"ap", two, ErrNotAdmin},
		{"ghost", two, ErrNotFound},
		{"adm", Policy{TwoApproversAbove: 5}, ErrBadPolicy},
	} {
		if _, _, err := l.SetPolicy(ctx, tt.p, tt.by); !errors.Is(err, tt.want) {
			t.Errorf("SetPolicy(%+v) by %s = %v, want %v", tt.p, tt.by, err, tt.want)
		}
	}
	c.Advance(time.Minute)
	got, changed, err := l.SetPolicy(ctx, two, "adm")
	if err != nil || !changed || got.ID != 1 || got.Policy != two || got.SetBy != "adm" || got.Source != PolicyByAdmin ||
		!got.SetAt.Equal(c.Now()) {
		t.Fatalf("SetPolicy = %+v, %v, %v", got, changed, err)
	}
	if _, changed, err := l.SetPolicy(ctx, two, "adm2"); err != nil || changed {
		t.Errorf("setting the same policy again = %v, %v; want nothing recorded", changed, err)
	}
	// A server started with --require-approval finds it required: nothing
	// changes, the second approver's threshold stays.
	if p, changed, err := l.RequireApproval(ctx, "lote serve on h pid 1"); err != nil || changed || p.Policy != two {
		t.Errorf("RequireApproval over %+v = %+v, %v, %v", two, p, changed, err)
	}
	// Lowering takes an admin; a server then raises it back, recorded as
	// the server's doing.
	c.Advance(time.Minute)
	if _, _, err := l.SetPolicy(ctx, DefaultPolicy, "adm2"); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	p, changed, err := l.RequireApproval(ctx, "lote serve on h pid 2")
	if err != nil || !changed || p.Policy != (Policy{RequireApproval: true, TwoApproversAbove: NoSecondApprover}) ||
		p.SetBy != "lote serve on h pid 2" || p.Source != PolicyByServer {
		t.Errorf("RequireApproval after lowering = %+v, %v, %v", p, changed, err)
	}
	hist, err := l.PolicyHistory(ctx)
	if err != nil || len(hist) != 3 {
		t.Fatalf("history = %+v, %v; want 3 changes", hist, err)
	}
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i, want := range []struct {
		by     string
		src    PolicySource
		req    bool
		at     time.Time
		secure int64
	}{
		{"adm", PolicyByAdmin, true, start.Add(time.Minute), 1_000_000},
		{"adm2", PolicyByAdmin, false, start.Add(2 * time.Minute), NoSecondApprover},
		{"lote serve on h pid 2", PolicyByServer, true, start.Add(3 * time.Minute), NoSecondApprover},
	} {
		h := hist[i]
		if h.SetBy != want.by || h.Source != want.src || h.RequireApproval != want.req || !h.SetAt.Equal(want.at) || h.TwoApproversAbove != want.secure {
			t.Errorf("change %d = %+v, want %+v", i+1, h, want)
		}
	}
	// The history is kept in the schema too: no change is edited or
	// removed, and nobody but an admin is recorded as setting it.
	for _, q := range []string{
		`UPDATE approval_policy SET require_approval = 0`,
		`DELETE FROM approval_policy`,
		`INSERT INTO approval_policy (require_approval, set_by, set_at, source) VALUES (0, 'up', 'x', 'admin')`,
		`INSERT INTO approval_policy (require_approval, set_by, set_at, source) VALUES (0, 'lote serve', 'x', 'server')`,
		`INSERT INTO approval_policy (require_approval, two_approvers_above, set_by, set_at, source) VALUES (1, 5, 'lote serve', 'x', 'server')`,
	} {
		if _, err := l.w.ExecContext(ctx, q); err == nil {
			t.Errorf("%s was allowed", q)
		}
	}
}

// TestUploadKeepsItsPolicy: a batch is held to the policy in force when
// it was uploaded, whatever the policy later.
func TestUploadKeepsItsPolicy(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	people(t, l)
	setPolicy(t, l, Policy{RequireApproval: true, TwoApproversAbove: NoSecondApprover})
	strict := uploaded(t, l, "strict", "", 0)
	setPolicy(t, l, DefaultPolicy)
	lax := uploaded(t, l, "lax", "", 0)
	for id, want := range map[string]struct {
		id  int64
		req bool
	}{strict: {1, true}, lax: {2, false}} {
		u, err := l.Upload(ctx, id)
		if err != nil || u.PolicyID != want.id || u.Policy.RequireApproval != want.req {
			t.Errorf("upload %s: policy %d %+v, %v; want policy %d requiring approval %v", id[:6], u.PolicyID, u.Policy, err, want.id, want.req)
		}
	}
	if err := l.Submit(ctx, strict, "up", 100, 1); err != nil {
		t.Fatal(err)
	}
	if u, _ := l.Upload(ctx, strict); u.Cleared() || !u.WaitsForApproval() {
		t.Errorf("the strict batch, submitted after the policy was lowered: %+v; want it waiting for approval", u)
	}
	if err := l.Submit(ctx, lax, "up", 100, 1); err != nil {
		t.Fatal(err)
	}
	if u, _ := l.Upload(ctx, lax); !u.Cleared() {
		t.Errorf("the lax batch, submitted: %+v; want it cleared", u)
	}
	if _, err := l.w.ExecContext(ctx, `UPDATE uploads SET require_approval = 0 WHERE id = ?`, strict); err == nil {
		t.Error("a batch's recorded policy was changed")
	}
}

// TestSubmitterCannotApprove: four eyes means the approver is neither the
// uploader nor the submitter, in the ledger and in the schema.
func TestSubmitterCannotApprove(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	people(t, l)
	setPolicy(t, l, Policy{RequireApproval: true, TwoApproversAbove: NoSecondApprover})
	id := uploaded(t, l, "by an admin", "adm", 100)
	if _, err := l.Approve(ctx, id, "adm"); !errors.Is(err, ErrFourEyes) {
		t.Errorf("Approve by the submitter = %v, want ErrFourEyes", err)
	}
	if _, err := l.w.ExecContext(ctx, `UPDATE uploads SET approved_by = 'adm', approved_at = 'x' WHERE id = ?`, id); err == nil {
		t.Error("the schema let the submitter approve")
	}
	if u, _ := l.Upload(ctx, id); u.Approved() {
		t.Fatalf("approved by its submitter: %+v", u)
	}
	if u, err := l.Approve(ctx, id, "adm2"); err != nil || !u.Cleared() || u.ApprovedBy != "adm2" {
		t.Errorf("Approve by another admin = %+v, %v", u, err)
	}
}

// TestTwoApprovers: above the policy's total a batch needs two distinct
// approvers, neither its uploader nor its submitter; at or below, one.
func TestTwoApprovers(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	people(t, l)
	setPolicy(t, l, Policy{RequireApproval: true, TwoApproversAbove: 1_000_00})
	big := uploaded(t, l, "big", "adm", 1_000_01)
	small := uploaded(t, l, "small", "up", 1_000_00)

	u, err := l.Approve(ctx, small, "ap")
	if err != nil || !u.Cleared() {
		t.Errorf("one approval of a batch at the threshold = %+v, %v; want it cleared", u, err)
	}
	u, err = l.Approve(ctx, big, "ap")
	if err != nil || u.Cleared() || u.ApprovalsNeeded() != 2 || !strings.Contains(u.NotCleared(), "second approver") {
		t.Fatalf("first approval of a batch over the threshold = %+v, %v; want it waiting for a second", u, err)
	}
	for _, who := range []string{"ap", "up", "adm"} {
		if _, err := l.Approve(ctx, big, who); !errors.Is(err, ErrFourEyes) {
			t.Errorf("second approval by %s = %v, want ErrFourEyes", who, err)
		}
	}
	for _, q := range []string{
		`UPDATE uploads SET second_approved_by = 'ap', second_approved_at = 'x' WHERE id = ?`,
		`UPDATE uploads SET second_approved_by = 'adm', second_approved_at = 'x' WHERE id = ?`,
		`UPDATE uploads SET second_approved_by = 'up2', second_approved_at = 'x' WHERE id = ?`,
	} {
		if _, err := l.w.ExecContext(ctx, q, big); err == nil {
			t.Errorf("the schema allowed %s", q)
		}
	}
	c.Advance(time.Minute)
	u, err = l.Approve(ctx, big, "adm2")
	if err != nil || !u.Cleared() || u.ApprovedBy != "ap" || u.SecondApprovedBy != "adm2" || !u.SecondApprovedAt.Equal(c.Now()) {
		t.Errorf("second approval by another admin = %+v, %v", u, err)
	}
	if _, err := l.Approve(ctx, big, "ap2"); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("a third approval = %v, want ErrIllegalTransition", err)
	}
}

// TestRejectAndWithdraw: an approver rejects a batch waiting for approval,
// saying why; its uploader withdraws one before anything of it was sent.
// Either closes it for good.
func TestRejectAndWithdraw(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	people(t, l)
	setPolicy(t, l, Policy{RequireApproval: true, TwoApproversAbove: NoSecondApprover})

	waiting := uploaded(t, l, "waiting", "up", 100)
	for _, tt := range []struct {
		who, reason string
		want        error
	}{
		{"ap", "  ", ErrIllegalTransition},
		{"ap", strings.Repeat("x", MaxReason+1), ErrIllegalTransition},
		{"up", "mine", ErrFourEyes},
		{"up2", "not an approver", ErrFourEyes},
	} {
		if err := l.RejectBatch(ctx, waiting, tt.who, tt.reason); !errors.Is(err, tt.want) {
			t.Errorf("RejectBatch by %s, %q = %v, want %v", tt.who, tt.reason[:min(10, len(tt.reason))], err, tt.want)
		}
	}
	c.Advance(time.Minute)
	if err := l.RejectBatch(ctx, waiting, "ap", " Row 7 pays the wrong account. "); err != nil {
		t.Fatal(err)
	}
	u, err := l.Upload(ctx, waiting)
	if err != nil || u.RejectedBy != "ap" || u.RejectedReason != "Row 7 pays the wrong account." || !u.RejectedAt.Equal(c.Now()) ||
		!u.Closed() || u.Cleared() || !strings.Contains(u.NotCleared(), "rejected by ap: Row 7") {
		t.Fatalf("rejected upload = %+v, %v", u, err)
	}
	if _, err := l.Approve(ctx, waiting, "ap2"); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("Approve after the rejection = %v, want ErrIllegalTransition", err)
	}
	if err := l.WithdrawBatch(ctx, waiting, "up"); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("WithdrawBatch after the rejection = %v, want ErrIllegalTransition", err)
	}
	if _, err := l.w.ExecContext(ctx, `UPDATE uploads SET approved_by = 'ap2', approved_at = 'x' WHERE id = ?`, waiting); err == nil {
		t.Error("the schema let a rejected batch be approved")
	}
	// An approved batch is past rejecting.
	approved := uploaded(t, l, "approved", "up", 100)
	if _, err := l.Approve(ctx, approved, "ap"); err != nil {
		t.Fatal(err)
	}
	if err := l.RejectBatch(ctx, approved, "ap2", "too late"); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("RejectBatch of an approved batch = %v, want ErrIllegalTransition", err)
	}

	// Withdrawing: not by another uploader; by the uploader before it is
	// submitted, and then it cannot be submitted.
	mine := uploaded(t, l, "mine", "", 0)
	if err := l.WithdrawBatch(ctx, mine, "up2"); !errors.Is(err, ErrNotYours) {
		t.Errorf("WithdrawBatch by another uploader = %v, want ErrNotYours", err)
	}
	if err := l.WithdrawBatch(ctx, mine, "up"); err != nil {
		t.Fatal(err)
	}
	if err := l.Submit(ctx, mine, "up", 100, 1); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("Submit after withdrawing = %v, want ErrIllegalTransition", err)
	}
	if u, _ := l.Upload(ctx, mine); u.WithdrawnBy != "up" || !strings.Contains(u.NotCleared(), "withdrawn by up") {
		t.Errorf("withdrawn upload = %+v", u)
	}
	// An admin withdraws one waiting for approval.
	if err := l.WithdrawBatch(ctx, uploaded(t, l, "admin's", "up", 100), "adm"); err != nil {
		t.Errorf("WithdrawBatch by an admin = %v", err)
	}
}

// TestNothingSentUnlessCleared: the transaction that marks rows attempted
// refuses a batch uploaded on the page that its policy has not cleared,
// whatever process sends it; a withdrawal wins over a send not yet begun,
// and a batch with rows sent cannot be withdrawn.
func TestNothingSentUnlessCleared(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	people(t, l)
	setPolicy(t, l, Policy{RequireApproval: true, TwoApproversAbove: NoSecondApprover})
	b := testBatch("guarded")
	importRows(t, l, b, []Row{validRow(b.ID, 2, 100), validRow(b.ID, 3, 200)})
	if err := l.MarkAttempted(ctx, b.ID, []int{2}, time.Now()); err != nil {
		t.Fatalf("a batch without an upload: %v", err)
	}

	g := testBatch("uploaded")
	importRows(t, l, g, []Row{validRow(g.ID, 2, 100), validRow(g.ID, 3, 200)})
	if _, _, err := l.RecordUpload(ctx, Upload{BatchID: g.ID, FileName: "g.csv", StoredPath: "/g", UploadedBy: "up"}); err != nil {
		t.Fatal(err)
	}
	refused := func(when string) {
		t.Helper()
		if err := l.MarkAttempted(ctx, g.ID, []int{2}, time.Now()); !errors.Is(err, ErrNotCleared) {
			t.Errorf("MarkAttempted %s = %v, want ErrNotCleared", when, err)
		}
		if r := mustRow(t, l, g.ID, 2); r.State != Pending {
			t.Errorf("row 2 %s: %s", when, r.State)
		}
	}
	refused("before it is submitted")
	if err := l.Submit(ctx, g.ID, "up", 300, 2); err != nil {
		t.Fatal(err)
	}
	refused("before it is approved")
	if _, err := l.Approve(ctx, g.ID, "ap"); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkAttempted(ctx, g.ID, []int{2}, time.Now()); err != nil {
		t.Fatalf("MarkAttempted once approved: %v", err)
	}
	if err := l.WithdrawBatch(ctx, g.ID, "up"); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("WithdrawBatch with a row sent = %v, want ErrIllegalTransition", err)
	}

	w := testBatch("withdrawn")
	importRows(t, l, w, []Row{validRow(w.ID, 2, 100)})
	if _, _, err := l.RecordUpload(ctx, Upload{BatchID: w.ID, FileName: "w.csv", StoredPath: "/w", UploadedBy: "up"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Submit(ctx, w.ID, "up", 100, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Approve(ctx, w.ID, "ap"); err != nil {
		t.Fatal(err)
	}
	if err := l.WithdrawBatch(ctx, w.ID, "up"); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkAttempted(ctx, w.ID, []int{2}, time.Now()); !errors.Is(err, ErrNotCleared) {
		t.Errorf("MarkAttempted after the withdrawal = %v, want ErrNotCleared", err)
	}
	if _, err := l.w.ExecContext(ctx, `UPDATE uploads SET withdrawn_by = 'up', withdrawn_at = 'x' WHERE id = ?`, g.ID); err == nil {
		t.Error("the schema let a batch with rows sent be withdrawn")
	}
}

// TestMigrationKeepsWaitingBatchesWaiting: uploads recorded before the
// ledger kept a policy need an approval unless they were being sent, so
// that upgrading does not send a batch left waiting by a server started
// with --require-approval.
func TestMigrationKeepsWaitingBatchesWaiting(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	if err := createPrivate(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path+writeDSN)
	if err != nil {
		t.Fatal(err)
	}
	five := 5
	if err := migrate(ctx, db, &five); err != nil {
		t.Fatal(err)
	}
	stamp := "2026-01-01T00:00:00.000000Z"
	if _, err := db.Exec(`INSERT INTO users (name, role, password_hash, created_at) VALUES ('up', 'uploader', '$2a$10$x', ?)`, stamp); err != nil {
		t.Fatal(err)
	}
	for content, state := range map[string]string{"waiting": "imported", "sending": "running"} {
		id := batchID(content)
		if _, err := db.Exec(`INSERT INTO batches (id, file_name, file_size, format, account_id, environment, state, created_at, updated_at)
			VALUES (?, ?, 10, 'csv', 'acc', 'sim', ?, ?, ?)`, id, content+".csv", state, stamp, stamp); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO uploads (id, file_name, stored_path, uploaded_by, uploaded_at, submitted_by, submitted_at,
			submitted_cents, submitted_rows) VALUES (?, ?, '/x', 'up', ?, 'up', ?, 100, 1)`, id, content+".csv", stamp, stamp); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if u, err := l.Upload(ctx, batchID("waiting")); err != nil || u.Cleared() || !u.WaitsForApproval() {
		t.Errorf("the waiting batch after the migration: %+v, %v; want it waiting for approval", u, err)
	}
	if u, err := l.Upload(ctx, batchID("sending")); err != nil || !u.Cleared() {
		t.Errorf("the batch being sent after the migration: %+v, %v; want it cleared", u, err)
	}
	if p, err := l.Policy(ctx); err != nil || p.ID != 0 || p.RequireApproval {
		t.Errorf("the ledger's policy after the migration: %+v, %v; want the default", p, err)
	}
}

// TestClosedUploadFreesItsKeys: a batch awaiting approval is someone's
// work and is not forgotten for a corrected sheet that reuses its
// references; once rejected it is, and its upload record stays.
func TestClosedUploadFreesItsKeys(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	people(t, l)
	setPolicy(t, l, Policy{RequireApproval: true, TwoApproversAbove: NoSecondApprover})
	b := testBatch("to reject")
	importRows(t, l, b, []Row{validRow(b.ID, 2, 100)})
	if _, _, err := l.RecordUpload(ctx, Upload{BatchID: b.ID, FileName: "r.csv", StoredPath: "/r", UploadedBy: "up"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Submit(ctx, b.ID, "up", 100, 1); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.NeverSent(ctx, b.ID); err != nil || ok {
		t.Errorf("NeverSent of a batch waiting for approval = %v, %v; want false", ok, err)
	}
	if err := l.RejectBatch(ctx, b.ID, "ap", "wrong month"); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.ForgetNeverSent(ctx, b.ID); err != nil || !ok {
		t.Fatalf("ForgetNeverSent of a rejected batch = %v, %v; want true", ok, err)
	}
	if _, err := l.Batch(ctx, b.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the rejected batch is still in the ledger: %v", err)
	}
	if u, err := l.Upload(ctx, b.ID); err != nil || u.RejectedReason != "wrong month" {
		t.Errorf("the rejected batch's record = %+v, %v; want it kept", u, err)
	}
	// Its own import, redone, forgets a batch with an open upload.
	o := testBatch("reimported")
	importRows(t, l, o, []Row{validRow(o.ID, 2, 100)})
	if _, _, err := l.RecordUpload(ctx, Upload{BatchID: o.ID, FileName: "o.csv", StoredPath: "/o", UploadedBy: "up"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.ForgetNeverSent(ctx, o.ID); err != nil || ok {
		t.Errorf("ForgetNeverSent of an open upload = %v, %v; want false", ok, err)
	}
	if ok, err := l.ForgetReimport(ctx, o.ID); err != nil || !ok {
		t.Errorf("ForgetReimport = %v, %v; want true", ok, err)
	}
	if _, err := l.Upload(ctx, o.ID); err != nil {
		t.Errorf("ForgetReimport dropped the upload record: %v", err)
	}
}
