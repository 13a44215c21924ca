package stonetest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"lote/stone"
)

// Scopes of Stone's access tokens (stone-api.md §1.5) that the emulator's
// endpoints require.
const (
	ScopeRead              = "paymentaccount:read"
	ScopeTransfersExternal = "paymentaccount:transfers:external"
	ScopeFeesRead          = "paymentaccount:fees:read"
	ScopeTransfersInternal = "paymentaccount:transfers:internal"
	ScopeInstantPayment    = "paymentaccount:instantpayment" // Pix
)

// defaultScopes are the scopes of a client registered with AddClient.
var defaultScopes = []string{ScopeRead, ScopeTransfersExternal, ScopeFeesRead, ScopeTransfersInternal, ScopeInstantPayment}

// SetScopes sets the scopes clientID's application has been granted; its
// tokens carry them, and an endpoint that needs another one answers 403
// srn:error:unauthorized. A client starts with every scope the emulator
// knows. The check is made at each request against the scopes held then.
func (s *Server) SetScopes(clientID string, scopes ...string) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	if s.auth.scopes == nil {
		s.auth.scopes = make(map[string][]string)
	}
	s.auth.scopes[clientID] = slices.Clone(scopes)
}

// scopesOf returns the scopes clientID holds.
func (a *authState) scopesOf(client string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if sc, ok := a.scopes[client]; ok {
		return sc
	}
	return defaultScopes
}

// scopeString is the token's scope claim: space-separated.
func (a *authState) scopeString(client string) string {
	return strings.Join(a.scopesOf(client), " ")
}

// missingScope writes 403 when client lacks scope, and says so.
func (s *Server) missingScope(w http.ResponseWriter, client, scope string) bool {
	if scope == "" || slices.Contains(s.auth.scopesOf(client), scope) {
		return false
	}
	writeError(w, http.StatusForbidden, stone.ErrorBody{Type: stone.ErrTypeUnauthorized,
		Title: "the application has not been granted the scope " + scope})
	return true
}

// Owner approval (stone-api.md §1.9, the documentation's APROVACAO guide):
// a transfer that a partner application creates on an account waits in
// CREATED until the account's owner approves it in Stone's app; the
// application cannot approve it itself. With Options.OwnerApproval the
// emulator models this: the API's approve and reject answer 403, and the
// owner's decision comes through ApproveAsOwner and RejectAsOwner (or
// POST /_sim/transfers/{id}/approve and /reject). Nobody deciding makes the
// transfer EXPIRED after Options.ApprovalTTL, or at the end of its
// scheduled date.

// ownerID is the user the emulator says approved or rejected a transfer.
const ownerID = "user:5d0c6a5e-7b1f-4b7e-9f0a-0c0ffee0a11e"

// ErrWrongStatus is returned by ApproveAsOwner and RejectAsOwner for a
// transfer that is not waiting for approval; ErrNoTransfer when no
// transfer has the id.
var (
	ErrWrongStatus = fmt.Errorf("transfer is not waiting for approval")
	ErrNoTransfer  = fmt.Errorf("no such transfer")
)

// ApproveAsOwner approves, as the account's owner in Stone's app, a
// transfer (a TED or an internal transfer) waiting in CREATED: it is then
// planned as if created now (APPROVED, SCHEDULED or delayed to the next
// business day).
func (s *Server) ApproveAsOwner(id string) error {
	return s.ownerDecision(id,
		func(rec *record, now time.Time) { s.approve(rec, now, ownerID) },
		func(rec *internalRecord, now time.Time) { s.approveInternal(rec, now, ownerID) })
}

// RejectAsOwner rejects, as the account's owner, a transfer waiting in
// CREATED: it ends REJECTED and no money moves.
func (s *Server) RejectAsOwner(id string) error {
	return s.ownerDecision(id,
		func(rec *record, now time.Time) { s.reject(rec, now, ownerID) },
		func(rec *internalRecord, now time.Time) { s.rejectInternal(rec, now, ownerID) })
}

func (s *Server) ownerDecision(id string, ted func(*record, time.Time), internal func(*internalRecord, time.Time)) error {
	s.settle(s.Now())
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.internals[id]; in != nil {
		if in.t.Status != stone.StatusCreated {
			return fmt.Errorf("transfer %s is %s: %w", id, in.t.Status, ErrWrongStatus)
		}
		in.gen++
		internal(in, now)
		return nil
	}
	rec := s.transfers[id]
	switch {
	case rec == nil:
		return fmt.Errorf("transfer %s: %w", id, ErrNoTransfer)
	case rec.t.Status != stone.StatusCreated:
		return fmt.Errorf("transfer %s is %s: %w", id, rec.t.Status, ErrWrongStatus)
	}
	rec.gen++ // the pending expiry no longer applies
	ted(rec, now)
	return nil
}

// approve plans an approved transfer. Callers hold s.mu.
func (s *Server) approve(rec *record, now time.Time, by string) {
	requested := ""
	if rec.t.ScheduledToRequested != nil {
		requested = *rec.t.ScheduledToRequested
	}
	p := s.plan(now, requested)
	rec.t.ApprovedAt, rec.t.ApprovedBy = stamp(now), ptr(by)
	rec.t.DelayedToNextBusinessDay = p.delayed
	rec.t.ScheduledToRequested, rec.t.ScheduledToEffective = p.requested, p.effective
	rec.scheduled = p.status == stone.StatusScheduled && !p.delayed
	s.setStatus(rec, p.status, now)
	s.schedule(rec, p.at, evExecute)
}

// reject ends a transfer REJECTED. Callers hold s.mu.
func (s *Server) reject(rec *record, now time.Time, by string) {
	rec.t.RejectedAt, rec.t.RejectedBy = stamp(now), ptr(by)
	rec.t.Fee = 0
	s.setStatus(rec, stone.StatusRejected, now)
}

// waitsForApproval says whether new transfers start CREATED.
func (s *Server) waitsForApproval() bool {
	return s.opts.RequireApproval || s.opts.OwnerApproval
}
