-- Processes that call Zoom for one account share its pace: send slots are
-- handed out in turn from next_at (a GCRA schedule), at the account's rate.
CREATE TABLE zoom_slots (
    key        TEXT             PRIMARY KEY, -- account and rate-limit category
    next_at    DOUBLE PRECISION NOT NULL,    -- the next free slot, Unix ms
    rate       DOUBLE PRECISION NOT NULL,    -- calls per second, for the account
    changed_at BIGINT           NOT NULL
);
