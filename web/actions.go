package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"lote/batch"
	"lote/ledger"
	"lote/reconcile"
	"lote/validate"
)

// The page's actions on a batch (release, submit, approve, reject,
// withdraw, pause, resume, reconcile) have one shape: the batch is loaded
// and the session's person known; the action either refuses, with the
// status and the sentence the page shows, or does what it says, is logged
// with who did it, and sends the browser back to the batch's page with a
// notice. Only POSTs reach them (the routes say so), each behind CSRF.

// refusal is an action's answer when the batch or the form does not allow
// it: nothing was done.
type refusal struct {
	code int
	msg  string
}

func (e *refusal) Error() string { return e.msg }

func refuse(code int, msg string) error { return &refusal{code: code, msg: msg} }

// done is what an action that succeeded did: the notice its page shows,
// and what the log says beyond the user and the batch.
type done struct {
	notice string
	log    []any
}

// act runs one action on the batch of r's path: name is the log's word
// for it.
func (s *Server) act(w http.ResponseWriter, r *http.Request, name string, do func(ld loaded, se *session) (done, error)) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	se := sessionFrom(r)
	if ld.Unread {
		s.fail(w, r, se, http.StatusConflict, "lote found no table in this sheet yet: choose on its page how to read it.")
		return
	}
	d, err := do(ld, se)
	var rf *refusal
	switch {
	case errors.As(err, &rf):
		s.fail(w, r, se, rf.code, rf.msg)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	s.log.Info(name, append([]any{"user", se.user, "batch", ledger.ShortID(ld.B.ID)}, d.log...)...)
	http.Redirect(w, r, "/batches/"+ld.B.ID+"?notice="+d.notice, http.StatusSeeOther)
}

// release sends a batch's held rows after all, as the person signed in
// decided: recorded in the ledger with their name. Only before the batch
// is submitted, so that the submitted (and approved) total includes them.
func (s *Server) release(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "released held rows", func(ld loaded, se *session) (done, error) {
		b, u := ld.B, ld.U
		switch {
		case !ld.HasUpload || b.State == ledger.BatchImporting:
			return done{}, refuse(http.StatusConflict, "This batch was not uploaded here: release its held rows with lote run --allow-repeat.")
		case u.Closed():
			return done{}, refuse(http.StatusConflict, "This batch "+u.NotCleared()+": it is never sent.")
		case u.Submitted():
			return done{}, refuse(http.StatusConflict, "This batch was submitted already: held rows are released before submitting, so that the submitted total includes them. To pay them, put those rows in a new sheet and upload it.")
		case s.running(b.ID) != nil:
			return done{}, refuse(http.StatusConflict, "This batch is being sent; pause it first.")
		case r.FormValue("confirm") != "yes":
			return done{}, refuse(http.StatusBadRequest, "Tick the box to confirm that the held rows must be paid as well.")
		}
		n, err := batch.ReleaseHeld(r.Context(), s.l, b.ID, "page: "+se.user)
		return done{notice: "released", log: []any{"rows", n}}, err
	})
}

func (s *Server) mayRunIgnoringPause(u ledger.Upload) bool {
	u.Paused = false
	return s.mayRun(u)
}

// submit records that the person confirmed the total and the number of
// payees shown to them, then starts sending unless approval is required.
// The confirmation must match the batch as it is now.
func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "submitted", func(ld loaded, se *session) (done, error) {
		b, u := ld.B, ld.U
		ctx := r.Context()
		switch {
		case !ld.HasUpload:
			return done{}, refuse(http.StatusConflict, "This batch was imported from the command line; run it there.")
		case u.Closed():
			return done{}, refuse(http.StatusConflict, "This batch "+u.NotCleared()+": it is never sent.")
		case u.Submitted():
			return done{}, refuse(http.StatusConflict, printerFor(r, se).T("%s submitted this batch already, on %s.", u.SubmittedBy, u.SubmittedAt.Local().Format("2006-01-02 15:04")))
		case b.Invalid > 0:
			return done{}, refuse(http.StatusConflict, printerFor(r, se).T("%d rows are invalid: download them, fix them and upload the fixed sheet.", b.Invalid))
		case b.State == ledger.BatchImporting:
			// Read again (or imported) right now: its rows are not all there.
			return done{}, refuse(http.StatusConflict, "This batch is being checked; reload its page when it is done and check the total again.")
		case r.PostFormValue("confirm") != "yes":
			return done{}, refuse(http.StatusBadRequest, "Tick the box that confirms the total and the number of payees.")
		}
		sum, err := s.l.Summary(ctx, b.ID)
		if err != nil {
			return done{}, err
		}
		rows := sum[ledger.Pending].Rows + sum[ledger.Attempted].Rows
		cents := sum[ledger.Pending].Cents + sum[ledger.Attempted].Cents
		if r.PostFormValue("total") != strconv.FormatInt(cents, 10) || r.PostFormValue("rows") != strconv.Itoa(rows) {
			return done{}, refuse(http.StatusConflict, printerFor(r, se).T("The batch now sends %s to %d payees, not what was confirmed. Reload the page and check again.", validate.FormatBRL(cents), rows))
		}
		if rows == 0 {
			return done{}, refuse(http.StatusConflict, "There is nothing to send in this batch.")
		}
		if err := s.l.Submit(ctx, b.ID, se.user, cents, rows); err != nil {
			if errors.Is(err, ledger.ErrIllegalTransition) {
				return done{}, refuse(http.StatusConflict, "Someone submitted this batch already.")
			}
			return done{}, err
		}
		d := done{notice: "submitted", log: []any{"rows", rows, "cents", cents}}
		// The batch's own policy, recorded when it was uploaded, says
		// whether it waits for approval; the server's options do not enter.
		if u, err = s.l.Upload(ctx, b.ID); err != nil {
			return done{}, err
		}
		if !s.mayRun(u) {
			s.notifyDecision(ctx, b.ID)
			d.notice = "approval"
			return d, nil
		}
		s.start(ctx, b.ID)
		return d, nil
	})
}

// approve records the signed-in approver's approval; the batch is sent
// once it has every approval its own policy asks.
func (s *Server) approve(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "approved", func(ld loaded, se *session) (done, error) {
		if !ld.HasUpload || (ld.U.Submitted() && ld.U.ApprovalsNeeded() == 0) {
			return done{}, refuse(http.StatusConflict, "This batch needs no approval.")
		}
		u, err := s.l.Approve(r.Context(), ld.B.ID, se.user)
		if err != nil {
			return done{}, decision(err)
		}
		d := done{notice: "approved1", log: []any{"approvals", u.Approvals(), "needed", u.ApprovalsNeeded()}}
		s.notifyDecision(r.Context(), ld.B.ID)
		if s.mayRun(u) {
			s.start(r.Context(), ld.B.ID)
			d.notice = "approved"
		}
		return d, nil
	})
}

// reject records that the signed-in approver rejected a batch waiting for
// approval, with the reason they gave, which its page shows: it is never
// sent.
func (s *Server) reject(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "rejected", func(ld loaded, se *session) (done, error) {
		reason := strings.TrimSpace(r.PostFormValue("reason"))
		switch {
		case !ld.HasUpload:
			return done{}, refuse(http.StatusConflict, "This batch was imported from the command line; it waits for no approval here.")
		case reason == "":
			return done{}, refuse(http.StatusBadRequest, "Say why the batch is rejected: the person who uploaded it reads it.")
		case utf8.RuneCountInString(reason) > ledger.MaxReason:
			return done{}, refuse(http.StatusBadRequest, printerFor(r, se).T("Say why in at most %d characters.", ledger.MaxReason))
		}
		if err := s.l.RejectBatch(r.Context(), ld.B.ID, se.user, reason); err != nil {
			return done{}, decision(err)
		}
		s.notifyDecision(r.Context(), ld.B.ID)
		return done{notice: "rejected"}, nil
	})
}

// decision turns the ledger's refusal of an approval or a rejection into
// what the page says; another error stays as it is.
func decision(err error) error {
	switch {
	case errors.Is(err, ledger.ErrFourEyes):
		return refuse(http.StatusForbidden, "A batch is approved or rejected by a person with the approver role other than the one who uploaded it and the one who submitted it; when two approvals are asked, by two different people.")
	case errors.Is(err, ledger.ErrIllegalTransition):
		return refuse(http.StatusConflict, "This batch is not waiting for approval: it was not submitted, it has every approval it needs, or it was rejected or withdrawn.")
	}
	return err
}

// withdraw records that the signed-in person withdrew a batch they
// uploaded or submitted (or any, for an admin), before anything of it was
// sent: it is never sent.
func (s *Server) withdraw(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "withdrawn", func(ld loaded, se *session) (done, error) {
		switch {
		case !ld.HasUpload:
			return done{}, refuse(http.StatusConflict, "This batch was imported from the command line; it is not withdrawn here.")
		case s.running(ld.B.ID) != nil:
			return done{}, refuse(http.StatusConflict, "This batch is being sent; pause it instead.")
		case r.PostFormValue("confirm") != "yes":
			return done{}, refuse(http.StatusBadRequest, "Tick the box to confirm that this batch must never be sent.")
		}
		err := s.l.WithdrawBatch(r.Context(), ld.B.ID, se.user)
		switch {
		case errors.Is(err, ledger.ErrNotYours):
			return done{}, refuse(http.StatusForbidden, "Only the person who uploaded or submitted a batch, or an admin, withdraws it.")
		case errors.Is(err, ledger.ErrIllegalTransition):
			return done{}, refuse(http.StatusConflict, "This batch cannot be withdrawn: rows of it were sent, or it was rejected or withdrawn already.")
		}
		return done{notice: "withdrawn"}, err
	})
}

// pause stops sending a batch this server is sending; resume goes on.
func (s *Server) pause(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "paused", func(ld loaded, se *session) (done, error) {
		run := s.running(ld.B.ID)
		if !ld.HasUpload || run == nil {
			return done{}, refuse(http.StatusConflict, "This batch is not being sent by this server.")
		}
		if err := s.l.SetPaused(r.Context(), ld.B.ID, true); err != nil {
			return done{}, err
		}
		run.cancel()
		return done{notice: "paused"}, nil
	})
}

// resume sends a paused batch again, if it is still cleared for sending.
func (s *Server) resume(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "resumed", func(ld loaded, se *session) (done, error) {
		switch {
		case !ld.HasUpload || !s.mayRunIgnoringPause(ld.U):
			return done{}, refuse(http.StatusConflict, "This batch has not been cleared for sending.")
		case ld.B.State == ledger.BatchDone:
			return done{}, refuse(http.StatusConflict, "This batch is done.")
		}
		if err := s.l.SetPaused(r.Context(), ld.B.ID, false); err != nil {
			return done{}, err
		}
		s.start(r.Context(), ld.B.ID)
		return done{notice: "resumed"}, nil
	})
}

// reconcile asks Stone for the final status of every transfer of the
// batch (recorded in the ledger, as `lote reconcile` does) and keeps the
// reconciliation report for download; the page then offers it. It is a
// POST because it writes the ledger: a GET never does.
func (s *Server) reconcile(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, "reconciled", func(ld loaded, se *session) (done, error) {
		b := ld.B
		if ld.Checked || (b.State != ledger.BatchRunning && b.State != ledger.BatchDone) {
			return done{}, refuse(http.StatusConflict, "Nothing of this batch was sent yet: there is nothing to reconcile.")
		}
		o := s.opts.Run
		rep, err := reconcile.Run(r.Context(), reconcile.Options{Ledger: s.l, Client: o.Client, AccountID: o.AccountID,
			Env: o.Env, Batches: []string{b.ID}, Rate: o.Rate, Log: s.log})
		if err != nil {
			s.log.Error("reconcile", "batch", ledger.ShortID(b.ID), "err", err)
			return done{}, refuse(http.StatusBadGateway, "Stone could not be asked for the transfers' status: "+userMessage(err))
		}
		return done{notice: "reconciled"}, reconcile.WriteReportIn(r.Context(), s.l, rep, s.reconciliationPath(b.ID), printerFor(r, sessionFrom(r)))
	})
}
