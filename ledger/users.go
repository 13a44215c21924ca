package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// Role is what a user of the web page may do.
type Role string

// Roles. An uploader uploads and submits batches; an approver approves
// batches someone else uploaded; an admin may do both (but still never
// approves an upload of their own).
const (
	RoleUploader Role = "uploader"
	RoleApprover Role = "approver"
	RoleAdmin    Role = "admin"
)

// Roles lists the roles in the order usage texts show them.
func Roles() []Role { return []Role{RoleUploader, RoleApprover, RoleAdmin} }

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, v := range Roles() {
		if r == v {
			return true
		}
	}
	return false
}

// User is a person who may sign in to the web page.
type User struct {
	Name string
	Role Role
	// PasswordHash is a bcrypt hash; the ledger never sees a password.
	PasswordHash []byte
	Created      time.Time
	// Disabled is when the user was disabled (DisableUser), zero while
	// they may sign in. A disabled user has no session.
	Disabled time.Time
}

// ErrUserExists is returned by AddUser when the name is taken.
var ErrUserExists = errors.New("user already exists")

// ErrBadUser is wrapped when a user's name, role or hash cannot be stored.
var ErrBadUser = errors.New("invalid user")

// NormalizeUserName is name as the ledger keeps it: NFKC (so a
// full-width "ａｎａ" is "ana"), lower case, without surrounding spaces.
// Sign-in and `lote user` normalise what a person typed with it.
func NormalizeUserName(name string) string {
	return strings.ToLower(norm.NFKC.String(strings.TrimSpace(name)))
}

// CheckUserName says why name cannot be a user name, or nil: 1 to 64 of
// a-z, 0-9, '.', '_', '-' and '@', starting with a letter or digit, as
// NormalizeUserName leaves it. Only ASCII, so that two names that read
// the same on the page and in an audit line (a Latin "upi" and a Cyrillic
// "иpi") cannot both exist.
func CheckUserName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("user name %q: use 1 to 64 characters: %w", name, ErrBadUser)
	}
	if n := NormalizeUserName(name); n != name {
		return fmt.Errorf("user name %q: write it %q: %w", name, n, ErrBadUser)
	}
	for i, c := range name {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case i > 0 && strings.ContainsRune("._-@", c):
		default:
			return fmt.Errorf("user name %q: use the letters a to z, digits, and '.', '_', '-' or '@' after the first: %w", name, ErrBadUser)
		}
	}
	return nil
}

// AddUser stores a new user. hash must be a bcrypt hash. A taken name is
// refused with an error wrapping ErrUserExists.
func (l *Ledger) AddUser(ctx context.Context, name string, role Role, hash []byte) error {
	if err := CheckUserName(name); err != nil {
		return err
	}
	if !role.Valid() {
		return fmt.Errorf("user %s: role %q: use uploader, approver or admin: %w", name, role, ErrBadUser)
	}
	if !strings.HasPrefix(string(hash), "$2") {
		return fmt.Errorf("user %s: the password hash is not bcrypt: %w", name, ErrBadUser)
	}
	return l.inTx(ctx, func(tx *sql.Tx) error {
		// Names kept before they were normalised count as their
		// normalised form: "Ana" taken means "ana" is.
		rs, err := tx.QueryContext(ctx, `SELECT name FROM users`)
		if err != nil {
			return fmt.Errorf("add user %s: %w", name, err)
		}
		defer rs.Close()
		for rs.Next() {
			var have string
			if err := rs.Scan(&have); err != nil {
				return fmt.Errorf("add user %s: %w", name, err)
			}
			if NormalizeUserName(have) == name {
				return fmt.Errorf("add user %s: %w (as %s)", name, ErrUserExists, have)
			}
		}
		if err := rs.Err(); err != nil {
			return fmt.Errorf("add user %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)`,
			name, string(role), string(hash), fmtTime(l.now())); err != nil {
			return fmt.Errorf("add user %s: %w", name, err)
		}
		return nil
	})
}

// SetPassword replaces a user's password hash and ends their sessions in
// the same transaction (a trigger of the schema does it).
func (l *Ledger) SetPassword(ctx context.Context, name string, hash []byte) error {
	if !strings.HasPrefix(string(hash), "$2") {
		return fmt.Errorf("user %s: the password hash is not bcrypt: %w", name, ErrBadUser)
	}
	return l.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE name = ?`, string(hash), name)
		if err != nil {
			return fmt.Errorf("set password of %s: %w", name, err)
		}
		return mustAffect(res, 1, fmt.Errorf("user %s: %w", name, ErrNotFound))
	})
}

// User returns the user with that name, or an error wrapping ErrNotFound.
// A name kept before names were normalised is found as it was written.
func (l *Ledger) User(ctx context.Context, name string) (User, error) {
	u, err := scanUser(l.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("read user %s: %w", name, err)
	}
	return u, nil
}

// DisableUser keeps a user from signing in, ending their sessions in the
// same transaction; their name stays on the batches they decided on.
// Disabling a disabled user changes nothing.
func (l *Ledger) DisableUser(ctx context.Context, name string) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = coalesce(disabled_at, ?) WHERE name = ?`, fmtTime(l.now()), name)
		if err != nil {
			return fmt.Errorf("disable user %s: %w", name, err)
		}
		return mustAffect(res, 1, fmt.Errorf("user %s: %w", name, ErrNotFound))
	})
}

// EnableUser lets a disabled user sign in again.
func (l *Ledger) EnableUser(ctx context.Context, name string) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = NULL WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("enable user %s: %w", name, err)
		}
		return mustAffect(res, 1, fmt.Errorf("user %s: %w", name, ErrNotFound))
	})
}

// ErrUserInUse is wrapped when RemoveUser is asked to remove a user whose
// name is on a batch: DisableUser keeps them from signing in instead.
var ErrUserInUse = errors.New("the user's name is on batches they uploaded or decided on")

// RemoveUser deletes a user and their sessions. A user who uploaded,
// submitted, approved, rejected or withdrew a batch is kept (the record
// of who did what must stay whole): the error wraps ErrUserInUse.
func (l *Ledger) RemoveUser(ctx context.Context, name string) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM uploads WHERE ? IN (uploaded_by, submitted_by, approved_by,
			second_approved_by, rejected_by, withdrawn_by)`, name).Scan(&n); err != nil {
			return fmt.Errorf("remove user %s: %w", name, err)
		}
		if n > 0 {
			return fmt.Errorf("remove user %s: %w (%d batches); disable them instead", name, ErrUserInUse, n)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("remove user %s: %w", name, err)
		}
		return mustAffect(res, 1, fmt.Errorf("user %s: %w", name, ErrNotFound))
	})
}

// Users lists every user by name.
func (l *Ledger) Users(ctx context.Context) ([]User, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rs.Close()
	var out []User
	for rs.Next() {
		u, err := scanUser(rs)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

const userColumns = `name, role, password_hash, created_at, disabled_at`

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	var hash string
	var created, disabled sql.NullString
	if err := sc.Scan(&u.Name, &u.Role, &hash, &created, &disabled); err != nil {
		return User{}, err
	}
	u.PasswordHash = []byte(hash)
	var err error
	if u.Created, err = parseTime(created); err != nil {
		return User{}, err
	}
	if u.Disabled, err = parseTime(disabled); err != nil {
		return User{}, err
	}
	return u, nil
}

// SetUserLang records the language user reads the page in: "en", "pt-BR",
// or "" to let the browser's Accept-Language decide.
func (l *Ledger) SetUserLang(ctx context.Context, name, lang string) error {
	if lang != "" && lang != "en" && lang != "pt-BR" {
		return fmt.Errorf("user %s: language %q is not en or pt-BR: %w", name, lang, ErrBadUser)
	}
	return l.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET lang = ? WHERE name = ?`, lang, name)
		if err != nil {
			return fmt.Errorf("set language of %s: %w", name, err)
		}
		return mustAffect(res, 1, fmt.Errorf("user %s: %w", name, ErrNotFound))
	})
}
