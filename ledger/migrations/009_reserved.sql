-- 009: reserved for a migration of another line of work; this file holds
-- nothing and gives way to it when the two are merged, so that 010 follows.
SELECT 1;
