-- Leases: what a running job holds besides its own row (a seat while it
-- decides about it, a product while it makes the product's meetings), so
-- that jobs of any process on this database decide one at a time. A lease
-- is held by a job's claim token until it expires; the job's heartbeat
-- extends it, a crash lets it lapse, and a holder whose lease was taken
-- over can write nothing more under it. A shared lease admits other shared
-- holders of the key, not an exclusive one.
CREATE TABLE leases (
    key     TEXT    NOT NULL,
    holder  TEXT    NOT NULL,
    shared  INTEGER NOT NULL DEFAULT 0,
    expires INTEGER NOT NULL,
    PRIMARY KEY (key, holder)
) WITHOUT ROWID;
CREATE INDEX leases_holder ON leases (holder);

-- A job's claim token: set when it is claimed, checked by every write that
-- finishes it or extends its lease, so a worker whose lease ran out (and
-- whose job another took) cannot complete it.
ALTER TABLE jobs ADD COLUMN claim TEXT NOT NULL DEFAULT '';
