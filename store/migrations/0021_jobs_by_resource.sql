-- An order's jobs are found by their resource key (order:N) through
-- jobs_resource; the older index on (order_id, state) cost a write on every
-- claim and completion and is no longer read.
DROP INDEX IF EXISTS jobs_order;
