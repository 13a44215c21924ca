-- 008: reserved for a migration of another line of work; this file holds
-- nothing and gives way to it when the two are merged, so that 009 follows.
SELECT 1;
