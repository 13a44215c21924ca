package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Policy is what the ledger asks of an uploaded batch before it is sent,
// besides being submitted.
type Policy struct {
	// RequireApproval asks one approver: a person with the approver or
	// admin role who neither uploaded nor submitted the batch.
	RequireApproval bool
	// TwoApproversAbove is a total in cents: a batch whose submitted total
	// is over it needs a second approver, another such person. Negative
	// means never (NoSecondApprover); it is set only with RequireApproval.
	TwoApproversAbove int64
}

// NoSecondApprover is Policy.TwoApproversAbove when no total asks for a
// second approver.
const NoSecondApprover int64 = -1

// DefaultPolicy is the policy of a ledger on which none was ever set: a
// submitted batch is sent without approval.
var DefaultPolicy = Policy{TwoApproversAbove: NoSecondApprover}

// Approvals is the number of approvals, 0 to 2, that the policy asks of a
// batch submitted for cents.
func (p Policy) Approvals(cents int64) int {
	switch {
	case !p.RequireApproval:
		return 0
	case p.TwoApproversAbove >= 0 && cents > p.TwoApproversAbove:
		return 2
	}
	return 1
}

// PolicySource says how a policy change was made.
type PolicySource string

// Policy sources. An admin sets any policy (`lote policy set`); a server
// started with --require-approval only raises it to require approval.
const (
	PolicyByAdmin  PolicySource = "admin"
	PolicyByServer PolicySource = "server"
)

// PolicyChange is one change of the ledger's policy, as kept in its
// history: every change is kept, none is ever edited.
type PolicyChange struct {
	// ID numbers the changes from 1; 0 is the default policy of a ledger
	// on which none was set.
	ID int64
	Policy
	// SetBy is the admin's user name, or the server that raised it.
	SetBy  string
	SetAt  time.Time
	Source PolicySource
}

// ErrNotAdmin is wrapped when someone other than an admin sets the policy.
var ErrNotAdmin = errors.New("only an admin changes the approval policy")

// ErrBadPolicy is wrapped when a policy cannot be stored: a second
// approver without the first.
var ErrBadPolicy = errors.New("invalid approval policy")

const policyColumns = `id, require_approval, two_approvers_above, set_by, set_at, source`

func scanPolicy(sc interface{ Scan(...any) error }) (PolicyChange, error) {
	var (
		p     PolicyChange
		req   int64
		above sql.NullInt64
		at    sql.NullString
	)
	if err := sc.Scan(&p.ID, &req, &above, &p.SetBy, &at, &p.Source); err != nil {
		return PolicyChange{}, err
	}
	p.RequireApproval = req == 1
	p.TwoApproversAbove = NoSecondApprover
	if above.Valid {
		p.TwoApproversAbove = above.Int64
	}
	var err error
	if p.SetAt, err = parseTime(at); err != nil {
		return PolicyChange{}, fmt.Errorf("approval policy %d: %w", p.ID, err)
	}
	return p, nil
}

// policyIn reads the policy in force inside a transaction or from the
// read pool.
func policyIn(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (PolicyChange, error) {
	p, err := scanPolicy(q.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM approval_policy ORDER BY id DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return PolicyChange{Policy: DefaultPolicy}, nil
	}
	if err != nil {
		return PolicyChange{}, fmt.Errorf("read the approval policy: %w", err)
	}
	return p, nil
}

// Policy returns the policy in force: the last change, or DefaultPolicy
// with ID 0 when none was ever set.
func (l *Ledger) Policy(ctx context.Context) (PolicyChange, error) {
	return policyIn(ctx, l.r)
}

// PolicyHistory returns every change of the policy, oldest first.
func (l *Ledger) PolicyHistory(ctx context.Context) ([]PolicyChange, error) {
	rs, err := l.r.QueryContext(ctx, `SELECT `+policyColumns+` FROM approval_policy ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read the approval policy's history: %w", err)
	}
	defer rs.Close()
	var out []PolicyChange
	for rs.Next() {
		p, err := scanPolicy(rs)
		if err != nil {
			return nil, fmt.Errorf("read the approval policy's history: %w", err)
		}
		out = append(out, p)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read the approval policy's history: %w", err)
	}
	return out, nil
}

// SetPolicy makes p the ledger's policy, recorded as set by the admin
// named by. It checks in the same transaction that by is a user with the
// admin role (else ErrNotAdmin). It returns the policy in force and
// whether it changed: setting the policy in force again records nothing.
// Batches uploaded before keep the policy they were uploaded under.
func (l *Ledger) SetPolicy(ctx context.Context, p Policy, by string) (PolicyChange, bool, error) {
	if p.TwoApproversAbove < 0 {
		p.TwoApproversAbove = NoSecondApprover
	}
	if p.TwoApproversAbove >= 0 && !p.RequireApproval {
		return PolicyChange{}, false, fmt.Errorf("set the approval policy: a second approver is asked only when approval is required: %w", ErrBadPolicy)
	}
	var (
		out     PolicyChange
		changed bool
	)
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		var role Role
		err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE name = ?`, by).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("set the approval policy: user %s: %w", by, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("set the approval policy: %w", err)
		}
		if role != RoleAdmin {
			return fmt.Errorf("set the approval policy: %s is an %s: %w", by, role, ErrNotAdmin)
		}
		cur, err := policyIn(ctx, tx)
		if err != nil {
			return err
		}
		if cur.Policy == p {
			out = cur
			return nil
		}
		out, err = l.addPolicy(ctx, tx, p, by, PolicyByAdmin)
		changed = err == nil
		return err
	})
	return out, changed, err
}

// RequireApproval raises the ledger's policy to require approval, as a
// server started with --require-approval does, recorded as set by server
// (e.g. "lote serve on host pid 4242"). A policy that requires approval
// already is left as it is, its second approver's threshold included, so
// that a server's flag never lowers the policy; without the flag a server
// changes nothing. It returns the policy in force and whether it changed.
func (l *Ledger) RequireApproval(ctx context.Context, server string) (PolicyChange, bool, error) {
	var (
		out     PolicyChange
		changed bool
	)
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := policyIn(ctx, tx)
		if err != nil {
			return err
		}
		if cur.RequireApproval {
			out = cur
			return nil
		}
		out, err = l.addPolicy(ctx, tx, Policy{RequireApproval: true, TwoApproversAbove: cur.TwoApproversAbove}, server, PolicyByServer)
		changed = err == nil
		return err
	})
	return out, changed, err
}

func (l *Ledger) addPolicy(ctx context.Context, tx *sql.Tx, p Policy, by string, src PolicySource) (PolicyChange, error) {
	var above any
	if p.TwoApproversAbove >= 0 {
		above = p.TwoApproversAbove
	}
	at := l.now()
	res, err := tx.ExecContext(ctx, `INSERT INTO approval_policy (require_approval, two_approvers_above, set_by, set_at, source)
		VALUES (?, ?, ?, ?, ?)`, boolInt(p.RequireApproval), above, by, fmtTime(at), string(src))
	if err != nil {
		return PolicyChange{}, fmt.Errorf("set the approval policy: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return PolicyChange{}, fmt.Errorf("set the approval policy: %w", err)
	}
	got, err := scanPolicy(tx.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM approval_policy WHERE id = ?`, id))
	if err != nil {
		return PolicyChange{}, fmt.Errorf("set the approval policy: %w", err)
	}
	return got, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
