-- 009: the rail each row is paid by, and what the two steps of a Pix need
-- to happen exactly once across kills. Additive: a row written before it is
-- a TED with none of the Pix columns.

-- rail: 'ted' (external transfer), 'internal' (to a Stone account) or
-- 'pix' (to a key, or to bank data).
ALTER TABLE rows ADD COLUMN rail TEXT NOT NULL DEFAULT 'ted' CHECK (rail IN ('ted', 'internal', 'pix'));

-- pix_confirm_key is the idempotency key of the confirmation, written
-- before the create is first sent (the create uses idempotency_key), so a
-- resume confirms with the same key. UNIQUE like idempotency_key.
ALTER TABLE rows ADD COLUMN pix_confirm_key TEXT;
CREATE UNIQUE INDEX rows_pix_confirm_key ON rows (pix_confirm_key) WHERE pix_confirm_key IS NOT NULL;

-- pix_payment_id and end_to_end_id name the payment the create made,
-- written as soon as the create answers and before it is confirmed: a
-- resume reads that payment instead of creating another.
ALTER TABLE rows ADD COLUMN pix_payment_id TEXT;
ALTER TABLE rows ADD COLUMN end_to_end_id TEXT;
CREATE UNIQUE INDEX rows_pix_payment ON rows (pix_payment_id) WHERE pix_payment_id IS NOT NULL;

-- payee_name and payee_document are the payee as Stone resolved it (the
-- key's owner, a masked CPF), shown beside the sheet's when they differ.
ALTER TABLE rows ADD COLUMN payee_name TEXT NOT NULL DEFAULT '';
ALTER TABLE rows ADD COLUMN payee_document TEXT NOT NULL DEFAULT '';

-- refunded_cents is how much of a Pix came back, whole or in part, as
-- Stone adds up its refunds (refunded_amount): a partial refund leaves the
-- payment SETTLED and the row part paid, part returned.
ALTER TABLE reconciliations ADD COLUMN refunded_cents INTEGER NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0);
