package stonetest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"lote/stone"
)

// maxBody bounds a request body; a TED body is well under 2 KB.
const maxBody = 1 << 20

// account is a payer account and its balance in cents.
type account struct {
	id       string
	owner    string // "" when every client may use it
	balance  int64
	freeLeft int // free TEDs left
	entries  []*statementEntry
	code     string       // its number, as a Pix's source shows it
	holder   StoneAccount // its holder, likewise
}

// record is a stored transfer with what the emulator knows about it.
type record struct {
	seq        uint64
	t          stone.Transfer
	accountID  string
	client     string
	key        string
	request    []byte
	history    []StatusChange
	gen        int  // bumped when a pending event must be ignored
	executed   bool // amount and fee debited
	scheduled  bool // planned for a later date by scheduled_to
	usedFree   bool // one of the account's free TEDs
	refundCode string
}

// idemEntry is what an idempotency key remembers (stone-api.md §5).
type idemEntry struct {
	hash    [32]byte
	created time.Time
	done    bool
	body    []byte // the answer's body, replayed on a retry
	status  int    // the answer's status; 0 means 202 (a TED)
}

// claimKey reserves the idempotency key of client in scope (one endpoint)
// for a request whose canonical body hashes to hash. It returns the new
// entry, to be completed with done, body and status under s.mu; or nil
// and true when it has already answered (a replay, 409, 423). scope keeps
// the keys of the create and the confirm of a Pix, and of each endpoint,
// apart; Stone documents no scope (stone-api.md §5). Callers do not hold
// s.mu.
func (s *Server) claimKey(w http.ResponseWriter, client, scope, key string, hash [32]byte, now time.Time) (*idemEntry, bool) {
	ik := client + "\x00" + scope + "\x00" + key
	s.mu.Lock()
	if e := s.idem[ik]; e != nil {
		seen := *e
		s.mu.Unlock()
		replayIdempotent(w, &seen, hash, now, s.opts.IdempotencyTTL)
		return nil, true
	}
	entry := &idemEntry{hash: hash, created: now}
	s.idem[ik] = entry
	s.mu.Unlock()
	return entry, false
}

// releaseKey forgets a key whose request was refused, so that a corrected
// retry with the same key goes through (see the package doc). Callers hold
// s.mu.
func (s *Server) releaseKey(client, scope, key string) {
	delete(s.idem, client+"\x00"+scope+"\x00"+key)
}

// lockAccount takes s.mu and, when client may use the account id, returns
// it still holding s.mu; otherwise it releases s.mu and answers 403.
func (s *Server) lockAccount(w http.ResponseWriter, client, id string) (*account, bool) {
	s.mu.Lock()
	a := s.accounts[id]
	if !s.canUse(client, a) {
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, stone.ErrorBody{Type: stone.ErrTypeUnauthorized})
		return nil, false
	}
	return a, true
}

func (s *Server) canUse(client string, a *account) bool {
	return a != nil && (a.owner == "" || a.owner == client)
}

// stamp is a timestamp as Stone writes it: UTC, whole seconds.
func stamp(t time.Time) *time.Time {
	u := t.UTC().Truncate(time.Second)
	return &u
}

// plan is when and how a new (or newly approved) transfer executes.
type plan struct {
	status               string
	delayed              bool
	requested, effective *string
	at                   time.Time
}

// plan decides a transfer's status from the calendar and the TED window
// (stone-api.md §2.3, §2.4, §4): a future date is SCHEDULED on the next
// business day from it; otherwise the transfer executes now if the window is
// open, or is delayed to the window's next opening.
func (s *Server) plan(now time.Time, scheduledTo string) plan {
	var p plan
	if scheduledTo != "" {
		p.requested = ptr(scheduledTo)
		if d, _ := parseDate(scheduledTo); d.After(civilDate(now)) {
			eff := nextBusinessDay(d)
			p.status, p.effective, p.at = stone.StatusScheduled, ptr(eff.Format(dateLayout)), windowOpening(eff)
			return p
		}
	}
	if s.inWindow(now) {
		p.status, p.at = stone.StatusApproved, now
		return p
	}
	p.at = s.nextOpening(now)
	p.status, p.delayed = stone.StatusDelayedToNextBusinessDay, true
	if s.opts.DelayedAsScheduled {
		p.status = stone.StatusScheduled
	}
	p.effective = ptr(civilDate(p.at).Format(dateLayout))
	return p
}

// withinExecutionLimit refuses with 422 a scheduled_to (yyyy-mm-dd, or ""
// for none) after the calendar's execution_limit_date, as for a TED and an
// internal transfer alike.
func withinExecutionLimit(w http.ResponseWriter, scheduledTo string, now time.Time) bool {
	if scheduledTo == "" {
		return true
	}
	if d, _ := parseDate(scheduledTo); d.After(executionLimit(now)) {
		writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeUnprocessableEntity,
			Title: "scheduled_to " + scheduledTo + " is after execution_limit_date " + executionLimit(now).Format(dateLayout)})
		return false
	}
	return true
}

// checkTarget applies the rules that need more than the body's syntax:
// the scheduling limit, TED to Stone, and the institution directory. It
// writes the error and returns false when one fails.
func (s *Server) checkTarget(w http.ResponseWriter, c *createRequest, now time.Time) (ispb, number, name string, ok bool) {
	if !withinExecutionLimit(w, c.scheduledTo, now) {
		return "", "", "", false
	}
	// A TED to Stone itself is refused: that is an internal transfer.
	if c.institution == stoneISPB || c.institution == stoneNumber {
		writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeUnprocessableEntity,
			Title: "a TED cannot target Stone (197/16501555); use an internal transfer"})
		return "", "", "", false
	}
	ispb, number, name, ok = s.opts.Institutions(c.institution)
	if !ok {
		writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeTargetInstitutionNotFound,
			Title: "institution " + c.institution + " not found"})
		return "", "", "", false
	}
	if ispb == stoneISPB {
		writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeUnprocessableEntity,
			Title: "a TED cannot target Stone (197/16501555); use an internal transfer"})
		return "", "", "", false
	}
	return ispb, number, name, true
}

// newTransfer builds the transfer object for a validated request.
func (s *Server) newTransfer(id, client string, c *createRequest, p plan, fee int64, now time.Time, ispb, number, name string) stone.Transfer {
	by := "application:" + client
	t := stone.Transfer{
		ID:                       id,
		Amount:                   c.amount,
		Fee:                      fee,
		Status:                   p.status,
		CreatedAt:                stamp(now),
		CreatedBy:                ptr(by),
		DelayedToNextBusinessDay: p.delayed,
		ScheduledToRequested:     p.requested,
		ScheduledToEffective:     p.effective,
		Target: stone.TransferTarget{
			Account: stone.TargetAccount{
				AccountCode:           c.accountCode,
				BranchCode:            c.branchCode,
				InstitutionCode:       c.institution,
				AccountType:           c.echoType,
				InstitutionISPB:       ispb,
				InstitutionName:       name,
				InstitutionNumberCode: number,
			},
			Entity: stone.TargetEntity{Name: c.name, Document: c.document, DocumentType: c.documentType, CPF: c.document},
		},
	}
	if s.waitsForApproval() {
		t.Status = stone.StatusCreated
		t.DelayedToNextBusinessDay = false
	} else {
		// The account's own application creates it: it is approved at once
		// (stone-api.md §1.9; the documented example).
		t.ApprovedAt, t.ApprovedBy = stamp(now), ptr(by)
	}
	return t
}

// readBody reads a bounded request body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: "srn:error:bad_request", Title: "read body: " + err.Error()})
		return nil, false
	}
	return b, true
}

// readValid reads a bounded request body and validates it with parse,
// answering 400 with every reason parse finds.
func readValid[T any](w http.ResponseWriter, r *http.Request, parse func([]byte) (T, reasons)) (T, []byte, bool) {
	var zero T
	body, ok := readBody(w, r)
	if !ok {
		return zero, nil, false
	}
	c, rs := parse(body)
	if len(rs) > 0 {
		writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeValidation, Reason: rs})
		return zero, nil, false
	}
	return c, body, true
}

// handleCreate is POST /api/v1/external_transfers (stone-api.md §2.1, §5).
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, client string) {
	now := s.Now()
	key := r.Header.Get("x-stone-idempotency-key")
	if tooLongKey(w, key) {
		return
	}
	c, body, ok := readValid(w, r, s.parseCreate)
	if !ok {
		return
	}
	ispb, number, name, ok := s.checkTarget(w, &c, now)
	if !ok {
		return
	}

	if _, ok := s.lockAccount(w, client, c.accountID); !ok {
		return
	}
	s.mu.Unlock()
	var entry *idemEntry
	if key != "" {
		var answered bool
		if entry, answered = s.claimKey(w, client, "external_transfers", key, c.hash, now); answered {
			return
		}
	}

	if s.opts.InFlight != nil {
		s.opts.InFlight(r)
	}

	id := s.newUUID()
	s.mu.Lock()
	a := s.accounts[c.accountID]
	fee := s.opts.Fee
	usedFree := false
	if a.freeLeft > 0 {
		a.freeLeft--
		fee, usedFree = 0, true
	}
	p := s.plan(now, c.scheduledTo)
	s.seq++
	rec := &record{
		seq:       s.seq,
		t:         s.newTransfer(id, client, &c, p, fee, now, ispb, number, name),
		accountID: c.accountID,
		client:    client,
		key:       key,
		request:   body,
		scheduled: p.status == stone.StatusScheduled && !p.delayed,
		usedFree:  usedFree,
	}
	rec.history = []StatusChange{{Status: rec.t.Status, At: *rec.t.CreatedAt}}
	s.notifyCreated(rec, now)
	s.transfers[id] = rec
	s.all = append(s.all, rec)
	s.byAccount[c.accountID] = append(s.byAccount[c.accountID], rec)
	if s.waitsForApproval() {
		s.schedule(rec, s.approvalDeadline(now, p), evExpire)
	} else {
		s.schedule(rec, p.at, evExecute)
	}
	resp, err := json.Marshal(rec.t)
	if entry != nil {
		entry.done, entry.body = true, resp
	}
	s.mu.Unlock()
	s.answerCreated(w, http.StatusAccepted, resp, err)
}

// replayIdempotent answers a reused idempotency key (stone-api.md §5).
func replayIdempotent(w http.ResponseWriter, e *idemEntry, hash [32]byte, now time.Time, ttl time.Duration) {
	switch {
	case !now.Before(e.created.Add(ttl)):
		writeError(w, http.StatusConflict, stone.ErrorBody{Type: stone.ErrTypeConflict,
			Title: "idempotency key already used for a transfer; look it up instead of sending it again"})
	case e.hash != hash:
		writeError(w, http.StatusConflict, stone.ErrorBody{Type: stone.ErrTypeIdempotencyConflict,
			Title: "idempotency key already used with a different body"})
	case !e.done:
		writeError(w, http.StatusLocked, stone.ErrorBody{Type: "srn:error:locked",
			Title: "a request with this idempotency key is still being processed"})
	case e.status == http.StatusNoContent:
		w.WriteHeader(http.StatusNoContent)
	case e.status != 0:
		writeBody(w, e.status, e.body)
	default:
		writeBody(w, http.StatusAccepted, e.body)
	}
}

// approvalDeadline is when a CREATED transfer expires: at the end of its
// scheduled date, or ApprovalTTL after creation.
func (s *Server) approvalDeadline(now time.Time, p plan) time.Time {
	if p.status == stone.StatusScheduled && !p.delayed && p.effective != nil {
		d, _ := parseDate(*p.effective)
		d = d.AddDate(0, 0, 1)
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, brasilia)
	}
	return now.Add(s.opts.ApprovalTTL)
}

// handleDryRun is POST /api/v1/dry_run/external_transfers: the same checks
// and the simulated object, with nothing stored (stone-api.md §2.5).
func (s *Server) handleDryRun(w http.ResponseWriter, r *http.Request, client string) {
	now := s.Now()
	c, _, ok := readValid(w, r, s.parseCreate)
	if !ok {
		return
	}
	ispb, number, name, ok := s.checkTarget(w, &c, now)
	if !ok {
		return
	}
	a, ok := s.lockAccount(w, client, c.accountID)
	if !ok {
		return
	}
	fee := s.opts.Fee
	if a.freeLeft > 0 {
		fee = 0
	}
	s.mu.Unlock()
	t := s.newTransfer(s.newUUID(), client, &c, s.plan(now, c.scheduledTo), fee, now, ispb, number, name)
	writeJSON(w, http.StatusAccepted, t)
}

// lookup finds a transfer the client may see; others' transfers are
// reported as not found. Callers hold s.mu.
func (s *Server) lookup(client, id string) *record {
	rec := s.transfers[id]
	if rec == nil || !s.canUse(client, s.accounts[rec.accountID]) {
		return nil
	}
	return rec
}

// handleGet is GET /api/v1/external_transfers/{id}.
func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, client string) {
	serveFound(s, w, func() *record { return s.lookup(client, r.PathValue("id")) },
		func(rec *record) stone.Transfer { return rec.t })
}

// serveFound answers 200 with view of what find returns (both run under
// s.mu), or 404 when find returns nil. Callers do not hold s.mu.
func serveFound[R any, T any](s *Server, w http.ResponseWriter, find func() *R, view func(*R) T) {
	s.mu.Lock()
	rec := find()
	var v T
	if rec != nil {
		v = view(rec)
	}
	s.mu.Unlock()
	if rec == nil {
		writeError(w, http.StatusNotFound, stone.ErrorBody{Type: stone.ErrTypeNotFound})
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// handleCancel is POST (or DELETE, as Stone's Go library sends it)
// /api/v1/external_transfers/{id}/cancel: only a transfer that has not been
// executed can be cancelled (stone-api.md §2.5).
func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request, client string) {
	s.transition(w, r, client, func(rec *record, now time.Time) {
		rec.t.CancelledAt = stamp(now)
		s.setStatus(rec, stone.StatusCancelled, now)
	}, stone.StatusCreated, stone.StatusScheduled, stone.StatusDelayedToNextBusinessDay)
}

// handleApprove is POST /api/v1/external_transfers/{id}/approve
// (stone-api.md §1.9): the transfer is planned as if created now. With
// Options.OwnerApproval only the account's owner approves, in Stone's app:
// the application gets 403.
func (s *Server) handleApprove(w http.ResponseWriter, r *http.Request, client string) {
	if s.ownerOnly(w) {
		return
	}
	s.transition(w, r, client, func(rec *record, now time.Time) {
		s.approve(rec, now, "application:"+client)
	}, stone.StatusCreated)
}

// handleReject is POST /api/v1/external_transfers/{id}/reject.
func (s *Server) handleReject(w http.ResponseWriter, r *http.Request, client string) {
	if s.ownerOnly(w) {
		return
	}
	s.transition(w, r, client, func(rec *record, now time.Time) {
		s.reject(rec, now, "application:"+client)
	}, stone.StatusCreated)
}

// ownerOnly refuses an application's approval or rejection when the
// account's owner decides.
func (s *Server) ownerOnly(w http.ResponseWriter) bool {
	if !s.opts.OwnerApproval {
		return false
	}
	writeError(w, http.StatusForbidden, stone.ErrorBody{Type: stone.ErrTypeUnauthorized,
		Title: "only the account's owner approves or rejects a transfer, in Stone's app"})
	return true
}

// transition applies change to a transfer in one of the from statuses and
// answers 204, or 404 / 422 srn:error:wrong_status.
func (s *Server) transition(w http.ResponseWriter, r *http.Request, client string, change func(*record, time.Time), from ...string) {
	transitionOf(s, w, func() *record { return s.lookup(client, r.PathValue("id")) }, change, from...)
}

// changeable is a stored transfer a request can change.
type changeable interface {
	comparable
	state() (status string, executed bool)
	void() // whatever was pending for it no longer applies
}

func (rec *record) state() (string, bool)         { return rec.t.Status, rec.executed }
func (rec *record) void()                         { rec.gen++ }
func (rec *internalRecord) state() (string, bool) { return rec.t.Status, rec.executed }
func (rec *internalRecord) void()                 { rec.gen++ }

// transitionOf applies change, under s.mu, to the transfer find returns
// (the zero R for none) when it is not executed and is in one of the from
// statuses, and answers 204; or 404, or 422 srn:error:wrong_status.
// Callers do not hold s.mu.
func transitionOf[R changeable](s *Server, w http.ResponseWriter, find func() R, change func(R, time.Time), from ...string) {
	now := s.Now()
	s.mu.Lock()
	rec := find()
	var none R
	if rec == none {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, stone.ErrorBody{Type: stone.ErrTypeNotFound})
		return
	}
	if status, executed := rec.state(); executed || !slices.Contains(from, status) {
		s.mu.Unlock()
		writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeWrongStatus,
			Title: "transfer is " + status})
		return
	}
	rec.void()
	change(rec, now)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// handleList is GET /api/v1/external_transfers?account_id=&limit=&after=&before=
// (stone-api.md §2.5, §7.1): newest first, opaque cursors.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request, client string) {
	q := r.URL.Query()
	accountID := q.Get("account_id")
	if accountID == "" {
		writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeValidation,
			Reason: []stone.ErrorReason{{Error: "can't be blank", Path: []string{"account_id"}}}})
		return
	}
	pq, ok := parsePageQuery(w, q)
	if !ok {
		return
	}
	if _, ok := s.lockAccount(w, client, accountID); !ok {
		return
	}
	recs := s.byAccount[accountID] // ascending seq
	page := pageOf(pq, recs, func(rec *record) uint64 { return rec.seq },
		func(rec *record) stone.Transfer { return rec.t })
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, page)
}

const cursorPrefix = "external_transfer:"

// maxPage bounds a page of a list, so that one request cannot make the
// emulator build an unbounded answer.
const maxPage = 100

func encodeCursor(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatUint(seq, 10)))
}

func decodeCursor(c string) (uint64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), cursorPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	return n, err == nil
}

// handleBalance is GET /api/v1/accounts/{id}/balance (stone-api.md §7.4).
func (s *Server) handleBalance(w http.ResponseWriter, r *http.Request, client string) {
	a, ok := s.lockAccount(w, client, r.PathValue("id"))
	if !ok {
		return
	}
	b := stone.Balance{Balance: a.balance}
	for _, rec := range s.byAccount[a.id] {
		if !rec.executed && (rec.t.Status == stone.StatusScheduled || rec.t.Status == stone.StatusDelayedToNextBusinessDay) {
			b.ScheduledBalance += rec.t.Amount
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, b)
}

// handleFee is GET /api/v1/accounts/{id}/fees/{type} (stone-api.md §2.6).
// It answers 201, as documented ("201 OK"), like the calendar and the
// statement.
func (s *Server) handleFee(w http.ResponseWriter, r *http.Request, client string) {
	a, ok := s.lockAccount(w, client, r.PathValue("id"))
	if !ok {
		return
	}
	left := a.freeLeft
	s.mu.Unlock()
	switch r.PathValue("type") {
	case "external_transfer":
		f := stone.Fee{Amount: s.opts.Fee, FeeType: "external_transfer", OriginalFee: s.opts.Fee,
			MaxFreeTransfers: s.opts.FreeTransfers, RemainingFreeTransfers: left}
		if left > 0 {
			f.Amount = 0
		}
		writeJSON(w, http.StatusCreated, f)
	case "internal_transfer":
		writeJSON(w, http.StatusCreated, stone.Fee{FeeType: "internal_transfer"})
	default:
		writeError(w, http.StatusNotFound, stone.ErrorBody{Type: stone.ErrTypeNotFound})
	}
}
