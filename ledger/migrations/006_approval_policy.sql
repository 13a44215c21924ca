-- 006: the approval policy belongs to the ledger, not to a server's flags.
--
-- Each uploaded batch keeps the policy that was in force when it was
-- uploaded, and is sent only with the approvals that policy asks for,
-- whatever process sends it (`lote serve` with or without a flag, `lote
-- run` of the same bytes, `lote resume`). An approver may reject a batch
-- waiting for approval, with a reason; the person who uploaded or
-- submitted it may withdraw it while nothing of it was sent.

-- Every change of the ledger's policy, oldest first; the last row is the
-- policy in force. A ledger without rows has the default: no approval.
CREATE TABLE approval_policy (
    id                  INTEGER PRIMARY KEY,
    require_approval    INTEGER NOT NULL CHECK (require_approval IN (0, 1)),
    -- two_approvers_above: a batch whose submitted total is over this many
    -- cents needs a second approver; NULL means never.
    two_approvers_above INTEGER CHECK (two_approvers_above >= 0),
    -- set_by is an admin's user name (source 'admin'), or the server that
    -- raised the policy as it started (source 'server').
    set_by              TEXT    NOT NULL CHECK (length(set_by) BETWEEN 1 AND 200),
    set_at              TEXT    NOT NULL,
    source              TEXT    NOT NULL CHECK (source IN ('admin', 'server')),
    CHECK (two_approvers_above IS NULL OR require_approval = 1),
    -- A server started with --require-approval only ever raises the policy.
    CHECK (source <> 'server' OR require_approval = 1)
) STRICT;

CREATE TRIGGER approval_policy_no_update BEFORE UPDATE ON approval_policy
BEGIN
    SELECT RAISE(ABORT, 'the approval policy''s history is append-only');
END;

CREATE TRIGGER approval_policy_no_delete BEFORE DELETE ON approval_policy
BEGIN
    SELECT RAISE(ABORT, 'the approval policy''s history is append-only');
END;

-- Only an admin changes the policy; a server keeps the second approver's
-- threshold in force when it raises the policy, so it lowers nothing.
CREATE TRIGGER approval_policy_who BEFORE INSERT ON approval_policy
WHEN (NEW.source = 'admin' AND NOT EXISTS (SELECT 1 FROM users WHERE name = NEW.set_by AND role = 'admin'))
  OR (NEW.source = 'server' AND NEW.two_approvers_above IS NOT
      (SELECT two_approvers_above FROM approval_policy ORDER BY id DESC LIMIT 1))
BEGIN
    SELECT RAISE(ABORT, 'only an admin changes the approval policy');
END;

-- The policy each batch was uploaded under (a copy, so that the rules
-- below can read it), a second approval, a rejection and a withdrawal.
ALTER TABLE uploads ADD COLUMN policy_id INTEGER REFERENCES approval_policy (id);
-- Uploads recorded before this migration need an approval unless they
-- were being sent already (see the UPDATE below): a batch left waiting by
-- a server started with --require-approval keeps waiting.
ALTER TABLE uploads ADD COLUMN require_approval INTEGER NOT NULL DEFAULT 1 CHECK (require_approval IN (0, 1));
ALTER TABLE uploads ADD COLUMN two_approvers_above INTEGER CHECK (two_approvers_above >= 0);
ALTER TABLE uploads ADD COLUMN second_approved_by TEXT REFERENCES users (name);
ALTER TABLE uploads ADD COLUMN second_approved_at TEXT;
ALTER TABLE uploads ADD COLUMN rejected_by TEXT REFERENCES users (name);
ALTER TABLE uploads ADD COLUMN rejected_at TEXT;
ALTER TABLE uploads ADD COLUMN rejected_reason TEXT;
ALTER TABLE uploads ADD COLUMN withdrawn_by TEXT REFERENCES users (name);
ALTER TABLE uploads ADD COLUMN withdrawn_at TEXT;

UPDATE uploads SET require_approval = 0
WHERE id IN (SELECT id FROM batches WHERE state IN ('running', 'done'));

-- A batch is uploaded undecided: nobody submits, approves, rejects or
-- withdraws it in the same statement.
CREATE TRIGGER uploads_undecided BEFORE INSERT ON uploads
WHEN NEW.submitted_by IS NOT NULL OR NEW.approved_by IS NOT NULL OR NEW.second_approved_by IS NOT NULL
  OR NEW.rejected_by IS NOT NULL OR NEW.withdrawn_by IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a batch is uploaded before anyone decides on it');
END;

-- The policy recorded at upload is the batch's for good.
CREATE TRIGGER uploads_policy_fixed BEFORE UPDATE OF policy_id, require_approval, two_approvers_above ON uploads
BEGIN
    SELECT RAISE(ABORT, 'a batch keeps the approval policy it was uploaded under');
END;

-- Four eyes (the CHECK of 004 keeps the uploader from approving): the
-- submitter does not approve either; a second approver is a third person,
-- after the first; every approver has the approver or admin role.
CREATE TRIGGER uploads_approvers BEFORE UPDATE OF approved_by, approved_at, second_approved_by, second_approved_at ON uploads
WHEN NEW.approved_by = NEW.submitted_by
  OR NEW.second_approved_by IN (NEW.uploaded_by, NEW.submitted_by, NEW.approved_by)
  OR (NEW.second_approved_by IS NOT NULL AND NEW.approved_by IS NULL)
  OR ((NEW.second_approved_by IS NULL) <> (NEW.second_approved_at IS NULL))
  OR (NEW.approved_by IS NOT NULL AND NOT EXISTS
      (SELECT 1 FROM users WHERE name = NEW.approved_by AND role IN ('approver', 'admin')))
  OR (NEW.second_approved_by IS NOT NULL AND NOT EXISTS
      (SELECT 1 FROM users WHERE name = NEW.second_approved_by AND role IN ('approver', 'admin')))
BEGIN
    SELECT RAISE(ABORT, 'a batch is approved by people with the approver role other than its uploader and submitter, two approvers being two people');
END;

-- A rejection: by an approver who neither uploaded nor submitted the batch,
-- with a reason, of a batch submitted and still waiting for approval.
CREATE TRIGGER uploads_reject BEFORE UPDATE OF rejected_by, rejected_at, rejected_reason ON uploads
WHEN NEW.rejected_by IS NOT NULL AND (
     NEW.rejected_at IS NULL OR trim(coalesce(NEW.rejected_reason, '')) = ''
  OR NEW.submitted_by IS NULL
  OR NEW.rejected_by IN (NEW.uploaded_by, NEW.submitted_by)
  OR NOT EXISTS (SELECT 1 FROM users WHERE name = NEW.rejected_by AND role IN ('approver', 'admin'))
  OR (NEW.require_approval = 0)
  OR (NEW.approved_by IS NOT NULL AND (NEW.two_approvers_above IS NULL OR NEW.submitted_cents <= NEW.two_approvers_above
      OR NEW.second_approved_by IS NOT NULL)))
BEGIN
    SELECT RAISE(ABORT, 'only an approver other than its uploader and submitter rejects a batch waiting for approval, with a reason');
END;

-- A withdrawal: by its uploader, its submitter or an admin, while no row
-- of the batch was ever marked attempted.
CREATE TRIGGER uploads_withdraw BEFORE UPDATE OF withdrawn_by, withdrawn_at ON uploads
WHEN NEW.withdrawn_by IS NOT NULL AND (
     NEW.withdrawn_at IS NULL
  OR (NEW.withdrawn_by IS NOT NEW.uploaded_by AND NEW.withdrawn_by IS NOT NEW.submitted_by
      AND NOT EXISTS (SELECT 1 FROM users WHERE name = NEW.withdrawn_by AND role = 'admin'))
  OR EXISTS (SELECT 1 FROM rows WHERE batch = (SELECT num FROM batches WHERE id = NEW.id)
             AND (first_attempted_at IS NOT NULL OR state NOT IN ('invalid', 'pending', 'held'))))
BEGIN
    SELECT RAISE(ABORT, 'a batch is withdrawn by its uploader, its submitter or an admin, before anything of it was sent');
END;

-- A rejected or withdrawn batch is closed: nothing more is decided on it.
CREATE TRIGGER uploads_closed BEFORE UPDATE ON uploads
WHEN (OLD.rejected_by IS NOT NULL OR OLD.withdrawn_by IS NOT NULL)
 AND (NEW.submitted_by IS NOT OLD.submitted_by OR NEW.approved_by IS NOT OLD.approved_by
      OR NEW.second_approved_by IS NOT OLD.second_approved_by OR NEW.rejected_by IS NOT OLD.rejected_by
      OR NEW.withdrawn_by IS NOT OLD.withdrawn_by)
BEGIN
    SELECT RAISE(ABORT, 'a rejected or withdrawn batch is closed');
END;
