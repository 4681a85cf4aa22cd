-- Periodic work (a reconcile pass, pruning the audit log) is done once per
-- tick by whichever process sharing the database takes the turn first.
CREATE TABLE turns (
    name  TEXT   PRIMARY KEY,
    at    BIGINT NOT NULL, -- when the last turn was taken, Unix ms
    taker TEXT   NOT NULL DEFAULT ''
);
