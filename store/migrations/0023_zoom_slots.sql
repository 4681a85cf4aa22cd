-- Processes that call Zoom for one account share its pace: send slots are
-- handed out in turn from next_at (a GCRA schedule), at the account's rate.
CREATE TABLE zoom_slots (
    key        TEXT    PRIMARY KEY, -- account and rate-limit category
    next_at    REAL    NOT NULL,    -- the next free slot, Unix ms
    rate       REAL    NOT NULL,    -- calls per second, for the account
    changed_at INTEGER NOT NULL
);
