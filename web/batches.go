package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"lote/batch"
	"lote/ledger"
	"lote/sheet"
)

// batchRow is one line of the list of batches.
type batchRow struct {
	Name   string // as uploaded
	B      ledger.Batch
	U      ledger.Upload
	Status status
}

// status is a batch's state as the page names it.
type status struct {
	Key   string // for the filter and the CSS class
	Label string
}

var statusFilters = []status{
	{"", "All"}, {"invalid", "Invalid rows"}, {"ready", "Ready to submit"}, {"approval", "Waiting for approval"},
	{"sending", "Sending"}, {"paused", "Paused"}, {"stopped", "Stopped"}, {"done", "Done"},
	{"rejected", "Rejected"}, {"withdrawn", "Withdrawn"},
}

// statusOf names where a batch stands for a person.
func (s *Server) statusOf(b ledger.Batch, u ledger.Upload, hasUpload bool) status {
	switch {
	case b.State == ledger.BatchDone:
		return status{"done", "Done"}
	case b.State == ledger.BatchImporting:
		return status{"stopped", "Import interrupted"}
	case s.running(b.ID) != nil:
		return status{"sending", "Sending"}
	case b.LeaseHolder != "" && b.LeaseExpires.After(s.now()):
		return status{"sending", "Sending (by " + b.LeaseHolder + ")"}
	case hasUpload && u.RejectedBy != "":
		return status{"rejected", "Rejected by " + u.RejectedBy}
	case hasUpload && u.WithdrawnBy != "":
		return status{"withdrawn", "Withdrawn by " + u.WithdrawnBy}
	case b.Invalid > 0:
		return status{"invalid", "Invalid rows: fix and upload again"}
	case !hasUpload:
		if b.State == ledger.BatchRunning {
			return status{"stopped", "Interrupted (run from the command line)"}
		}
		return status{"ready", "Imported from the command line"}
	case u.Paused:
		return status{"paused", "Paused"}
	case !u.Submitted():
		return status{"ready", "Ready to submit"}
	case u.WaitsForApproval() && u.Approved():
		return status{"approval", "Waiting for a second approval"}
	case u.WaitsForApproval():
		return status{"approval", "Waiting for approval"}
	}
	return status{"stopped", "Stopped"}
}

type listContent struct {
	Batches   []batchRow
	Filters   []status
	Filter    string
	MaxUpload string
	CanUpload bool
	// Policy is the ledger's approval policy in force: what a batch
	// uploaded now will need.
	Policy ledger.PolicyChange
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	s.showList(w, r, http.StatusOK, "")
}

func (s *Server) showList(w http.ResponseWriter, r *http.Request, code int, msg string) {
	se := sessionFrom(r)
	ctx := r.Context()
	bs, err := s.l.Batches(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	ups, err := s.l.Uploads(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	pol, err := s.l.Policy(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	filter := r.URL.Query().Get("state")
	c := listContent{Filters: statusFilters, Filter: filter, MaxUpload: sizeText(s.opts.MaxUpload),
		CanUpload: se.role == ledger.RoleUploader || se.role == ledger.RoleAdmin, Policy: pol}
	// Sheets checked but not imported (they have invalid rows) are listed
	// with the ledger's batches, newest first.
	inLedger := make(map[string]bool, len(bs))
	for _, b := range bs {
		inLedger[b.ID] = true
	}
	for id, u := range ups {
		if inLedger[id] {
			continue
		}
		cs, err := s.readSummary(id)
		if err != nil && !u.Closed() && u.Expired.IsZero() {
			s.log.Warn("list", "err", err)
			continue
		}
		// A rejected or withdrawn batch whose rows a corrected sheet took
		// over is listed from its upload record alone.
		bs = append(bs, checkedBatch(id, u, cs))
	}
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].Created.After(bs[j].Created) })
	for _, b := range bs {
		u, ok := ups[b.ID]
		st := s.statusOf(b, u, ok)
		if filter == "" || filter == st.Key {
			c.Batches = append(c.Batches, batchRow{Name: displayName(b, u, ok), B: b, U: u, Status: st})
		}
	}
	p := s.pageFor(se, "Batches")
	p.Error, p.Content = msg, c
	s.render(w, code, "list", p)
}

func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d KB", max(1, n>>10))
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request", "path", r.URL.Path, "err", err)
	s.fail(w, r, sessionFrom(r), http.StatusInternalServerError, "Something went wrong on the server; it is in the server's log.")
}

// upload receives a sheet as a multipart stream: the CSRF field (checked
// by authUpload), then the file, which is hashed while written to DataDir
// (never read whole into memory), imported and checked; the browser is
// sent to the batch's page.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	se := sessionFrom(r)
	mr := uploadStream(r)
	var tmp, name, id string
	defer func() {
		if tmp != "" {
			os.Remove(tmp)
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.uploadError(w, r, err)
			return
		}
		if part.FormName() == "file" && tmp == "" {
			name = filepath.Base(part.FileName())
			if name == "." || name == "/" || part.FileName() == "" {
				s.showList(w, r, http.StatusBadRequest, "Choose a file to upload.")
				return
			}
			if sheetExt(name) == "" {
				s.showList(w, r, http.StatusUnsupportedMediaType, fmt.Sprintf("%s is not a sheet lote reads: upload a .csv or .xlsx file.", name))
				return
			}
			if tmp, id, err = s.receive(part); err != nil {
				s.uploadError(w, r, err)
				return
			}
		}
		part.Close()
	}
	if tmp == "" {
		s.showList(w, r, http.StatusBadRequest, "Choose a file to upload.")
		return
	}
	started := s.now()
	path, err := s.storeUpload(tmp, id, sheetExt(name))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	tmp = ""
	// The import goes on if the browser goes away (a person who closes the
	// tab finds the batch checked when they come back); only stopping the
	// server interrupts it, and the next upload of the file starts it over.
	ctx, cancel := context.WithCancel(s.base)
	defer cancel()
	b, berr := s.l.Batch(ctx, id)
	u, uerr := s.l.Upload(ctx, id)
	imported := berr == nil && b.State != ledger.BatchImporting
	// Checked before (it has invalid rows), or closed: the upload record
	// and its check are the batch. A record without its check (the server
	// stopped while checking) is checked again.
	_, serr := s.readSummary(id)
	checkedOnly := errors.Is(berr, ledger.ErrNotFound) && uerr == nil && (serr == nil || u.Closed())
	switch {
	case berr != nil && !errors.Is(berr, ledger.ErrNotFound):
		s.internal(w, r, berr)
		return
	case uerr != nil && !errors.Is(uerr, ledger.ErrNotFound):
		s.internal(w, r, uerr)
		return
	case imported && uerr == nil, checkedOnly:
		// The same file is the same batch: open it.
		http.Redirect(w, r, "/batches/"+id, http.StatusSeeOther)
		return
	case imported:
		// Imported from the command line before: the page adopts it, and
		// from now on it is sent only as the ledger's policy in force asks.
		if _, _, err := s.l.RecordUpload(ctx, ledger.Upload{BatchID: id, FileName: name, StoredPath: path, UploadedBy: se.user}); err != nil {
			s.internal(w, r, err)
			return
		}
	default:
		// New, or an import that was interrupted: it starts over.
		if !s.startImport() {
			s.busy(w, r)
			return
		}
		err := s.checkAndImport(ctx, path, name, id, se.user)
		s.endImport()
		if err != nil {
			os.Remove(path)
			s.importError(w, r, name, err)
			return
		}
	}
	s.log.Info("uploaded", "user", se.user, "batch", id[:12], "took", s.now().Sub(started).Round(time.Millisecond))
	http.Redirect(w, r, "/batches/"+id, http.StatusSeeOther)
}

// receive writes one uploaded file to a temporary file in DataDir, mode
// 0600, hashing it on the way. It returns the path and the SHA-256.
func (s *Server) receive(part io.Reader) (string, string, error) {
	f, err := os.CreateTemp(s.opts.DataDir, "upload-*.part")
	if err != nil {
		return "", "", fmt.Errorf("receive upload: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(part, s.opts.MaxUpload+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > s.opts.MaxUpload {
		err = &http.MaxBytesError{Limit: s.opts.MaxUpload}
	}
	if err != nil {
		os.Remove(f.Name())
		return "", "", err
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

func (s *Server) uploadError(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.showList(w, r, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("The file is larger than the limit of %s. Split the sheet into smaller files.", sizeText(s.opts.MaxUpload)))
		return
	}
	s.log.Warn("upload", "err", err)
	s.showList(w, r, http.StatusBadRequest, "The upload did not arrive whole. Try again.")
}

func (s *Server) importError(w http.ResponseWriter, r *http.Request, name string, err error) {
	var fe *batch.FileError
	if errors.As(err, &fe) {
		// The path is the server's; the person knows the file by its name.
		s.log.Error("import", "file", name, "err", err)
		s.showList(w, r, http.StatusUnprocessableEntity, fileMessage(name, fe.Path, fe.Err))
		return
	}
	s.log.Error("import", "file", name, "err", err)
	s.showList(w, r, http.StatusUnprocessableEntity, name+" could not be imported: "+userMessage(err))
}

// checkAndImport records who uploaded the file, with the ledger's
// approval policy in force, then validates it; a sheet with invalid rows
// is kept checked only (see checked.go), a valid one is imported and
// planned, with the warnings of valid rows (the ledger keeps only the
// problems of invalid rows). The upload is recorded first so that from
// the moment the bytes are in the ledger no process sends them but as
// their policy allows; if the file cannot even be read, the record goes.
func (s *Server) checkAndImport(ctx context.Context, path, name, id, user string) error {
	if _, _, err := s.l.RecordUpload(ctx, ledger.Upload{BatchID: id, FileName: name, StoredPath: path, UploadedBy: user}); err != nil {
		return err
	}
	discard := func(err error) error {
		if _, derr := s.l.DiscardUpload(context.WithoutCancel(ctx), id); derr != nil {
			s.log.Error("discard upload", "batch", id[:12], "err", derr)
		}
		return err
	}
	cs, warnings, err := s.checkUpload(ctx, path, id)
	if err != nil {
		return discard(err)
	}
	if cs.Invalid > 0 {
		return nil
	}
	rep, err := s.importFile(ctx, path)
	if err != nil {
		return discard(err)
	}
	// The ledger holds the rows now.
	sumPath, rowsPath := s.checkPaths(id)
	os.Remove(sumPath)
	os.Remove(rowsPath)
	if err := s.l.SetUploadFee(ctx, id, rep.Plan.FeeCents); err != nil {
		return err
	}
	return s.l.AddWarnings(ctx, id, warnings)
}

// batchContent is the batch page.
type batchContent struct {
	Name      string // as uploaded
	Checked   bool   // checked only: invalid rows, never imported
	B         ledger.Batch
	U         ledger.Upload
	HasUpload bool
	Status    status
	Outcome   string

	Counts      []stateCount
	ToSend      int
	ToSendCents int64
	Held        int
	Warnings    int
	Problems    int

	Header []string
	Rows   []rowView
	Filter string // "problems" or ""
	Page   int    // 1-based
	Pages  int
	Rows0  int // how many rows the filter selects

	// Gone says the batch was rejected or withdrawn and its rows are no
	// longer in the ledger: a corrected sheet took over their references.
	Gone bool
	// Approvals is what the batch's own policy asks for the total it
	// sends (or was submitted for); SentAny says rows of it were sent.
	Approvals int
	SentAny   bool

	CanSubmit   bool
	CanApprove  bool
	CanReject   bool
	CanWithdraw bool
	CanRelease  bool
	CanPause    bool
	CanResume   bool
	CanSettle   bool // an admin settles rows that need a person (settle.go)
	Sending     bool
	HasResults  bool
	// ReconciledAt is when the last reconciliation report was made on
	// the page; zero when there is none.
	ReconciledAt time.Time
}

type stateCount struct {
	State ledger.State
	Rows  int
	Cents int64
}

type rowView struct {
	Row    int
	State  ledger.State
	Cells  []cellView
	Other  []batch.Issue // problems not about one column
	Class  string        // "error", "warning" or ""
	Detail string        // transfer id or what happened
}

type cellView struct {
	Value  string
	Issues []batch.Issue
	Class  string
}

// loaded is the batch a request names.
type loaded struct {
	B         ledger.Batch
	U         ledger.Upload
	HasUpload bool
	// Checked says the upload was checked but not imported (it has invalid
	// rows): B is made from its check summary, CS.
	Checked bool
	CS      checkSummary
	// Gone says the upload was rejected or withdrawn and nothing of it
	// is kept but its record (see batchContent.Gone).
	Gone bool
}

func (s *Server) loadBatch(w http.ResponseWriter, r *http.Request) (loaded, bool) {
	var ld loaded
	se := sessionFrom(r)
	id := r.PathValue("id")
	if len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
		s.fail(w, r, se, http.StatusNotFound, "There is no such batch.")
		return ld, false
	}
	u, err := s.l.Upload(r.Context(), id)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		s.internal(w, r, err)
		return ld, false
	}
	ld.U, ld.HasUpload = u, err == nil
	b, err := s.l.Batch(r.Context(), id)
	if errors.Is(err, ledger.ErrNotFound) && ld.HasUpload {
		cs, err := s.readSummary(id)
		if err != nil && !u.Closed() && u.Expired.IsZero() {
			s.internal(w, r, err)
			return ld, false
		}
		ld.B, ld.Checked, ld.CS, ld.Gone = checkedBatch(id, u, cs), true, cs, err != nil
		return ld, true
	}
	if errors.Is(err, ledger.ErrNotFound) {
		s.fail(w, r, se, http.StatusNotFound, "There is no such batch.")
		return ld, false
	}
	if err != nil {
		s.internal(w, r, err)
		return ld, false
	}
	ld.B = b
	return ld, true
}

func (s *Server) view(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, u, hasUpload := ld.B, ld.U, ld.HasUpload
	se := sessionFrom(r)
	ctx := r.Context()
	c := batchContent{Name: displayName(b, u, hasUpload), B: b, U: u, HasUpload: hasUpload, Status: s.statusOf(b, u, hasUpload), Header: b.Header,
		Gone: ld.Gone}
	s.mu.Lock()
	c.Outcome = s.outcome[b.ID]
	s.mu.Unlock()
	c.Filter = r.URL.Query().Get("show")
	if c.Filter != "problems" {
		c.Filter = ""
	}
	c.Page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	var err error
	c.Checked = ld.Checked
	switch {
	case ld.Gone:
	case ld.Checked:
		err = s.checkedPage(&c, ld.CS)
	default:
		err = s.ledgerPage(ctx, &c, hasUpload)
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	sending := s.running(b.ID) != nil
	c.Sending = sending || c.Status.Key == "sending"
	c.Approvals = u.Policy.Approvals(c.ToSendCents)
	if u.Submitted() {
		c.Approvals = u.ApprovalsNeeded()
	}
	uploader := se.role == ledger.RoleUploader || se.role == ledger.RoleAdmin
	approver := se.role == ledger.RoleApprover || se.role == ledger.RoleAdmin
	open := hasUpload && !u.Closed()
	// Four eyes, as the ledger checks them: an approver neither uploaded
	// nor submitted the batch, and a second approver is another person.
	otherPerson := se.user != u.UploadedBy && se.user != u.SubmittedBy
	c.CanSubmit = open && uploader && !u.Submitted() && b.Invalid == 0 && c.ToSend > 0 && b.State != ledger.BatchImporting
	c.CanApprove = open && approver && u.WaitsForApproval() && otherPerson && se.user != u.ApprovedBy
	c.CanReject = open && approver && u.WaitsForApproval() && otherPerson
	c.CanWithdraw = open && !c.SentAny && !c.Sending &&
		(se.user == u.UploadedBy || se.user == u.SubmittedBy || se.role == ledger.RoleAdmin)
	// Held rows are released before the batch is submitted, so that what
	// is submitted (and approved) includes them.
	c.CanRelease = open && uploader && !u.Submitted() && c.Held > 0 && !sending && b.State != ledger.BatchImporting
	c.CanPause = hasUpload && sending
	c.CanSettle = se.role == ledger.RoleAdmin && !sending
	c.CanResume = hasUpload && !sending && s.mayRunIgnoringPause(u) && b.State != ledger.BatchDone &&
		(u.Paused || c.Status.Key == "stopped")
	c.HasResults = b.State == ledger.BatchRunning || b.State == ledger.BatchDone
	if st, err := os.Stat(s.reconciliationPath(b.ID)); err == nil && c.HasResults {
		c.ReconciledAt = st.ModTime()
	}
	p := s.pageFor(se, c.Name)
	p.Content = c
	p.Notice = r.URL.Query().Get("notice")
	if _, ok := notices[p.Notice]; ok {
		p.Notice = notices[p.Notice]
	} else {
		p.Notice = ""
	}
	s.render(w, http.StatusOK, "batch", p)
}

// paginate counts the pages of c's rows and clamps c.Page; it returns
// the rows per page.
func (s *Server) paginate(c *batchContent) int {
	per := s.opts.PageRows
	c.Pages = max(1, (c.Rows0+per-1)/per)
	c.Page = min(max(c.Page, 1), c.Pages)
	return per
}

// ledgerPage fills c from the ledger: counts by state and one page of rows.
func (s *Server) ledgerPage(ctx context.Context, c *batchContent, hasUpload bool) error {
	b := c.B
	sum, err := s.l.Summary(ctx, b.ID)
	if err != nil {
		return err
	}
	for _, st := range batch.OrderedStates(sum) {
		c.Counts = append(c.Counts, stateCount{st, sum[st].Rows, sum[st].Cents})
	}
	c.ToSend = sum[ledger.Pending].Rows + sum[ledger.Attempted].Rows
	c.ToSendCents = sum[ledger.Pending].Cents + sum[ledger.Attempted].Cents
	c.Held = sum[ledger.Held].Rows
	for st, t := range sum {
		if t.Rows > 0 && st != ledger.Invalid && st != ledger.Pending && st != ledger.Held {
			c.SentAny = true
		}
	}
	if c.Problems, err = s.l.CountProblems(ctx, b.ID); err != nil {
		return err
	}
	if hasUpload {
		if c.Warnings, err = s.l.CountWarnings(ctx, b.ID); err != nil {
			return err
		}
	}
	c.Rows0 = b.Rows
	if c.Filter == "problems" {
		c.Rows0 = c.Problems
	}
	per := s.paginate(c)
	rows, err := s.l.RowsPage(ctx, b.ID, (c.Page-1)*per, per, c.Filter == "problems")
	if err != nil {
		return err
	}
	var warns map[int]string
	if hasUpload && len(rows) > 0 {
		if warns, err = s.l.Warnings(ctx, b.ID, rows[0].Row, rows[len(rows)-1].Row); err != nil {
			return err
		}
	}
	for _, row := range rows {
		c.Rows = append(c.Rows, makeRowView(b.Header, row, warns[row.Row]))
	}
	return nil
}

// checkedPage fills c from a checked-only upload's files.
func (s *Server) checkedPage(c *batchContent, cs checkSummary) error {
	c.Problems, c.Warnings = cs.Problems, cs.Warnings
	c.Counts = []stateCount{{ledger.Invalid, cs.Invalid, 0}, {"valid", cs.Valid, cs.TotalCents}}
	c.Rows0 = cs.Rows
	if c.Filter == "problems" {
		c.Rows0 = cs.Problems
	}
	per := s.paginate(c)
	return s.checkedRows(c.B.ID, (c.Page-1)*per, c.Filter == "problems", func(cr checkedRow) bool {
		c.Rows = append(c.Rows, checkedRowView(cs.Header, cr))
		return len(c.Rows) < per
	})
}

// notices are the messages a redirect may ask the batch page to show; a
// fixed list, so a link cannot put words on the page.
var notices = map[string]string{
	"submitted":  "Submitted. Sending has started.",
	"approval":   "Submitted. It waits for another person with the approver role to approve it.",
	"approved":   "Approved. Sending has started.",
	"approved1":  "Approved. Its total asks for a second approval, by another person with the approver role; it is sent then.",
	"rejected":   "Rejected. It will never be sent; the reason shows on its page.",
	"withdrawn":  "Withdrawn. It will never be sent.",
	"paused":     "Pausing: the requests in flight finish, nothing new is sent.",
	"resumed":    "Resumed: the rows left are sent with their same keys.",
	"released":   "Released: the held rows are part of the batch now, each with a key of its own; check the total before you submit.",
	"settled":    "Settled: the ledger records what you found, with your name; a row to send again goes with Resume.",
	"reconciled": "Reconciled with Stone: every transfer's status is recorded; the report is ready to download.",
}

// release sends a batch's held rows after all, as the person signed in
// decided: recorded in the ledger with their name. Only before the batch
// is submitted, so that the submitted (and approved) total includes them.
func (s *Server) release(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, u, hasUpload := ld.B, ld.U, ld.HasUpload
	se := sessionFrom(r)
	switch {
	case !hasUpload || b.State == ledger.BatchImporting:
		s.fail(w, r, se, http.StatusConflict, "This batch was not uploaded here: release its held rows with lote run --allow-repeat.")
		return
	case u.Closed():
		s.fail(w, r, se, http.StatusConflict, "This batch "+u.NotCleared()+": it is never sent.")
		return
	case u.Submitted():
		s.fail(w, r, se, http.StatusConflict, "This batch was submitted already: held rows are released before submitting, so that the submitted total includes them. To pay them, put those rows in a new sheet and upload it.")
		return
	case s.running(b.ID) != nil:
		s.fail(w, r, se, http.StatusConflict, "This batch is being sent; pause it first.")
		return
	case r.FormValue("confirm") != "yes":
		s.fail(w, r, se, http.StatusBadRequest, "Tick the box to confirm that the held rows must be paid as well.")
		return
	}
	n, err := batch.ReleaseHeld(r.Context(), s.l, b.ID, "page: "+se.user)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("released held rows", "user", se.user, "batch", b.ID[:12], "rows", n)
	http.Redirect(w, r, "/batches/"+b.ID+"?notice=released", http.StatusSeeOther)
}

func (s *Server) mayRunIgnoringPause(u ledger.Upload) bool {
	u.Paused = false
	return s.mayRun(u)
}

// makeRowView puts each issue beside the cell of its column; issues that
// name no column of the header stay with the row.
func makeRowView(header []string, row ledger.Row, warnings string) rowView {
	v := rowView{Row: row.Row, State: row.State}
	width := max(len(header), len(row.Cells))
	v.Cells = make([]cellView, width)
	for i := range v.Cells {
		if i < len(row.Cells) {
			v.Cells[i].Value = row.Cells[i]
		}
	}
	issues := batch.Issues(row)
	if row.State != ledger.Invalid && row.State != ledger.Held && row.State != ledger.Rejected && row.State != ledger.NeedsReview {
		// A row to send or sent shows only its warnings (a payee paid
		// another amount recently), not a stale reason.
		issues = slices.DeleteFunc(issues, func(is batch.Issue) bool { return !is.Warning })
	}
	if warnings != "" {
		var ws []batch.Issue
		if json.Unmarshal([]byte(warnings), &ws) == nil {
			issues = append(issues, ws...)
		}
	}
	for _, is := range issues {
		i := columnIndex(header, is.Column)
		if i < 0 {
			v.Other = append(v.Other, is)
			continue
		}
		cv := &v.Cells[i]
		cv.Issues = append(cv.Issues, is)
		if !is.Warning {
			cv.Class = "error"
		} else if cv.Class == "" {
			cv.Class = "warning"
		}
	}
	for _, is := range issues {
		if !is.Warning {
			v.Class = "error"
			break
		}
		v.Class = "warning"
	}
	switch {
	case row.TransferID != "":
		v.Detail = row.TransferID
		if row.APIStatus != "" {
			v.Detail += " · " + row.APIStatus
		}
	}
	return v
}

// columnIndex finds the header column an issue names: as the user wrote
// it (batch.Mapping.ColumnName), or "column X" for a blank header.
func columnIndex(header []string, name string) int {
	if name == "" {
		return -1
	}
	for i, h := range header {
		if strings.TrimSpace(h) == name {
			return i
		}
	}
	if l, ok := strings.CutPrefix(name, "column "); ok {
		for i := range header {
			if batch.ColumnLetter(i) == l {
				return i
			}
		}
	}
	return -1
}

// submit records that the person confirmed the total and the number of
// payees shown to them, then starts sending unless approval is required.
// The confirmation must match the batch as it is now.
func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, u, hasUpload := ld.B, ld.U, ld.HasUpload
	se := sessionFrom(r)
	ctx := r.Context()
	switch {
	case !hasUpload:
		s.fail(w, r, se, http.StatusConflict, "This batch was imported from the command line; run it there.")
		return
	case u.Closed():
		s.fail(w, r, se, http.StatusConflict, "This batch "+u.NotCleared()+": it is never sent.")
		return
	case u.Submitted():
		s.fail(w, r, se, http.StatusConflict, fmt.Sprintf("%s submitted this batch already, on %s.", u.SubmittedBy, u.SubmittedAt.Local().Format("2006-01-02 15:04")))
		return
	case b.Invalid > 0:
		s.fail(w, r, se, http.StatusConflict, fmt.Sprintf("%d rows are invalid: download them, fix them and upload the fixed sheet.", b.Invalid))
		return
	case r.PostFormValue("confirm") != "yes":
		s.fail(w, r, se, http.StatusBadRequest, "Tick the box that confirms the total and the number of payees.")
		return
	}
	sum, err := s.l.Summary(ctx, b.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	rows := sum[ledger.Pending].Rows + sum[ledger.Attempted].Rows
	cents := sum[ledger.Pending].Cents + sum[ledger.Attempted].Cents
	if r.PostFormValue("total") != strconv.FormatInt(cents, 10) || r.PostFormValue("rows") != strconv.Itoa(rows) {
		s.fail(w, r, se, http.StatusConflict, fmt.Sprintf("The batch now sends %s to %d payees, not what was confirmed. Reload the page and check again.", batch.FormatBRL(cents), rows))
		return
	}
	if rows == 0 {
		s.fail(w, r, se, http.StatusConflict, "There is nothing to send in this batch.")
		return
	}
	if err := s.l.Submit(ctx, b.ID, se.user, cents, rows); err != nil {
		if errors.Is(err, ledger.ErrIllegalTransition) {
			s.fail(w, r, se, http.StatusConflict, "Someone submitted this batch already.")
			return
		}
		s.internal(w, r, err)
		return
	}
	s.log.Info("submitted", "user", se.user, "batch", b.ID[:12], "rows", rows, "cents", cents)
	// The batch's own policy, recorded when it was uploaded, says whether
	// it waits for approval; the server's options do not enter.
	if u, err = s.l.Upload(ctx, b.ID); err != nil {
		s.internal(w, r, err)
		return
	}
	if !s.mayRun(u) {
		s.notifyDecision(ctx, b.ID)
		http.Redirect(w, r, "/batches/"+b.ID+"?notice=approval", http.StatusSeeOther)
		return
	}
	s.start(ctx, b.ID)
	http.Redirect(w, r, "/batches/"+b.ID+"?notice=submitted", http.StatusSeeOther)
}

// approve records the signed-in approver's approval; the batch is sent
// once it has every approval its own policy asks.
func (s *Server) approve(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, hasUpload := ld.B, ld.HasUpload
	se := sessionFrom(r)
	if !hasUpload || (ld.U.Submitted() && ld.U.ApprovalsNeeded() == 0) {
		s.fail(w, r, se, http.StatusConflict, "This batch needs no approval.")
		return
	}
	u, err := s.l.Approve(r.Context(), b.ID, se.user)
	if !s.decided(w, r, err) {
		return
	}
	s.log.Info("approved", "user", se.user, "batch", b.ID[:12], "approvals", u.Approvals(), "needed", u.ApprovalsNeeded())
	s.notifyDecision(r.Context(), b.ID)
	if !s.mayRun(u) {
		http.Redirect(w, r, "/batches/"+b.ID+"?notice=approved1", http.StatusSeeOther)
		return
	}
	s.start(r.Context(), b.ID)
	http.Redirect(w, r, "/batches/"+b.ID+"?notice=approved", http.StatusSeeOther)
}

// reject records that the signed-in approver rejected a batch waiting for
// approval, with the reason they gave, which its page shows: it is never
// sent.
func (s *Server) reject(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	se := sessionFrom(r)
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	switch {
	case !ld.HasUpload:
		s.fail(w, r, se, http.StatusConflict, "This batch was imported from the command line; it waits for no approval here.")
		return
	case reason == "":
		s.fail(w, r, se, http.StatusBadRequest, "Say why the batch is rejected: the person who uploaded it reads it.")
		return
	case utf8.RuneCountInString(reason) > ledger.MaxReason:
		s.fail(w, r, se, http.StatusBadRequest, fmt.Sprintf("Say why in at most %d characters.", ledger.MaxReason))
		return
	}
	if !s.decided(w, r, s.l.RejectBatch(r.Context(), ld.B.ID, se.user, reason)) {
		return
	}
	s.log.Info("rejected", "user", se.user, "batch", ld.B.ID[:12])
	s.notifyDecision(r.Context(), ld.B.ID)
	http.Redirect(w, r, "/batches/"+ld.B.ID+"?notice=rejected", http.StatusSeeOther)
}

// decided answers an approval's or a rejection's refusal by the ledger and
// reports whether err is nil.
func (s *Server) decided(w http.ResponseWriter, r *http.Request, err error) bool {
	se := sessionFrom(r)
	switch {
	case err == nil:
		return true
	case errors.Is(err, ledger.ErrFourEyes):
		s.fail(w, r, se, http.StatusForbidden, "A batch is approved or rejected by a person with the approver role other than the one who uploaded it and the one who submitted it; when two approvals are asked, by two different people.")
	case errors.Is(err, ledger.ErrIllegalTransition):
		s.fail(w, r, se, http.StatusConflict, "This batch is not waiting for approval: it was not submitted, it has every approval it needs, or it was rejected or withdrawn.")
	default:
		s.internal(w, r, err)
	}
	return false
}

// withdraw records that the signed-in person withdrew a batch they
// uploaded or submitted (or any, for an admin), before anything of it was
// sent: it is never sent.
func (s *Server) withdraw(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	se := sessionFrom(r)
	switch {
	case !ld.HasUpload:
		s.fail(w, r, se, http.StatusConflict, "This batch was imported from the command line; it is not withdrawn here.")
		return
	case s.running(ld.B.ID) != nil:
		s.fail(w, r, se, http.StatusConflict, "This batch is being sent; pause it instead.")
		return
	case r.PostFormValue("confirm") != "yes":
		s.fail(w, r, se, http.StatusBadRequest, "Tick the box to confirm that this batch must never be sent.")
		return
	}
	err := s.l.WithdrawBatch(r.Context(), ld.B.ID, se.user)
	switch {
	case errors.Is(err, ledger.ErrNotYours):
		s.fail(w, r, se, http.StatusForbidden, "Only the person who uploaded or submitted a batch, or an admin, withdraws it.")
		return
	case errors.Is(err, ledger.ErrIllegalTransition):
		s.fail(w, r, se, http.StatusConflict, "This batch cannot be withdrawn: rows of it were sent, or it was rejected or withdrawn already.")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	s.log.Info("withdrawn", "user", se.user, "batch", ld.B.ID[:12])
	http.Redirect(w, r, "/batches/"+ld.B.ID+"?notice=withdrawn", http.StatusSeeOther)
}

func (s *Server) pause(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, hasUpload := ld.B, ld.HasUpload
	se := sessionFrom(r)
	run := s.running(b.ID)
	if !hasUpload || run == nil {
		s.fail(w, r, se, http.StatusConflict, "This batch is not being sent by this server.")
		return
	}
	if err := s.l.SetPaused(r.Context(), b.ID, true); err != nil {
		s.internal(w, r, err)
		return
	}
	run.cancel()
	s.log.Info("paused", "user", se.user, "batch", b.ID[:12])
	http.Redirect(w, r, "/batches/"+b.ID+"?notice=paused", http.StatusSeeOther)
}

func (s *Server) resume(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, u, hasUpload := ld.B, ld.U, ld.HasUpload
	se := sessionFrom(r)
	switch {
	case !hasUpload || !s.mayRunIgnoringPause(u):
		s.fail(w, r, se, http.StatusConflict, "This batch has not been cleared for sending.")
		return
	case b.State == ledger.BatchDone:
		s.fail(w, r, se, http.StatusConflict, "This batch is done.")
		return
	}
	if err := s.l.SetPaused(r.Context(), b.ID, false); err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("resumed", "user", se.user, "batch", b.ID[:12])
	s.start(r.Context(), b.ID)
	http.Redirect(w, r, "/batches/"+b.ID+"?notice=resumed", http.StatusSeeOther)
}

// progressJSON is what the page polls while a batch is sent.
type progressJSON struct {
	Status  string         `json:"status"`
	Label   string         `json:"label"`
	Counts  map[string]int `json:"counts"`
	Done    int            `json:"done"`
	Total   int            `json:"total"`
	Rate    float64        `json:"rate"`
	ETA     string         `json:"eta"`
	Sending bool           `json:"sending"`
	Outcome string         `json:"outcome,omitempty"`
}

func (s *Server) progress(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, u, hasUpload := ld.B, ld.U, ld.HasUpload
	if ld.Checked {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(progressJSON{Status: "invalid", Label: s.statusOf(b, u, hasUpload).Label,
			Counts: map[string]int{"invalid": ld.CS.Invalid, "valid": ld.CS.Valid}})
		return
	}
	sum, err := s.l.Summary(r.Context(), b.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	st := s.statusOf(b, u, hasUpload)
	out := progressJSON{Status: st.Key, Label: st.Label, Counts: map[string]int{}}
	for state, t := range sum {
		out.Counts[string(state)] = t.Rows
		switch state {
		case ledger.Invalid, ledger.Held:
		case ledger.Pending, ledger.Attempted:
			out.Total += t.Rows
		default:
			out.Total += t.Rows
			out.Done += t.Rows
		}
	}
	if run := s.running(b.ID); run != nil {
		p := run.progress()
		out.Sending, out.Rate = true, p.Rate
		if p.ETA > 0 {
			out.ETA = p.ETA.Round(time.Second).String()
		}
	}
	s.mu.Lock()
	out.Outcome = s.outcome[b.ID]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// results writes the results sheet from the ledger and sends it as a
// download, in the format of the upload.
func (s *Server) results(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, u, hasUpload := ld.B, ld.U, ld.HasUpload
	if ld.Checked {
		s.fail(w, r, sessionFrom(r), http.StatusConflict, "This sheet has invalid rows and was never sent: there are no results.")
		return
	}
	name := displayName(b, u, hasUpload)
	ext := sheetExt(name)
	if ext == "" {
		ext = ".csv"
	}
	path := filepath.Join(s.opts.DataDir, b.ID+".results"+ext)
	// The import recorded the upload's CSV separator with the batch. A
	// copy: a GET records nothing, and a batch run from the command line
	// keeps writing its results where it did.
	if err := batch.WriteResultsWith(r.Context(), s.l, b.ID, path, batch.ResultsOptions{Copy: true}); err != nil {
		s.internal(w, r, err)
		return
	}
	s.download(w, r, path, strings.TrimSuffix(name, filepath.Ext(name))+".results"+ext)
}

// reconcile asks Stone for the final status of every transfer of the
// batch (recorded in the ledger, as `lote reconcile` does) and keeps the
// reconciliation report for download; the page then offers it. It is a
// POST because it writes the ledger: a GET never does.
func (s *Server) reconcile(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b := ld.B
	se := sessionFrom(r)
	if ld.Checked || (b.State != ledger.BatchRunning && b.State != ledger.BatchDone) {
		s.fail(w, r, se, http.StatusConflict, "Nothing of this batch was sent yet: there is nothing to reconcile.")
		return
	}
	o := s.opts.Run
	rep, err := batch.Reconcile(r.Context(), batch.ReconcileOptions{Ledger: s.l, Client: o.Client, AccountID: o.AccountID,
		Env: o.Env, Batches: []string{b.ID}, Rate: o.Rate, Log: s.log})
	if err != nil {
		s.log.Error("reconcile", "batch", b.ID[:12], "err", err)
		s.fail(w, r, se, http.StatusBadGateway, "Stone could not be asked for the transfers' status: "+userMessage(err))
		return
	}
	if err := batch.WriteReconciliation(r.Context(), s.l, rep, s.reconciliationPath(b.ID)); err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("reconciled", "user", se.user, "batch", b.ID[:12])
	http.Redirect(w, r, "/batches/"+b.ID+"?notice=reconciled", http.StatusSeeOther)
}

// reconciliationReport sends the last reconciliation report made on the
// page as an XLSX download; it asks Stone nothing.
func (s *Server) reconciliationReport(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, u, hasUpload := ld.B, ld.U, ld.HasUpload
	path := s.reconciliationPath(b.ID)
	if _, err := os.Stat(path); err != nil {
		s.fail(w, r, sessionFrom(r), http.StatusNotFound, "There is no reconciliation report of this batch yet: reconcile it with Stone on its page first.")
		return
	}
	name := displayName(b, u, hasUpload)
	s.download(w, r, path, strings.TrimSuffix(name, filepath.Ext(name))+".reconciliation.xlsx")
}

// reconciliationPath is where the page keeps a batch's last
// reconciliation report.
func (s *Server) reconciliationPath(id string) string {
	return filepath.Join(s.opts.DataDir, id+".reconciliation.xlsx")
}

// displayName is the file's name as the person uploaded it (the ledger
// knows it by the stored file's name).
func displayName(b ledger.Batch, u ledger.Upload, hasUpload bool) string {
	if hasUpload {
		return u.FileName
	}
	return b.FileName
}

// separator is the uploaded CSV's separator, so the sheets given back
// split the way the person's own file did; 0 lets the writer choose.
func (s *Server) separator(b ledger.Batch, u ledger.Upload, hasUpload bool) rune {
	if !hasUpload || sheetExt(u.FileName) != ".csv" {
		return 0
	}
	rd, err := sheet.Open(u.StoredPath, sheet.Options{TmpDir: s.opts.DataDir})
	if err != nil {
		return 0
	}
	defer rd.Close()
	return rd.Separator()
}

// errorsSheet sends the rows with problems as a sheet to fix: the header
// and cells as uploaded, with a last column saying what is wrong.
func (s *Server) errorsSheet(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, u, hasUpload := ld.B, ld.U, ld.HasUpload
	ctx := r.Context()
	name := displayName(b, u, hasUpload)
	ext := sheetExt(name)
	if ext == "" {
		ext = ".csv"
	}
	f, err := os.CreateTemp(s.opts.DataDir, "errors-*"+ext)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	sep := s.separator(b, u, hasUpload)
	sw, err := sheet.Create(path, sheet.WriteOptions{Separator: sep, StatusColumn: -1, TmpDir: s.opts.DataDir})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	width := len(b.Header)
	if err := sw.WriteHeader(append(append([]string{}, b.Header...), "lote_errors")); err != nil {
		sw.Close()
		s.internal(w, r, err)
		return
	}
	cells := make([]sheet.Cell, 0, width+1)
	write := func(row []string, issues []batch.Issue) error {
		cells = cells[:0]
		for i := 0; i < width; i++ {
			v := ""
			if i < len(row) {
				v = row[i]
			}
			cells = append(cells, sheet.Cell{Value: v})
		}
		return sw.WriteRow(append(cells, sheet.Cell{Value: issueText(issues)}))
	}
	if ld.Checked {
		var werr error
		err = s.checkedRows(b.ID, 0, true, func(cr checkedRow) bool {
			werr = write(cr.Cells, cr.Issues)
			return werr == nil
		})
		err = errors.Join(err, werr)
	} else {
		err = s.ledgerProblems(ctx, b.ID, write)
	}
	if err != nil {
		sw.Close()
		s.internal(w, r, err)
		return
	}
	if err := sw.Close(); err != nil {
		s.internal(w, r, err)
		return
	}
	s.download(w, r, path, strings.TrimSuffix(name, filepath.Ext(name))+".errors"+ext)
}

// ledgerProblems calls write for each of the batch's rows with problems,
// a page at a time.
func (s *Server) ledgerProblems(ctx context.Context, id string, write func([]string, []batch.Issue) error) error {
	for off := 0; ; off += 1000 {
		rows, err := s.l.RowsPage(ctx, id, off, 1000, true)
		if err != nil {
			return err
		}
		for _, row := range rows {
			if err := write(row.Cells, batch.Issues(row)); err != nil {
				return err
			}
		}
		if len(rows) < 1000 {
			return nil
		}
	}
}

func issueText(is []batch.Issue) string {
	parts := make([]string, 0, len(is))
	for _, i := range is {
		p := i.Message
		if i.Column != "" {
			p = i.Column + ": " + p
		}
		if i.Warning {
			p = "warning: " + p
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " | ")
}

// download sends a file the server made as an attachment: a browser saves
// it, never renders it.
func (s *Server) download(w http.ResponseWriter, r *http.Request, path, name string) {
	f, err := os.Open(path)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.internal(w, r, err)
		return
	}
	ct := "text/csv; charset=utf-8"
	if strings.HasSuffix(path, ".xlsx") {
		ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	http.ServeContent(w, r, "", st.ModTime(), f)
}
