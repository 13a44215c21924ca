package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"lote/batch"
	"lote/check"
	"lote/internal/i18n"
	"lote/ledger"
	"lote/sheet"
)

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request", "path", r.URL.Path, "err", err)
	s.fail(w, r, sessionFrom(r), http.StatusInternalServerError, "Something went wrong on the server; it is in the server's log.")
}

// batchContent is the batch page.
type batchContent struct {
	Name      string // as uploaded
	Checked   bool   // checked only: invalid rows, never sent
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

	Header []string // the shown columns' names, shortened
	Rows   []rowView
	// HiddenColumns counts the sheet's columns the table leaves out (see
	// shownColumns); the sheet itself keeps them.
	HiddenColumns int
	Filter        string // "problems" or ""
	Page          int    // 1-based
	Pages         int
	Rows0         int // how many rows the filter selects

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

	// Notes are what the check said about the sheet as a whole.
	Notes []string
	// Unread says lote found no table in the upload it keeps (ReadError
	// says why, "" when its import never began): it has no rows yet.
	Unread    bool
	ReadError string
	// CanReread offers the form that reads the upload again with Choices
	// (the command line's --sheet, --header-row, --decimal); OpenChoices
	// shows it unfolded, when lote could not decide on its own.
	CanReread   bool
	OpenChoices bool
	Choices     readChoices
	Sheets      []string // the workbook's worksheets lote looked in, to choose from
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
	Other  []check.Issue // problems not about one column
	Class  string        // "error", "warning" or ""
	Detail string        // transfer id or what happened
}

type cellView struct {
	Value  string
	Issues []check.Issue
	Class  string
}

// loaded is the batch a request names.
type loaded struct {
	B         ledger.Batch
	U         ledger.Upload
	HasUpload bool
	// Checked says the upload has invalid rows: it was checked and is
	// kept to be read and fixed, never sent (see checkAndImport).
	Checked bool
	// Gone says the upload was rejected or withdrawn and nothing of it
	// is kept but its record (see batchContent.Gone): B is made from it.
	Gone bool
	// Unread says the upload is open and has no batch: lote found no
	// table in it (or its import never began). B is made from it.
	Unread bool
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
	if errors.Is(err, ledger.ErrNotFound) && ld.HasUpload && u.Closed() {
		ld.B, ld.Checked, ld.Gone = uploadBatch(id, u), true, true
		return ld, true
	}
	if errors.Is(err, ledger.ErrNotFound) && ld.HasUpload {
		ld.B, ld.Checked, ld.Unread = uploadBatch(id, u), true, true
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
	ld.Checked = ld.HasUpload && b.Invalid > 0
	return ld, true
}

// uploadBatch is an upload whose batch the ledger no longer holds, dressed
// as a batch for the pages: no rows, never sendable.
func uploadBatch(id string, u ledger.Upload) ledger.Batch {
	return ledger.Batch{ID: id, FileName: u.FileName, Created: u.UploadedAt}
}

func (s *Server) view(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, u, hasUpload := ld.B, ld.U, ld.HasUpload
	se := sessionFrom(r)
	ctx := r.Context()
	c := batchContent{Name: displayName(b, u, hasUpload), B: b, U: u, HasUpload: hasUpload, Status: s.statusOf(b, u, hasUpload),
		Gone: ld.Gone}
	s.mu.Lock()
	c.Outcome = s.outcome[b.ID]
	s.mu.Unlock()
	c.Filter = r.URL.Query().Get("show")
	if c.Filter != "problems" {
		c.Filter = ""
	}
	c.Page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	shown := shownColumns(b.Header)
	for _, i := range shown {
		c.Header = append(c.Header, shorten(b.Header[i]))
	}
	c.HiddenColumns = len(b.Header) - len(shown)
	var err error
	c.Checked, c.Unread, c.Notes = ld.Checked, ld.Unread, b.ImportOptions.Notes
	if !ld.Gone && !ld.Unread {
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
	c.CanWithdraw = open && !ld.Unread && !c.SentAny && !c.Sending &&
		(se.user == u.UploadedBy || se.user == u.SubmittedBy || se.role == ledger.RoleAdmin)
	// Held rows are released before the batch is submitted, so that what
	// is submitted (and approved) includes them.
	c.CanRelease = open && uploader && !u.Submitted() && c.Held > 0 && !sending && b.State != ledger.BatchImporting
	c.CanPause = hasUpload && sending
	c.CanSettle = se.role == ledger.RoleAdmin && !sending
	c.CanResume = hasUpload && !sending && s.mayRunIgnoringPause(u) && b.State != ledger.BatchDone &&
		(u.Paused || c.Status.Key == "stopped")
	c.CanReread = open && uploader && !u.Submitted() && !c.SentAny && !sending && u.Expired.IsZero() &&
		(ld.Unread || b.State != ledger.BatchImporting)
	c.Choices = choicesOf(b.ImportOptions)
	if ld.Unread {
		// The choices tried last come back in the query (see reread).
		if ch, err := choicesFrom(r.URL.Query()); err == nil {
			c.Choices = ch
		}
		c.ReadError, c.Sheets = s.tableError(c.Name, u.StoredPath, c.Choices)
	}
	c.OpenChoices = ld.Unread || c.Checked
	c.HasResults = b.State == ledger.BatchRunning || b.State == ledger.BatchDone
	if st, err := os.Stat(s.reconciliationPath(b.ID)); err == nil && c.HasResults {
		c.ReconciledAt = st.ModTime()
	}
	p := s.pageFor(r, se, c.Name)
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

// notices are the messages a redirect may ask the batch page to show; a
// fixed list, so a link cannot put words on the page.
var notices = map[string]string{
	"submitted":  i18n.Mark("Submitted. Sending has started."),
	"approval":   i18n.Mark("Submitted. It waits for another person with the approver role to approve it."),
	"approved":   i18n.Mark("Approved. Sending has started."),
	"approved1":  i18n.Mark("Approved. Its total asks for a second approval, by another person with the approver role; it is sent then."),
	"rejected":   i18n.Mark("Rejected. It will never be sent; the reason shows on its page."),
	"withdrawn":  i18n.Mark("Withdrawn. It will never be sent."),
	"paused":     i18n.Mark("Pausing: the requests in flight finish, nothing new is sent."),
	"resumed":    i18n.Mark("Resumed: the rows left are sent with their same keys."),
	"released":   i18n.Mark("Released: the held rows are part of the batch now, each with a key of its own; check the total before you submit."),
	"reconciled": i18n.Mark("Reconciled with Stone: every transfer's status is recorded; the report is ready to download."),
	"settled":    i18n.Mark("Settled: the ledger records what you found, with your name; a row to send again goes with Resume."),
	"reread":     i18n.Mark("Checked again, read as chosen below: check the rows and the total before you submit."),
}

// The batch page stays small whatever the sheet (under 200 KB for a page
// of rows: web/bounds_test.go): it shows at most maxShownColumns columns,
// those lote reads first, and at most maxShownCell bytes of a cell or a
// header. The sheets to download keep every column and every character.
const (
	maxShownColumns = 16
	maxShownCell    = 40
)

// shownColumns are the indices, in sheet order, of the header's columns
// the table shows: every column lote reads, then the others from the left
// until maxShownColumns.
func shownColumns(header []string) []int {
	if len(header) <= maxShownColumns {
		out := make([]int, len(header))
		for i := range out {
			out[i] = i
		}
		return out
	}
	show := make([]bool, len(header))
	n := 0
	m, _ := check.MapHeader(header) // a mapping error still maps the columns it found
	for _, f := range check.Fields() {
		if i := m.Column(f); i >= 0 && !show[i] {
			show[i] = true
			n++
		}
	}
	for i := 0; i < len(header) && n < maxShownColumns; i++ {
		if !show[i] {
			show[i] = true
			n++
		}
	}
	var out []int
	for i, ok := range show {
		if ok {
			out = append(out, i)
		}
	}
	return out
}

// shorten cuts s to at most maxShownCell bytes, at a character boundary,
// marking the cut with "…".
func shorten(s string) string {
	if len(s) <= maxShownCell {
		return s
	}
	cut := maxShownCell
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// makeRowView puts each issue beside the cell of its column; issues that
// name no column of the header, or one the table does not show, stay with
// the row. Cells are shortened as the table shows them.
func makeRowView(header []string, row ledger.Row, warnings string) rowView {
	v := rowView{Row: row.Row, State: row.State}
	shown := shownColumns(header)
	if len(row.Cells) > len(header) && len(header) < maxShownColumns {
		// A row wider than its header (a CSV row with more fields) shows
		// its extra cells too, up to the limit.
		for i := len(header); i < len(row.Cells) && len(shown) < maxShownColumns; i++ {
			shown = append(shown, i)
		}
	}
	at := make(map[int]int, len(shown)) // sheet column → shown cell
	v.Cells = make([]cellView, len(shown))
	for k, i := range shown {
		at[i] = k
		if i < len(row.Cells) {
			v.Cells[k].Value = shorten(row.Cells[i])
		}
	}
	issues := batch.Issues(row)
	if row.State != ledger.Invalid && row.State != ledger.Held && row.State != ledger.Rejected && row.State != ledger.NeedsReview {
		// A row to send or sent shows only its warnings (a payee paid
		// another amount recently), not a stale reason.
		issues = slices.DeleteFunc(issues, func(is check.Issue) bool { return !is.Warning })
	}
	if warnings != "" {
		var ws []check.Issue
		if json.Unmarshal([]byte(warnings), &ws) == nil {
			issues = append(issues, ws...)
		}
	}
	for _, is := range issues {
		k, ok := at[columnIndex(header, is.Column)]
		if !ok {
			v.Other = append(v.Other, is)
			continue
		}
		cv := &v.Cells[k]
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
	case row.PixPaymentID != "":
		v.Detail = row.PixPaymentID + " · created, not confirmed"
	}
	switch row.Rail {
	case ledger.RailPix:
		v.Detail = strings.TrimSuffix("Pix · "+v.Detail, " · ")
	case ledger.RailInternal:
		v.Detail = strings.TrimSuffix("internal transfer · "+v.Detail, " · ")
	}
	return v
}

// columnIndex finds the header column an issue names: as the user wrote
// it (check.Mapping.ColumnName), or "column X" for a blank header.
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
			if sheet.ColumnLetter(i) == l {
				return i
			}
		}
	}
	return -1
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
	// Text is the line the page shows under the bar, and States the
	// states' names, in the reader's language.
	Text   string            `json:"text"`
	States map[string]string `json:"states"`
}

func (s *Server) progress(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	b, u, hasUpload := ld.B, ld.U, ld.HasUpload
	if ld.Checked {
		w.Header().Set("Content-Type", "application/json")
		pr := printerFor(r, sessionFrom(r))
		json.NewEncoder(w).Encode(progressJSON{Status: "invalid", Label: s.statusOf(b, u, hasUpload).Text(pr),
			Counts: map[string]int{"invalid": b.Invalid, "valid": b.Valid},
			States: map[string]string{"invalid": pr.Lookup("invalid"), "valid": pr.Lookup(i18n.Mark("valid"))}})
		return
	}
	sum, err := s.l.Summary(r.Context(), b.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	st := s.statusOf(b, u, hasUpload)
	out := progressJSON{Status: st.Key, Label: st.Text(printerFor(r, sessionFrom(r))), Counts: map[string]int{}}
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
	pr := printerFor(r, sessionFrom(r))
	out.Outcome = pr.Lookup(out.Outcome)
	out.States = make(map[string]string, len(out.Counts))
	for state := range out.Counts {
		out.States[state] = pr.Lookup(state)
	}
	out.Text = pr.T("%d of %d rows settled", out.Done, out.Total)
	if out.Sending {
		out.Text += pr.T(" · %.1f requests/s", out.Rate)
		if out.ETA != "" {
			out.Text += pr.T(" · about %s left", out.ETA)
		}
	}
	if out.Outcome != "" {
		out.Text += " · " + out.Outcome
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
