package ledger

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRetention: only an admin sets it, every change is kept, and only
// finished uploads past it are offered for deletion; each deletion is
// recorded.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	l, _ := openTest(t, c)
	for name, role := range map[string]Role{"up": RoleUploader, "adm": RoleAdmin} {
		if err := l.AddUser(ctx, name, role, fakeHash); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := l.Retention(ctx); err != nil || r.Days != DefaultRetentionDays || r.ID != 0 {
		t.Fatalf("Retention of a new ledger = %+v, %v", r, err)
	}
	if _, _, err := l.SetRetention(ctx, 30, "up"); !errors.Is(err, ErrNotAdmin) {
		t.Errorf("SetRetention by an uploader = %v, want ErrNotAdmin", err)
	}
	if _, _, err := l.SetRetention(ctx, 0, "adm"); !errors.Is(err, ErrBadRetention) {
		t.Errorf("SetRetention(0) = %v, want ErrBadRetention", err)
	}
	r, changed, err := l.SetRetention(ctx, 30, "adm")
	if err != nil || !changed || r.Days != 30 || r.SetBy != "adm" || !r.SetAt.Equal(c.Now()) {
		t.Fatalf("SetRetention(30) = %+v, %v, %v", r, changed, err)
	}
	if _, changed, _ := l.SetRetention(ctx, 30, "adm"); changed {
		t.Error("setting the retention in force again recorded a change")
	}

	// done: imported and finished; waiting: imported, never submitted;
	// checked: never imported (invalid rows); withdrawn.
	done, waiting, checked, withdrawn := testBatch("done"), testBatch("waiting"), testBatch("checked"), testBatch("withdrawn")
	for _, b := range []Batch{done, waiting, checked, withdrawn} {
		if _, _, err := l.RecordUpload(ctx, Upload{BatchID: b.ID, FileName: b.FileName, StoredPath: "/x/" + b.ID, UploadedBy: "up"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range []Batch{done, waiting, withdrawn} {
		importRows(t, l, b, nil)
	}
	if err := l.SetBatchState(ctx, done.ID, BatchDone); err != nil {
		t.Fatal(err)
	}
	if err := l.WithdrawBatch(ctx, withdrawn.ID, "up"); err != nil {
		t.Fatal(err)
	}
	expired := func() map[string]bool {
		t.Helper()
		us, _, err := l.ExpiredUploads(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, u := range us {
			out[u.BatchID] = true
		}
		return out
	}
	c.Advance(30*24*time.Hour - time.Minute)
	if got := expired(); len(got) != 0 {
		t.Errorf("expired before the retention: %v", got)
	}
	c.Advance(2 * time.Minute)
	got := expired()
	if !got[done.ID] || !got[checked.ID] || !got[withdrawn.ID] || got[waiting.ID] || len(got) != 3 {
		t.Errorf("expired after the retention: done %v, checked %v, withdrawn %v, waiting %v (want true, true, true, false)",
			got[done.ID], got[checked.ID], got[withdrawn.ID], got[waiting.ID])
	}
	if err := l.RecordExpiry(ctx, waiting.ID, []string{"x"}, r); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("RecordExpiry of a batch waiting to be submitted = %v, want ErrIllegalTransition", err)
	}
	if err := l.RecordExpiry(ctx, done.ID, []string{done.ID + ".csv", done.ID + ".results.csv"}, r); err != nil {
		t.Fatal(err)
	}
	if got := expired(); got[done.ID] {
		t.Error("an expired upload is offered again")
	}
	u, err := l.Upload(ctx, done.ID)
	if err != nil || !u.Expired.Equal(c.Now()) {
		t.Errorf("Upload after expiry = %+v, %v", u.Expired, err)
	}
	ds, err := l.Deletions(ctx)
	if err != nil || len(ds) != 2 || ds[1].File != done.ID+".results.csv" || ds[0].RetentionDays != 30 || ds[0].Batch != done.ID {
		t.Errorf("Deletions = %+v, %v", ds, err)
	}
}
