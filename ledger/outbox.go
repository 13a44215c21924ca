package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Notification is one event for one receiver, in the outbox.
type Notification struct {
	ID        int64
	URL       string
	Event     string // the event's type ("batch.sent")
	DedupeKey string // one notification per URL and key
	Body      []byte // what is posted, JSON
	CreatedAt time.Time
	Attempts  int
	NextAt    time.Time
	// DeliveredAt is when a receiver answered 2xx; AbandonedAt when the
	// retries ran out. Both zero: still to deliver.
	DeliveredAt, AbandonedAt time.Time
	LastError                string
}

// Enqueue records an event for each of urls, due now. An event whose key
// a URL already has is not recorded again for it, so announcing the same
// thing twice is harmless. It returns the notifications recorded.
func (l *Ledger) Enqueue(ctx context.Context, urls []string, event, key string, body []byte) (int, error) {
	now := fmtTime(l.now())
	added := 0
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		added = 0
		for _, u := range urls {
			res, err := tx.ExecContext(ctx, `INSERT INTO outbox (url, event, dedupe_key, body, created_at, next_at)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url, dedupe_key) DO NOTHING`, u, event, key, body, now, now)
			if err != nil {
				return fmt.Errorf("enqueue %s: %w", event, err)
			}
			n, _ := res.RowsAffected()
			added += int(n)
		}
		return nil
	})
	return added, err
}

// Due returns up to limit notifications to deliver at now, oldest first.
func (l *Ledger) Due(ctx context.Context, now time.Time, limit int) ([]Notification, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT `+notificationColumns+` FROM outbox
		WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_at <= ? ORDER BY next_at, id LIMIT ?`, fmtTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("read the outbox: %w", err)
	}
	return scanNotifications(rs)
}

// Notifications returns every notification of the outbox, oldest first,
// up to limit: for `lote status` and for tests.
func (l *Ledger) Notifications(ctx context.Context, limit int) ([]Notification, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT `+notificationColumns+` FROM outbox ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read the outbox: %w", err)
	}
	return scanNotifications(rs)
}

// Delivered records that notification id reached its receiver at at.
func (l *Ledger) Delivered(ctx context.Context, id int64, at time.Time) error {
	_, err := l.w.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, delivered_at = ?, last_error = ''
		WHERE id = ? AND delivered_at IS NULL AND abandoned_at IS NULL`, fmtTime(at), id)
	if err != nil {
		return fmt.Errorf("record notification %d delivered: %w", id, err)
	}
	return nil
}

// DeliveryFailed records a failed delivery of notification id at at and
// why; it is tried again at next, or, when next is zero, abandoned.
func (l *Ledger) DeliveryFailed(ctx context.Context, id int64, at, next time.Time, why string) error {
	var err error
	if next.IsZero() {
		_, err = l.w.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, abandoned_at = ?, last_error = ?
			WHERE id = ? AND delivered_at IS NULL AND abandoned_at IS NULL`, fmtTime(at), why, id)
	} else {
		_, err = l.w.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ?
			WHERE id = ? AND delivered_at IS NULL AND abandoned_at IS NULL`, fmtTime(next), why, id)
	}
	if err != nil {
		return fmt.Errorf("record notification %d failed: %w", id, err)
	}
	return nil
}

const notificationColumns = `id, url, event, dedupe_key, body, created_at, attempts, next_at, delivered_at, abandoned_at, last_error`

func scanNotifications(rs *sql.Rows) ([]Notification, error) {
	defer rs.Close()
	var out []Notification
	for rs.Next() {
		var n Notification
		var created, next string
		var delivered, abandoned sql.NullString
		if err := rs.Scan(&n.ID, &n.URL, &n.Event, &n.DedupeKey, &n.Body, &created, &n.Attempts, &next, &delivered, &abandoned, &n.LastError); err != nil {
			return nil, fmt.Errorf("read the outbox: %w", err)
		}
		var err error
		for _, f := range []struct {
			dst *time.Time
			src sql.NullString
		}{{&n.CreatedAt, sql.NullString{String: created, Valid: true}}, {&n.NextAt, sql.NullString{String: next, Valid: true}},
			{&n.DeliveredAt, delivered}, {&n.AbandonedAt, abandoned}} {
			if *f.dst, err = parseTime(f.src); err != nil {
				return nil, fmt.Errorf("read the outbox: %w", err)
			}
		}
		out = append(out, n)
	}
	return out, rs.Err()
}
