-- Expand: an index green's queries need, built without blocking blue's writes. CONCURRENTLY
-- cannot run in a transaction: this file runs statement by statement (detected automatically),
-- so it is written to be re-runnable (IF NOT EXISTS).
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note_idx ON orders (note);
