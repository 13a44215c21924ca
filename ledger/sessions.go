package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Session is a signed-in browser, as read on every request: the user's
// role is read with it, never remembered from the sign-in.
type Session struct {
	User    string
	Role    Role
	Created time.Time
	// Seen is the last request, to within SessionTouch.
	Seen time.Time
	// Expires is the end of the session however busy it is.
	Expires time.Time
	// Lang is the language the user chose for the page ("en", "pt-BR"),
	// "" while the browser's decides.
	Lang string
}

// SessionTouch is how stale a session's last request may be in the
// ledger: a request records itself only when the last record is older,
// so that a page polling for progress does not write the ledger on every
// request. The idle limit is counted from the record.
const SessionTouch = time.Minute

// ErrNoSession is returned for a token that names no live session: never
// created, ended, expired, or of a user who was disabled or removed.
var ErrNoSession = errors.New("no such session")

// tokenHash is what the ledger keeps of a session token: its SHA-256.
// The token is 256 random bits, so a hash without salt or stretching
// cannot be reversed, and reading the ledger does not let anyone sign in.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CreateSession records a session of user for token, ending at the
// latest after maxAge. The user must exist and not be disabled. Sessions
// past their end are deleted in the same transaction.
func (l *Ledger) CreateSession(ctx context.Context, token, user string, maxAge time.Duration) error {
	if len(token) < 32 || maxAge <= 0 {
		return errors.New("create session: a token of at least 32 characters and a positive lifetime are needed")
	}
	now := l.now()
	return l.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, fmtTime(now)); err != nil {
			return fmt.Errorf("create session of %s: %w", user, err)
		}
		var disabled sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT disabled_at FROM users WHERE name = ?`, user).Scan(&disabled)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("create session: user %s: %w", user, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("create session of %s: %w", user, err)
		}
		if disabled.Valid {
			return fmt.Errorf("create session: user %s is disabled: %w", user, ErrBadUser)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_name, created_at, seen_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			tokenHash(token), user, fmtTime(now), fmtTime(now), fmtTime(now.Add(maxAge))); err != nil {
			return fmt.Errorf("create session of %s: %w", user, err)
		}
		return nil
	})
}

// Session returns the live session of token, with its user's role as the
// ledger has it now, or ErrNoSession. A session is live while its user
// exists and is not disabled, before its end, and less than idle after its
// last recorded request. A live session's request is recorded (see
// SessionTouch); a dead one is deleted.
func (l *Ledger) Session(ctx context.Context, token string, idle time.Duration) (Session, error) {
	h := tokenHash(token)
	var s Session
	var created, seen, expires string
	var disabled sql.NullString
	err := l.r.QueryRowContext(ctx, `SELECT s.user_name, u.role, u.lang, u.disabled_at, s.created_at, s.seen_at, s.expires_at
		FROM sessions s JOIN users u ON u.name = s.user_name WHERE s.token_hash = ?`, h).
		Scan(&s.User, &s.Role, &s.Lang, &disabled, &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("read session: %w", err)
	}
	for _, p := range []struct {
		dst *time.Time
		src string
	}{{&s.Created, created}, {&s.Seen, seen}, {&s.Expires, expires}} {
		if *p.dst, err = parseTime(sql.NullString{String: p.src, Valid: true}); err != nil {
			return Session{}, fmt.Errorf("read session: %w", err)
		}
	}
	now := l.now()
	if disabled.Valid || !now.Before(s.Expires) || now.Sub(s.Seen) >= idle {
		if err := l.EndSession(ctx, token); err != nil {
			return Session{}, err
		}
		return Session{}, ErrNoSession
	}
	if now.Sub(s.Seen) >= SessionTouch {
		err := l.inTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET seen_at = ? WHERE token_hash = ?`, fmtTime(now), h)
			return err
		})
		if err != nil {
			return Session{}, fmt.Errorf("record session's request: %w", err)
		}
		s.Seen = now
	}
	return s, nil
}

// EndSession deletes the session of token, if there is one.
func (l *Ledger) EndSession(ctx context.Context, token string) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash(token)); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		return nil
	})
}

// EndSessions deletes every session of user and returns how many there
// were.
func (l *Ledger) EndSessions(ctx context.Context, user string) (int, error) {
	var n int64
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_name = ?`, user)
		if err != nil {
			return fmt.Errorf("end sessions of %s: %w", user, err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
