-- 002: repeat detection looks up earlier payouts to the same payee, account
-- and amount. Only rows that may have paid someone are indexed, so importing
-- (all rows pending) does not pay for this index.
CREATE INDEX rows_repeat ON rows (document, account, amount_cents, ispb, branch)
    WHERE state IN ('attempted', 'accepted', 'needs_review');
