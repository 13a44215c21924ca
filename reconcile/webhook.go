package reconcile

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"lote/ledger"
	"lote/stone"
)

// WebhookOptions adjust WebhookHandlerWith. The zero value is
// WebhookHandler's behaviour.
type WebhookOptions struct {
	// AccountID, when set, is the paying account: a transfer event of
	// another account is logged and left alone.
	AccountID string
	// Now stamps received events; nil means time.Now.
	Now func() time.Time
}

// WebhookHandler receives Stone's webhooks (stone-api.md §7.3) and applies
// TED events to the ledger, so that reconciliation needs fewer polls. It
// answers:
//
//   - 405 to anything but POST, 413 to a body over stone.MaxWebhookBody;
//   - 400 to a delivery dec refuses as not Stone's (stone.ErrInvalidWebhook):
//     malformed, not encrypted to this application, badly signed;
//   - 200 once the event is recorded: applied to the row holding its
//     transfer, or already received (deduplicated on the event's identity,
//     stone.WebhookEvent.ID: the x-stone-webhook-event-id header, not the
//     signed id, which Stone sets to the transfer's id in every event about
//     it; in the same transaction as applying it), or about a transfer no row holds
//     (logged: not this ledger's), or not about a transfer;
//   - 503 when the key set or the ledger failed, so that Stone delivers the
//     event again.
//
// A late event never undoes a newer status (a FINISHED delivered after the
// REFUNDED is recorded as received and changes nothing). log may be nil.
func WebhookHandler(l *ledger.Ledger, dec *stone.WebhookDecoder, log *slog.Logger) http.Handler {
	return WebhookHandlerWith(l, dec, log, WebhookOptions{})
}

// WebhookHandlerWith is WebhookHandler with options.
func WebhookHandlerWith(l *ledger.Ledger, dec *stone.WebhookDecoder, log *slog.Logger, opts WebhookOptions) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &webhookHandler{l: l, dec: dec, log: log, opts: opts}
}

type webhookHandler struct {
	l    *ledger.Ledger
	dec  *stone.WebhookDecoder
	log  *slog.Logger
	opts WebhookOptions
}

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, stone.MaxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		// The sender went away mid-body: it will deliver again.
		http.Error(w, "body could not be read", http.StatusBadRequest)
		return
	}
	ev, err := h.dec.Decode(r.Context(), r.Header, body)
	if err != nil {
		if errors.Is(err, stone.ErrInvalidWebhook) {
			h.log.Warn("webhook refused", "event", r.Header.Get(stone.HeaderWebhookEventID), "err", err)
			http.Error(w, "invalid webhook", http.StatusBadRequest)
			return
		}
		h.log.Error("webhook not decoded, Stone will retry", "event", r.Header.Get(stone.HeaderWebhookEventID), "err", err)
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	now := h.opts.Now()
	rec := ledger.WebhookEvent{ID: ev.ID, Type: ev.Type, TransferID: ev.TargetID, ReceivedAt: now}
	tr := ev.Transfer
	if tr == nil || (h.opts.AccountID != "" && tr.AccountID != "" && tr.AccountID != h.opts.AccountID) {
		// Not a TED of this account: remembered, so that its redeliveries
		// are recognised, but nothing to apply.
		rec.TransferID = ""
	}
	out, batchID, row, err := h.l.ApplyWebhook(r.Context(), rec, func(rr ledger.ReconciledRow) (ledger.Reconciliation, bool) {
		return webhookDecision(rr, tr, h.opts.AccountID, now)
	})
	if err != nil {
		h.log.Error("webhook not recorded, Stone will retry", "event", ev.ID, "type", ev.Type, "err", err)
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	switch {
	case rec.TransferID == "":
		h.log.Info("webhook not about a TED of this account", "event", ev.ID, "type", ev.Type)
	case out == ledger.WebhookUnknown:
		h.log.Info("webhook about a transfer no row holds", "event", ev.ID, "type", ev.Type, "transfer", ev.TargetID)
	case out == ledger.WebhookDuplicate:
		h.log.Info("webhook received before", "event", ev.ID, "type", ev.Type)
	default:
		h.log.Info("webhook", "event", ev.ID, "type", ev.Type, "outcome", out, "batch", ledger.ShortID(batchID), "row", row,
			"status", tr.Status)
	}
	w.WriteHeader(http.StatusOK)
}

// webhookDecision is what a TED event changes for the row holding its
// transfer: Stone's view of the transfer in target_data, with the same
// comparison as a poll, unless it is older than what the row has (events
// arrive late and out of order: retries, duplicates).
func webhookDecision(rr ledger.ReconciledRow, tr *stone.Transfer, accountID string, now time.Time) (ledger.Reconciliation, bool) {
	if tr == nil || tr.Status == "" {
		return ledger.Reconciliation{}, false
	}
	if statusRank(tr.Status) < statusRank(rr.APIStatus) {
		return ledger.Reconciliation{}, false
	}
	rec := reconciliationOf(rr.Row, tr, accountID, reconcileSourceWebhook, now)
	if rr.Checked && rec.Status == rr.Rec.Status && rec.Mismatch == rr.Rec.Mismatch && rec.Found == rr.Rec.Found {
		return rec, false // nothing new
	}
	return rec, true
}
