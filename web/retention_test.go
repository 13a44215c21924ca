package web

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lote/internal/fake"
)

// TestRetentionSweep: past the retention an admin set, a server starting
// deletes the files of finished uploads (the sheet as uploaded and the
// files made from it) and records each deletion, and keeps those of a
// batch still waiting; the page says so and the results still come from
// the ledger (issue 13: uploads were kept forever).
func TestRetentionSweep(t *testing.T) {
	clock := fake.NewClock(time.Now())
	e := newEnvClock(t, clock.Now, nil)
	ctx := context.Background()
	ana, duda := e.login("ana"), e.login("duda")
	bad, fixed := sheets(t)

	_, page, donePath := ana.upload("payouts.csv", fixed)
	form := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}
	ana.post(donePath+"/submit", form)
	done := strings.TrimPrefix(donePath, "/batches/")
	e.waitSent(done)
	if code, _ := ana.get(donePath + "/results"); code != http.StatusOK {
		t.Fatalf("results: %d", code)
	}
	_, _, checkedPath := duda.upload("bad.csv", bad)
	checked := strings.TrimPrefix(checkedPath, "/batches/")
	_, _, waitingPath := ana.upload("waiting.csv", readSample(t, "folha-excel-br.csv"))
	waiting := strings.TrimPrefix(waitingPath, "/batches/")
	for _, id := range []string{done, checked, waiting} {
		if len(id) != 64 {
			t.Fatalf("an upload went to %s", id)
		}
	}
	files := func(id string) []string {
		t.Helper()
		m, err := filepath.Glob(filepath.Join(e.opts.DataDir, id+"*"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if len(files(done)) < 2 || len(files(checked)) < 1 || len(files(waiting)) < 1 {
		t.Fatalf("files before the sweep: done %v, checked %v, waiting %v", files(done), files(checked), files(waiting))
	}
	if _, _, err := e.l.SetRetention(ctx, 30, "caio"); err != nil {
		t.Fatal(err)
	}

	clock.Advance(29 * 24 * time.Hour)
	e.stop()
	e.start()
	if len(files(done)) == 0 {
		t.Fatal("files deleted before the retention")
	}
	clock.Advance(2 * 24 * time.Hour)
	e.stop()
	e.start()
	if got := files(done); len(got) != 0 {
		t.Errorf("a done batch's files are kept past the retention: %v", got)
	}
	if got := files(checked); len(got) != 0 {
		t.Errorf("a checked-only upload's files are kept past the retention: %v", got)
	}
	if got := files(waiting); len(got) == 0 {
		t.Error("the sheet of a batch waiting to be submitted was deleted")
	}
	// A month on, every session has ended.
	ana, duda = e.login("ana"), e.login("duda")
	ds, err := e.l.Deletions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deleted := map[string]bool{}
	for _, d := range ds {
		deleted[d.File] = d.RetentionDays == 30
	}
	for _, f := range []string{done + ".csv", done + ".results.csv", checked + ".csv"} {
		if !deleted[f] {
			t.Errorf("the deletion of %s is not recorded at 30 days: %+v", f, ds)
		}
	}
	if deleted[waiting+".csv"] {
		t.Error("a deletion of the waiting batch is recorded")
	}
	if _, body := ana.get(donePath); !strings.Contains(body, `id="expired"`) {
		t.Errorf("the done batch's page does not say its files were deleted:\n%.3000s", body)
	}
	if code, body := duda.get(checkedPath); code != http.StatusOK || !strings.Contains(body, `id="expired"`) {
		t.Errorf("the checked upload's page after its files went: %d\n%.3000s", code, body)
	}
	res, err := ana.c.Get(e.ts.URL + donePath + "/results")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("results after the sweep: %d, want 200 (written from the ledger)", res.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(e.opts.DataDir, waiting+".csv")); err != nil {
		t.Errorf("the waiting batch's sheet: %v", err)
	}
}
