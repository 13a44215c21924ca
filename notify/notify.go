// Package notify tells people when a batch needs them: it posts a JSON
// event to each receiver (`--notify URL`) when a batch waits for approval,
// is approved or rejected, has been sent, has rows that need a person, has
// a payment returned after it was paid, and when a reconciliation ends.
//
// The body works unchanged as a Slack or Microsoft Teams incoming webhook,
// whose `text` field is what people read, and carries structured fields
// for other receivers. Every event is first recorded in the ledger's
// outbox, one row per receiver, so the work that caused it never waits for
// a receiver; delivery is retried with backoff and recorded there, and
// what a process could not deliver before it ended is delivered by the
// next one configured with the same receiver.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"lote/ledger"
)

// Event types, the `event` field of every body.
const (
	BatchAwaitingApproval  = "batch.awaiting_approval"
	BatchApproved          = "batch.approved"
	BatchRejected          = "batch.rejected"
	BatchSent              = "batch.sent"
	RowsNeedPerson         = "rows.need_person"
	PaymentReturned        = "payment.returned"
	ReconciliationFinished = "reconciliation.finished"
)

// Event is what is posted. Text is for people; the other fields for
// programs. Amounts are in cents; rows are numbered as Excel numbers them.
type Event struct {
	Type    string    `json:"event"`
	Text    string    `json:"text"`
	At      time.Time `json:"at"`
	Batch   string    `json:"batch,omitempty"`
	File    string    `json:"file,omitempty"`
	Env     string    `json:"env,omitempty"`
	Account string    `json:"account,omitempty"`
	By      string    `json:"by,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	// Rows and AmountCents count a batch's rows and add up their amounts,
	// by state (accepted, rejected, needs_review, …) or category.
	Rows        map[string]int   `json:"rows,omitempty"`
	AmountCents map[string]int64 `json:"amount_cents,omitempty"`
	// Row, TransferID and Status name one payment (PaymentReturned).
	Row        int    `json:"row,omitempty"`
	TransferID string `json:"transfer_id,omitempty"`
	Status     string `json:"status,omitempty"`
	// Verdict is a reconciliation's: settled, pending or attention.
	Verdict string `json:"verdict,omitempty"`
	// Approvals and ApprovalsNeeded say where an approval stands.
	Approvals       int `json:"approvals,omitempty"`
	ApprovalsNeeded int `json:"approvals_needed,omitempty"`
}

// Options configure a Notifier.
type Options struct {
	// Ledger holds the outbox; required.
	Ledger *ledger.Ledger
	// URLs are the receivers, http(s) or mailto: (sent through SMTP);
	// none makes a Notifier that records and posts nothing.
	URLs []string
	// SMTP is the mail server of mailto: receivers.
	SMTP SMTP
	// Client posts; nil means a client with RequestTimeout.
	Client *http.Client
	// RequestTimeout bounds one delivery; 0 means 10 s.
	RequestTimeout time.Duration
	// MaxAttempts is how many times an event is posted before it is
	// abandoned (kept in the outbox, with the last error); 0 means 12,
	// about a day of backoff.
	MaxAttempts int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives failed deliveries; nil discards them.
	Log *slog.Logger
}

// Notifier records events in the outbox and delivers them. A nil
// *Notifier does nothing, so callers need not check.
type Notifier struct {
	opts Options
	wake chan struct{}
}

// CheckURL reports a receiver lote cannot post to.
func CheckURL(s string) error {
	if strings.HasPrefix(s, "mailto:") {
		if mailTo(s) == "" {
			return fmt.Errorf("--notify %q: give one address, like mailto:finance@example.com", s)
		}
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--notify %q: give an http:// or https:// URL (a Slack or Teams incoming webhook, or any receiver of JSON), or mailto:ADDRESS", s)
	}
	return nil
}

// New returns a Notifier, or nil when there are no URLs.
func New(o Options) *Notifier {
	if len(o.URLs) == 0 || o.Ledger == nil {
		return nil
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 10 * time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.RequestTimeout}
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 12
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{opts: o, wake: make(chan struct{}, 1)}
}

// Notify records ev for every receiver, once per key: an event already
// recorded under key is not recorded again. It does not wait for any
// receiver; Run or Flush delivers.
func (n *Notifier) Notify(ctx context.Context, key string, ev Event) error {
	if n == nil {
		return nil
	}
	if ev.At.IsZero() {
		ev.At = n.opts.Now().UTC()
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("notify %s: %w", ev.Type, err)
	}
	if _, err := n.opts.Ledger.Enqueue(context.WithoutCancel(ctx), n.opts.URLs, ev.Type, key, body); err != nil {
		return err
	}
	select {
	case n.wake <- struct{}{}:
	default:
	}
	return nil
}

// Deliver posts the notifications due now to this Notifier's receivers,
// once each, and records each outcome. It returns how many are still to
// deliver among those it tried.
func (n *Notifier) Deliver(ctx context.Context) (left int, err error) {
	if n == nil {
		return 0, nil
	}
	due, err := n.opts.Ledger.Due(ctx, n.opts.Now(), 100)
	if err != nil {
		return 0, err
	}
	for _, d := range due {
		if ctx.Err() != nil {
			return left + 1, ctx.Err()
		}
		// Another configuration's receivers wait for a process that
		// has them: lote never posts to a URL it was not given.
		if !slices.Contains(n.opts.URLs, d.URL) {
			continue
		}
		perr := n.post(ctx, d)
		now := n.opts.Now()
		bg := context.WithoutCancel(ctx)
		if perr == nil {
			if err := n.opts.Ledger.Delivered(bg, d.ID, now); err != nil {
				return left, err
			}
			continue
		}
		var next time.Time
		if d.Attempts+1 < n.opts.MaxAttempts {
			next = now.Add(backoff(d.Attempts + 1))
			left++
		}
		n.opts.Log.Warn("notification not delivered", "event", d.Event, "url", redact(d.URL), "attempt", d.Attempts+1, "err", perr)
		if err := n.opts.Ledger.DeliveryFailed(bg, d.ID, now, next, perr.Error()); err != nil {
			return left, err
		}
	}
	return left, nil
}

// Run delivers until ctx ends: at once when an event is recorded, and
// every poll otherwise (retries come due). 0 means every 5 s.
func (n *Notifier) Run(ctx context.Context, poll time.Duration) {
	if n == nil {
		return
	}
	if poll <= 0 {
		poll = 5 * time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := n.Deliver(ctx); err != nil && ctx.Err() == nil {
			n.opts.Log.Error("notifications", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		case <-t.C:
		}
	}
}

// Flush delivers what is due, once, within wait: what a command recorded
// as it ends. What fails stays in the outbox for the next process.
func (n *Notifier) Flush(ctx context.Context, wait time.Duration) error {
	if n == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait)
	defer cancel()
	_, err := n.Deliver(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// post sends one notification; only a 2xx answer (or the mail server's
// acceptance) delivers it.
func (n *Notifier) post(ctx context.Context, d ledger.Notification) error {
	ctx, cancel := context.WithTimeout(ctx, n.opts.RequestTimeout)
	defer cancel()
	if to := mailTo(d.URL); to != "" {
		return n.sendMail(ctx, d, to)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "lote/1")
	resp, err := n.opts.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may hold a webhook's secret: never logged
		}
		return err
	}
	defer resp.Body.Close()
	// A receiver's answer is read only so far: it is never trusted to end.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

// backoff is the pause before attempt n+1: 30 s doubling to at most 4 h,
// with jitter.
func backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 4*time.Hour; i++ {
		d *= 2
	}
	d = min(d, 4*time.Hour)
	return d/2 + rand.N(d/2+1)
}

// redact is a receiver's URL as logs show it: scheme and host only, since
// a Slack or Teams webhook URL is its secret.
func redact(s string) string {
	if mailTo(s) != "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}
