package stonetest

import (
	"net/http"
	"time"

	"lote/stone"
)

// The statement (stone-api.md §7.4) lists what moved: a TED's debit of
// amount + fee when it executes, and, when the receiving bank returns it, an
// external_refund credit of the same amount and fee. A FAILED transfer never
// moved money and never appears (§2.3).

// statementEntry is one entry with its place in the account's statement.
type statementEntry struct {
	seq       uint64
	accountID string // the account whose statement holds it
	e         stone.StatementEntry
}

// addEntry appends an entry for rec to its account's statement, moving the
// balance by amount (signed cents, fee included). Callers hold s.mu.
func (s *Server) addEntry(rec *record, a *account, typ string, amount int64, at time.Time) {
	cp := &stone.StatementCounterParty{}
	cp.Account.AccountCode = rec.t.Target.Account.AccountCode
	cp.Account.BranchCode = rec.t.Target.Account.BranchCode
	cp.Account.Institution = rec.t.Target.Account.InstitutionISPB
	cp.Account.InstitutionName = rec.t.Target.Account.InstitutionName
	cp.Entity.Name = rec.t.Target.Entity.Name
	en := s.addStatementEntry(a, typ, amount, rec.t.Amount, rec.t.Fee, rec.t.ID, cp, at)
	en.e.ScheduledTo = rec.t.ScheduledToEffective
	if rec.t.ScheduledToEffective != nil {
		en.e.ScheduledAt = rec.t.CreatedAt
	}
}

// addStatementEntry appends an entry to a's statement, moving its balance
// by amount (signed cents, fee included), for the operation opID of
// opAmount and fee cents. Callers hold s.mu.
func (s *Server) addStatementEntry(a *account, typ string, amount, opAmount, fee int64, opID string, cp *stone.StatementCounterParty, at time.Time) *statementEntry {
	op := "debit"
	if amount > 0 {
		op = "credit"
	}
	before := a.balance
	a.balance += amount
	s.seq++
	en := &statementEntry{seq: s.seq, accountID: a.id, e: stone.StatementEntry{
		ID:              s.newUUID(),
		Type:            typ,
		Operation:       op,
		Amount:          amount,
		OperationAmount: opAmount,
		FeeAmount:       fee,
		BalanceBefore:   before,
		BalanceAfter:    a.balance,
		OperationID:     opID,
		Status:          stone.StatusFinished,
		CreatedAt:       stamp(at),
		CounterParty:    cp,
	}}
	a.entries = append(a.entries, en)
	if s.entries == nil {
		s.entries = make(map[string]*statementEntry)
	}
	s.entries[en.e.ID] = en
	return en
}

// handleStatement is GET /api/v1/accounts/{id}/statement?limit&after&before
// &start_datetime&end_datetime&type[] (stone-api.md §7.4): newest first,
// with the cursors of the transfer list. It answers 201, as documented.
func (s *Server) handleStatement(w http.ResponseWriter, r *http.Request, client string) {
	q := r.URL.Query()
	pq, ok := parseLimit(w, q)
	if !ok {
		return
	}
	var reasons []stone.ErrorReason
	var from, to time.Time
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"start_datetime", &from}, {"end_datetime", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				reasons = append(reasons, stone.ErrorReason{Error: "is invalid", Path: []string{p.name}})
			}
			*p.t = t
		}
	}
	if len(reasons) > 0 {
		writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeValidation, Reason: reasons})
		return
	}
	types := map[string]bool{}
	for _, t := range append(q["type[]"], q["type"]...) {
		types[t] = true
	}
	if !pq.parseCursors(w, q) {
		return
	}

	a, ok := s.lockAccount(w, client, r.PathValue("id"))
	if !ok {
		return
	}
	var all []*statementEntry // ascending seq, filtered
	for _, en := range a.entries {
		switch {
		case len(types) > 0 && !types[en.e.Type]:
		case !from.IsZero() && en.e.CreatedAt.Before(from):
		case !to.IsZero() && en.e.CreatedAt.After(to):
		default:
			all = append(all, en)
		}
	}
	page := pageOf(pq, all, func(en *statementEntry) uint64 { return en.seq },
		func(en *statementEntry) stone.StatementEntry { return en.e })
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, page)
}

// handleStatementEntry is GET /api/v1/accounts/{id}/statement/entries/{entry}
// (Stone's Postman collection) and GET /api/v1/statement/entries/{entry}
// (the public Go client, webhook URIs).
func (s *Server) handleStatementEntry(w http.ResponseWriter, r *http.Request, client string) {
	s.mu.Lock()
	en := s.entries[r.PathValue("entry")]
	var e stone.StatementEntry
	ok := false
	if en != nil {
		acct := r.PathValue("id")
		ok = s.canUse(client, s.accounts[en.accountID]) && (acct == "" || acct == en.accountID)
		e = en.e
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, stone.ErrorBody{Type: stone.ErrTypeNotFound})
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// Statement returns an account's statement, oldest first, for tests.
func (s *Server) Statement(accountID string) []stone.StatementEntry {
	s.settle(s.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[accountID]
	if a == nil {
		return nil
	}
	out := make([]stone.StatementEntry, len(a.entries))
	for i, en := range a.entries {
		out[i] = en.e
	}
	return out
}
