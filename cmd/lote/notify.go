package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"lote/batch"
	"lote/ledger"
	"lote/notify"
	"lote/reconcile"
)

// notifyWait is how long a command that ends waits for its notifications
// to be delivered; what is not delivered by then stays in the outbox for
// the next lote configured with the same receiver.
const notifyWait = 10 * time.Second

// notifyFlags is --notify, repeatable (LOTE_NOTIFY may hold several URLs
// separated by spaces), and the mail server of mailto: receivers, whose
// credentials come from LOTE_SMTP_USERNAME and LOTE_SMTP_PASSWORD only.
type notifyFlags struct {
	urls               []string
	smtpAddr, smtpFrom string
}

func (f *notifyFlags) register(fs *flag.FlagSet) {
	fs.Var(f, "notify", "post a JSON event to this `URL` (a Slack or Teams incoming webhook, or any receiver; mailto:ADDRESS mails it) "+
		"for the batch's events: waiting for approval, approved or rejected, sent, rows needing a person, a payment returned, a reconciliation finished; repeatable")
	fs.StringVar(&f.smtpAddr, "smtp", "", "mail server for mailto: receivers, `HOST:PORT` (STARTTLS when it offers it; "+
		"LOTE_SMTP_USERNAME and LOTE_SMTP_PASSWORD sign in)")
	fs.StringVar(&f.smtpFrom, "smtp-from", "", "sender `address` of the mails")
}

// check reports a mailto: receiver without a mail server.
func (f *notifyFlags) check() error {
	for _, u := range f.urls {
		if strings.HasPrefix(u, "mailto:") && (f.smtpAddr == "" || f.smtpFrom == "") {
			return fmt.Errorf("--notify %s needs --smtp HOST:PORT and --smtp-from ADDRESS", u)
		}
	}
	return nil
}

func (f *notifyFlags) String() string { return strings.Join(f.urls, " ") }

func (f *notifyFlags) Set(s string) error {
	for _, u := range strings.Fields(s) {
		if err := notify.CheckURL(u); err != nil {
			return err
		}
		f.urls = append(f.urls, u)
	}
	return nil
}

// notifier is nil without --notify.
func (f *notifyFlags) notifier(l *ledger.Ledger, log *slog.Logger, getenv env) *notify.Notifier {
	return notify.New(notify.Options{Ledger: l, URLs: f.urls, Log: log, SMTP: notify.SMTP{Addr: f.smtpAddr, From: f.smtpFrom,
		Username: getenv("LOTE_SMTP_USERNAME"), Password: getenv("LOTE_SMTP_PASSWORD")}})
}

// notifyRun records what a run of a batch did: that it was sent, and the
// rows that need a person. Each is announced once per outcome: the same
// summary seen again (a run with nothing to do) is not announced twice.
func notifyRun(ctx context.Context, n *notify.Notifier, rep batch.Report, env, account string) error {
	if n == nil || rep.Batch.ID == "" || rep.Summary == nil || rep.NothingToDo ||
		(rep.Batch.State != ledger.BatchRunning && rep.Batch.State != ledger.BatchDone) {
		return nil
	}
	b := notify.Batch{ID: rep.Batch.ID, File: rep.Batch.FileName, Env: env, Account: account}
	rows, cents := map[string]int{}, map[string]int64{}
	var key strings.Builder
	states := make([]string, 0, len(rep.Summary))
	for s := range rep.Summary {
		states = append(states, string(s))
	}
	sort.Strings(states)
	for _, s := range states {
		t := rep.Summary[ledger.State(s)]
		rows[s], cents[s] = t.Rows, t.Cents
		fmt.Fprintf(&key, ":%s=%d", s, t.Rows)
	}
	if err := n.Notify(ctx, "sent:"+rep.Batch.ID+key.String(), notify.Sent(b, rows, cents)); err != nil {
		return err
	}
	if r := rep.Summary[ledger.NeedsReview]; r.Rows > 0 {
		return n.Notify(ctx, fmt.Sprintf("review:%s:%d", rep.Batch.ID, r.Rows), notify.NeedPerson(b, r.Rows, r.Cents))
	}
	return nil
}

// notifyReconcile records the payments found failed or returned after
// Stone accepted them, once each, and the reconciliation's end, once per
// verdict and sums.
func notifyReconcile(ctx context.Context, n *notify.Notifier, l *ledger.Ledger, rep reconcile.Report, env, account string) error {
	if n == nil {
		return nil
	}
	var needPerson int
	var paid, returned int64
	for _, br := range rep.Batches {
		needPerson += br.NeedsPerson
		paid += br.PaidCents
		returned += br.ReturnedCents
		b := notify.Batch{ID: br.Batch.ID, File: br.Batch.FileName, Env: env, Account: account}
		for r, err := range l.Rows(ctx, br.Batch.ID) {
			if err != nil {
				return err
			}
			if r.State != ledger.Accepted {
				continue
			}
			if c := reconcile.TransferCategory(r.APIStatus); c != reconcile.CategoryReturned && c != reconcile.CategoryFailed {
				continue
			}
			key := fmt.Sprintf("returned:%s:%d:%s", br.Batch.ID, r.Row, r.APIStatus)
			if err := n.Notify(ctx, key, notify.Returned(b, r.Row, r.TransferID, r.APIStatus, r.AmountCents)); err != nil {
				return err
			}
		}
	}
	verdict := rep.Status().String()
	key := fmt.Sprintf("reconciled:%s:%d:%d:%d:%d", verdict, len(rep.Batches), needPerson, paid, returned)
	return n.Notify(ctx, key, notify.Reconciled(verdict, len(rep.Batches), needPerson, paid, returned))
}
