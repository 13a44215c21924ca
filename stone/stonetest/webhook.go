package stonetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lote/stone"
)

// Webhook delivery schedule. Stone retries a delivery that did not get a 2xx
// up to 50 times "throughout the day" (stone-api.md §7.3) without a
// documented schedule; the emulator waits 1 s after the first failure and
// doubles the wait each time, up to an hour, on its own clock, so a test
// reaches any retry with Advance.
const (
	WebhookMaxAttempts = 50
	webhookFirstRetry  = time.Second
	webhookMaxRetry    = time.Hour
	// webhookTimeout bounds one delivery on the real clock, so that a stuck
	// receiver cannot hold the deliverer.
	webhookTimeout = 10 * time.Second
)

// WebhookDelivery is the state of one webhook event, for tests to inspect.
// Times are on the emulator's clock.
type WebhookDelivery struct {
	EventID    string    `json:"event_id"`    // x-stone-webhook-event-id
	EventType  string    `json:"event_type"`  // such as stone.EventTransferFinished
	ClientID   string    `json:"client_id"`   // the application notified
	TransferID string    `json:"transfer_id"` // target_id
	URL        string    `json:"url"`         // where it is posted
	HappenedAt time.Time `json:"happened_at"` // event_happened_at
	// Attempts counts the POSTs made for the event, not counting the
	// duplicates of a delivered one.
	Attempts int `json:"attempts"`
	// Duplicates counts the extra deliveries of a delivered event
	// (Faults.DuplicateWebhookRate).
	Duplicates int  `json:"duplicates"`
	Delivered  bool `json:"delivered"` // a 2xx was received
	// GaveUp is set when WebhookMaxAttempts POSTs failed, or the event
	// could not be sealed (the client is not registered).
	GaveUp bool `json:"gave_up"`
	// LastStatus is the status of the last answer; 0 when none came.
	LastStatus int    `json:"last_status"`
	LastError  string `json:"last_error,omitempty"`
	// NextAttempt is when the event is due again; zero once it is
	// delivered or given up.
	NextAttempt time.Time `json:"next_attempt"`
}

// webhookState is the delivery queue. Its lock is taken inside s.mu (to
// queue an event at a status change) and never the other way round; the
// POSTs themselves happen under no lock but deliverMu, which keeps one
// deliverer at a time and the events of a run in order.
type webhookState struct {
	deliverMu sync.Mutex

	mu      sync.Mutex
	urls    map[string]string // client id → webhook URL
	all     []*delivery
	pending []*delivery
	hc      *http.Client
}

// delivery is one event. body and data are touched only under deliverMu;
// info under webhookState.mu.
type delivery struct {
	info       WebhookDelivery
	data       any    // target_data, with account_id: a snapshot of the resource
	detailPath string // target_detail_uri without the server's URL
	body       []byte // sealed at the first attempt, reused by retries
}

// SetWebhook registers the URL where clientID's application receives
// webhooks, as on Stone's application form; "" removes it. Only status
// changes after the call are notified.
func (s *Server) SetWebhook(clientID, url string) {
	s.wh.mu.Lock()
	defer s.wh.mu.Unlock()
	if s.wh.urls == nil {
		s.wh.urls = make(map[string]string)
	}
	if url == "" {
		delete(s.wh.urls, clientID)
		return
	}
	s.wh.urls[clientID] = url
}

// Webhooks returns every webhook event queued since the start, in the
// order the status changes happened.
func (s *Server) Webhooks() []WebhookDelivery {
	s.wh.mu.Lock()
	defer s.wh.mu.Unlock()
	out := make([]WebhookDelivery, len(s.wh.all))
	for i, d := range s.wh.all {
		out[i] = d.info
	}
	return out
}

// transferEvent is the webhook event type of a transfer reaching status
// (stone-api.md §7.3); "" for CREATED, whose event is sent at creation.
func transferEvent(status string) string {
	switch status {
	case stone.StatusApproved:
		return stone.EventTransferApproved
	case stone.StatusScheduled, stone.StatusDelayedToNextBusinessDay:
		return stone.EventTransferScheduled
	case stone.StatusFinished:
		return stone.EventTransferFinished
	case stone.StatusFailed:
		return stone.EventTransferFailed
	case stone.StatusCancelled:
		return stone.EventTransferCancelled
	case stone.StatusRejected:
		return stone.EventTransferRejected
	case stone.StatusExpired:
		return stone.EventTransferExpired
	case stone.StatusRefunded:
		return stone.EventTransferRefund
	}
	return ""
}

// notifyCreated queues the events of a new transfer: created, then its
// first status (approved or scheduled) unless it waits for approval.
// Callers hold s.mu.
func (s *Server) notifyCreated(rec *record, at time.Time) {
	s.notify(rec, stone.EventTransferCreated, at)
	if ev := transferEvent(rec.t.Status); ev != "" {
		s.notify(rec, ev, at)
	}
}

// notify queues an event about rec, as it is now, for its client's webhook.
// Callers hold s.mu.
func (s *Server) notify(rec *record, eventType string, at time.Time) {
	// A shallow copy is a snapshot: the transfer's pointer fields are
	// replaced at each change, never written through.
	t := rec.t
	t.AccountID = rec.accountID
	s.notifyResource(rec.client, rec.t.ID, eventType, at, at, t, "/api/v1/external_transfers/"+rec.t.ID)
}

// notifyResource queues an event about the resource id of client, which
// happened at happened and is due at due, whose target_data is data (a
// snapshot, not shared with the live record) and whose target_detail_uri is
// the server's URL and detailPath. Callers hold s.mu.
func (s *Server) notifyResource(client, id, eventType string, happened, due time.Time, data any, detailPath string) {
	s.wh.mu.Lock()
	defer s.wh.mu.Unlock()
	url := s.wh.urls[client]
	if url == "" {
		return
	}
	d := &delivery{
		info: WebhookDelivery{
			EventID:     s.newUUID(),
			EventType:   eventType,
			ClientID:    client,
			TransferID:  id,
			URL:         url,
			HappenedAt:  *stamp(happened),
			NextAttempt: due,
		},
		data:       data,
		detailPath: detailPath,
	}
	s.wh.all = append(s.wh.all, d)
	s.wh.pending = append(s.wh.pending, d)
}

// DeliverWebhooks applies the transitions due by the emulator's clock, then
// POSTs every queued event that is due, one after the other, and returns how
// many POSTs it made (duplicates included). A 2xx answer delivers the event;
// anything else schedules a retry (1 s, 2 s, 4 s, … up to 1 h later on the
// emulator's clock) until WebhookMaxAttempts. Tests call it to flush
// deliveries synchronously; RunWebhooks calls it in the background.
func (s *Server) DeliverWebhooks(ctx context.Context) int {
	s.settle(s.Now())
	s.wh.deliverMu.Lock()
	defer s.wh.deliverMu.Unlock()
	now := s.Now()
	s.wh.mu.Lock()
	var due []*delivery
	for _, d := range s.wh.pending {
		if !d.info.NextAttempt.After(now) {
			due = append(due, d)
		}
	}
	if s.wh.hc == nil {
		s.wh.hc = s.opts.WebhookClient
		if s.wh.hc == nil {
			s.wh.hc = &http.Client{Timeout: webhookTimeout}
		}
	}
	hc := s.wh.hc
	s.wh.mu.Unlock()

	posts := 0
	for _, d := range due {
		if ctx.Err() != nil {
			break
		}
		posts += s.attempt(ctx, hc, d, now)
	}

	s.wh.mu.Lock()
	kept := s.wh.pending[:0]
	for _, d := range s.wh.pending {
		if !d.info.Delivered && !d.info.GaveUp {
			kept = append(kept, d)
		}
	}
	clear(s.wh.pending[len(kept):])
	s.wh.pending = kept
	s.wh.mu.Unlock()
	return posts
}

// RunWebhooks calls DeliverWebhooks every interval of real time (1 s when
// interval is not positive) until ctx is done. cmd/stonesim runs it.
func (s *Server) RunWebhooks(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		s.DeliverWebhooks(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// attempt POSTs one due event, and again when the duplicate fault fires,
// and returns the number of POSTs made. Callers hold s.wh.deliverMu.
func (s *Server) attempt(ctx context.Context, hc *http.Client, d *delivery, now time.Time) int {
	if d.body == nil {
		body, err := s.seal(d, now)
		if err != nil {
			s.wh.mu.Lock()
			d.info.GaveUp, d.info.LastError, d.info.NextAttempt = true, err.Error(), time.Time{}
			s.wh.mu.Unlock()
			return 0
		}
		d.body = body
	}
	status, err := s.post(ctx, hc, d)
	if err != nil && ctx.Err() != nil {
		return 0 // stopped, not failed: the event stays due
	}
	s.wh.mu.Lock()
	d.info.Attempts++
	d.info.LastStatus, d.info.LastError = status, ""
	if err != nil {
		d.info.LastError = err.Error()
	}
	delivered := err == nil && status >= 200 && status <= 299
	switch {
	case delivered:
		d.info.Delivered, d.info.NextAttempt = true, time.Time{}
	case d.info.Attempts >= WebhookMaxAttempts:
		d.info.GaveUp, d.info.NextAttempt = true, time.Time{}
	default:
		d.info.NextAttempt = now.Add(retryDelay(d.info.Attempts))
	}
	s.wh.mu.Unlock()
	posts := 1
	if delivered {
		if rate := s.Faults().DuplicateWebhookRate; rate > 0 && s.chance(rate) {
			// Stone may deliver an event twice; receivers dedupe on the
			// event id header.
			s.post(ctx, hc, d)
			posts++
			s.wh.mu.Lock()
			d.info.Duplicates++
			s.wh.mu.Unlock()
		}
		d.body, d.data = nil, nil // no longer needed
	}
	return posts
}

// retryDelay is the wait after the n-th failed attempt: 1 s, 2 s, 4 s, …,
// at most an hour.
func retryDelay(n int) time.Duration {
	if n > 13 { // 2^12 s is already over an hour
		return webhookMaxRetry
	}
	return min(webhookFirstRetry<<(n-1), webhookMaxRetry)
}

// post sends the sealed event once and returns the answer's status.
func (s *Server) post(ctx context.Context, hc *http.Client, d *delivery) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.info.URL, bytes.NewReader(d.body))
	if err != nil {
		return 0, fmt.Errorf("webhook %s: %w", d.info.EventID, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stonetest-webhook/1")
	req.Header.Set(stone.HeaderWebhookEventID, d.info.EventID)
	req.Header.Set(stone.HeaderWebhookEventType, d.info.EventType)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook %s: %w", d.info.EventID, err)
	}
	// Drain a little so the connection can be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// seal builds the delivery body: the envelope as JWT claims signed RS256 by
// the emulator's key, encrypted to the client's registered key, wrapped as
// {"encrypted_body": JWE} (stone-api.md §7.3).
func (s *Server) seal(d *delivery, now time.Time) ([]byte, error) {
	key, err := s.auth.signingKey()
	if err != nil {
		return nil, err
	}
	s.auth.mu.RLock()
	pub := s.auth.clients[d.info.ClientID]
	s.auth.mu.RUnlock()
	if pub == nil {
		return nil, fmt.Errorf("seal webhook %s: client %s is not registered", d.info.EventID, d.info.ClientID)
	}
	env := "production"
	if s.opts.Sandbox {
		env = "sandbox"
	}
	claims := jwt.MapClaims{
		"env":        env,
		"event_type": d.info.EventType,
		// As in the documentation's examples (guias/WEBHOOKS/*.json): id
		// is the resource's, repeated by every event about it, and
		// target_type names the event; only the header identifies the
		// event.
		"id":                   d.info.TransferID,
		"event_happened_at":    d.info.HappenedAt.UTC().Format(time.RFC3339),
		"event_notified_at":    now.UTC().Truncate(time.Second).Format(time.RFC3339),
		"target_type":          targetType(d.info.EventType),
		"target_id":            d.info.TransferID,
		"target_data":          d.data,
		"target_detail_uri":    s.URL + d.detailPath,
		"target_statement_uri": nil,
		"iat":                  now.Unix(),
		"nbf":                  now.Unix(),
		"jti":                  s.newUUID(),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = keyID(&key.PublicKey)
	signed, err := tok.SignedString(key)
	if err != nil {
		return nil, fmt.Errorf("seal webhook %s: sign: %w", d.info.EventID, err)
	}
	jwe, err := EncryptJWE(pub, []byte(signed))
	if err != nil {
		return nil, fmt.Errorf("seal webhook %s: %w", d.info.EventID, err)
	}
	return json.Marshal(map[string]string{"encrypted_body": jwe})
}

// targetType is the target_type Stone's examples give an event: its type
// without the cash_out_/cash_in_ prefix ("external_transfer_finished"), or
// without pix_outbound_ for a Pix ("payment_created",
// guias/WEBHOOKS/pix_outbound_payment_created.json).
func targetType(eventType string) string {
	for _, p := range []string{"cash_out_", "cash_in_", "pix_outbound_"} {
		if t, ok := strings.CutPrefix(eventType, p); ok {
			return t
		}
	}
	return eventType
}
