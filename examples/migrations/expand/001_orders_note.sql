-- Expand: green's version writes orders.note; blue's does not know the column and never names it.
-- Nullable, no default: blue's INSERTs keep working, and no table rewrite.
SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
