package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"lote/batch"
	"lote/ledger"
	"lote/reconcile"
	"lote/validate"
)

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
	s.log.Info("released held rows", "user", se.user, "batch", ledger.ShortID(b.ID), "rows", n)
	http.Redirect(w, r, "/batches/"+b.ID+"?notice=released", http.StatusSeeOther)
}

func (s *Server) mayRunIgnoringPause(u ledger.Upload) bool {
	u.Paused = false
	return s.mayRun(u)
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
		s.fail(w, r, se, http.StatusConflict, fmt.Sprintf("The batch now sends %s to %d payees, not what was confirmed. Reload the page and check again.", validate.FormatBRL(cents), rows))
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
	s.log.Info("submitted", "user", se.user, "batch", ledger.ShortID(b.ID), "rows", rows, "cents", cents)
	// The batch's own policy, recorded when it was uploaded, says whether
	// it waits for approval; the server's options do not enter.
	if u, err = s.l.Upload(ctx, b.ID); err != nil {
		s.internal(w, r, err)
		return
	}
	if !s.mayRun(u) {
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
	s.log.Info("approved", "user", se.user, "batch", ledger.ShortID(b.ID), "approvals", u.Approvals(), "needed", u.ApprovalsNeeded())
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
	s.log.Info("rejected", "user", se.user, "batch", ledger.ShortID(ld.B.ID))
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
	s.log.Info("withdrawn", "user", se.user, "batch", ledger.ShortID(ld.B.ID))
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
	s.log.Info("paused", "user", se.user, "batch", ledger.ShortID(b.ID))
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
	s.log.Info("resumed", "user", se.user, "batch", ledger.ShortID(b.ID))
	s.start(r.Context(), b.ID)
	http.Redirect(w, r, "/batches/"+b.ID+"?notice=resumed", http.StatusSeeOther)
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
	rep, err := reconcile.Run(r.Context(), reconcile.Options{Ledger: s.l, Client: o.Client, AccountID: o.AccountID,
		Env: o.Env, Batches: []string{b.ID}, Rate: o.Rate, Log: s.log})
	if err != nil {
		s.log.Error("reconcile", "batch", ledger.ShortID(b.ID), "err", err)
		s.fail(w, r, se, http.StatusBadGateway, "Stone could not be asked for the transfers' status: "+userMessage(err))
		return
	}
	if err := reconcile.WriteReport(r.Context(), s.l, rep, s.reconciliationPath(b.ID)); err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("reconciled", "user", se.user, "batch", ledger.ShortID(b.ID))
	http.Redirect(w, r, "/batches/"+b.ID+"?notice=reconciled", http.StatusSeeOther)
}
