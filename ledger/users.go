package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
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
}

// ErrUserExists is returned by AddUser when the name is taken.
var ErrUserExists = errors.New("user already exists")

// ErrBadUser is wrapped when a user's name, role or hash cannot be stored.
var ErrBadUser = errors.New("invalid user")

// CheckUserName says why name cannot be a user name, or nil: 1 to 64
// letters, digits, '.', '_', '-' or '@', so that a name is the same on the
// page, in the ledger and in a log line.
func CheckUserName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("user name %q: use 1 to 64 characters: %w", name, ErrBadUser)
	}
	for _, c := range name {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && !strings.ContainsRune("._-@", c) {
			return fmt.Errorf("user name %q: use letters, digits, '.', '_', '-' or '@': %w", name, ErrBadUser)
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
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE name = ?`, name).Scan(&n); err != nil {
			return fmt.Errorf("add user %s: %w", name, err)
		}
		if n > 0 {
			return fmt.Errorf("add user %s: %w", name, ErrUserExists)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)`,
			name, string(role), string(hash), fmtTime(l.now())); err != nil {
			return fmt.Errorf("add user %s: %w", name, err)
		}
		return nil
	})
}

// SetPassword replaces a user's password hash.
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
func (l *Ledger) User(ctx context.Context, name string) (User, error) {
	u, err := scanUser(l.r.QueryRowContext(ctx, `SELECT name, role, password_hash, created_at FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("read user %s: %w", name, err)
	}
	return u, nil
}

// Users lists every user by name.
func (l *Ledger) Users(ctx context.Context) ([]User, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT name, role, password_hash, created_at FROM users ORDER BY name`)
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

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	var hash string
	var created sql.NullString
	if err := sc.Scan(&u.Name, &u.Role, &hash, &created); err != nil {
		return User{}, err
	}
	u.PasswordHash = []byte(hash)
	var err error
	if u.Created, err = parseTime(created); err != nil {
		return User{}, err
	}
	return u, nil
}
