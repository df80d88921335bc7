-- Contract: blue's version was the last to read orders.legacy_ref. Only after a verified
-- cutover and rollout.contractAfterSeconds: blue cannot run on the schema after this.
SET lock_timeout = '5s';
ALTER TABLE orders DROP COLUMN IF EXISTS legacy_ref;
