package stonetest

import (
	"container/heap"
	"strconv"
	"time"

	"lote/stone"
)

// StatusChange is one step of a transfer's status history.
type StatusChange struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// Failure reason of a transfer that could not be paid (stone-api.md §2.3).
const (
	failureInsufficientBalance     = "1"
	failureInsufficientDescription = "insufficient balance"
)

// refundReasons are the documented descriptions of refund_reason_code
// "0".."14" (stone-api.md §2.3).
var refundReasons = [...]string{
	"erro de processamento na origem",
	"conta de destino inexistente",
	"agência ou conta de destino inexistente",
	"documento do destinatário incorreto",
	"conta inválida para o tipo ou finalidade da transação",
	"erro de processamento na origem",
	"valor excede o limite do tipo de conta",
	"pagamento em desconformidade",
	"dados inválidos, campo ausente, formato inválido ou agência ausente",
	"CPF/CNPJ irregular na Receita Federal",
	"instituição de destino inválida",
	"conta com mais de 13 dígitos para o tipo escolhido",
	"solicitado pelo cliente da instituição recebedora",
	"devolução de ordem bancária",
	"beneficiário não identificado",
}

// RefundReason returns the documented description of a refund_reason_code.
func RefundReason(code string) (string, bool) {
	n, err := strconv.Atoi(code)
	if err != nil || n < 0 || n >= len(refundReasons) || strconv.Itoa(n) != code {
		return "", false
	}
	return refundReasons[n], true
}

// RefundByAccount returns a RefundRule that refunds every transfer whose
// target account_code (leading zeros stripped) is a key of codes, with that
// refund_reason_code.
func RefundByAccount(codes map[string]string) func(stone.Transfer) (string, bool) {
	m := make(map[string]string, len(codes))
	for k, v := range codes {
		m[k] = v
	}
	return func(t stone.Transfer) (string, bool) {
		code, ok := m[t.Target.Account.AccountCode]
		return code, ok
	}
}

type eventKind int

const (
	evExecute eventKind = iota // debit amount + fee, or fail
	evFinish                   // FINISHED
	evRefund                   // REFUNDED
	evExpire                   // CREATED → EXPIRED
)

// event is a transition due at a time on the emulator's clock. It applies
// only if the record's gen has not moved since it was scheduled.
type event struct {
	at    time.Time
	seq   uint64
	rec   *record // a TED, or nil when other is set
	other stepper // an internal transfer or a Pix
	gen   int
	kind  eventKind
}

// stepper is an operation other than a TED that moves through its own
// lifecycle on the emulator's clock (internal transfers, Pix).
type stepper interface {
	generation() int
	// step applies one transition due at at. Callers hold s.mu.
	step(s *Server, kind eventKind, at time.Time)
}

// scheduleStep queues a transition of x. Callers hold s.mu.
func (s *Server) scheduleStep(x stepper, at time.Time, kind eventKind) {
	s.seq++
	heap.Push(&s.events, event{at: at, seq: s.seq, other: x, gen: x.generation(), kind: kind})
}

// eventHeap orders events by time, then by the order they were scheduled,
// so that transfers of one account execute in creation order.
type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = event{}
	*h = old[:len(old)-1]
	return e
}

// schedule queues a transition of rec. Callers hold s.mu.
func (s *Server) schedule(rec *record, at time.Time, kind eventKind) {
	s.seq++
	heap.Push(&s.events, event{at: at, seq: s.seq, rec: rec, gen: rec.gen, kind: kind})
}

// setStatus changes a transfer's status and records it. Callers hold s.mu.
func (s *Server) setStatus(rec *record, status string, at time.Time) {
	rec.t.Status = status
	rec.history = append(rec.history, StatusChange{Status: status, At: *stamp(at)})
	if ev := transferEvent(status); ev != "" {
		s.notify(rec, ev, at)
	}
}

// settle applies every transition due by now, earliest first.
func (s *Server) settle(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.events) > 0 && !s.events[0].at.After(now) {
		ev := heap.Pop(&s.events).(event)
		if ev.other != nil {
			if ev.gen == ev.other.generation() {
				ev.other.step(s, ev.kind, ev.at)
			}
			continue
		}
		if ev.gen != ev.rec.gen {
			continue
		}
		s.apply(ev)
	}
}

// apply performs one transition (stone-api.md §2.3). Callers hold s.mu.
func (s *Server) apply(ev event) {
	rec, at := ev.rec, ev.at
	switch ev.kind {
	case evExecute:
		a := s.accounts[rec.accountID]
		need := rec.t.Amount + rec.t.Fee
		if a == nil || a.balance < need {
			// No money moved: the fee is not charged, and the transfer no
			// longer shows it (stone-api.md §2.3); a free transfer it used
			// is given back.
			if rec.usedFree && a != nil {
				a.freeLeft++
			}
			rec.t.Fee = 0
			rec.t.FailureReasonCode = ptr(stone.StringCode(failureInsufficientBalance))
			rec.t.FailureReasonDescription = ptr(failureInsufficientDescription)
			if rec.scheduled && !s.opts.ScheduledShortfallFails {
				// A scheduled TED short of funds on its date is
				// returned, per the documentation's refund section.
				rec.t.RefundedAt = stamp(at)
				s.setStatus(rec, stone.StatusRefunded, at)
				return
			}
			rec.t.FailedAt = stamp(at)
			s.setStatus(rec, stone.StatusFailed, at)
			return
		}
		s.addEntry(rec, a, stone.StatementExternal, -need, at)
		rec.executed = true
		if rec.t.Status != stone.StatusApproved {
			s.setStatus(rec, stone.StatusApproved, at)
		}
		s.notify(rec, stone.EventTransferExecutionStarted, at)
		s.schedule(rec, at.Add(s.opts.FinishDelay), evFinish)
	case evFinish:
		rec.t.SettledAt, rec.t.FinishedAt = stamp(at), stamp(at)
		s.setStatus(rec, stone.StatusFinished, at)
		if s.opts.RefundRule != nil {
			if code, ok := s.opts.RefundRule(rec.t); ok {
				rec.refundCode = code
				s.schedule(rec, at.Add(s.opts.RefundDelay), evRefund)
			}
		}
	case evRefund:
		// The money comes back, and the fee is returned (stone-api.md §2.3).
		if a := s.accounts[rec.accountID]; a != nil {
			s.addEntry(rec, a, stone.StatementExternalRefund, rec.t.Amount+rec.t.Fee, at)
		}
		rec.t.RefundedAt = stamp(at)
		rec.t.RefundReasonCode = ptr(stone.StringCode(rec.refundCode))
		if d, ok := RefundReason(rec.refundCode); ok {
			rec.t.RefundReasonDescription = ptr(d)
		}
		s.setStatus(rec, stone.StatusRefunded, at)
	case evExpire:
		if rec.t.Status == stone.StatusCreated {
			rec.t.ApprovalExpiredAt = stamp(at)
			s.setStatus(rec, stone.StatusExpired, at)
		}
	}
}
