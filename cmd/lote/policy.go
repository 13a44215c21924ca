package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"golang.org/x/crypto/bcrypt"

	"lote/ledger"
	"lote/validate"
)

// optBool is a boolean flag that remembers whether it was given.
type optBool struct {
	set, v bool
}

func (b *optBool) String() string   { return strconv.FormatBool(b.v) }
func (b *optBool) IsBoolFlag() bool { return true }
func (b *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("use true or false")
	}
	b.set, b.v = true, v
	return nil
}

// threshold is --two-approvers-above: a total in cents, or "off".
type threshold struct {
	set   bool
	cents int64
}

func (t *threshold) String() string {
	if !t.set || t.cents < 0 {
		return "off"
	}
	return strconv.FormatInt(t.cents, 10)
}

func (t *threshold) Set(s string) error {
	if s == "off" {
		t.set, t.cents = true, ledger.NoSecondApprover
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return errors.New("use a total in cents (0 or more), or off")
	}
	t.set, t.cents = true, v
	return nil
}

// retentionFlag is --retention: a number of days, as 90 or 90d.
type retentionFlag struct {
	set  bool
	days int
}

func (f *retentionFlag) String() string {
	if !f.set {
		return ""
	}
	return strconv.Itoa(f.days) + "d"
}

func (f *retentionFlag) Set(s string) error {
	v, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if err != nil || v < 1 || v > ledger.MaxRetentionDays {
		return fmt.Errorf("use a number of days from 1 to %d, as 90d", ledger.MaxRetentionDays)
	}
	f.set, f.days = true, v
	return nil
}

func runPolicy(ctx context.Context, args []string, cio cmdIO) int {
	fs := newFlags("policy", "show | set [--require-approval=true|false] [--two-approvers-above CENTS|off] [--retention DAYSd] --by ADMIN", cio)
	var (
		conn      connFlags
		require   optBool
		above     threshold
		retention retentionFlag
	)
	conn.registerLedger(fs)
	fs.Var(&require, "require-approval", "with set: whether a submitted batch waits for an approver (neither its uploader nor its submitter)")
	fs.Var(&above, "two-approvers-above", "with set: a batch over this total, in `cents`, needs a second approver; off for none")
	fs.Var(&retention, "retention", fmt.Sprintf("with set: how long uploaded sheets and the files made from them are kept once their batch is finished, in `days` (90d); default %dd", ledger.DefaultRetentionDays))
	by := fs.String("by", "", "with set: the admin who changes the policy; their password is asked (one line on standard input from a pipe)")
	pos, ok := parseFlags(fs, args, cio)
	if !ok {
		return exitUsage
	}
	if err := conn.checkEnv(); err != nil {
		return usageError(fs, cio.stderr, "%v", err)
	}
	switch {
	case len(pos) == 1 && pos[0] == "show":
	case len(pos) == 1 && pos[0] == "set":
		if !require.set && !above.set && !retention.set {
			return usageError(fs, cio.stderr, "policy set needs --require-approval, --two-approvers-above or --retention")
		}
		if *by == "" {
			return usageError(fs, cio.stderr, "policy set needs --by: the admin who changes it")
		}
	default:
		return usageError(fs, cio.stderr, "policy needs a subcommand: show or set")
	}
	// As with status: a typo in --ledger must not leave an empty ledger
	// behind and report the default policy. A missing ledger whose marker
	// says it existed is for Open to explain.
	path := conn.ledgerPath()
	if _, err := os.Stat(path); err != nil && !conn.newLedger {
		if _, merr := os.Stat(ledger.MarkerPath(path)); merr != nil {
			fmt.Fprintf(cio.stderr, "lote: no ledger at %s (`lote run` or `lote user add` creates it; --ledger or --env chooses another)\n", path)
			return exitUsage
		}
	}
	l, err := conn.openLedger()
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	defer l.Close()
	if pos[0] == "show" {
		if err := showPolicy(ctx, cio.stdout, l); err != nil {
			fmt.Fprintf(cio.stderr, "lote: %v\n", err)
			return exitUsage
		}
		return exitOK
	}

	cur, err := l.Policy(ctx)
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	p := cur.Policy
	if require.set {
		p.RequireApproval = require.v
	}
	if above.set {
		p.TwoApproversAbove = above.cents
	}
	if (require.set || above.set) && !p.RequireApproval && p.TwoApproversAbove >= 0 {
		// Dropping the approval drops the second approver too: said, not
		// done silently.
		fmt.Fprintf(cio.stderr, "lote: without approval there is no second approver; add --two-approvers-above off to drop it (now above %s); nothing was changed\n",
			validate.FormatBRL(p.TwoApproversAbove))
		return exitUsage
	}
	// --by names an admin of the ledger, who proves it with their
	// password, as on the page; the ledger checks the role again as it
	// records the change.
	u, err := l.User(ctx, ledger.NormalizeUserName(*by))
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v; nothing was changed\n", err)
		return exitUsage
	}
	if !u.Disabled.IsZero() {
		fmt.Fprintf(cio.stderr, "lote: %s is disabled; nothing was changed\n", u.Name)
		return exitUsage
	}
	if u.Role != ledger.RoleAdmin {
		fmt.Fprintf(cio.stderr, "lote: %s is an %s: only an admin changes the approval policy; nothing was changed\n", u.Name, u.Role)
		return exitUsage
	}
	pw, err := readPassword(cio, "password of "+u.Name, false)
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", err)
		return exitUsage
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(pw)) != nil {
		fmt.Fprintf(cio.stderr, "lote: wrong password for %s; nothing was changed\n", u.Name)
		return exitUsage
	}
	if retention.set {
		got, changed, err := l.SetRetention(ctx, retention.days, u.Name)
		if err != nil {
			fmt.Fprintf(cio.stderr, "lote: %v; nothing was changed\n", err)
			return exitUsage
		}
		if changed {
			fmt.Fprintf(cio.stdout, "retention set by %s: %s\n", got.SetBy, retentionText(got))
		} else {
			fmt.Fprintf(cio.stdout, "the retention is already %d days; nothing was recorded\n", got.Days)
		}
	}
	if !require.set && !above.set {
		return exitOK
	}
	got, changed, err := l.SetPolicy(ctx, p, u.Name)
	if err != nil {
		fmt.Fprintf(cio.stderr, "lote: %v; nothing was changed\n", err)
		return exitUsage
	}
	if !changed {
		fmt.Fprintf(cio.stdout, "the approval policy is already %s; nothing was recorded\n", policyText(got.Policy))
		return exitOK
	}
	fmt.Fprintf(cio.stdout, "approval policy set by %s: %s\n", got.SetBy, policyText(got.Policy))
	fmt.Fprintln(cio.stdout, "batches uploaded from now on need it; those uploaded before keep theirs")
	return exitOK
}

// retentionText says what a retention keeps, for a person.
func retentionText(r ledger.Retention) string {
	return fmt.Sprintf("uploaded sheets and the files made from them are deleted %d days after their batch last changed, once it is finished "+
		"(sent, rejected, withdrawn, or never imported); a batch waiting or being sent keeps them", r.Days)
}

// showPolicy prints the policy in force and every change of it.
func showPolicy(ctx context.Context, w io.Writer, l *ledger.Ledger) error {
	cur, err := l.Policy(ctx)
	if err != nil {
		return err
	}
	hist, err := l.PolicyHistory(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "approval policy: %s\n", policyText(cur.Policy))
	if cur.ID == 0 {
		fmt.Fprintln(w, "never set: the default")
	} else {
		fmt.Fprintln(w, "\nchanges, oldest first:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, h := range hist {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", h.ID, h.SetAt.Local().Format("2006-01-02 15:04:05"), h.Source, h.SetBy, policyText(h.Policy))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	ret, err := l.Retention(ctx)
	if err != nil {
		return err
	}
	rhist, err := l.RetentionHistory(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nretention: %s\n", retentionText(ret))
	if ret.ID == 0 {
		fmt.Fprintln(w, "never set: the default")
		return nil
	}
	fmt.Fprintln(w, "\nchanges, oldest first:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, h := range rhist {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%d days\n", h.ID, h.SetAt.Local().Format("2006-01-02 15:04:05"), h.SetBy, h.Days)
	}
	return tw.Flush()
}

// policyText says what a policy asks, for a person.
func policyText(p ledger.Policy) string {
	var b strings.Builder
	switch {
	case !p.RequireApproval:
		b.WriteString("no approval (a batch is sent once submitted)")
	default:
		b.WriteString("one approval (by an approver who neither uploaded nor submitted the batch)")
		if p.TwoApproversAbove >= 0 {
			fmt.Fprintf(&b, ", two approvals above %s (%d cents)", validate.FormatBRL(p.TwoApproversAbove), p.TwoApproversAbove)
		}
	}
	return b.String()
}
