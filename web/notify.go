package web

import (
	"cmp"
	"context"
	"fmt"

	"lote/batch"
	"lote/ledger"
	"lote/notify"
)

// The page's events for Options.Notify: each recorded in the ledger's
// outbox once, under a key of what happened, and delivered by the
// notifier's own loop, so no request waits for a receiver.

// notifyBatch names a batch in an event by the file name people know.
func (s *Server) notifyBatch(b ledger.Batch, u ledger.Upload) notify.Batch {
	return notify.Batch{ID: b.ID, File: cmp.Or(u.FileName, b.FileName), Env: s.opts.Run.Env, Account: s.opts.Run.AccountID}
}

// notify records ev under key; a failure to record it is logged, never
// shown to the person, whose action was recorded.
func (s *Server) notify(ctx context.Context, key string, ev notify.Event) {
	if err := s.opts.Notify.Notify(context.WithoutCancel(ctx), key, ev); err != nil {
		s.log.Error("notification not recorded", "event", ev.Type, "err", err)
	}
}

// notifyDecision announces a submission that waits for approval, an
// approval and a rejection.
func (s *Server) notifyDecision(ctx context.Context, id string) {
	if s.opts.Notify == nil {
		return
	}
	b, err := s.l.Batch(ctx, id)
	if err != nil {
		return
	}
	u, err := s.l.Upload(ctx, id)
	if err != nil {
		return
	}
	nb := s.notifyBatch(b, u)
	switch {
	case u.RejectedBy != "":
		s.notify(ctx, "rejected:"+id, notify.Rejected(nb, u.RejectedBy, u.RejectedReason))
	case u.Approvals() > 0:
		by := u.ApprovedBy
		if u.SecondApprovedBy != "" {
			by = u.SecondApprovedBy
		}
		s.notify(ctx, fmt.Sprintf("approved:%s:%d", id, u.Approvals()), notify.Approved(nb, by, u.Approvals(), u.ApprovalsNeeded()))
	case u.Submitted() && u.ApprovalsNeeded() > 0:
		s.notify(ctx, "awaiting:"+id, notify.AwaitingApproval(nb, u.SubmittedBy, u.SubmittedRows, u.SubmittedCents, u.ApprovalsNeeded()))
	}
}

// notifySent announces what a send of the page did, and the rows that
// need a person.
func (s *Server) notifySent(ctx context.Context, rep batch.Report) {
	if s.opts.Notify == nil || rep.Batch.ID == "" || rep.Summary == nil || rep.NothingToDo ||
		(rep.Batch.State != ledger.BatchRunning && rep.Batch.State != ledger.BatchDone) {
		return
	}
	ctx = context.WithoutCancel(ctx) // a paused send is announced too
	u, _ := s.l.Upload(ctx, rep.Batch.ID)
	nb := s.notifyBatch(rep.Batch, u)
	rows, cents := map[string]int{}, map[string]int64{}
	key := "sent:" + rep.Batch.ID
	for _, st := range batch.OrderedStates(rep.Summary) {
		t := rep.Summary[st]
		rows[string(st)], cents[string(st)] = t.Rows, t.Cents
		key += fmt.Sprintf(":%s=%d", st, t.Rows)
	}
	s.notify(ctx, key, notify.Sent(nb, rows, cents))
	if r := rep.Summary[ledger.NeedsReview]; r.Rows > 0 {
		s.notify(ctx, fmt.Sprintf("review:%s:%d", rep.Batch.ID, r.Rows), notify.NeedPerson(nb, r.Rows, r.Cents))
	}
}
