package ledger

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// fakeHash stands for a bcrypt hash: the ledger only checks the prefix.
var fakeHash = []byte("$2a$10$abcdefghijklmnopqrstuuS6m3N5YbM0Xx6aJ3q9Gc1lq3b0fJ1a")

func TestAddUser(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	if err := l.AddUser(ctx, "ana", RoleUploader, fakeHash); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		role Role
		hash []byte
		want error
	}{
		{"ana", RoleApprover, fakeHash, ErrUserExists},
		{"", RoleAdmin, fakeHash, ErrBadUser},
		{"bia bia", RoleAdmin, fakeHash, ErrBadUser},
		{"bia", "owner", fakeHash, ErrBadUser},
		{"bia", RoleAdmin, []byte("secret"), ErrBadUser},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q %s", tt.name, tt.role), func(t *testing.T) {
			if err := l.AddUser(ctx, tt.name, tt.role, tt.hash); !errors.Is(err, tt.want) {
				t.Fatalf("AddUser = %v, want %v", err, tt.want)
			}
		})
	}
	u, err := l.User(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != RoleUploader || string(u.PasswordHash) != string(fakeHash) || u.Created.IsZero() {
		t.Errorf("User(ana) = %+v", u)
	}
	if _, err := l.User(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("User(nobody) = %v, want ErrNotFound", err)
	}
	if err := l.SetPassword(ctx, "ana", []byte("$2a$10$other")); err != nil {
		t.Fatal(err)
	}
	if err := l.SetPassword(ctx, "nobody", fakeHash); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetPassword(nobody) = %v, want ErrNotFound", err)
	}
	all, err := l.Users(ctx)
	if err != nil || len(all) != 1 || string(all[0].PasswordHash) != "$2a$10$other" {
		t.Errorf("Users = %+v, %v", all, err)
	}
}

func TestFourEyes(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	for name, role := range map[string]Role{"up": RoleUploader, "up2": RoleUploader, "ap": RoleApprover, "adm": RoleAdmin} {
		if err := l.AddUser(ctx, name, role, fakeHash); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := l.SetPolicy(ctx, Policy{RequireApproval: true, TwoApproversAbove: NoSecondApprover}, "adm"); err != nil {
		t.Fatal(err)
	}
	id := batchID("four eyes")
	u, created, err := l.RecordUpload(ctx, Upload{BatchID: id, FileName: "folha.csv", StoredPath: "/x", FeeCents: 300, UploadedBy: "up"})
	if err != nil || !created || u.UploadedBy != "up" || u.FeeCents != 300 {
		t.Fatalf("RecordUpload = %+v, %v, %v", u, created, err)
	}
	// The same file uploaded by someone else opens the first record.
	u, created, err = l.RecordUpload(ctx, Upload{BatchID: id, FileName: "copy.csv", StoredPath: "/y", UploadedBy: "up2"})
	if err != nil || created || u.UploadedBy != "up" || u.FileName != "folha.csv" {
		t.Fatalf("RecordUpload again = %+v, %v, %v", u, created, err)
	}
	if _, err := l.Approve(ctx, id, "ap"); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("Approve before Submit = %v, want ErrIllegalTransition", err)
	}
	c.Advance(time.Minute)
	if err := l.Submit(ctx, id, "up", 123456, 3); err != nil {
		t.Fatal(err)
	}
	if err := l.Submit(ctx, id, "up2", 123456, 3); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("second Submit = %v, want ErrIllegalTransition", err)
	}
	if err := l.Submit(ctx, batchID("none"), "up", 1, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Submit of unknown batch = %v, want ErrNotFound", err)
	}
	for _, tt := range []struct {
		user string
		want error
	}{
		{"up", ErrFourEyes},  // the uploader
		{"up2", ErrFourEyes}, // not an approver
		{"ghost", ErrNotFound},
	} {
		if _, err := l.Approve(ctx, id, tt.user); !errors.Is(err, tt.want) {
			t.Errorf("Approve by %s = %v, want %v", tt.user, err, tt.want)
		}
	}
	c.Advance(time.Minute)
	if u, err := l.Approve(ctx, id, "ap"); err != nil || !u.Cleared() {
		t.Fatalf("Approve = %+v, %v; want it cleared", u, err)
	}
	if _, err := l.Approve(ctx, id, "adm"); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("second Approve = %v, want ErrIllegalTransition", err)
	}
	u, err = l.Upload(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if u.SubmittedBy != "up" || u.SubmittedCents != 123456 || u.SubmittedRows != 3 || !u.SubmittedAt.Equal(start.Add(time.Minute)) ||
		u.ApprovedBy != "ap" || !u.ApprovedAt.Equal(start.Add(2*time.Minute)) || !u.UploadedAt.Equal(start) {
		t.Errorf("Upload = %+v", u)
	}
	if err := l.SetPaused(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	all, err := l.Uploads(ctx)
	if err != nil || !all[id].Paused {
		t.Errorf("Uploads = %+v, %v; want paused", all, err)
	}
	if err := l.SetPaused(ctx, batchID("none"), true); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetPaused of unknown batch = %v, want ErrNotFound", err)
	}
}

func TestRowsPage(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	b := testBatch("paged")
	var rows []Row
	for n := 2; n <= 11; n++ {
		r := validRow(b.ID, n, int64(n*100))
		if n%3 == 0 {
			r = Row{Row: n, Cells: []string{"x"}, State: Invalid, ErrorCode: "bad", ErrorMessage: `[{"code":"bad"}]`}
		}
		rows = append(rows, r)
	}
	importRows(t, l, b, rows)
	page, err := l.RowsPage(ctx, b.ID, 3, 4, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowNumbers(page); fmt.Sprint(got) != "[5 6 7 8]" {
		t.Errorf("page at 3 of 4 = rows %v, want [5 6 7 8]", got)
	}
	page, err = l.RowsPage(ctx, b.ID, 1, 10, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowNumbers(page); fmt.Sprint(got) != "[6 9]" {
		t.Errorf("problems from 1 = rows %v, want [6 9]", got)
	}
	if n, err := l.CountProblems(ctx, b.ID); err != nil || n != 3 {
		t.Errorf("CountProblems = %d, %v; want 3", n, err)
	}
	if _, err := l.RowsPage(ctx, b.ID, -1, 10, false); err == nil {
		t.Error("RowsPage with a negative offset did not fail")
	}
}

func rowNumbers(rs []Row) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.Row)
	}
	return out
}

func TestWarnings(t *testing.T) {
	ctx := context.Background()
	l, _ := openTest(t, newClock())
	if err := l.AddUser(ctx, "up", RoleUploader, fakeHash); err != nil {
		t.Fatal(err)
	}
	id := batchID("warned")
	if _, _, err := l.RecordUpload(ctx, Upload{BatchID: id, FileName: "f.csv", StoredPath: "/x", UploadedBy: "up"}); err != nil {
		t.Fatal(err)
	}
	if err := l.AddWarnings(ctx, id, map[int]string{3: `[{"code":"a"}]`, 7: `[{"code":"b"}]`, 9: `[{"code":"c"}]`}); err != nil {
		t.Fatal(err)
	}
	got, err := l.Warnings(ctx, id, 3, 8)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != `map[3:[{"code":"a"}] 7:[{"code":"b"}]]` {
		t.Errorf("Warnings(3..8) = %v", got)
	}
	if n, err := l.CountWarnings(ctx, id); err != nil || n != 3 {
		t.Errorf("CountWarnings = %d, %v; want 3", n, err)
	}
	if err := l.AddWarnings(ctx, batchID("no upload"), map[int]string{2: "[]"}); err == nil {
		t.Error("warnings of a batch without an upload were stored")
	}
}
