package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lote/batch"
	"lote/ledger"
)

func TestSignIn(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	e := newEnv(t, func(o *Options) { o.Now = func() time.Time { return now } })

	anon := e.browser()
	anon.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := anon.c.Get(e.ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Errorf("GET / signed out = %d to %q, want 303 to /login", res.StatusCode, res.Header.Get("Location"))
	}

	tests := []struct {
		name, user, password string
		csrf                 string // "" keeps the form's token
		code                 int
		says                 string
	}{
		{"wrong password", "ana", "wrong password!", "", http.StatusUnauthorized, "Wrong name or password."},
		{"unknown user", "zeca", testPassword, "", http.StatusUnauthorized, "Wrong name or password."},
		{"no CSRF token", "ana", testPassword, "forged", http.StatusForbidden, "The sign-in form has expired."},
		{"right password", "ana", testPassword, "", http.StatusOK, "Upload a payout sheet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := e.browser()
			u.get("/login")
			form := url.Values{"name": {tt.user}, "password": {tt.password}}
			if tt.csrf != "" {
				form.Set("csrf", tt.csrf)
			}
			code, body := u.post("/login", form)
			if code != tt.code || !strings.Contains(body, tt.says) {
				t.Errorf("sign in: %d, want %d saying %q:\n%s", code, tt.code, tt.says, body)
			}
		})
	}

	// The session cookie is HttpOnly and SameSite=Strict.
	u := e.browser()
	u.get("/login")
	u.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err = u.c.PostForm(e.ts.URL+"/login", url.Values{"name": {"bia"}, "password": {testPassword}, "csrf": {u.csrf}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Secure {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Strict, not Secure without TLS", cookie)
	}
}

func TestRoleRefusals(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RequireApproval = true })
	ana := e.login("ana")
	_, fixed := sheets(t)
	_, _, path := ana.upload("payouts.csv", fixed)
	id := strings.TrimPrefix(path, "/batches/")
	if len(id) != 64 {
		t.Fatalf("upload went to %s", path)
	}
	batchURL := "/batches/" + id
	bia, caio := e.login("bia"), e.login("caio")
	anon := e.browser()

	tests := []struct {
		name string
		u    *user
		path string
		form url.Values
		code int
		says string
	}{
		{"approver uploads", bia, "/upload", nil, http.StatusForbidden, "Your role (approver) does not allow this."},
		{"approver submits", bia, batchURL + "/submit", nil, http.StatusForbidden, "Your role (approver) does not allow this."},
		{"uploader approves", ana, batchURL + "/approve", nil, http.StatusForbidden, "Your role (uploader) does not allow this."},
		{"signed out submits", anon, batchURL + "/submit", nil, http.StatusUnauthorized, "Your session has ended."},
		{"forged token", ana, batchURL + "/submit", url.Values{"csrf": {"00"}}, http.StatusForbidden, "The form has expired."},
		{"approve before submit", bia, batchURL + "/approve", nil, http.StatusConflict, "not waiting for approval"},
		{"submit unticked", ana, batchURL + "/submit", url.Values{"total": {"1"}, "rows": {"1"}}, http.StatusBadRequest, "Tick the box"},
		{"submit a stale total", ana, batchURL + "/submit", url.Values{"confirm": {"yes"}, "total": {"1"}, "rows": {"12"}},
			http.StatusConflict, "not what was confirmed"},
		{"pause what is not sending", ana, batchURL + "/pause", nil, http.StatusConflict, "not being sent"},
		{"resume what is not submitted", ana, batchURL + "/resume", nil, http.StatusConflict, "not been cleared"},
		{"unknown batch", ana, "/batches/" + strings.Repeat("0", 64) + "/submit", nil, http.StatusNotFound, "There is no such batch."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := tt.u.post(tt.path, tt.form)
			if code != tt.code || !strings.Contains(body, tt.says) {
				t.Errorf("POST %s: %d, want %d saying %q:\n%.2000s", tt.path, code, tt.code, tt.says, body)
			}
		})
	}

	// The uploader confirms what the page shows; then the admin who did
	// not upload it may approve, but the uploader's own admin rights do not.
	_, page := ana.get(batchURL)
	total, rows := hiddenValue(t, page, "total"), hiddenValue(t, page, "rows")
	if code, body := ana.post(batchURL+"/submit", url.Values{"confirm": {"yes"}, "total": {total}, "rows": {rows}}); code != http.StatusOK ||
		!strings.Contains(body, "waits for another person with the approver role") {
		t.Fatalf("submit: %d\n%s", code, body)
	}
	if code, body := ana.post(batchURL+"/submit", url.Values{"confirm": {"yes"}, "total": {total}, "rows": {rows}}); code != http.StatusConflict ||
		!strings.Contains(body, "ana submitted this batch already") {
		t.Errorf("second submit: %d\n%s", code, body)
	}
	if len(e.sim.Transfers()) != 0 {
		t.Fatalf("%d transfers before approval", len(e.sim.Transfers()))
	}
	// caio is an admin but did not upload: four eyes are met.
	if code, body := caio.post(batchURL+"/approve", nil); code != http.StatusOK || !strings.Contains(body, "Approved. Sending has started.") {
		t.Fatalf("approve by caio: %d\n%s", code, body)
	}
	e.waitSent(id)
	if code, body := bia.post(batchURL+"/approve", nil); code != http.StatusConflict {
		t.Errorf("second approval: %d\n%s", code, body)
	}
	b, err := e.l.Batch(context.Background(), id)
	if err != nil || b.State != ledger.BatchDone {
		t.Fatalf("batch after approval: %+v, %v", b, err)
	}
	if n := len(e.sim.Transfers()); n != 12 {
		t.Errorf("%d transfers, want 12", n)
	}
}

func TestFourEyesUploaderAdmin(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RequireApproval = true })
	caio := e.login("caio") // admin: may upload and approve, but not both
	_, fixed := sheets(t)
	_, page, path := caio.upload("payouts.csv", fixed)
	form := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}
	if code, _ := caio.post(path+"/submit", form); code != http.StatusOK {
		t.Fatalf("submit: %d", code)
	}
	_, page = caio.get(path)
	if strings.Contains(page, `id="approve"`) {
		t.Error("the uploader is offered the approve button")
	}
	code, body := caio.post(path+"/approve", nil)
	if code != http.StatusForbidden || !strings.Contains(body, "other than the one who uploaded it and the one who submitted it") {
		t.Errorf("self-approval: %d\n%s", code, body)
	}
	if len(e.sim.Transfers()) != 0 {
		t.Errorf("%d transfers after a refused self-approval", len(e.sim.Transfers()))
	}
}

func hiddenValue(t *testing.T, page, name string) string {
	t.Helper()
	_, after, ok := strings.Cut(page, `name="`+name+`" value="`)
	if !ok {
		t.Fatalf("no hidden %s in the page:\n%.3000s", name, page)
	}
	v, _, _ := strings.Cut(after, `"`)
	return v
}

func TestUploadShowsProblems(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	bad, _ := sheets(t)
	code, page, path := ana.upload("folha.csv", bad)
	if code != http.StatusOK || !strings.HasPrefix(path, "/batches/") {
		t.Fatalf("upload: %d at %s\n%s", code, path, page)
	}
	for _, want := range []string{
		`<dd id="s-rows">12</dd>`, `<dd id="s-valid">10</dd>`, `<dd id="s-invalid" class="bad">2</dd>`,
		// The bad CPF's cell is marked, with the reason beside it.
		`<td class="error">08301661304<span class="why">`,
		`<td class="error">999<span class="why">`,
		// Markup and formulas show as text.
		`&lt;script&gt;alert(1)&lt;/script&gt;`, `=HYPERLINK(&#34;http://x&#34;)`,
		"Download the 2 invalid rows to fix",
		"Invalid rows: fix and upload again",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the batch page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script>alert") || strings.Contains(page, `id="submit"`) {
		t.Error("the page has raw markup from the sheet, or offers to submit invalid rows")
	}
	// The rows with problems, as a sheet to fix.
	res, err := ana.c.Get(e.ts.URL + path + "/errors")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename=folha.errors.csv` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	r := csv.NewReader(res.Body)
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || strings.TrimPrefix(recs[0][0], "\ufeff") != "reference" || recs[0][len(recs[0])-1] != "lote_errors" ||
		recs[1][0] != "PAY-2026-11-002" || recs[2][0] != "PAY-2026-11-004" || !strings.Contains(recs[1][len(recs[1])-1], "document: ") {
		t.Errorf("errors sheet = %q", recs)
	}
	// Uploading the same file again opens the same batch.
	if _, _, again := ana.upload("copy.csv", bad); again != path {
		t.Errorf("the same file again went to %s, want %s", again, path)
	}
	// The file is kept under the data folder, private.
	st, err := os.Stat(filepath.Join(e.opts.DataDir, strings.TrimPrefix(path, "/batches/")+".csv"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("stored upload: %v, %v", st, err)
	}
	// Only rows with problems.
	_, page = ana.get(path + "?show=problems")
	if !strings.Contains(page, "Page 1 of 1 (2 rows)") || strings.Contains(page, `id="row-2"`) || !strings.Contains(page, `id="row-5"`) {
		t.Errorf("problems page:\n%s", page)
	}
	// The ledger keeps the checked sheet, and no file beside the upload
	// does; its rows gave up their keys, so the corrected sheet, which
	// repeats their references, takes them and can be submitted.
	if n, err := e.l.ReleaseKeys(context.Background(), strings.TrimPrefix(path, "/batches/")); err != nil || n != 0 {
		t.Errorf("keys still held after the upload: %d, %v", n, err)
	}
	_, fixed := sheets(t)
	code, page, fpath := ana.upload("folha-corrigida.csv", fixed)
	if code != http.StatusOK || fpath == path || !strings.Contains(page, `<dd id="s-valid">12</dd>`) || !strings.Contains(page, `id="submit"`) {
		t.Errorf("corrected sheet: %d at %s\n%.3000s", code, fpath, page)
	}
}

func TestUploadRefusals(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxUpload = 1024 })
	ana := e.login("ana")
	_, fixed := sheets(t)
	big := append(bytes.Repeat([]byte("x"), 2000), '\n')
	tests := []struct {
		name    string
		file    string
		content []byte
		code    int
		says    string
	}{
		{"too large", "big.csv", big, http.StatusRequestEntityTooLarge, "The file is larger than the limit of 1 KB."},
		{"not a sheet", "notes.pdf", fixed[:100], http.StatusUnsupportedMediaType, "notes.pdf is not a sheet lote reads"},
		{"not a workbook", "sheet.xlsx", []byte("PK\x03\x04 not a zip"), http.StatusUnprocessableEntity, "sheet.xlsx: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ana.get("/")
			code, body, _ := ana.upload(tt.file, tt.content)
			if code != tt.code || !strings.Contains(body, tt.says) {
				t.Errorf("upload: %d, want %d saying %q\n%.3000s", code, tt.code, tt.says, body)
			}
		})
	}
	entries, _ := os.ReadDir(e.opts.DataDir)
	if len(entries) != 0 {
		t.Errorf("refused uploads left %d files in the data folder", len(entries))
	}
}

// gated makes the engine's waits (the rate limit) block until the gate
// is closed, so a test can pause or stop a batch in the middle of sending.
// waiting receives a value each time the engine starts waiting: by then
// the first request has left.
func gated(o *Options, gate chan struct{}, waiting chan struct{}) {
	o.Run.Rate, o.Run.Concurrency = 1, 1
	o.Run.Sleep = func(ctx context.Context, _ time.Duration) error {
		select {
		case waiting <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-gate:
			return nil
		}
	}
}

func submitted(t *testing.T, e *env, u *user) (id, path string) {
	t.Helper()
	_, fixed := sheets(t)
	_, page, path := u.upload("payouts.csv", fixed)
	form := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}
	if code, body := u.post(path+"/submit", form); code != http.StatusOK || !strings.Contains(body, "Submitted. Sending has started.") {
		t.Fatalf("submit: %d\n%s", code, body)
	}
	return strings.TrimPrefix(path, "/batches/"), path
}

func TestPauseResume(t *testing.T) {
	gate, waiting := make(chan struct{}), make(chan struct{}, 1)
	e := newEnv(t, func(o *Options) { gated(o, gate, waiting) })
	ana := e.login("ana")
	id, path := submitted(t, e, ana)
	<-waiting
	if code, body := ana.post(path+"/pause", nil); code != http.StatusOK || !strings.Contains(body, "Pausing") {
		t.Fatalf("pause: %d\n%s", code, body)
	}
	e.waitSent(id)
	_, body := ana.get(path + "/progress")
	if !strings.Contains(body, `"status":"paused"`) || !strings.Contains(body, `"sending":false`) {
		t.Errorf("progress after pause: %s", body)
	}
	sent := len(e.sim.Transfers())
	if sent == 0 || sent >= 12 {
		t.Fatalf("%d transfers when paused, want some but not all 12", sent)
	}
	// A paused batch stays paused across a restart.
	e.stop()
	e.start()
	if e.srv.running(id) != nil {
		t.Fatal("a paused batch was resumed by the restart")
	}
	ana = e.login("ana")
	_, page := ana.get(path)
	if !strings.Contains(page, `id="resume"`) || strings.Contains(page, `id="pause"`) {
		t.Errorf("paused page offers the wrong button:\n%s", page)
	}
	close(gate)
	if code, body := ana.post(path+"/resume", nil); code != http.StatusOK || !strings.Contains(body, "Resumed") {
		t.Fatalf("resume: %d\n%s", code, body)
	}
	e.waitSent(id)
	if n := len(e.sim.Transfers()); n != 12 {
		t.Errorf("%d transfers after resuming, want exactly 12", n)
	}
	checkResults(t, e, ana, path)
}

func TestRestartResumes(t *testing.T) {
	gate, waiting := make(chan struct{}), make(chan struct{}, 1)
	e := newEnv(t, func(o *Options) { gated(o, gate, waiting) })
	ana := e.login("ana")
	id, path := submitted(t, e, ana)
	<-waiting
	// The server stops in the middle of sending (SIGTERM): the batch is
	// left running, not paused, and a new server goes on with it.
	e.stop()
	if b, _ := e.l.Batch(context.Background(), id); b.State != ledger.BatchRunning {
		t.Fatalf("batch after stop: %s, want running", b.State)
	}
	close(gate)
	e.start()
	e.waitSent(id)
	if n := len(e.sim.Transfers()); n != 12 {
		t.Errorf("%d transfers after the restart, want exactly 12", n)
	}
	checkResults(t, e, e.login("ana"), path)
}

// checkResults downloads the results sheet: every row accepted, with a
// transfer id.
func checkResults(t *testing.T, e *env, u *user, path string) {
	t.Helper()
	_, body := u.get(path + "/progress")
	if !strings.Contains(body, `"status":"done"`) || !strings.Contains(body, `"accepted":12`) {
		t.Errorf("progress: %s", body)
	}
	res, err := u.c.Get(e.ts.URL + path + "/results")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if cd := res.Header.Get("Content-Disposition"); cd != "attachment; filename=payouts.results.csv" {
		t.Errorf("Content-Disposition = %q", cd)
	}
	recs, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	status, tid := -1, -1
	for i, h := range recs[0] {
		switch h {
		case "lote_status":
			status = i
		case "transfer_id":
			tid = i
		}
	}
	if len(recs) != 13 || status < 0 || tid < 0 {
		t.Fatalf("results: %d rows, lote_status at %d, transfer_id at %d", len(recs), status, tid)
	}
	for _, rec := range recs[1:] {
		if rec[status] != "accepted" || rec[tid] == "" {
			t.Errorf("results row %s: %s %q", rec[0], rec[status], rec[tid])
		}
	}
}

func TestReconciliation(t *testing.T) {
	e := newEnv(t, nil)
	ana := e.login("ana")
	_, fixed := sheets(t)
	_, page, path := ana.upload("payouts.csv", fixed)
	if code, body := ana.post(path+"/reconciliation", nil); code != http.StatusConflict || !strings.Contains(body, "nothing to reconcile") {
		t.Errorf("reconcile before sending: %d\n%.2000s", code, body)
	}
	form := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}
	ana.post(path+"/submit", form)
	id := strings.TrimPrefix(path, "/batches/")
	e.waitSent(id)
	// A GET asks Stone nothing and writes nothing: before a
	// reconciliation there is no report to download.
	asked := len(e.sim.Requests())
	if code, body := ana.get(path + "/reconciliation"); code != http.StatusNotFound || !strings.Contains(body, "reconcile it with Stone on its page first") {
		t.Errorf("GET before reconciling: %d\n%.2000s", code, body)
	}
	if n := len(e.sim.Requests()); n != asked {
		t.Errorf("a GET made %d requests to Stone", n-asked)
	}
	_, page = ana.get(path)
	if !strings.Contains(page, `id="reconcile"`) || strings.Contains(page, `id="dl-reconciliation"`) {
		t.Errorf("the page before reconciling:\n%.3000s", page)
	}
	if code, body := ana.post(path+"/reconciliation", nil); code != http.StatusOK || !strings.Contains(body, "Reconciled with Stone") ||
		!strings.Contains(body, `id="dl-reconciliation"`) {
		t.Fatalf("reconcile: %d\n%.3000s", code, body)
	}
	recorded := 0
	for _, err := range e.l.Reconciled(context.Background(), id) {
		if err != nil {
			t.Fatal(err)
		}
		recorded++
	}
	if recorded != 12 {
		t.Errorf("%d rows reconciled in the ledger, want 12", recorded)
	}
	asked = len(e.sim.Requests())
	res, err := ana.c.Get(e.ts.URL + path + "/reconciliation")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Disposition") != "attachment; filename=payouts.reconciliation.xlsx" ||
		!bytes.HasPrefix(b, []byte("PK")) {
		t.Errorf("reconciliation: %d %q, %d bytes", res.StatusCode, res.Header.Get("Content-Disposition"), len(b))
	}
	if n := len(e.sim.Requests()); n != asked {
		t.Errorf("downloading the report made %d requests to Stone", n-asked)
	}
}

// TestCommandLineBatch: a batch run with `lote run` on the same ledger is
// listed, and uploading its file on the page adopts it rather than
// importing it again.
func TestCommandLineBatch(t *testing.T) {
	e := newEnv(t, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "payouts.xlsx")
	if err := os.WriteFile(path, readSample(t, "payouts.xlsx"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := e.opts.Run
	opts.Ledger = e.l
	rep, err := batch.Run(context.Background(), path, opts)
	if err != nil || rep.Batch.State != ledger.BatchDone {
		t.Fatalf("lote run: %+v, %v", rep.Batch, err)
	}
	ana := e.login("ana")
	_, list := ana.get("/")
	if !strings.Contains(list, "payouts.xlsx") || !strings.Contains(list, "command line") {
		t.Errorf("the list lacks the command line's batch:\n%s", list)
	}
	_, list = ana.get("/?state=sending")
	if strings.Contains(list, "payouts.xlsx") {
		t.Error("the done batch is listed under sending")
	}
	code, page, where := ana.upload("payouts.xlsx", readSample(t, "payouts.xlsx"))
	if code != http.StatusOK || where != "/batches/"+rep.Batch.ID || !strings.Contains(page, `id="status">Done`) {
		t.Fatalf("upload of the same file: %d at %s\n%.3000s", code, where, page)
	}
	if n := len(e.sim.Transfers()); n != 12 {
		t.Errorf("%d transfers, want the 12 of the command line's run", n)
	}
	// Downloading its results on the page changes nothing in the ledger:
	// `lote resume` still writes them where `lote run` did.
	before, err := e.l.Batch(context.Background(), rep.Batch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := ana.get(where + "/results"); code != http.StatusOK {
		t.Fatalf("results: %d", code)
	}
	after, err := e.l.Batch(context.Background(), rep.Batch.ID)
	if err != nil || after.ResultsPath != before.ResultsPath {
		t.Errorf("results path after a download: %q, %v; want %q", after.ResultsPath, err, before.ResultsPath)
	}
}

// The same sheet saved again and uploaded after it was paid from the
// command line is held; a person releases it on the page, and the release
// is recorded with their name before the batch is submitted.
func TestReleaseHeldRowsOnThePage(t *testing.T) {
	e := newEnv(t, nil)
	paid, ana, page, where := paidThenUploadedAgain(t, e)
	if !strings.Contains(page, `id="release"`) || strings.Contains(page, `id="submit"`) && !strings.Contains(page, `id="s-held"`) {
		t.Fatalf("the page of a held sheet offers no release:\n%.3000s", page)
	}
	if code, body := ana.post(where+"/release", url.Values{}); code != http.StatusBadRequest || !strings.Contains(body, "Tick the box") {
		t.Errorf("release without confirming: %d", code)
	}
	code, body := ana.post(where+"/release", url.Values{"confirm": {"yes"}})
	if code != http.StatusOK || !strings.Contains(body, "Released:") {
		t.Fatalf("release: %d\n%.2000s", code, body)
	}
	id := strings.TrimPrefix(where, "/batches/")
	rels, err := e.l.Releases(context.Background(), id)
	if err != nil || len(rels) == 0 || rels[0].By != "page: ana" {
		t.Fatalf("releases %+v, %v; want them recorded as ana's", rels, err)
	}
	if len(e.sim.Transfers()) != paid {
		t.Error("releasing sent something before the batch was submitted")
	}
	_, page = ana.get(where)
	form := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}
	if code, body := ana.post(where+"/submit", form); code != http.StatusOK {
		t.Fatalf("submit: %d\n%.2000s", code, body)
	}
	e.waitSent(id)
	if got := len(e.sim.Transfers()); got != paid+1+len(rels) {
		t.Errorf("%d transfers; want %d paid before, the changed row and the %d released", got, paid, len(rels))
	}
}

// paidThenUploadedAgain pays the sample sheet, without its references,
// from the command line, then has ana upload it saved again (CRLF, one
// amount changed): its other rows are held. It returns the transfers paid, ana, the batch page and
// its path.
func paidThenUploadedAgain(t *testing.T, e *env) (paid int, ana *user, page, where string) {
	t.Helper()
	_, withRefs := sheets(t)
	// Without its reference column: nothing but the payouts ties the
	// two files together.
	recs, err := csv.NewReader(bytes.NewReader(withRefs)).ReadAll()
	if err != nil || recs[0][0] != "reference" {
		t.Fatalf("the sample's first column: %v %v", recs[0], err)
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	for _, rec := range recs {
		cw.Write(rec[1:])
	}
	cw.Flush()
	fixed := buf.Bytes()
	path := filepath.Join(t.TempDir(), "payouts.csv")
	if err := os.WriteFile(path, fixed, 0o644); err != nil {
		t.Fatal(err)
	}
	opts := e.opts.Run
	opts.Ledger = e.l
	if _, err := batch.Run(context.Background(), path, opts); err != nil {
		t.Fatal(err)
	}
	paid = len(e.sim.Transfers())
	ana = e.login("ana")
	// Saved again with one amount changed: that row is sent, the others
	// are held.
	again := bytes.Replace(bytes.ReplaceAll(fixed, []byte("\n"), []byte("\r\n")), []byte(",1500.00,"), []byte(",1500.01,"), 1)
	_, page, where = ana.upload("payouts-again.csv", again)
	return paid, ana, page, where
}

// Held rows of a page's batch are released on the page before it is
// submitted; --allow-repeat from the command line would send them beyond
// the submitted total.
func TestAllowRepeatDoesNotReleaseAPageBatch(t *testing.T) {
	e := newEnv(t, nil)
	paid, ana, page, where := paidThenUploadedAgain(t, e)
	id := strings.TrimPrefix(where, "/batches/")
	// Submitted with its rows held: cleared, and nothing more to send.
	form := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}
	if code, body := ana.post(where+"/submit", form); code != http.StatusOK {
		t.Fatalf("submit: %d\n%.2000s", code, body)
	}
	e.waitSent(id)
	opts := e.opts.Run
	opts.Ledger, opts.AllowRepeat = e.l, true
	_, err := batch.Resume(context.Background(), id, opts)
	if !errors.Is(err, batch.ErrNotCleared) {
		t.Errorf("--allow-repeat on a page's batch: %v; want it refused", err)
	}
	if n := len(e.sim.Transfers()); n != paid+1 {
		t.Errorf("%d transfers; want the %d paid before and the changed row", n, paid)
	}
}
