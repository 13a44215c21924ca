package stonetest

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"lote/stone"
)

// Record is a transfer as the emulator stored it, for tests to inspect.
type Record struct {
	Transfer       stone.Transfer  `json:"transfer"`        // as it is now
	AccountID      string          `json:"account_id"`      // the paying account
	ClientID       string          `json:"client_id"`       // the application that created it
	IdempotencyKey string          `json:"idempotency_key"` // "" when none was sent
	Request        json.RawMessage `json:"request"`         // the create body as received
	History        []StatusChange  `json:"history"`         // every status, oldest first
}

func (rec *record) export() Record {
	return Record{
		Transfer:       rec.t,
		AccountID:      rec.accountID,
		ClientID:       rec.client,
		IdempotencyKey: rec.key,
		Request:        slices.Clone(rec.request),
		History:        slices.Clone(rec.history),
	}
}

// Transfers returns every transfer created, in creation order, after
// applying the transitions due by the emulator's clock.
func (s *Server) Transfers() []Record {
	s.settle(s.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Record, len(s.all))
	for i, rec := range s.all {
		out[i] = rec.export()
	}
	return out
}

// TransferByKey returns the transfer created with an idempotency key (by
// any client; the first one if several clients used the key).
func (s *Server) TransferByKey(key string) (Record, bool) {
	s.settle(s.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rec := range s.all {
		if rec.key == key && key != "" {
			return rec.export(), true
		}
	}
	return Record{}, false
}

// Transfer returns the transfer with an id.
func (s *Server) Transfer(id string) (Record, bool) {
	s.settle(s.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.transfers[id]
	if rec == nil {
		return Record{}, false
	}
	return rec.export(), true
}

// AdminHandler serves the emulator's inspection and control endpoints,
// without authentication:
//
//	GET  /_sim/transfers             every transfer as a JSON list of Record
//	GET  /_sim/now                   the emulator's clock
//	POST /_sim/advance?by=DURATION   advance the clock (Go duration, e.g. 90m)
//	GET  /_sim/webhooks              every webhook event as a JSON list of WebhookDelivery
//	POST /_sim/webhooks/deliver      post the due webhooks now; answers {"posts": N}
//	POST /_sim/transfers/{id}/approve  the account's owner approves a CREATED transfer (204)
//	POST /_sim/transfers/{id}/reject   the account's owner rejects it (204)
//	GET  /_sim/statement/{account}   an account's statement, oldest first
//	GET  /_sim/internal_transfers    every internal transfer as a JSON list of InternalRecord
//	GET  /_sim/pix                   every Pix as a JSON list of PixRecord
//	POST /_sim/pix/{id}/refund?amount=CENTS  the receiving bank returns CENTS of a settled Pix (all that is left when absent); answers the refund
//
// Server.ServeHTTP routes /_sim/ here too.
func (s *Server) AdminHandler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /_sim/transfers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Transfers())
	})
	m.HandleFunc("GET /_sim/now", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]time.Time{"now": s.Now().UTC()})
	})
	m.HandleFunc("POST /_sim/advance", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeValidation,
				Reason: []stone.ErrorReason{{Error: "must be a non-negative Go duration such as 90m", Path: []string{"by"}}}})
			return
		}
		s.Advance(d)
		writeJSON(w, http.StatusOK, map[string]time.Time{"now": s.Now().UTC()})
	})
	m.HandleFunc("GET /_sim/webhooks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Webhooks())
	})
	m.HandleFunc("POST /_sim/webhooks/deliver", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"posts": s.DeliverWebhooks(r.Context())})
	})
	owner := func(decide func(string) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			switch err := decide(r.PathValue("id")); {
			case err == nil:
				w.WriteHeader(http.StatusNoContent)
			case errors.Is(err, ErrNoTransfer):
				writeError(w, http.StatusNotFound, stone.ErrorBody{Type: stone.ErrTypeNotFound, Title: err.Error()})
			default:
				writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeWrongStatus, Title: err.Error()})
			}
		}
	}
	m.HandleFunc("POST /_sim/transfers/{id}/approve", owner(s.ApproveAsOwner))
	m.HandleFunc("POST /_sim/transfers/{id}/reject", owner(s.RejectAsOwner))
	m.HandleFunc("GET /_sim/internal_transfers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.InternalTransfers())
	})
	m.HandleFunc("GET /_sim/pix", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.PixPayments())
	})
	m.HandleFunc("POST /_sim/pix/{id}/refund", func(w http.ResponseWriter, r *http.Request) {
		var amount int64
		if v := r.URL.Query().Get("amount"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeValidation,
					Reason: []stone.ErrorReason{{Error: "must be a positive number of cents", Path: []string{"amount"}}}})
				return
			}
			amount = n
		}
		f, err := s.RefundPix(r.PathValue("id"), amount)
		switch {
		case err == nil:
			writeJSON(w, http.StatusOK, f)
		case errors.Is(err, ErrNoTransfer):
			writeError(w, http.StatusNotFound, stone.ErrorBody{Type: stone.ErrTypeNotFound, Title: err.Error()})
		default:
			writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeWrongStatus, Title: err.Error()})
		}
	})
	m.HandleFunc("GET /_sim/statement/{account}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Statement(r.PathValue("account")))
	})
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, stone.ErrorBody{Type: stone.ErrTypeNotFound})
	})
	return m
}
