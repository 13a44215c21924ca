// Package ledger is lote's SQLite ledger: the record that makes every
// payout in a sheet happen exactly once, across crashes and resumes.
//
// A batch is one file, identified by the hex SHA-256 of its bytes, so the
// same file run again is the same batch. Its rows are numbered as Excel
// numbers them (header = 1) and amounts are int64 cents.
//
// # Row states
//
//	              import
//	   ┌────────────┼──────────────┐
//	   ▼            ▼              ▼
//	invalid      pending ◀──ReleaseHeld── held
//	(final)         │  ──Hold, HoldClaimed, HoldRows──▶
//	                │ MarkAttempted / SendRows (before the requests
//	                │ leave; the payout's claim taken, or the row held)
//	                ▼
//	           attempted ◀─┐ RecordAttempt (retry / ambiguous:
//	                │  └───┘  same key, state unchanged)
//	     ┌──────────┼──────────────┐
//	     ▼ Accept   ▼ Reject       ▼ NeedsReview
//	 accepted    rejected     needs_review
//	     │ RecordStatus (finished, failed, refunded, …)
//	     └──▶ accepted, api_status and transfer_status_history updated
//
// Every transition is one immediate transaction that writes the attempt
// that caused it (to the append-only attempts table) together with the row
// update, and the UPDATE itself checks the current state: a transition from
// the wrong state changes nothing and returns a *TransitionError.
//
// Batches go importing → imported → running → done (done → running again
// if a held row is allowed). Only Import.Commit marks a batch imported.
//
// # Why a row is paid at most once
//
//  1. Each valid row gets one idempotency key at import, before any request,
//     stored NOT NULL under a UNIQUE index: no two rows anywhere in the
//     ledger can share a key (Import.Add refuses a reused key with
//     *KeyConflictError), and a row's key never changes once the row may
//     be sent. The one exception is a checked sheet, an upload with
//     invalid rows that is never submitted (Submit refuses it):
//     ReleaseKeys gives its rows provisional keys of their own place, so
//     that the corrected sheet can take the keys their references give.
//  2. A row goes pending → attempted in a committed, fsynced transaction
//     (synchronous=FULL) before its request leaves. After a crash, every row
//     the bank may have seen is attempted, never pending, so it is only ever
//     sent again with its same key, which the bank answers by replaying the
//     first answer instead of making a second transfer. When the key may
//     have expired, the row goes to needs_review instead of being resent.
//  3. accepted, rejected and needs_review are final for sending: no method
//     moves a row out of them, so a paid row is never queued again.
//  4. One runner per batch: a lease (holder, expiry) taken in an immediate
//     transaction; a second runner gets *LeaseHeldError until the lease
//     expires or Options.HolderDead says its holder is gone (a process of
//     this host that no longer exists), and a runner whose lease was taken
//     over gets ErrLeaseLost
//     from RenewLease. Even if two runners overlapped, rule 1 makes them
//     send the same keys.
//  5. An import is visible as complete only when its last transaction
//     commits; an interrupted import stays importing, its rows cannot be
//     marked attempted, and the next BeginImport deletes them and starts
//     over, so rows are neither lost nor doubled.
//  6. A payout equal to one that may already have paid the same payee in
//     another recent batch (FindRepeat) is imported held, not pending.
//  7. One payout, one claim. A row carries its payout's fingerprint, which
//     no file's bytes enter; the transaction that marks it attempted
//     (MarkAttempted, SendRows) takes the claim on that fingerprint in the
//     claims table, whose key it is. A row whose fingerprint another
//     batch's live row holds (attempted, accepted and not failed, needing
//     review; claimed within the window) is held instead, naming that
//     row, so two batches carrying the same payout, run one after the
//     other or at the same moment, in one process or two, pay it once.
//     HoldClaimed holds such rows before a batch's plan is shown. A
//     rejected or failed row's claim is released. A held row
//     is sent only after ReleaseHeld, which records who released it and
//     gives it the key and fingerprint the caller chose.
//  8. A transfer id is on one row at most (a UNIQUE index): Accept of a
//     transfer another row holds is a *TransferTakenError.
//
// # What the pipeline calls
//
// The packages above the ledger use it through a narrow set of methods, so
// that a second storage engine would be one more package implementing
// them:
//
//   - batch: BeginImport and its Import (OnKeyConflict, Prepare, AddPrepared,
//     Commit, Close); Batch, Batches, FindBatch, Rows, FindRows, Outstanding,
//     Summary, Upload; AcquireLease, RenewLease, ReleaseLease; FindRepeat,
//     FindPayment, TransferOwner; Hold, HoldRows, HoldClaimed, ReleaseHeld,
//     SetFingerprints; SendRows, RecordAttempt, Accept, Reject, NeedsReview;
//     SetBatchState, SetResultsPath; NeverSent, ForgetNeverSent,
//     ForgetReimport.
//   - reconcile: Batches, FindBatch, ToReconcile, Reconciled,
//     RecordReconciliation, ApplyWebhook.
//   - web: RecordUpload, DiscardUpload, SetUploadFee, ReleaseKeys,
//     AddWarnings, Warnings, CountWarnings, CountProblems, RowsPage, Summary,
//     Batch, Batches, Upload, Uploads, Submit, Approve, RejectBatch,
//     WithdrawBatch, SetPaused, Policy, RequireApproval, User.
//
// # Uploads and the approval policy
//
// A batch uploaded on the web page has an upload record: who uploaded,
// submitted, approved, rejected or withdrew it, and the approval policy
// in force when it was uploaded (RecordUpload reads it in the same
// transaction). The policy is the ledger's, not a process's flag: every
// change is appended to its history (SetPolicy, by an admin; a server
// started with --require-approval may only raise it, RequireApproval), and
// a batch keeps the policy it was uploaded under for good. A batch with an
// upload record is sent only when Cleared: submitted, approved as often as
// its policy asks for its submitted total (approvers have the approver or
// admin role, are neither its uploader nor its submitter, and a second
// approver is a third person), neither rejected nor withdrawn. SendRows
// checks that in the transaction that marks rows attempted, so no process
// sends an uploaded batch without its approvals, and a withdrawal or a
// rejection committed before it wins. The schema's triggers keep the same
// rules, the policy's history append-only and each batch's policy fixed.
//
// # Users, sessions and retention
//
// Users sign in to the web page; names are NFKC, lower-case ASCII
// (CheckUserName), so that two names that read alike cannot both exist.
// A session is kept by the SHA-256 of its token (CreateSession), and
// Session reads it with its user's role at every request: the schema's
// triggers delete a user's sessions when their password or role changes
// or they are disabled or removed, and a session also ends after its idle
// time and at its absolute end.
//
// The files of an upload are kept for the retention an admin sets
// (SetRetention; DefaultRetentionDays), counted from the last change of
// its batch, and only once the batch is finished: done, rejected,
// withdrawn or never imported (ExpiredUploads). RecordExpiry marks the
// upload expired and records each file deleted; rows and their history
// are kept whatever the retention.
//
// # Rows settled by a person, and the outbox
//
// A needs_review row is settled by a person who checked the statement,
// each decision appended to settlements with who and when: SettlePaid
// makes it accepted with the transfer found, keeping its payout's claim;
// SettleNotPaid leaves it for review, still claimed, so that no run sends
// it; only Resend, after that, gives it a new key, releases the claim and
// returns it to pending.
//
// The outbox holds every notification (`--notify`) before it is posted,
// one row per receiver and key (Enqueue records an event once), with its
// attempts, next try and outcome (Due, Delivered, DeliveryFailed).
//
// # A ledger that lost its state
//
// SQLite opens whatever it finds at the path: a file whose -wal was
// deleted after a kill, an older copy put back, another ledger, or a
// zero-byte file, which it takes for a new ledger. Each has forgotten rows
// that were sent, and would send them again. So a marker file beside the
// ledger (MarkerPath) holds its id and how many rows it has ever marked
// attempted (ledger_meta), rewritten on Open and after each MarkAttempted,
// never backwards. Open refuses a file that is missing, empty, another
// ledger or behind its marker with a *LostError, and one that SQLite
// cannot read with an *UnreadableError; Options.NewLedger takes the file
// as it is, and nothing ever deletes it.
//
// # Concurrency
//
// All writes go through one connection in immediate transactions
// (busy_timeout covers other processes); reads use a separate query_only
// pool, and the iterators read in pages of 1000 rows, so writes proceed
// while a report is written.
package ledger
