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
)

// settleRow records, for an admin, what the bank statement shows for a
// row that needs a person, as `lote settle` does: paid by a transfer, not
// paid, or (for a row settled not paid) to be sent again with a new key.
// The page always asks for a reason; the ledger records who and when.
func (s *Server) settleRow(w http.ResponseWriter, r *http.Request) {
	ld, ok := s.loadBatch(w, r)
	if !ok {
		return
	}
	se := sessionFrom(r)
	row, err := strconv.Atoi(r.PathValue("row"))
	if err != nil || row < 2 {
		s.fail(w, r, se, http.StatusNotFound, "There is no such row.")
		return
	}
	outcome := r.PostFormValue("outcome")
	transfer := strings.TrimSpace(r.PostFormValue("transfer_id"))
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	switch {
	case s.running(ld.B.ID) != nil:
		s.fail(w, r, se, http.StatusConflict, "This batch is being sent; pause it first.")
		return
	case reason == "":
		s.fail(w, r, se, http.StatusBadRequest, "Say what the statement showed: the ledger keeps it with your name.")
		return
	case utf8.RuneCountInString(reason) > ledger.MaxReason || len(transfer) > 100:
		s.fail(w, r, se, http.StatusBadRequest, fmt.Sprintf("Say why in at most %d characters.", ledger.MaxReason))
		return
	case outcome == ledger.SettledPaid && transfer == "":
		s.fail(w, r, se, http.StatusBadRequest, "Give the id of the transfer found on the statement.")
		return
	}
	ctx := r.Context()
	by := "page: " + se.user
	switch outcome {
	case ledger.SettledPaid:
		err = s.l.SettlePaid(ctx, ld.B.ID, row, transfer, by, reason)
	case ledger.SettledNotPaid:
		err = s.l.SettleNotPaid(ctx, ld.B.ID, row, by, reason)
	case ledger.SettledResend:
		var cur ledger.Row
		var ss []ledger.Settlement
		if cur, err = s.l.Row(ctx, ld.B.ID, row); err == nil {
			ss, err = s.l.Settlements(ctx, ld.B.ID)
		}
		if err == nil {
			resends := 0
			for _, st := range ss {
				if st.Row == row && st.Outcome == ledger.SettledResend {
					resends++
				}
			}
			err = s.l.Resend(ctx, ld.B.ID, row, by, reason, batch.ResentKey(cur.IdempotencyKey, ld.B.ID, row, resends))
		}
	default:
		s.fail(w, r, se, http.StatusBadRequest, "Choose paid, not paid, or send again.")
		return
	}
	var te *ledger.TransitionError
	var taken *ledger.TransferTakenError
	switch {
	case err == nil:
	case errors.Is(err, ledger.ErrNotFound):
		s.fail(w, r, se, http.StatusNotFound, "There is no such row.")
		return
	case errors.As(err, &te):
		s.fail(w, r, se, http.StatusConflict, fmt.Sprintf("Row %d is %s: only a row that needs a person is settled.", row, te.From))
		return
	case errors.As(err, &taken):
		s.fail(w, r, se, http.StatusConflict, fmt.Sprintf("Transfer %s is already recorded for batch %s row %d: one transfer never pays two rows.",
			taken.TransferID, taken.OtherBatch[:min(12, len(taken.OtherBatch))], taken.OtherRow))
		return
	case errors.Is(err, ledger.ErrNotSettledNotPaid):
		s.fail(w, r, se, http.StatusConflict, fmt.Sprintf("Row %d was not settled as not paid: settle it so first, then send it again.", row))
		return
	default:
		s.internal(w, r, err)
		return
	}
	s.log.Info("settled", "user", se.user, "batch", ld.B.ID[:12], "row", row, "outcome", outcome)
	http.Redirect(w, r, "/batches/"+ld.B.ID+"?notice=settled", http.StatusSeeOther)
}
