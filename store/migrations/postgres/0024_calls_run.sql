-- Which run of a job made a call (the run's claim token): a job tried
-- again is another run, so the audit log shows what each run did and
-- whether two runs of one order's jobs ever overlapped.
ALTER TABLE calls ADD COLUMN run TEXT NOT NULL DEFAULT '';
