package stonetest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"lote/stone"
)

// Internal transfers (transferencias-internas/*, stone-api.md §3.1): to
// another Stone account, 24×7, its owner resolved up front from the
// directory of Stone accounts (Server.AddStoneAccount). They start APPROVED
// (SCHEDULED with a future scheduled_to), execute a second later (Stone's
// examples finish within a second), debiting amount and fee, and end
// FINISHED, or FAILED with failure_reason_code "1" when the account is
// short. They are never refunded. With Options.RequireApproval or
// OwnerApproval they wait in CREATED, as TEDs do, for POST …/approve or
// /reject (or the owner's decision, Server.ApproveAsOwner), and expire when
// nobody decides.

// StoneAccount is an account at Stone that internal transfers (and Pix by
// bank data to Stone) can target: its owner's name and document.
type StoneAccount struct {
	Name     string `json:"name"`
	Document string `json:"document"`
}

// AddStoneAccount puts a Stone account in the directory internal transfers
// are resolved against; accountCode is its number, leading zeros ignored.
func (s *Server) AddStoneAccount(accountCode string, a StoneAccount) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stoneAccounts[strings.TrimLeft(accountCode, "0")] = a
}

// maxInternalDescription is the create page's limit (the object table says
// 140; stone-api.md §3.1): the emulator accepts the larger.
const maxInternalDescription = 200

var digitsRe = regexp.MustCompile(`^\d+$`)

// internalRecord is a stored internal transfer.
type internalRecord struct {
	seq       uint64
	t         stone.InternalTransfer
	accountID string
	client    string
	key       string
	request   []byte
	history   []StatusChange
	gen       int
	executed  bool
}

func (r *internalRecord) generation() int { return r.gen }

// internalRequest is a create body that passed validation.
type internalRequest struct {
	amount      int64
	accountID   string
	accountCode string // leading zeros stripped
	description string
	scheduledTo string
	hash        [32]byte
}

// parseInternal validates a create body (transferir-para-contas-stone),
// collecting every failure with its path.
func (s *Server) parseInternal(body []byte) (internalRequest, reasons) {
	var rs reasons
	var w struct {
		Amount    json.RawMessage `json:"amount"`
		AccountID json.RawMessage `json:"account_id"`
		Target    struct {
			Account struct {
				AccountCode json.RawMessage `json:"account_code"`
			} `json:"account"`
		} `json:"target"`
		Description json.RawMessage `json:"description"`
		ScheduledTo json.RawMessage `json:"scheduled_to"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		rs.add("body is not a valid JSON object: " + err.Error())
		return internalRequest{}, rs
	}
	var c internalRequest
	c.amount = s.amount(&rs, w.Amount)
	c.accountID = rs.required(w.AccountID, "account_id")
	if code := rs.required(w.Target.Account.AccountCode, "target", "account", "account_code"); code != "" {
		if !digitsRe.MatchString(code) {
			rs.add("is invalid", "target", "account", "account_code")
		}
		c.accountCode = strings.TrimLeft(code, "0")
	}
	if c.description = rs.str(w.Description, "description"); len([]rune(c.description)) > maxInternalDescription {
		rs.add("is too long (maximum is 200 characters)", "description")
	}
	if c.scheduledTo = rs.str(w.ScheduledTo, "scheduled_to"); c.scheduledTo != "" {
		if _, ok := parseDate(c.scheduledTo); !ok {
			rs.add("is invalid", "scheduled_to")
		}
	}
	if len(rs) > 0 {
		return internalRequest{}, rs
	}
	c.hash = canonicalHash(body)
	return c, nil
}

// amount reads the required positive integer amount in cents of a TED or
// an internal transfer.
func (s *Server) amount(rs *reasons, raw json.RawMessage) int64 {
	limit := int64(maxAmount)
	if s.opts.Int32Amount {
		limit = maxAmountInt32
	}
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	switch {
	case len(raw) == 0 || string(raw) == "null":
		rs.add("can't be blank", "amount")
	case !isJSONInteger(raw):
		rs.add("must be an integer", "amount")
	default:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		switch {
		case err != nil && raw[0] == '-', err == nil && n <= 0:
			rs.add("must be greater than 0", "amount")
		case err != nil || n > limit:
			rs.add("must be less than or equal to "+strconv.FormatInt(limit, 10), "amount")
		default:
			return n
		}
	}
	return 0
}

// checkInternal applies the rules beyond syntax: the scheduling limit, the
// account's access and the target's existence. It answers and returns false
// when one fails. Callers do not hold s.mu.
func (s *Server) checkInternal(w http.ResponseWriter, client string, c *internalRequest, now time.Time) (StoneAccount, bool) {
	if !withinExecutionLimit(w, c.scheduledTo, now) {
		return StoneAccount{}, false
	}
	s.mu.Lock()
	usable := s.canUse(client, s.accounts[c.accountID])
	target, found := s.stoneAccounts[c.accountCode]
	s.mu.Unlock()
	if !usable {
		writeError(w, http.StatusForbidden, stone.ErrorBody{Type: stone.ErrTypeUnauthorized})
		return StoneAccount{}, false
	}
	if !found {
		writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeTargetAccountNotFound})
		return StoneAccount{}, false
	}
	return target, true
}

// newInternal builds the transfer object: APPROVED now, or SCHEDULED for a
// future date, with the owner's name resolved.
func (s *Server) newInternal(id, client string, c *internalRequest, owner StoneAccount, now time.Time) (stone.InternalTransfer, time.Time) {
	by := "application:" + client
	t := stone.InternalTransfer{
		ID:                     id,
		Amount:                 c.amount,
		Description:            c.description,
		CreatedAt:              stamp(now),
		CreatedBy:              ptr(by),
		TargetAccountCode:      c.accountCode,
		TargetAccountOwnerName: owner.Name,
	}
	if c.scheduledTo != "" {
		t.ScheduledTo = ptr(c.scheduledTo)
	}
	t.Target.Account.AccountCode = c.accountCode
	t.Target.Entity.Name = owner.Name
	if s.waitsForApproval() {
		t.Status = stone.StatusCreated
		return t, now
	}
	t.ApprovedAt, t.ApprovedBy = stamp(now), ptr(by)
	status, at := internalPlan(now, c.scheduledTo)
	t.Status = status
	return t, at
}

// internalPlan is when an approved internal transfer executes: a second
// from now, or at the start of its future date in Brasília (internal
// transfers run on any day), SCHEDULED.
func internalPlan(now time.Time, scheduledTo string) (string, time.Time) {
	if scheduledTo != "" {
		if d, _ := parseDate(scheduledTo); d.After(civilDate(now)) {
			return stone.StatusScheduled, time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, brasilia)
		}
	}
	return stone.StatusApproved, now.Add(time.Second)
}

// internalExpiry is when a CREATED internal transfer expires: at the end of
// its scheduled date, or ApprovalTTL after creation.
func (s *Server) internalExpiry(now time.Time, scheduledTo *string) time.Time {
	if scheduledTo != nil {
		if d, ok := parseDate(*scheduledTo); ok && d.After(civilDate(now)) {
			d = d.AddDate(0, 0, 1)
			return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, brasilia)
		}
	}
	return now.Add(s.opts.ApprovalTTL)
}

// approveInternal plans an approved internal transfer. Callers hold s.mu.
func (s *Server) approveInternal(rec *internalRecord, now time.Time, by string) {
	sched := ""
	if rec.t.ScheduledTo != nil {
		sched = *rec.t.ScheduledTo
	}
	status, at := internalPlan(now, sched)
	rec.t.ApprovedAt, rec.t.ApprovedBy = stamp(now), ptr(by)
	s.setInternalStatus(rec, stone.StatusApproved, now)
	if status == stone.StatusScheduled {
		s.setInternalStatus(rec, stone.StatusScheduled, now)
	}
	s.scheduleStep(rec, at, evExecute)
}

// rejectInternal ends an internal transfer REJECTED. Callers hold s.mu.
func (s *Server) rejectInternal(rec *internalRecord, now time.Time, by string) {
	rec.t.RejectedAt, rec.t.RejectedBy = stamp(now), ptr(by)
	s.setInternalStatus(rec, stone.StatusRejected, now)
}

// handleInternalDecision is POST /api/v1/internal_transfers/{id}/approve or
// /reject (stone-api.md §1.9): 204 for a CREATED transfer, 422
// srn:error:wrong_status otherwise, 403 when the owner decides.
func (s *Server) handleInternalDecision(approve bool) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, client string) {
		if s.ownerOnly(w) {
			return
		}
		transitionOf(s, w, func() *internalRecord { return s.lookupInternal(client, r.PathValue("id")) },
			func(rec *internalRecord, now time.Time) {
				if approve {
					s.approveInternal(rec, now, "application:"+client)
				} else {
					s.rejectInternal(rec, now, "application:"+client)
				}
			}, stone.StatusCreated)
	}
}

// handleInternalCreate is POST /api/v1/internal_transfers (202).
func (s *Server) handleInternalCreate(w http.ResponseWriter, r *http.Request, client string) {
	now := s.Now()
	key := r.Header.Get("x-stone-idempotency-key")
	if tooLongKey(w, key) {
		return
	}
	c, body, ok := readValid(w, r, s.parseInternal)
	if !ok {
		return
	}
	owner, ok := s.checkInternal(w, client, &c, now)
	if !ok {
		return
	}
	var entry *idemEntry
	if key != "" {
		var answered bool
		if entry, answered = s.claimKey(w, client, "internal_transfers", key, c.hash, now); answered {
			return
		}
	}
	if s.opts.InFlight != nil {
		s.opts.InFlight(r)
	}
	id := s.newUUID()
	t, at := s.newInternal(id, client, &c, owner, now)
	s.mu.Lock()
	s.seq++
	rec := &internalRecord{seq: s.seq, t: t, accountID: c.accountID, client: client, key: key, request: body}
	rec.history = []StatusChange{{Status: t.Status, At: *t.CreatedAt}}
	s.internals[id] = rec
	s.internalAll = append(s.internalAll, rec)
	s.internalByAccount[c.accountID] = append(s.internalByAccount[c.accountID], rec)
	s.notifyInternal(rec, stone.EventInternalCreated, now)
	switch t.Status {
	case stone.StatusCreated:
		s.scheduleStep(rec, s.internalExpiry(now, t.ScheduledTo), evExpire)
	case stone.StatusScheduled:
		s.notifyInternal(rec, stone.EventInternalScheduled, now)
		s.scheduleStep(rec, at, evExecute)
	default:
		s.notifyInternal(rec, stone.EventInternalApproved, now)
		s.scheduleStep(rec, at, evExecute)
	}
	resp, err := json.Marshal(rec.t)
	if entry != nil {
		entry.done, entry.body, entry.status = true, resp, http.StatusAccepted
	}
	s.mu.Unlock()
	s.answerCreated(w, http.StatusAccepted, resp, err)
}

// tooLongKey answers 431 to an idempotency key over 72 characters
// (stone-api.md §5).
func tooLongKey(w http.ResponseWriter, key string) bool {
	if len(key) <= maxIdempotencyKey {
		return false
	}
	writeError(w, http.StatusRequestHeaderFieldsTooLarge, stone.ErrorBody{Type: stone.ErrTypeValidation,
		Reason: []stone.ErrorReason{{Error: "is too long (maximum is 72 characters)", Path: []string{"idempotency_key"}}}})
	return true
}

// answerCreated sends the answer of a create whose object is stored, resp
// being the object marshalled (err, its failure). The object exists now:
// dropping the answer (Faults.DropRate) is the failure that only an
// idempotency key can make safe.
func (s *Server) answerCreated(w http.ResponseWriter, status int, resp []byte, err error) {
	if err != nil {
		writeError(w, http.StatusInternalServerError, stone.ErrorBody{Type: "srn:error:internal_server_error"})
		return
	}
	if s.dropNow() {
		drop(w.(*recorder))
		return
	}
	writeBody(w, status, resp)
}

// dropNow says whether the drop-after-commit fault fires for this answer.
func (s *Server) dropNow() bool {
	f := s.Faults()
	return f.DropRate > 0 && s.chance(f.DropRate)
}

// handleInternalDryRun is POST /api/v1/dry_run/internal_transfers: the
// same checks and the object the transfer would be, nothing stored; 200,
// as documented.
func (s *Server) handleInternalDryRun(w http.ResponseWriter, r *http.Request, client string) {
	now := s.Now()
	c, _, ok := readValid(w, r, s.parseInternal)
	if !ok {
		return
	}
	owner, ok := s.checkInternal(w, client, &c, now)
	if !ok {
		return
	}
	t, _ := s.newInternal(s.newUUID(), client, &c, owner, now)
	writeJSON(w, http.StatusOK, t)
}

// lookupInternal finds an internal transfer the client may see. Callers
// hold s.mu.
func (s *Server) lookupInternal(client, id string) *internalRecord {
	rec := s.internals[id]
	if rec == nil || !s.canUse(client, s.accounts[rec.accountID]) {
		return nil
	}
	return rec
}

// handleInternalGet is GET /api/v1/internal_transfers/{id}.
func (s *Server) handleInternalGet(w http.ResponseWriter, r *http.Request, client string) {
	serveFound(s, w, func() *internalRecord { return s.lookupInternal(client, r.PathValue("id")) },
		func(rec *internalRecord) stone.InternalTransfer { return rec.t })
}

// handleInternalCancel is POST /api/v1/internal_transfers/{id}/cancel: a
// scheduled (or still unapproved) transfer is CANCELLED (204); any other
// gets 422 srn:error:wrong_status.
func (s *Server) handleInternalCancel(w http.ResponseWriter, r *http.Request, client string) {
	transitionOf(s, w, func() *internalRecord { return s.lookupInternal(client, r.PathValue("id")) },
		func(rec *internalRecord, now time.Time) {
			rec.t.CancelledAt, rec.t.CancelledBy = stamp(now), ptr("application:"+client)
			s.setInternalStatus(rec, stone.StatusCancelled, now)
		}, stone.StatusScheduled, stone.StatusCreated)
}

// handleInternalList is GET /api/v1/internal_transfers?account_id&limit&after&before
// &status=SCHEDULE (sic, as documented: only scheduled ones).
func (s *Server) handleInternalList(w http.ResponseWriter, r *http.Request, client string) {
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
	onlyScheduled := false
	switch st := q.Get("status"); st {
	case "":
	case "SCHEDULE", stone.StatusScheduled:
		onlyScheduled = true
	default:
		writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeValidation,
			Reason: []stone.ErrorReason{{Error: "is invalid", Path: []string{"status"}}}})
		return
	}
	if _, ok := s.lockAccount(w, client, accountID); !ok {
		return
	}
	var recs []*internalRecord
	for _, rec := range s.internalByAccount[accountID] {
		if !onlyScheduled || rec.t.Status == stone.StatusScheduled {
			recs = append(recs, rec)
		}
	}
	page := pageOf(pq, recs, func(rec *internalRecord) uint64 { return rec.seq },
		func(rec *internalRecord) stone.InternalTransfer { return rec.t })
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, page)
}

// pageQuery is a list's limit and cursor.
type pageQuery struct {
	limit               int
	after, before       uint64
	hasAfter, hasBefore bool
}

// parsePageQuery reads limit, after and before as the TED list does,
// answering 400 srn:error:invalid_cursor to a bad one.
func parsePageQuery(w http.ResponseWriter, q map[string][]string) (pageQuery, bool) {
	p, ok := parseLimit(w, q)
	return p, ok && p.parseCursors(w, q)
}

// first is the first value of k in q, or "".
func first(q map[string][]string, k string) string {
	if v := q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseLimit reads a list's limit: 25 unless set, at most maxPage.
func parseLimit(w http.ResponseWriter, q map[string][]string) (pageQuery, bool) {
	p := pageQuery{limit: 25}
	if v := first(q, "limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeInvalidCursor, Path: "limit"})
			return p, false
		}
		// The documentation sets no maximum; a larger page is served at
		// maxPage, and cursor.limit says so.
		p.limit = min(n, maxPage)
	}
	return p, true
}

// parseCursors reads a list's after and before cursors; both at once are
// refused.
func (p *pageQuery) parseCursors(w http.ResponseWriter, q map[string][]string) bool {
	if v := first(q, "after"); v != "" {
		if p.after, p.hasAfter = decodeCursor(v); !p.hasAfter {
			writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeInvalidCursor, Path: "after"})
			return false
		}
	}
	if v := first(q, "before"); v != "" {
		if p.before, p.hasBefore = decodeCursor(v); !p.hasBefore || p.hasAfter {
			writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeInvalidCursor, Path: "before"})
			return false
		}
	}
	return true
}

// pageOf is the page of items (ascending by seq) the query asks for,
// newest first, each shown by view.
func pageOf[R any, T any](p pageQuery, items []R, seq func(R) uint64, view func(R) T) stone.Page[T] {
	lo, hi, cur := p.window(len(items), func(i int) uint64 { return seq(items[i]) })
	page := stone.Page[T]{Cursor: cur, Data: make([]T, 0, hi-lo)}
	for i := hi - 1; i >= lo; i-- {
		page.Data = append(page.Data, view(items[i]))
	}
	return page
}

// window picks the page of n items, ascending by seqAt, that the query
// asks for; the page is items[lo:hi], shown newest first.
func (p pageQuery) window(n int, seqAt func(int) uint64) (lo, hi int, cur stone.Cursor) {
	switch {
	case p.hasBefore:
		lo = sort.Search(n, func(i int) bool { return seqAt(i) > p.before })
		hi = min(lo+p.limit, n)
	case p.hasAfter:
		hi = sort.Search(n, func(i int) bool { return seqAt(i) >= p.after })
		lo = max(hi-p.limit, 0)
	default:
		hi = n
		lo = max(hi-p.limit, 0)
	}
	cur.Limit = p.limit
	if lo < hi && lo > 0 {
		cur.After = ptr(encodeCursor(seqAt(lo)))
	}
	if lo < hi && hi < n {
		cur.Before = ptr(encodeCursor(seqAt(hi - 1)))
	}
	return lo, hi, cur
}

// setInternalStatus changes an internal transfer's status, records it and
// notifies it. Callers hold s.mu.
func (s *Server) setInternalStatus(rec *internalRecord, status string, at time.Time) {
	rec.t.Status = status
	rec.history = append(rec.history, StatusChange{Status: status, At: *stamp(at)})
	ev := ""
	switch status {
	case stone.StatusApproved:
		ev = stone.EventInternalApproved
	case stone.StatusFinished:
		ev = stone.EventInternalFinished
	case stone.StatusFailed:
		ev = stone.EventInternalFailed
	case stone.StatusCancelled:
		ev = stone.EventInternalCancelled
	case stone.StatusScheduled:
		ev = stone.EventInternalScheduled
	case stone.StatusRejected:
		ev = stone.EventInternalRejected
	case stone.StatusExpired:
		ev = stone.EventInternalExpired
	}
	if ev != "" {
		s.notifyInternal(rec, ev, at)
	}
}

// notifyInternal queues a webhook about rec as it is now. Callers hold s.mu.
func (s *Server) notifyInternal(rec *internalRecord, eventType string, at time.Time) {
	t := rec.t
	t.AccountID = rec.accountID
	s.notifyResource(rec.client, rec.t.ID, eventType, at, at, t, "/api/v1/internal_transfers/"+rec.t.ID)
}

// step executes the transfer: the account pays amount and fee at once and
// the transfer is FINISHED, or FAILED when the account is short.
func (rec *internalRecord) step(s *Server, kind eventKind, at time.Time) {
	if kind == evExpire {
		if rec.t.Status == stone.StatusCreated {
			rec.t.ApprovalExpiredAt = stamp(at)
			s.setInternalStatus(rec, stone.StatusExpired, at)
		}
		return
	}
	if kind != evExecute || rec.executed {
		return
	}
	a := s.accounts[rec.accountID]
	need := rec.t.Amount + rec.t.Fee
	if a == nil || a.balance < need {
		rec.t.Fee = 0
		rec.t.FailedAt = stamp(at)
		rec.t.FailureReasonCode = ptr(stone.StringCode(failureInsufficientBalance))
		rec.t.FailureReasonDescription = ptr(failureInsufficientDescription)
		s.setInternalStatus(rec, stone.StatusFailed, at)
		return
	}
	rec.executed = true
	cp := &stone.StatementCounterParty{}
	cp.Account.AccountCode = rec.t.TargetAccountCode
	cp.Account.BranchCode = "1"
	cp.Account.Institution = stoneISPB
	cp.Account.InstitutionName = stoneName
	cp.Entity.Name = rec.t.TargetAccountOwnerName
	s.addStatementEntry(a, stone.StatementInternal, -need, rec.t.Amount, rec.t.Fee, rec.t.ID, cp, at)
	rec.t.FinishedAt, rec.t.SettledAt = stamp(at), stamp(at)
	s.setInternalStatus(rec, stone.StatusFinished, at)
}
